"""The JSON-LD contexts a certificate uses, shipped as files in ``certificates/contexts/`` (sources in the README
there), and a document loader that serves only those: a certificate is never checked against a context fetched from
the network."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"

DIRECTORY = Path(__file__).resolve().parent.parent / "contexts"
FILES = {
    VC_V2: "credentials-v2.jsonld",
    OB_V3: "ob-v3p0-context-3.0.3.json",
}
"""Context URL -> file in ``contexts/``: the only URLs the loader answers."""

Loader = Callable[[str, Any], dict[str, Any]]


class UnknownContext(ValueError):
    """A document names a context that is not shipped with the package."""

    def __init__(self, url: str) -> None:
        super().__init__(f"context {url!r} is not one of the shipped contexts")
        self.url = url


@cache
def _shipped(url: str) -> str:
    return (DIRECTORY / FILES[url]).read_text(encoding="utf-8")


def shipped_context(url: str) -> dict[str, Any]:
    if url not in FILES:
        raise UnknownContext(url)
    document: dict[str, Any] = json.loads(_shipped(url))
    return document


def loader(extra: Mapping[str, dict[str, Any]] | None = None) -> Loader:
    """A pyld document loader answering the shipped contexts (and ``extra``, for tests) and refusing anything else."""
    more = dict(extra or {})

    def load(url: str, options: Any = None) -> dict[str, Any]:
        document = json.loads(json.dumps(more[url])) if url in more else shipped_context(url)
        return {"contextUrl": None, "documentUrl": url, "document": document}

    return load
