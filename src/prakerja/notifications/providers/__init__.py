"""Senders behind one interface (``base.Sender``), chosen by settings (:func:`sender_for`)."""

from __future__ import annotations

from prakerja.config import Settings, get_settings
from prakerja.notifications.providers.base import Sender
from prakerja.notifications.providers.dev import DevSender
from prakerja.notifications.providers.sms_http import HttpSmsSender
from prakerja.notifications.providers.smtp import SmtpSender


def sender_for(channel: str, settings: Settings | None = None) -> Sender:
    """The configured sender for ``channel`` (``email`` or ``sms``)."""
    settings = settings or get_settings()
    if channel == "email" and settings.email_sender == "smtp":
        assert settings.smtp_host  # checked with the settings
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=settings.smtp_from,
            timeout=settings.smtp_timeout_seconds,
            ca_file=settings.smtp_ca_file,
        )
    if channel == "sms" and settings.sms_sender == "http":
        return HttpSmsSender(
            base_url=settings.sms_gateway_url,
            token=settings.sms_gateway_token,
            timeout=settings.sms_timeout_seconds,
        )

    return DevSender()


def dev_mailbox_enabled(settings: Settings | None = None) -> bool:
    """Whether any channel goes to the development mailbox (then ``/dev/kotak-pesan`` exists)."""
    settings = settings or get_settings()
    return settings.email_sender == "dev" or settings.sms_sender == "dev"
