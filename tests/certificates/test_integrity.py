"""The eddsa-rdfc-2022 proof against the W3C specification's published test vector, and the strict JSON-LD
processing around it (pure: no database)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prakerja.certificates.rules import contexts, integrity, multibase, statuslist

VECTORS = Path(__file__).parent / "vectors"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def _vector(name: str) -> str:
    return (VECTORS / name).read_text()


def _json(name: str) -> Any:
    return json.loads(_vector(name))


@pytest.fixture
def load() -> contexts.Loader:
    # The spec's example uses the examples context, which the package does not ship: tests add it.
    return contexts.loader({EXAMPLES_V2: _json("credentials-examples-v2.jsonld")})


class TestSpecificationVector:
    """W3C Data Integrity EdDSA Cryptosuites v1.0, test vector for eddsa-rdfc-2022 (see vectors/README.md)."""

    def test_canonical_document_and_proof_configuration(self, load: contexts.Loader) -> None:
        signed = _json("eddsa-rdfc-2022-signedDataInt.json")
        unsecured = {k: v for k, v in signed.items() if k != "proof"}
        canonical_doc = integrity.canonicalize(unsecured, load)
        assert canonical_doc == _vector("eddsa-rdfc-2022-canonDocDataInt.txt")
        assert hashlib.sha256(canonical_doc.encode()).hexdigest() == _vector("eddsa-rdfc-2022-docHashDataInt.txt")
        config = _json("eddsa-rdfc-2022-proofConfigDataInt.json")
        canonical_config = integrity.canonicalize(config, load)
        assert canonical_config == _vector("eddsa-rdfc-2022-proofCanonDataInt.txt")
        combined = integrity.hash_data(unsecured, config, load)
        assert combined.hex() == _vector("eddsa-rdfc-2022-combinedHashDataInt.txt").strip()

    def test_proof_value_reproduced(self, load: contexts.Loader) -> None:
        keys = _json("keyPair.json")
        signed = _json("eddsa-rdfc-2022-signedDataInt.json")
        private = Ed25519PrivateKey.from_private_bytes(
            multibase.private_key_from_multibase(keys["privateKeyMultibase"])
        )
        proof = signed["proof"]
        again = integrity.add_proof(
            {k: v for k, v in signed.items() if k != "proof"},
            key=private,
            verification_method=proof["verificationMethod"],
            created=proof["created"],
            load=load,
        )
        assert again["proof"]["proofValue"] == _vector("eddsa-rdfc-2022-sigBTC58DataInt.txt").strip()
        assert again == signed

    def test_published_credential_verifies(self, load: contexts.Loader) -> None:
        keys = _json("keyPair.json")
        public = multibase.public_key_from_multibase(keys["publicKeyMultibase"])
        integrity.verify_proof(_json("eddsa-rdfc-2022-signedDataInt.json"), public, load)


class TestStrictProcessing:
    def test_loader_refuses_a_context_not_shipped(self) -> None:
        with pytest.raises(contexts.UnknownContext):
            contexts.loader()("https://evil.example/context.jsonld")
        signed = _json("eddsa-rdfc-2022-signedDataInt.json")
        with pytest.raises(integrity.ProofInvalid) as refused:
            integrity.canonicalize({k: v for k, v in signed.items() if k != "proof"}, contexts.loader())
        assert refused.value.reason == "unknown_context"

    def test_undefined_property_is_refused_not_dropped(self) -> None:
        document = {"@context": [contexts.VC_V2], "type": ["VerifiableCredential"], "extra": "unsigned"}
        with pytest.raises(integrity.ProofInvalid) as refused:
            integrity.canonicalize(document, contexts.loader())
        assert refused.value.reason == "undefined_term"

    def test_undefined_type_is_refused(self) -> None:
        document = {"@context": [contexts.VC_V2], "type": ["VerifiableCredential", "Unknown"]}
        with pytest.raises(integrity.ProofInvalid) as refused:
            integrity.canonicalize(document, contexts.loader())
        assert refused.value.reason == "undefined_term"

    def test_shipped_contexts_match_their_published_digests(self) -> None:
        # Pinned so an edit of a specification file is noticed (sources in contexts/README.md).
        digests = {
            url: hashlib.sha256((contexts.DIRECTORY / name).read_bytes()).hexdigest()
            for url, name in contexts.FILES.items()
        }
        assert digests == {
            contexts.VC_V2: "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
            contexts.OB_V3: "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
        }


class TestMultibaseAndStatusList:
    def test_base58_round_trip_keeps_leading_zeros(self) -> None:
        for data in (b"", b"\0\0\x01", bytes(range(40))):
            assert multibase.b58decode(multibase.b58encode(data)) == data

    def test_status_list_sets_exactly_the_given_bits(self) -> None:
        encoded = statuslist.encode([0, 7, 131_071])
        bits = statuslist.decode(encoded)
        assert len(bits) * 8 == statuslist.LIST_BITS
        assert [i for i in (0, 1, 7, 8, 131_070, 131_071) if statuslist.is_set(bits, i)] == [0, 7, 131_071]
        assert bits[0] == 0b1000_0001

    def test_status_list_smaller_than_minimum_is_refused(self) -> None:
        with pytest.raises(statuslist.StatusListError):
            statuslist.decode(statuslist.encode([], size=8 * 1024))
