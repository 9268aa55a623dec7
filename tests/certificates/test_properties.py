"""Property: changing any single field of a signed certificate, anywhere in it, breaks verification."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from prakerja.certificates.rules import contexts, credential, integrity, multibase, verification

BASE = "https://prakerja.example.go.id"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@cache
def _signed() -> tuple[dict[str, Any], dict[str, Any]]:
    fields = credential.CertificateFields(
        certificate_id="0193a0b0-0000-7000-8000-000000000001",
        holder_name="Ni Made Dewi",
        course_title="Pemasaran Digital",
        institution_name="LPK Maju",
        course_id=None,
        completed_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
        score=85,
        issued_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
        status_list=1,
        status_index=5,
    )
    did = credential.did_web(BASE)
    document = integrity.add_proof(
        credential.unsigned_credential(fields, base_url=BASE, program_name="Kartu Prakerja"),
        key=KEY,
        verification_method=credential.verification_method(did, "key-1"),
        created="2026-03-02T09:00:00Z",
        load=contexts.loader(),
    )
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    did_document = credential.did_document(did, [credential.PublicKey("key-1", multibase.public_key_multibase(raw))])
    return document, did_document


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(node, list):
        return [leaf for index, value in enumerate(node) for leaf in _leaves(value, (*path, index))]
    return [path]


LEAVES = _leaves(_signed()[0])


def test_the_unchanged_certificate_verifies() -> None:
    document, did_document = _signed()
    assert verification.verify(document, did_document, contexts.loader()).valid
    assert len(LEAVES) > 30


@settings(max_examples=120, deadline=None)
@given(path=st.sampled_from(LEAVES), replacement=st.text(min_size=1, max_size=20))
def test_any_single_field_change_breaks_verification(path: tuple[Any, ...], replacement: str) -> None:
    document, did_document = _signed()
    tampered = copy.deepcopy(document)
    target = tampered
    for step in path[:-1]:
        target = target[step]
    original = target[path[-1]]
    if isinstance(original, bool):
        changed: Any = not original
    else:
        changed = replacement if replacement != original else replacement + "x"
    target[path[-1]] = changed
    result = verification.verify(tampered, did_document, contexts.loader())
    assert not result.valid, (path, changed)
