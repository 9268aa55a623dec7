"""Byte-for-byte regression: a fixed 20,000-entry wave (``golden_wave``) must publish exactly the files the
original implementation published (their SHA-256 below were captured from it before any speed work), through the
pure lottery and through the service with the database. A faster draw that changes one byte fails here."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.auth.models import Role
from prakerja.kit import signing
from prakerja.kit.clock import clock
from prakerja.schemes.rules import file_hash
from prakerja.selection import service
from prakerja.waves.models import Entry, EntryStatus, Quota, StratumLevel, Wave, WaveState
from tests.selection import golden_wave as g
from tests.selection.factories import PMO, T0, create_account

ROOT = Path(__file__).resolve().parents[2]

GOLDEN = {
    "commitment.json": "bfca2f833dbdad45e86540ae7891384df76afeca8aa7ae5e63eaae73ea177b26",
    "commitment.sig": "f8cba30e707e34511923803d83bb825a420198dc98a771b50efd7844845b1396",
    "eligible.csv": "7b19af1f6f977dd2f01a7b7f6932d81acdf7681e6168852ff9d198b64df8ef34",
    "public-key.pem": "ab8040e5db6ea403eacc5a31527d516b9102ba638a1efe050b319cbc56dc9219",
    "results.csv": "3e06007ac6a487f97a3c07fd8c166dc446a94aa45254bd9edef7737941359723",
    "seed.json": "169fcd10f2b0c5ff12a7fbd0e255f3fac92e03d734646b749c2bcb7c991e6d7a",
}
GOLDEN_PROOFS = {
    # leaf index in eligible.csv: (entry number in golden_wave, SHA-256 of the proof file)
    0: (10489, "d4942b25a3ed0a04cbc7677ad0572440ddc212ec3287b5697e8255de0c4cef7f"),
    1: (7071, "ec230699cb6d685fc36073a8de2773364f3e1a71cd7d87e8afa875ede4979cf0"),
    777: (10721, "a780ca70af0b12ebcd75946d6943ddfc12baec8ff93c9c97fe231cbb490076ed"),
    12345: (11766, "ae34985f35be88ec6deef36160a78557ccc800902b2423624feb6a433a60109d"),
    19999: (7943, "0cf67681c1b625e225e2454024fc06ec2a8b79e8abc3d84c6228db9867c9eacf"),
}


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def made() -> list[lottery.Entry]:
    return g.entries(20_000)


@pytest.fixture(scope="module")
def published(made: list[lottery.Entry], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, lottery.Commitment]:
    folder = tmp_path_factory.mktemp("golden") / g.WAVE_ID
    written = lottery.write_commitment_files(
        folder,
        entries=made,
        wave_id=g.WAVE_ID,
        scheme=g.SCHEME,
        quotas=g.quotas(made),
        randomness_source=g.SOURCE,
        randomness_reference=g.REFERENCE,
        committed_at=g.COMMITTED_AT,
        signing_key=g.SIGNING_KEY,
    )
    lottery.write_draw_files(folder, g.REFERENCE, g.SEED_HEX)
    return folder, written


class TestPureLottery:
    def test_every_published_file_is_byte_identical(self, published: tuple[Path, lottery.Commitment]) -> None:
        folder, _ = published
        assert _digests(folder) == GOLDEN

    def test_the_draw_function_gives_the_published_results(self, made: list[lottery.Entry], published: tuple) -> None:
        folder, _ = published
        rows = lottery.draw(reversed(made), g.quotas(made), bytes.fromhex(g.SEED_HEX))
        assert lottery.results_csv(rows) == (folder / "results.csv").read_bytes()
        assert lottery.eligible_csv(reversed(made)) == (folder / "eligible.csv").read_bytes()

    def test_proofs_are_byte_identical(self, made: list[lottery.Entry], published: tuple) -> None:
        _, written = published
        for index, (number, digest) in GOLDEN_PROOFS.items():
            entry = made[number]
            proof = lottery.proof_for(
                written.tree,
                index,
                wave_id=g.WAVE_ID,
                entry_secret=g.secret(number),
                stratum=entry.stratum,
                tier=entry.tier,
            )
            assert hashlib.sha256(lottery.proof_json(proof)).hexdigest() == digest

    def test_the_verify_command_passes_in_another_process(self, published: tuple, tmp_path: Path) -> None:
        folder, written = published
        entry_number, _ = GOLDEN_PROOFS[777]
        entry = g.entries(entry_number + 1)[entry_number]
        proof = lottery.proof_for(
            written.tree,
            777,
            wave_id=g.WAVE_ID,
            entry_secret=g.secret(entry_number),
            stratum=entry.stratum,
            tier=entry.tier,
        )
        (tmp_path / "proof.json").write_bytes(lottery.proof_json(proof))
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "prakerja",
                "selection",
                "verify",
                str(folder),
                "--require-draw",
                "--proof",
                str(tmp_path / "proof.json"),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            check=False,
        )
        assert out.returncode == 0, out.stdout + out.stderr


# ---------------------------------------------------------------------------------------------- through the database

SERVICE_COUNT = 3_000
SERVICE_GOLDEN = {
    "commitment.json": "f8c1e2fbdd07e1998d6e876009244ba3663fd87beaae8be1d8c9a2a1ac205c02",
    "commitment.sig": "f739ae98647fdb04a9e0506033304b366eeea3a80ce1a61a515d1018865ddcb4",
    "eligible.csv": "add2b056649033cc48a7751d42ae59dca106c03865bf78dc31cde4d6c62255b4",
    "public-key.pem": GOLDEN["public-key.pem"],
    "results.csv": "fbfe370e751aaee083a50e8202581972decdca30596746901cc47c366d87d747",
    "seed.json": GOLDEN["seed.json"],
}
SERVICE_ROWS_GOLDEN = "c0db8dcc37a2f40259e4883067224d64c77c40b85b5d733073967c43df7cd2b3"
"""SHA-256 of every persisted result (entry, stratum, tier, rank, ticket, outcome, probability, status) in order."""
FAIRNESS_GOLDEN = "7ee7531fbf4001d06d9743dc2828cee7c6a14df9924b0d7a2f7ecf28c5961a1c"
"""SHA-256 of the stored fairness report (sorted-key JSON)."""


@pytest.fixture
def fixed_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(signing, "private_key", lambda raw=None: g.SIGNING_KEY)
    clock.freeze(g.COMMITTED_AT)
    yield
    clock.unfreeze()


def _golden_wave_in_db(session: Session) -> uuid.UUID:
    made = g.entries(SERVICE_COUNT)
    wave_id = uuid.UUID(g.WAVE_ID)
    account = create_account(session, role=Role.applicant)
    session.add(
        Wave(
            id=wave_id,
            number=7,
            title="Gelombang emas",
            state=WaveState.closed,
            scheme_name=g.SCHEME,
            scheme_hash=file_hash(g.SCHEME),
            opens_at=T0,
            closes_at=T0.replace(day=8),
            total_quota=sum(g.quotas(made).values()),
            stratum_level=StratumLevel.regency,
            provinces=[],
            priority_tiers=[],
            quota_method="csv",
        )
    )
    session.flush()
    session.execute(insert(Quota), [{"wave_id": wave_id, "stratum": c, "quota": q} for c, q in g.quotas(made).items()])
    session.execute(
        insert(Entry),
        [
            {
                "id": uuid.UUID(int=i + 1),
                "wave_id": wave_id,
                "applicant_id": uuid.UUID(int=(1 << 64) + i),
                "account_id": account.id,
                "stratum": e.stratum,
                "regency": e.stratum.ljust(4, "1"),
                "joined_at": T0.replace(minute=(i * 7) % 60, second=i % 60),
                "consent_at": T0,
                "entry_secret": g.secret(i).hex(),
                "entry_hash": bytes.fromhex(e.entry_hash),
                # a few entries outside the draw: they must not appear anywhere
                "status": EntryStatus.ineligible if i % 97 == 5 else EntryStatus.eligible,
                "tier": e.tier,
                "active": True,
                "note": "",
            }
            for i, e in enumerate(made)
        ],
    )
    session.flush()
    return wave_id


class TestThroughTheService:
    def test_files_and_persisted_rows_are_byte_identical(
        self, session: Session, tmp_path: Path, fixed_key: None
    ) -> None:
        wave_id = _golden_wave_in_db(session)
        draw = service.commit(
            session, wave_id, randomness_source=g.SOURCE, randomness_reference=g.REFERENCE, actor=PMO, root=tmp_path
        )
        service.seed(session, wave_id, reference=g.REFERENCE, value=g.SEED_HEX, actor=PMO)
        assert draw.fairness is None  # queued as a job in the draw's transaction
        assert service.record_fairness(session, wave_id)  # what the job does
        session.commit()
        folder = Path(draw.folder)
        assert _digests(folder) == SERVICE_GOLDEN
        persisted = session.scalar(
            text(
                "SELECT string_agg(concat_ws(',', encode(entry_hash, 'hex'), stratum, tier, rank, "
                "encode(ticket, 'hex'), outcome, probability_num, probability_den, status), "
                "E'\\n' ORDER BY stratum, rank) FROM selection_results WHERE wave_id = :w"
            ),
            {"w": wave_id},
        )
        assert hashlib.sha256(persisted.encode()).hexdigest() == SERVICE_ROWS_GOLDEN
        assert draw.results_sha256 == SERVICE_GOLDEN["results.csv"]
        assert draw.commitment_sha256 == SERVICE_GOLDEN["commitment.json"]
        assert lottery.verify_folder(folder, require_draw=True).ok
        assert (draw.selected_count, draw.fairness_ok) == (1207, True)
        report = json.dumps(draw.fairness, sort_keys=True).encode()
        assert hashlib.sha256(report).hexdigest() == FAIRNESS_GOLDEN
