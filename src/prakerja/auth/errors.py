from prakerja.kit.errors import DomainError, Unauthenticated


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    message = "E-mail atau kata sandi salah."
    message_en = "Wrong e-mail or password."


class AccountDisabled(Unauthenticated):
    code = "account_disabled"
    message = "Akun ini dinonaktifkan."
    message_en = "This account is disabled."


class EmailTaken(DomainError):
    status_code = 409
    code = "email_taken"
    message = "E-mail ini sudah terdaftar."
    message_en = "This e-mail is already registered."


class WeakPassword(DomainError):
    status_code = 422
    code = "weak_password"
    message = "Kata sandi minimal 10 karakter."
    message_en = "The password needs at least 10 characters."
