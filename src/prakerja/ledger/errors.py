"""Ledger refusals, each with a stable code (TigerBeetle's result names where one exists)."""

from __future__ import annotations

from prakerja.kit.errors import DomainError


class LedgerError(DomainError):
    status_code = 400
    code = "ledger_error"


class AmountInvalid(LedgerError):
    status_code = 422
    code = "amount_invalid"
    message = "Jumlah harus bilangan bulat rupiah lebih dari nol."
    message_en = "The amount must be a whole number of rupiah greater than zero."


class ReferenceInvalid(LedgerError):
    status_code = 422
    code = "reference_invalid"
    message = "Referensi transaksi tidak valid."
    message_en = "The transfer reference is not valid."


class AccountNotFound(LedgerError):
    status_code = 404
    code = "account_not_found"
    message = "Rekening tidak ditemukan."
    message_en = "Account not found."


class AccountClosed(LedgerError):
    status_code = 409
    code = "account_closed"
    message = "Rekening sudah ditutup."
    message_en = "The account is closed."


class LedgerMismatch(LedgerError):
    code = "ledger_mismatch"
    message = "Kedua rekening harus berada pada buku besar yang sama."
    message_en = "Both accounts must be on the same ledger."


class SameAccount(LedgerError):
    code = "same_account"
    message = "Rekening debit dan kredit harus berbeda."
    message_en = "The debit and credit accounts must differ."


class InsufficientFunds(LedgerError):
    status_code = 409
    code = "insufficient_funds"
    message = "Saldo tidak mencukupi."
    message_en = "Insufficient balance."


class TransferExists(LedgerError):
    status_code = 409
    code = "transfer_exists_with_different_fields"
    message = "Id transaksi sudah dipakai untuk transaksi lain."
    message_en = "This transfer id was already used with different fields."


class PendingNotFound(LedgerError):
    status_code = 404
    code = "pending_not_found"
    message = "Transaksi tertunda tidak ditemukan."
    message_en = "Pending transfer not found."


class PendingAlreadyPosted(LedgerError):
    status_code = 409
    code = "pending_already_posted"
    message = "Transaksi tertunda sudah diselesaikan."
    message_en = "The pending transfer was already posted."


class PendingAlreadyVoided(LedgerError):
    status_code = 409
    code = "pending_already_voided"
    message = "Transaksi tertunda sudah dibatalkan."
    message_en = "The pending transfer was already voided."


class PendingExpired(LedgerError):
    status_code = 409
    code = "pending_expired"
    message = "Transaksi tertunda sudah kedaluwarsa."
    message_en = "The pending transfer has expired."


class TransferInvalid(LedgerError):
    status_code = 422
    code = "transfer_invalid"
    message = "Transaksi tidak valid."
    message_en = "The transfer is not valid."


class LinkedEventFailed(LedgerError):
    code = "linked_event_failed"
    message = "Satu transaksi dalam rangkaian gagal; tidak ada yang dicatat."
    message_en = "A transfer in the linked chain failed; nothing was recorded."


class SchemeUnknown(LedgerError):
    status_code = 422
    code = "scheme_unknown"
    message = "Skema program tidak dikenal."
    message_en = "Unknown program scheme."


class ReasonMissing(LedgerError):
    status_code = 422
    code = "reason_missing"
    message = "Tuliskan alasannya (misalnya nomor DIPA atau surat keputusan), paling sedikit 3 karakter."
    message_en = "Give the reason (for example the budget document or decree number), at least 3 characters."
