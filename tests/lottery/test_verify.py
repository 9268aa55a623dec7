"""The published folder and section 6's verifier: a good folder passes; each kind of tampering is caught and
named by the first failed check; applicants' proofs; broken files never raise. No database."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prakerja import lottery
from prakerja.lottery import Entry, LotteryError

WAVE = "0198c0de-0000-7000-8000-000000000042"
REFERENCE = "drand quicknet round 12345678"
SEED_HEX = "9f" * 32
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
ALL_CHECKS = ("signature", "canonical", "eligible", "seed_reference", "results")


def make_wave(*, count: int = 120, seed: int = 7) -> tuple[list[Entry], dict[str, int], dict[bytes, tuple[str, int]]]:
    """Entries (with their secrets) over four strata and three tiers, and quotas that leave a waitlist."""
    rng = random.Random(seed)
    secrets: dict[bytes, tuple[str, int]] = {}
    entries = []
    for _ in range(count):
        secret, stratum, tier = rng.randbytes(32), rng.choice(["3201", "3273", "32", "11"]), rng.choice([0, 0, 1, 2])
        secrets[secret] = (stratum, tier)
        entries.append(Entry(lottery.entry_hash(WAVE, secret), stratum, tier))
    return entries, {"3201": 12, "3273": 40, "32": 3, "99": 5}, secrets


def publish(folder: Path, *, draw: bool = True) -> lottery.Commitment:
    entries, quotas, _ = make_wave()
    written = lottery.write_commitment_files(
        folder,
        entries=entries,
        wave_id=WAVE,
        scheme="2023-normal",
        quotas=quotas,
        randomness_source="drand",
        randomness_reference=REFERENCE,
        committed_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        signing_key=KEY,
    )
    if draw:
        lottery.write_draw_files(folder, REFERENCE, SEED_HEX)
    return written


def resign(folder: Path, commitment: bytes) -> None:
    """What an insider with the signing key could do: publish and sign a changed commitment."""
    (folder / "commitment.json").write_bytes(commitment)
    (folder / "commitment.sig").write_bytes(lottery.signature_file(commitment, KEY))


def failure(folder: Path, proof: Path | None = None) -> str | None:
    result = lottery.verify_folder(folder, proof)
    assert result.ok is (result.code is None)
    return result.code


@pytest.fixture
def wave(tmp_path: Path) -> Path:
    publish(tmp_path)
    return tmp_path


class TestPublishedFiles:
    def test_a_published_draw_passes_every_check(self, wave: Path) -> None:
        result = lottery.verify_folder(wave, require_draw=True)
        assert result.ok, result.message
        assert result.passed == ALL_CHECKS
        assert result.drawn

    def test_file_formats(self, wave: Path) -> None:
        signature = (wave / "commitment.sig").read_bytes()
        assert signature.endswith(b"==\n")
        assert signature.count(b"\n") == 1
        assert (wave / "public-key.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
        commitment = (wave / "commitment.json").read_bytes()
        assert rfc8785.dumps(json.loads(commitment)) == commitment
        assert json.loads((wave / "seed.json").read_bytes()) == {"reference": REFERENCE, "value": SEED_HEX}
        eligible = (wave / "eligible.csv").read_bytes()
        assert eligible.startswith(b"entry_hash,stratum,tier\n")
        assert eligible.endswith(b"\n")
        assert json.loads(commitment)["eligible_count"] == eligible.count(b"\n") - 1 == 120

    def test_commitment_alone_passes_until_a_draw_is_required(self, tmp_path: Path) -> None:
        publish(tmp_path, draw=False)
        result = lottery.verify_folder(tmp_path)
        assert result.ok
        assert not result.drawn
        assert result.passed == ("signature", "canonical", "eligible")
        assert lottery.verify_folder(tmp_path, require_draw=True).code == "seed_missing"

    def test_drawing_again_with_the_same_seed_is_idempotent_and_another_seed_is_refused(self, wave: Path) -> None:
        before = (wave / "results.csv").read_bytes()
        lottery.write_draw_files(wave, REFERENCE, SEED_HEX)
        assert (wave / "results.csv").read_bytes() == before
        with pytest.raises(LotteryError) as refused:
            lottery.write_draw_files(wave, REFERENCE, "00" * 32)
        assert refused.value.code == "already_drawn"

    def test_a_draw_with_another_reference_than_committed_is_refused(self, tmp_path: Path) -> None:
        publish(tmp_path, draw=False)
        with pytest.raises(LotteryError) as refused:
            lottery.write_draw_files(tmp_path, "drand round 1", SEED_HEX)
        assert refused.value.code == "seed_reference_mismatch"
        assert not (tmp_path / "results.csv").exists()

    def test_the_draw_uses_the_committed_files_not_a_changed_eligible_list(self, tmp_path: Path) -> None:
        publish(tmp_path, draw=False)
        eligible = tmp_path / "eligible.csv"
        eligible.write_bytes(eligible.read_bytes().replace(b",3273,", b",3201,", 1))
        with pytest.raises(LotteryError) as refused:
            lottery.write_draw_files(tmp_path, REFERENCE, SEED_HEX)
        assert refused.value.code == "merkle_root_mismatch"


class TestTampering:
    def test_one_flipped_selection(self, wave: Path) -> None:
        results = wave / "results.csv"
        results.write_bytes(results.read_bytes().replace(b",waitlist,", b",selected,", 1))
        assert failure(wave) == "results_mismatch"

    def test_results_from_another_seed(self, wave: Path) -> None:
        entries, quotas, _ = make_wave()
        (wave / "results.csv").write_bytes(lottery.results_csv(lottery.draw(entries, quotas, b"\x00" * 32)))
        assert failure(wave) == "results_mismatch"

    def test_crlf_results(self, wave: Path) -> None:
        results = wave / "results.csv"
        results.write_bytes(results.read_bytes().replace(b"\n", b"\r\n"))
        assert failure(wave) == "results_mismatch"

    def test_one_altered_quota_breaks_the_signature(self, wave: Path) -> None:
        commitment = json.loads((wave / "commitment.json").read_bytes())
        commitment["strata"][0]["quota"] += 1
        (wave / "commitment.json").write_bytes(rfc8785.dumps(commitment))
        assert failure(wave) == "bad_signature"

    def test_a_resigned_commitment_in_another_serialisation_is_not_canonical(self, wave: Path) -> None:
        commitment = json.loads((wave / "commitment.json").read_bytes())
        resign(wave, json.dumps(commitment, indent=2).encode())
        assert failure(wave) == "not_canonical"
        resign(wave, rfc8785.dumps(commitment) + b"\n")
        assert failure(wave) == "not_canonical"

    def test_a_resigned_quota_change_is_caught_by_the_results(self, wave: Path) -> None:
        commitment = json.loads((wave / "commitment.json").read_bytes())
        commitment["strata"][0]["quota"] += 1
        resign(wave, rfc8785.dumps(commitment))
        assert failure(wave) == "results_mismatch"

    def test_a_resigned_commitment_with_wrong_members(self, wave: Path) -> None:
        commitment = json.loads((wave / "commitment.json").read_bytes())
        resign(wave, rfc8785.dumps({**commitment, "note": "x"}))
        assert failure(wave) == "commitment_invalid"
        resign(wave, rfc8785.dumps({**commitment, "strata": list(reversed(commitment["strata"]))}))
        assert failure(wave) == "commitment_invalid"
        resign(wave, rfc8785.dumps({**commitment, "committed_at": "2026-03-02T09:00:00+07:00"}))
        assert failure(wave) == "commitment_invalid"
        resign(wave, rfc8785.dumps({**commitment, "algorithm": "prakerja-lottery-v2"}))
        assert failure(wave) == "unsupported_algorithm"

    def test_another_key_is_caught_only_when_the_program_key_is_pinned(self, wave: Path) -> None:
        forger = Ed25519PrivateKey.generate()
        raw = (wave / "commitment.json").read_bytes()
        (wave / "commitment.sig").write_bytes(lottery.signature_file(raw, forger))
        assert failure(wave) == "bad_signature"
        (wave / "public-key.pem").write_bytes(lottery.public_key_pem(forger))
        assert failure(wave) is None
        pinned = lottery.verify_folder(wave, public_key=lottery.public_key_pem(KEY))
        assert pinned.code == "public_key_mismatch"

    @pytest.mark.parametrize(
        ("change", "code"),
        [
            (
                lambda rows: [
                    rows[0].replace(",0", ",1", 1) if rows[0].endswith(",0") else rows[0][:-1] + "0",
                    *rows[1:],
                ],
                "merkle_root_mismatch",
            ),
            (lambda rows: [rows[1], rows[0], *rows[2:]], "eligible_not_sorted"),
            (lambda rows: [rows[0], *rows], "eligible_duplicate"),
            (lambda rows: rows[1:], "eligible_count_mismatch"),
            (lambda rows: [rows[0] + "\r", *rows[1:]], "eligible_malformed"),
            (lambda rows: [rows[0].replace(",", ";", 1), *rows[1:]], "eligible_malformed"),
            (lambda rows: [rows[0][:-1] + "01", *rows[1:]], "eligible_malformed"),
            (lambda rows: [rows[0].upper(), *rows[1:]], "eligible_malformed"),
        ],
    )
    def test_eligible_rows(self, wave: Path, change: object, code: str) -> None:
        path = wave / "eligible.csv"
        header, *rows = path.read_text().split("\n")[:-1]
        path.write_text("\n".join([header, *change(rows), ""]))  # type: ignore[operator]
        assert failure(wave) == code

    def test_eligible_without_trailing_newline(self, wave: Path) -> None:
        path = wave / "eligible.csv"
        path.write_bytes(path.read_bytes()[:-1])
        assert failure(wave) == "eligible_malformed"

    def test_wrong_seed_reference(self, wave: Path) -> None:
        (wave / "seed.json").write_bytes(lottery.seed_json("drand quicknet round 1", SEED_HEX))
        assert failure(wave) == "seed_reference_mismatch"

    @pytest.mark.parametrize("content", [b"", b"[]", b'{"reference": 1}', b'{"reference": "x", "value": "AB"}'])
    def test_malformed_seed(self, wave: Path, content: bytes) -> None:
        (wave / "seed.json").write_bytes(content)
        assert failure(wave) == "seed_malformed"

    @pytest.mark.parametrize(
        ("name", "code"),
        [
            ("commitment.json", "commitment_missing"),
            ("commitment.sig", "signature_missing"),
            ("public-key.pem", "public_key_missing"),
            ("eligible.csv", "eligible_missing"),
            ("results.csv", "results_missing"),
            ("seed.json", "seed_missing"),
        ],
    )
    def test_missing_files(self, wave: Path, name: str, code: str) -> None:
        (wave / name).unlink()
        assert failure(wave) == code

    @pytest.mark.parametrize(
        ("name", "content", "code"),
        [
            ("commitment.sig", None, "signature_malformed"),
            ("commitment.sig", b"not base64!\n", "signature_malformed"),
            ("public-key.pem", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "public_key_malformed"),
            ("commitment.json", b"\xff\xfe{", "bad_signature"),
        ],
    )
    def test_malformed_files(self, wave: Path, name: str, content: bytes | None, code: str) -> None:
        path = wave / name
        path.write_bytes(path.read_bytes().rstrip(b"\n") if content is None else content)
        assert failure(wave) == code

    def test_a_folder_that_is_not_there(self, tmp_path: Path) -> None:
        assert failure(tmp_path / "nothing") == "commitment_missing"


class TestProofs:
    def write_proof(self, folder: Path, written: lottery.Commitment, **overrides: object) -> Path:
        _, _, secrets = make_wave()
        by_hash = {lottery.entry_hash(WAVE, secret): secret for secret in secrets}
        index = 57
        secret = by_hash[sorted(by_hash)[index]]
        stratum, tier = secrets[secret]
        proof = lottery.proof_for(written.tree, index, wave_id=WAVE, entry_secret=secret, stratum=stratum, tier=tier)
        path = folder.parent / f"{folder.name}-proof.json"
        path.write_bytes(lottery.proof_json({**proof, **overrides}))
        return path

    def test_a_valid_proof_reports_the_entry_and_its_outcome(self, tmp_path: Path) -> None:
        written = publish(tmp_path)
        result = lottery.verify_folder(tmp_path, self.write_proof(tmp_path, written))
        assert result.ok, result.message
        assert result.passed == (*ALL_CHECKS, "proof")
        report = result.proof
        assert report is not None
        rows = (tmp_path / "results.csv").read_text().split("\n")
        row = next(r.split(",") for r in rows if report.entry_hash in r)
        assert row == [report.stratum, str(report.tier), str(report.rank), report.entry_hash, report.ticket,
                       report.outcome, report.probability]  # fmt: skip

    def test_a_proof_before_the_draw_shows_inclusion_only(self, tmp_path: Path) -> None:
        written = publish(tmp_path, draw=False)
        result = lottery.verify_folder(tmp_path, self.write_proof(tmp_path, written))
        assert result.ok
        assert result.proof is not None
        assert result.proof.outcome is None

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"entry_secret": "00" * 32}, "proof_root_mismatch"),
            ({"tier": 7}, "proof_root_mismatch"),
            ({"stratum": "9999"}, "proof_root_mismatch"),
            ({"leaf_index": 0}, "proof_root_mismatch"),
            ({"audit_path": []}, "proof_path_invalid"),
            ({"leaf_index": 120}, "proof_path_invalid"),
            ({"tree_size": 119}, "proof_tree_size_mismatch"),
            ({"wave_id": "another-wave"}, "proof_wave_mismatch"),
            ({"entry_secret": "zz"}, "proof_malformed"),
            ({"audit_path": "ab"}, "proof_malformed"),
            ({"leaf_index": -1}, "proof_malformed"),
            ({"tier": "0"}, "proof_malformed"),
        ],
    )
    def test_bad_proofs(self, tmp_path: Path, overrides: dict[str, object], code: str) -> None:
        written = publish(tmp_path)
        proof = self.write_proof(tmp_path, written, **overrides)
        assert failure(tmp_path, proof) == code

    def test_unreadable_proofs(self, tmp_path: Path) -> None:
        publish(tmp_path)
        assert failure(tmp_path, tmp_path / "none.json") == "proof_missing"
        (tmp_path / "bad.json").write_bytes(b"{not json")
        assert failure(tmp_path, tmp_path / "bad.json") == "proof_malformed"

    def test_proof_for_refuses_a_leaf_that_is_not_the_entry(self, tmp_path: Path) -> None:
        written = publish(tmp_path, draw=False)
        with pytest.raises(LotteryError):
            lottery.proof_for(written.tree, 0, wave_id=WAVE, entry_secret=b"\x00" * 32, stratum="32", tier=0)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(["commitment.json", "commitment.sig", "eligible.csv", "results.csv", "seed.json"]),
    position=st.integers(min_value=0),
    byte=st.integers(min_value=0, max_value=255),
    cut=st.booleans(),
)
def test_any_changed_byte_is_caught_and_never_raises(
    tmp_path_factory: pytest.TempPathFactory, name: str, position: int, byte: int, cut: bool
) -> None:
    folder = tmp_path_factory.mktemp("wave")
    publish(folder)
    data = bytearray((folder / name).read_bytes())
    position %= len(data)
    if cut:
        del data[position:]
    elif data[position] == byte:
        return
    else:
        data[position] = byte
    (folder / name).write_bytes(bytes(data))
    result = lottery.verify_folder(folder)
    assert not result.ok
    assert result.code
    assert result.message
