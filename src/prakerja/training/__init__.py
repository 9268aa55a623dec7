"""The marketplace's core: purchases through platforms, vouchers, sessions and redeem codes, attendance, completion
and settlement capture, certificate issuance, ratings (contract ``marketplace-api.md`` sections 1 and 2)."""
