"""``prakerja sim payments``: a stand-in for payment partners (banks and e-wallets), written from
docs/payouts-partner-interface.md alone and kept apart from the program's code (an import-linter contract). One
process serves several partners under ``/{code}/``: account inquiry and OTP linking (``linking``), the bulk payout
API with callbacks (``paying``), pain.001/pain.002 files and camt.053/CSV statements (``files``), and the controls a
test or demo uses (``/{code}/sim/...``: faults, accounts, the OTP outbox, what was paid)."""
