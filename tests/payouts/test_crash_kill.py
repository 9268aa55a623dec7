"""The crash harness, short: payout runs whose worker process is killed with SIGKILL at random points (including
between the partner's answer and recording it), then finished by two workers at once. Nothing is paid twice,
nothing is lost, the ledger stays balanced and nothing is left in flight: participants' incentives, and
institutions' settlements (settlement runs). The long version is benchmarks/payout_crashes.py (50 runs and more,
``--kind incentive|settlement|both``)."""

from __future__ import annotations

from benchmarks.payout_crashes import harness
from sqlalchemy import Engine


def test_killed_workers_pay_every_entitlement_exactly_once(database_url: str, clean_db: Engine) -> None:
    totals = harness(database_url, runs=2, participants=8, seed=7)
    assert totals["runs"] == 2 and totals["entitlements"] == 16
    assert totals["kills"] >= 2
    assert (totals["duplicates"], totals["lost"], totals["stuck"], totals["ledger_ok"]) == (0, 0, 0, True)


def test_killed_workers_pay_every_settlement_exactly_once(database_url: str, clean_db: Engine) -> None:
    totals = harness(database_url, runs=2, participants=6, seed=11, kind="settlement")
    assert totals["runs"] == 2 and totals["by_kind"]["settlement"]["payees"] == 12
    assert totals["kills"] >= 2
    assert (totals["duplicates"], totals["lost"], totals["stuck"], totals["ledger_ok"]) == (0, 0, 0, True)
