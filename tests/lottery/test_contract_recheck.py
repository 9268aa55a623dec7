"""The contract's clarified points, checked in the writer, the verifier and the verify command: ``commitment.sig``
is one line ending in one LF; ``seed.json`` is RFC 8785 with exactly its two members; strata and tiers are ASCII
digits; ``--public-key`` pins the key (and without it the verifier says it trusted the folder's own key);
``--require-draw`` fails a folder whose draw is still to come. No database."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from prakerja import lottery
from prakerja.cli import app
from prakerja.lottery import Entry, LotteryError
from tests.lottery.test_verify import KEY, REFERENCE, SEED_HEX, failure, publish

runner = CliRunner()


def verify_cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["selection", "verify", *args])
    return result.exit_code, result.output


class TestSignatureFile:
    def test_the_writer_writes_one_line_of_padded_base64_ending_in_one_lf(self, tmp_path: Path) -> None:
        publish(tmp_path)
        signature = (tmp_path / "commitment.sig").read_bytes()
        assert signature.endswith(b"==\n") and signature.count(b"\n") == 1 and len(signature) == 89
        assert len(base64.b64decode(signature[:-1], validate=True)) == 64

    @pytest.mark.parametrize("ending", [b"", b"\n\n", b"\r\n", b" \n"])
    def test_any_other_ending_is_refused(self, tmp_path: Path, ending: bytes) -> None:
        publish(tmp_path)
        signature = (tmp_path / "commitment.sig").read_bytes()
        (tmp_path / "commitment.sig").write_bytes(signature[:-1] + ending)
        assert failure(tmp_path) == "signature_malformed"


class TestSeedFile:
    def test_the_writer_writes_rfc_8785(self, tmp_path: Path) -> None:
        publish(tmp_path)
        raw = (tmp_path / "seed.json").read_bytes()
        assert raw == rfc8785.dumps({"reference": REFERENCE, "value": SEED_HEX})
        assert raw == b'{"reference":"' + REFERENCE.encode() + b'","value":"' + SEED_HEX.encode() + b'"}'

    @pytest.mark.parametrize(
        "serialised",
        [
            json.dumps({"value": SEED_HEX, "reference": REFERENCE}).encode(),  # members out of order, spaces
            json.dumps({"reference": REFERENCE, "value": SEED_HEX}, indent=2).encode(),
            rfc8785.dumps({"reference": REFERENCE, "value": SEED_HEX}) + b"\n",  # a trailing newline
        ],
    )
    def test_a_seed_file_not_in_canonical_form_fails(self, tmp_path: Path, serialised: bytes) -> None:
        publish(tmp_path)
        (tmp_path / "seed.json").write_bytes(serialised)
        assert failure(tmp_path) == "seed_not_canonical"

    def test_a_seed_file_with_another_member_fails(self, tmp_path: Path) -> None:
        publish(tmp_path)
        (tmp_path / "seed.json").write_bytes(rfc8785.dumps({"reference": REFERENCE, "value": SEED_HEX, "x": 1}))
        assert failure(tmp_path) == "seed_malformed"


class TestDigits:
    @pytest.mark.parametrize("stratum", ["٣٢٠١", "３２０１", "32 01", "", "3201\n"])
    def test_a_stratum_of_other_than_ascii_digits_is_refused(self, stratum: str) -> None:
        with pytest.raises(LotteryError) as refused:
            lottery.eligible_csv([Entry("ab" * 32, stratum, 0)])
        assert refused.value.code == "stratum_invalid"

    @pytest.mark.parametrize("tier", ["³", "٣", "３", "01", "-1", "1.0"])
    def test_a_tier_of_other_than_ascii_digits_in_eligible_rows_is_refused(self, tier: str) -> None:
        body = f"{'ab' * 32},3201,{tier}\n".encode()
        with pytest.raises(LotteryError):
            lottery.eligible_lines(body)


class TestPublicKey:
    def test_without_a_pinned_key_the_verifier_says_it_trusted_the_folders_key(self, tmp_path: Path) -> None:
        publish(tmp_path)
        result = lottery.verify_folder(tmp_path)
        assert result.ok and not result.key_pinned
        code, output = verify_cli(str(tmp_path))
        assert code == 0 and "trusted the folder's own public-key.pem" in output

    def test_with_the_programs_key_pinned_it_says_so(self, tmp_path: Path) -> None:
        publish(tmp_path)
        pem = tmp_path.parent / f"{tmp_path.name}-program.pem"
        pem.write_bytes(lottery.public_key_pem(KEY))
        assert lottery.verify_folder(tmp_path, public_key=pem.read_bytes()).key_pinned
        code, output = verify_cli(str(tmp_path), "--public-key", str(pem))
        assert code == 0 and "trusted the folder's own" not in output and "the program's public key" in output

    def test_another_key_pinned_fails(self, tmp_path: Path) -> None:
        publish(tmp_path)
        other = tmp_path.parent / f"{tmp_path.name}-other.pem"
        other.write_bytes(lottery.public_key_pem(Ed25519PrivateKey.from_private_bytes(bytes(32))))
        code, output = verify_cli(str(tmp_path), "--public-key", str(other))
        assert code == 1 and "FAIL public_key_mismatch" in output


class TestRequireDraw:
    def test_a_commitment_alone_passes_and_says_the_draw_is_to_come(self, tmp_path: Path) -> None:
        publish(tmp_path, draw=False)
        code, output = verify_cli(str(tmp_path))
        assert code == 0 and "the draw is not published yet" in output

    def test_require_draw_fails_it(self, tmp_path: Path) -> None:
        publish(tmp_path, draw=False)
        code, output = verify_cli(str(tmp_path), "--require-draw")
        assert code == 1 and "FAIL seed_missing" in output
