"""Senders (and the upload store) are chosen by settings; production refuses the development sender."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from prakerja.config import SettingsError, get_settings
from prakerja.notifications.providers import sender_for
from prakerja.notifications.providers.dev import DevSender
from prakerja.notifications.providers.sms_http import HttpSmsSender
from prakerja.notifications.providers.smtp import SmtpSender
from prakerja.registration.providers.storage import LocalStorage, default_storage

PRODUCTION = {
    "ENV": "production",
    "DATABASE_URL": "postgresql://prakerja@db.internal/prakerja",
    "SECRET_KEY": "s",
    "PII_KEYS": "k1:AAAA",
    "BLIND_INDEX_KEY": "AAAA",
    "SIGNING_KEY": "AAAA",
    "PUBLIC_BASE_URL": "https://prakerja.example.id",
}
REAL_SENDERS = {
    "EMAIL_SENDER": "smtp",
    "SMTP_HOST": "smtp.internal",
    "SMS_SENDER": "http",
    "SMS_GATEWAY_URL": "https://sms.internal",
    "SMS_GATEWAY_TOKEN": "t",
}


class TestChoice:
    def test_development_by_default(self, settings_env: Callable[..., None]) -> None:
        settings_env()
        assert isinstance(sender_for("email"), DevSender) and isinstance(sender_for("sms"), DevSender)

    def test_real_senders_by_setting(self, settings_env: Callable[..., None]) -> None:
        settings_env(**REAL_SENDERS, SMTP_PORT=465, SMTP_SECURITY="ssl", SMS_TIMEOUT_SECONDS=4)
        email, sms = sender_for("email"), sender_for("sms")
        assert isinstance(email, SmtpSender) and (email.host, email.port, email.security) == (
            "smtp.internal",
            465,
            "ssl",
        )
        assert isinstance(sms, HttpSmsSender) and sms.base_url == "https://sms.internal" and sms.timeout.read == 4

    def test_production_with_real_senders_starts(self, settings_env: Callable[..., None]) -> None:
        settings_env(**PRODUCTION, **REAL_SENDERS)
        assert get_settings().email_sender == "smtp"

    @pytest.mark.parametrize(
        ("override", "named"),
        [
            ({"EMAIL_SENDER": "dev"}, "PRAKERJA_EMAIL_SENDER"),
            ({"SMS_SENDER": "dev"}, "PRAKERJA_SMS_SENDER"),
            ({"SMS_GATEWAY_TOKEN": ""}, "PRAKERJA_SMS_GATEWAY_TOKEN"),
        ],
    )
    def test_production_refuses_a_development_sender(
        self, settings_env: Callable[..., None], override: dict[str, str], named: str
    ) -> None:
        settings_env(**PRODUCTION, **{**REAL_SENDERS, **override})
        with pytest.raises(SettingsError, match=named):
            get_settings()

    def test_production_refuses_to_start_from_the_command_line(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PRAKERJA_")}
        env.update({f"PRAKERJA_{k}": v for k, v in PRODUCTION.items()})
        env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
        result = subprocess.run(
            [sys.executable, "-m", "prakerja", "serve", "--port", "1"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert result.returncode == 2
        assert "PRAKERJA_EMAIL_SENDER: 'dev' is refused when PRAKERJA_ENV=production" in result.stderr
        assert "Traceback" not in result.stderr

    @pytest.mark.parametrize(
        ("values", "named"),
        [
            ({"EMAIL_SENDER": "pigeon"}, "PRAKERJA_EMAIL_SENDER"),
            ({"SMS_SENDER": "fax"}, "PRAKERJA_SMS_SENDER"),
            ({"EMAIL_SENDER": "smtp"}, "PRAKERJA_SMTP_HOST"),
            ({"SMTP_SECURITY": "maybe"}, "PRAKERJA_SMTP_SECURITY"),
            ({"STORAGE": "s3"}, "PRAKERJA_STORAGE"),
        ],
    )
    def test_unknown_or_incomplete_choices_are_refused(
        self, settings_env: Callable[..., None], values: dict[str, str], named: str
    ) -> None:
        settings_env(**values)
        with pytest.raises(SettingsError, match=named):
            get_settings()

    def test_no_development_mailbox_with_real_senders(
        self, settings_env: Callable[..., None], make_client: Callable[[], TestClient]
    ) -> None:
        settings_env(**REAL_SENDERS)
        assert make_client().get("/dev/kotak-pesan").status_code == 404


class TestStorageChoice:
    def test_local_under_home_by_default(self, settings_env: Callable[..., None]) -> None:
        settings_env()
        store = default_storage()
        assert isinstance(store, LocalStorage) and store.root == get_settings().home / "uploads"

    def test_local_root_by_setting(self, settings_env: Callable[..., None], tmp_path: Path) -> None:
        settings_env(STORAGE="local", STORAGE_ROOT=tmp_path / "files")
        store = default_storage()
        store.put("ktp/a.jpg", b"\xff\xd8photo")
        assert store.get("ktp/a.jpg") == b"\xff\xd8photo"
        assert (tmp_path / "files" / "ktp" / "a.jpg").exists()
        assert b"photo" not in (tmp_path / "files" / "ktp" / "a.jpg").read_bytes()  # encrypted at rest
