from prakerja.kit.errors import Conflict, Unauthenticated, ValidationFailed


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    message = "E-mail atau kata sandi salah."
    message_en = "Wrong e-mail or password."


class AccountDisabled(Unauthenticated):
    code = "account_disabled"
    message = "Akun ini dinonaktifkan."
    message_en = "This account is disabled."


class EmailTaken(Conflict):
    code = "email_taken"
    message = "E-mail ini sudah terdaftar."
    message_en = "This e-mail is already registered."


class WeakPassword(ValidationFailed):
    code = "weak_password"
    message = "Kata sandi minimal 10 karakter."
    message_en = "The password needs at least 10 characters."
