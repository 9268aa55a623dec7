"""Auth fixtures: settings for one test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from prakerja.config import reset_settings


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``settings_env(TRUSTED_PROXIES="10.0.0.1", ...)`` sets ``PRAKERJA_*`` for this test only."""

    def apply(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"PRAKERJA_{name}", str(value))
        reset_settings()

    yield apply
    monkeypatch.undo()
    reset_settings()
