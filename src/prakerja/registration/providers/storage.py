"""Where uploaded files go: an interface, chosen by ``PRAKERJA_STORAGE`` (ADR 0009); a local folder under
``PRAKERJA_HOME`` by default.

Files are personal data (KTP photos), so they are stored encrypted (AES-GCM, bound to their key).

A file recorded by a database change must not outlive a rollback of that change, and must not be lost when the
change commits. So a request *stages* the file (written encrypted, durable, under ``_staging/``) and it is
*published* (renamed to its key) only after the transaction commits, or *discarded* when it does not
(:func:`stage_until_commit`). A crash between the commit and the rename leaves a staged file that
:meth:`Storage.get` still serves and that the sweeper (``registration.sweep_uploads``) publishes or deletes."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from prakerja.config import SettingsError, get_settings
from prakerja.kit.clock import utcnow
from prakerja.kit.pii import decrypt, encrypt

log = logging.getLogger(__name__)

STAGING = "_staging"
"""Folder of staged files; ``_`` is not allowed in keys, so no key can reach into it."""


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def stage(self, key: str, data: bytes) -> None: ...

    def publish(self, key: str) -> None: ...

    def discard(self, key: str) -> None: ...

    def delete(self, key: str) -> None: ...

    def staged_before(self, cutoff: datetime) -> Iterator[str]: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.replace("/", "").replace("-", "").replace(".", "").isalnum() or ".." in key:
            raise ValueError("storage keys are letters, digits, '-', '.' and '/'")
        return self.root / key

    def _staged(self, key: str) -> Path:
        return self.root / STAGING / self._path(key).relative_to(self.root)

    def _write(self, path: Path, key: str, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        sealed = encrypt(base64.b64encode(data).decode("ascii"), f"storage:{key}")
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(sealed)
        os.replace(tmp, path)

    def put(self, key: str, data: bytes) -> None:
        """Write straight to the key (no transaction involved)."""
        self._write(self._path(key), key, data)

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.exists() and self._staged(key).exists():
            path = self._staged(key)  # committed, not yet published (the process stopped in between)
        return base64.b64decode(decrypt(path.read_bytes(), f"storage:{key}"))

    def stage(self, key: str, data: bytes) -> None:
        """Write encrypted under the staging folder, stamped with the injected clock (the sweeper's age)."""
        path = self._staged(key)
        self._write(path, key, data)
        stamp = utcnow().timestamp()
        os.utime(path, (stamp, stamp))

    def publish(self, key: str) -> None:
        """Move a staged file to its key (atomic rename); a no-op when already published."""
        staged, final = self._staged(key), self._path(key)
        if staged.exists():
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)

    def discard(self, key: str) -> None:
        self._staged(key).unlink(missing_ok=True)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def staged_before(self, cutoff: datetime) -> Iterator[str]:
        """Keys of staged files written before ``cutoff`` (files being written, ``*.tmp``, are skipped)."""
        base = self.root / STAGING
        if not base.exists():
            return
        for path in base.rglob("*"):
            if path.is_file() and path.suffix != ".tmp" and path.stat().st_mtime < cutoff.timestamp():
                yield str(path.relative_to(base))


STORES = ("local",)
"""The stores ``PRAKERJA_STORAGE`` may name. Another store (an S3-compatible bucket, PostgreSQL large objects)
implements :class:`Storage` and is added here and to the setting's choices."""


def default_storage() -> Storage:
    """The store the settings choose (``PRAKERJA_STORAGE``; ``local`` by default, under ``PRAKERJA_HOME``)."""
    settings = get_settings()
    if settings.storage == "local":
        return LocalStorage(settings.storage_root or settings.home / "uploads")
    raise SettingsError(f"PRAKERJA_STORAGE: unknown store {settings.storage!r}; expected one of {', '.join(STORES)}")


_PENDING = "prakerja.storage.pending"


def stage_until_commit(session: Session, storage: Storage, key: str, data: bytes, *, replaces: str | None) -> None:
    """Stage ``data`` now; publish it when ``session``'s transaction commits (then delete the file it
    ``replaces``), discard it when the transaction ends any other way (rollback, close, error)."""
    storage.stage(key, data)
    pending: list[tuple[Storage, str, str | None]] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _publish_pending)
        event.listen(session, "after_transaction_end", _discard_pending)
    pending.append((storage, key, replaces))


def _publish_pending(session: Session) -> None:
    pending = session.info.get(_PENDING) or []
    while pending:
        storage, key, replaces = pending.pop(0)
        try:
            storage.publish(key)
            if replaces and replaces != key:
                storage.delete(replaces)
        except OSError:
            # the data is committed and the staged file still serves reads; the sweeper publishes it later
            log.warning("upload not published after commit", extra={"error": "oserror"})


def _discard_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return  # a savepoint: the outer transaction decides
    pending = session.info.get(_PENDING) or []
    while pending:
        storage, key, _ = pending.pop(0)
        with contextlib.suppress(OSError):
            storage.discard(key)
