"""``prakerja selection verify``: passes on a real wave's files, names the failure on tampered ones; the same
inputs give bit-identical results in separate processes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja import lottery
from prakerja.cli import app
from prakerja.selection import service
from tests.selection.factories import PMO, add_entries, create_wave

REF = "drand/quicknet/round/999"
runner = CliRunner()


@pytest.fixture
def folder(session: Session, tmp_path: Path) -> Path:
    wave = create_wave(session, quotas={"3201": 3, "3273": 2, "5171": 0})
    made = add_entries(session, wave, [("3201", 0)] * 6 + [("3201", 1)] * 2 + [("3273", 0)] * 2 + [("5171", 0)])
    draw = service.commit(session, wave.id, randomness_source="b", randomness_reference=REF, actor=PMO, root=tmp_path)
    service.seed(session, wave.id, reference=REF, value="5a" * 32, actor=PMO)
    session.commit()
    proof = tmp_path / "proof.json"
    proof.write_bytes(service.proof_for_account(session, made[0].account_id, wave.id))
    return Path(draw.folder)


def _verify(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["selection", "verify", *args])
    return result.exit_code, result.output


def test_real_folder_passes_with_proof(folder: Path) -> None:
    code, output = _verify(str(folder), "--proof", str(folder.parent / "proof.json"))
    assert code == 0, output
    assert "OK: all checks passed" in output and "outcome" in output


def test_one_flipped_selection_is_caught(folder: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "flipped"
    shutil.copytree(folder, tampered)
    lines = (tampered / "results.csv").read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if ",waitlist," in line)
    lines[index] = lines[index].replace(",waitlist,", ",selected,")
    (tampered / "results.csv").write_text("".join(lines))
    code, output = _verify(str(tampered))
    assert code == 1
    assert "FAIL results" in output


def test_one_altered_quota_is_caught(folder: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "quota"
    shutil.copytree(folder, tampered)
    raw = (tampered / "commitment.json").read_bytes()
    assert b'{"code":"3273","quota":2}' in raw
    (tampered / "commitment.json").write_bytes(raw.replace(b'{"code":"3273","quota":2}', b'{"code":"3273","quota":3}'))
    code, output = _verify(str(tampered))
    assert code == 1
    assert "FAIL bad_signature" in output


def test_altered_quota_re_signed_with_another_key_is_caught_by_the_pinned_key(folder: Path, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    tampered = tmp_path / "resigned"
    shutil.copytree(folder, tampered)
    raw = (tampered / "commitment.json").read_bytes().replace(b'"quota":2}', b'"quota":1}')
    forger = Ed25519PrivateKey.generate()
    (tampered / "commitment.json").write_bytes(raw)
    (tampered / "commitment.sig").write_bytes(lottery.signature_file(raw, forger))
    (tampered / "public-key.pem").write_bytes(lottery.public_key_pem(forger))
    code, output = _verify(str(tampered), "--public-key", str(folder / "public-key.pem"))
    assert code == 1 and "FAIL" in output
    code, output = _verify(str(tampered))
    assert code == 1 and "FAIL results" in output  # the quota no longer gives the published results


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    code, output = _verify(str(tmp_path / "nope"))
    assert code == 2 and "not a folder" in output


DRAW_AGAIN = """
import hashlib, json, sys
from pathlib import Path
from prakerja import lottery
folder = Path(sys.argv[1])
commitment = json.loads((folder / "commitment.json").read_bytes())
rows = (folder / "eligible.csv").read_text().splitlines()[1:]
entries = [lottery.Entry(h, s, int(t)) for h, s, t in (r.split(",") for r in rows)]
quotas = {s["code"]: s["quota"] for s in commitment["strata"]}
seed = bytes.fromhex(json.loads((folder / "seed.json").read_bytes())["value"])
print(hashlib.sha256(lottery.results_csv(lottery.draw(entries, quotas, seed))).hexdigest())
"""


def test_bit_identical_in_two_separate_processes(folder: Path) -> None:
    published = hashlib.sha256((folder / "results.csv").read_bytes()).hexdigest()
    digests = []
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", DRAW_AGAIN, str(folder)], capture_output=True, text=True, env=env, check=True
        )
        digests.append(out.stdout.strip())
    assert digests == [published, published]


def test_proof_names_the_entry(folder: Path) -> None:
    proof = json.loads((folder.parent / "proof.json").read_bytes())
    result = lottery.verify_folder(folder, folder.parent / "proof.json")
    assert result.ok and result.proof is not None
    expected = lottery.entry_hash(proof["wave_id"], bytes.fromhex(proof["entry_secret"]))
    assert result.proof.entry_hash == expected
