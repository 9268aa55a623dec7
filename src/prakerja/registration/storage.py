"""Where uploaded files go: an interface, and a local folder under ``PRAKERJA_HOME`` by default.

Files are personal data (KTP photos), so they are stored encrypted (AES-GCM, bound to their key)."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Protocol

from prakerja.config import get_settings
from prakerja.kit.pii import decrypt, encrypt


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if not key.replace("/", "").replace("-", "").replace(".", "").isalnum() or ".." in key:
            raise ValueError("storage keys are letters, digits, '-', '.' and '/'")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        sealed = encrypt(base64.b64encode(data).decode("ascii"), f"storage:{key}")
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(sealed)
        os.replace(tmp, path)

    def get(self, key: str) -> bytes:
        return base64.b64decode(decrypt(self._path(key).read_bytes(), f"storage:{key}"))


def default_storage() -> Storage:
    return LocalStorage(get_settings().home / "uploads")
