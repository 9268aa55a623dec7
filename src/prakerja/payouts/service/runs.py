"""Payout runs: due entitlements -> one run per (kind, day) -> one batch per provider with control totals ->
instructions with stable end-to-end ids -> the ledger (payable -> payouts in flight, the batch path) -> the
partner (bulk API or pain.001 file) -> results (``results``) -> the run completes when every instruction is final.

Exactly once (ADR 0015). Every step is recorded before the next one starts, so a worker killed at any point
leaves a state the next worker can finish:
1. :func:`start` (the caller's transaction): the run, its batches and instructions, the entitlements in flight.
   Nothing leaves the program yet.
2. :func:`execute` posts the run's ledger transfers (``ledger.service.post_runs``, deterministic ids: a rerun
   posts only what is missing), then marks the run ``sending``.
3. Per batch, under an advisory lock (a second worker on the same run skips a batch the first one holds; the lock
   dies with a killed worker's connection): each instruction's ``sends`` (and, for a file, the file's reference) is
   incremented and committed *before* the HTTP call; after the bulk API's answer it is marked ``sent``. A file's
   instructions are not written again once the bank took the file: its pain.002 is fetched and applied at once
   (ADR 0025). An instruction found ``ready`` with ``sends > 0`` may have reached the partner, so the partner is
   asked first (``GET /payouts/{e2e}``, or the pain.002 of its file: none means never received, safe to send;
   anything else is its status, applied like a callback). The partner dedupes on the end-to-end id too.
4. Instructions still ``sent`` after ``check_after`` are asked for (status query, or the pain.002 of their file).

The same machinery pays participants' entitlements (incentive runs) and organisations' settlements (settlement runs,
ADR 0016): what differs per payee (which items are due, which ledger accounts, where the money goes) is in
``payees``. Incentive runs, the large ones, take the set-based path of ADR 0017 (one statement per step); settlement
runs (a few hundred organisations a month) go item by item through ``payees``.

Unlike the rest of the service, :func:`execute` and :func:`check_all` take a session *factory* and commit each step
(like ``ledger.service.post_runs``, ADR 0006): an HTTP call must never sit inside an uncommitted transaction whose
loss would forget it was made."""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.jobs import enqueue
from prakerja.kit.clock import JAKARTA, utcnow
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode, TransferCode
from prakerja.ledger.schemas import BatchTransfer, TransferCreate
from prakerja.payouts import rules
from prakerja.payouts.models import (
    BatchStatus,
    Channel,
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    InstructionStatus,
    PayoutBatch,
    PayoutInstruction,
    PayoutProvider,
    PayoutRun,
    ResultSource,
    RunKind,
    RunStatus,
)
from prakerja.payouts.providers import pain, paying
from prakerja.payouts.repository import runs as repository
from prakerja.payouts.service import payees, results

log = logging.getLogger(__name__)

CHUNK = 500
"""Instructions per HTTP call (the bulk API)."""
LEDGER_CHUNK = 10_000
"""Ledger transfers per transaction of the batch path (ledger.service.post_runs) and results applied per
transaction (a pain.002 file's lines)."""
BATCH_WORKERS = 4
"""Batches of a run worked at once by :func:`execute` (threads): while a partner reads one bank's file or writes
its status report, the program applies another's results (ADR 0025); four keep both cores of the reference machine
busier than two (ADR 0027: each worker waits on the partner or the database most of the time)."""
CHECK_AFTER = timedelta(minutes=30)
"""How long a sent instruction waits for its callback before the partner is asked."""

Checkpoint = Callable[[str], None]
"""Called at each step of sending (``posted``, ``before_send``, ``after_send``, ``recorded``): the crash
harness kills the worker there."""
Progress = Callable[[str, int, int], None]
"""(stage, done, total)."""
SessionFactory = Callable[[], Session]

RUN_KINDS = payees.RUN_KINDS


@dataclass
class PassSummary:
    """What one pass of :func:`execute` did."""

    sent: int = 0
    queried: int = 0
    applied: int = 0
    skipped_batches: int = 0
    errors: list[str] = field(default_factory=list)


def message_id(kind: RunKind, run_date: date, code: str, sequence: int = 1) -> str:
    """The batch's ISO 20022 MsgId: unique per (kind, day, provider), readable on the partner's side; a further run
    of the same day carries its sequence (``PKJ20260401S2-BNI``): the partner must not take it for the first."""
    further = f"{sequence}-" if sequence > 1 else ""
    return f"PKJ{run_date:%Y%m%d}{kind.value[0].upper()}{further}{code.upper()[:16]}"


def chunk_reference(batch: PayoutBatch, end_to_end_ids: Sequence[str], attempt: int = 0) -> str:
    """The id a chunk is sent under: the batch's MsgId when it carries the whole batch the first time, else a
    digest of its end-to-end ids and of how many times they were sent before. The same content in the same round
    gets the same id, so a chunk sent again after a lost answer gets the partner's first answer; a resend after a
    technical failure gets a new id, so the partner takes it again instead of repeating its first answer."""
    if len(end_to_end_ids) == batch.count and attempt == 0:
        return batch.message_id
    digest = hashlib.sha256(("\n".join(sorted(end_to_end_ids)) + f"#{attempt}").encode()).hexdigest()
    return f"PKJC{digest[:31].upper()}"


def lock_key(batch_id: uuid.UUID) -> int:
    return int.from_bytes(batch_id.bytes[8:], "big", signed=True)


# 1. start -------------------------------------------------------------------------------------------------------


def start(session: Session, *, kind: RunKind, run_date: date, actor: audit.Actor, sequence: int = 1) -> PayoutRun:
    """The run of (kind, day, sequence), created with its batches and instructions if it does not exist yet (in the
    caller's transaction; a second call, or a second worker, gets the same run). ``sequence`` above 1 is a further
    settlement run of the same day (``settlements.start_run`` decides)."""
    now = utcnow()
    started_by = "system" if actor.id is None else str(actor.id)
    created = repository.insert_run_if_absent(
        session, kind=kind, run_date=run_date, started_by=started_by, now=now, sequence=sequence
    )
    run = repository.lock_run(session, kind, run_date, sequence)
    if not created:
        return run
    if kind is RunKind.settlement:
        count, total = _start_settlements(session, run, run_date)
    else:
        count, total = _start_entitlements(session, run, kind, run_date)
    if not count:
        run.status = RunStatus.completed
        run.finished_at = now
    else:  # sent by a job written with the run: a crash after this commit cannot forget to send it
        enqueue(session, "payouts.execute_run", run_id=str(run.id))
    session.flush()
    audit.record(
        session,
        actor,
        "payouts.run_started",
        "payout_run",
        run.id,
        data={
            "kind": kind.value,
            "run_date": run_date.isoformat(),
            "sequence": sequence,
            "instructions": count,
            "amount": total,
        },
    )
    return run


def _batch(session: Session, run: PayoutRun, provider: PayoutProvider, count: int, control_sum: int) -> PayoutBatch:
    batch = PayoutBatch(
        run_id=run.id,
        provider_id=provider.id,
        message_id=message_id(run.kind, run.run_date, provider.code, run.sequence),
        count=count,
        control_sum=control_sum,
        status=BatchStatus.ready,
    )
    session.add(batch)
    session.flush()
    return batch


def _start_entitlements(session: Session, run: PayoutRun, kind: RunKind, run_date: date) -> tuple[int, int]:
    """The due entitlements claimed in one statement, their instructions written with COPY (ADR 0017)."""
    session.flush()
    due = repository.claim_due(session, kinds=RUN_KINDS[kind], on=run_date)
    for loaded in list(session.identity_map.values()):  # now in flight: reread if the caller looks at them
        if isinstance(loaded, Entitlement):
            session.expire(loaded)
    by_provider: dict[uuid.UUID, list[repository.Due]] = defaultdict(list)
    for item in due:
        by_provider[item.provider_id].append(item)
    providers = repository.providers(session, list(by_provider))
    total = 0
    batches: list[tuple[uuid.UUID, uuid.UUID, list[repository.Due]]] = []
    for provider_id in sorted(by_provider):
        items = by_provider[provider_id]
        amount = sum(d.amount for d in items)
        batch = _batch(session, run, providers[provider_id], len(items), amount)
        ledger.payouts_in_flight(session, batch.id)
        batches.append((batch.id, provider_id, items))
        total += amount

    def rows() -> Iterator[tuple[object, ...]]:
        """Made a chunk at a time while the COPY runs: the server writes one chunk while the next is made."""
        for batch_id, provider_id, items in batches:
            for start_at in range(0, len(items), LEDGER_CHUNK):
                chunk = items[start_at : start_at + LEDGER_CHUNK]
                e2es = [rules.end_to_end_id(item.entitlement_id, item.attempts + 1) for item in chunk]
                for item, e2e, transfer_id in zip(chunk, e2es, results.step_ids("out", e2es), strict=True):
                    yield (
                        e2e,
                        run.id,
                        batch_id,
                        provider_id,
                        "participant",
                        item.participant_id,
                        item.entitlement_id,
                        item.account_id,
                        item.amount,
                        item.attempts + 1,
                        transfer_id,
                        InstructionStatus.ready.value,
                        0,
                    )

    repository.copy_instructions(session, rows(), count=len(due))
    return len(due), total


def _start_settlements(session: Session, run: PayoutRun, run_date: date) -> tuple[int, int]:
    """The due settlements, one instruction each through ``payees`` (ADR 0016)."""
    due = payees.due_settlements(session)
    attempts = payees.attempts_made(session, due)
    by_provider: dict[uuid.UUID, list[payees.Due]] = defaultdict(list)
    for item in due:
        by_provider[item.provider_id].append(item)
    providers = repository.providers(session, list(by_provider))
    payables: dict[tuple[object, ...], uuid.UUID] = {}
    total = 0
    for provider_id in sorted(by_provider):
        items = by_provider[provider_id]
        batch = _batch(session, run, providers[provider_id], len(items), sum(d.amount for d in items))
        payees.in_flight(session, batch.id, RunKind.settlement)
        for item in items:
            attempt = attempts.get(item.key, 0) + 1
            e2e = rules.end_to_end_id(item.key, attempt)
            payees.open_payable(session, item, payables)
            session.add(
                payees.instruction(
                    session,
                    item,
                    end_to_end_id=e2e,
                    run_id=run.id,
                    batch_id=batch.id,
                    attempt=attempt,
                    pending_transfer_id=results.transfer_ids(e2e)["out"],
                )
            )
            total += item.amount
    return len(due), total


# 2. ledger ------------------------------------------------------------------------------------------------------


def _entitlement_transfers(session: Session, batch: PayoutBatch) -> list[list[BatchTransfer]]:
    """An incentive batch's payable -> in flight transfers, payables looked up in bulk (ADR 0017)."""
    in_flight = ledger.payouts_in_flight(session, batch.id).id
    rows = repository.to_post(session, batch.id)
    payables = {
        kind: ledger.incentive_payables(
            session,
            [r.participant_id for r in rows if r.kind == kind],
            survey=kind == EntitlementKind.survey_incentive.value,
        )
        for kind in {r.kind for r in rows}
    }
    reference = str(batch.id)
    transfers = [
        BatchTransfer(
            r.pending_transfer_id,
            payables[r.kind][r.participant_id],
            in_flight,
            r.amount,
            TransferCode.payout,
            "payout_batch",
            reference,
        )
        for r in rows
    ]
    return _chunks(transfers)


def _entitlement_transfers_later(factory: SessionFactory, batch_id: uuid.UUID) -> Iterator[list[BatchTransfer]]:
    """:func:`_entitlement_transfers` on a session of its own, made when the ledger's stream reaches the batch: one
    batch's transfers are made while another's are posted (``ledger.service.post_runs`` reads each run's chunks in
    its stream's thread)."""
    with factory() as session:
        batch = repository.batch(session, batch_id)
        chunks = _entitlement_transfers(session, batch) if batch is not None else []
        session.commit()  # a payable opened for a participant without one is there for the posting's connection
    yield from chunks


def _settlement_transfers(session: Session, batch: PayoutBatch) -> list[list[BatchTransfer]]:
    """A settlement batch's payable -> settlement in flight transfers, through ``payees`` (ADR 0016)."""
    in_flight = payees.in_flight(session, batch.id, RunKind.settlement)
    payables: dict[tuple[object, ...], uuid.UUID] = {}
    transfers = []
    for instruction in repository.instructions(session, batch.id):
        payable = payees.payable_of(session, instruction, payables)
        if payable is None:
            continue
        transfers.append(
            BatchTransfer(
                instruction.pending_transfer_id,
                payable,
                in_flight,
                instruction.amount,
                payees.codes(instruction).out,
                "payout_batch",
                str(batch.id),
            )
        )
    return _chunks(transfers)


def _chunks(transfers: list[BatchTransfer]) -> list[list[BatchTransfer]]:
    return [transfers[i : i + LEDGER_CHUNK] for i in range(0, len(transfers), LEDGER_CHUNK)]


def _post_ledger(factory: SessionFactory, run_id: uuid.UUID) -> None:
    """Payable -> payouts in flight for every instruction of a run still ``preparing`` (idempotent), then
    ``sending``. The run's row lock keeps a second worker waiting until the first has finished."""
    with factory() as session:
        run = repository.run(session, run_id, lock=True)
        if run is None or run.status is not RunStatus.preparing:
            return
        runs: list[Iterable[list[BatchTransfer]]] = [
            _settlement_transfers(session, batch)
            if run.kind is RunKind.settlement
            else _entitlement_transfers_later(factory, batch.id)
            for batch in repository.batches(session, run_id)
        ]
        outcomes = ledger.post_runs(factory, runs) if runs else []
        refused = [o for o in outcomes if isinstance(o, Exception)]
        if refused:
            raise refused[0]
        run.status = RunStatus.sending
        session.commit()


# 3. sending and asking ----------------------------------------------------------------------------------------


def _partner(provider: PayoutProvider) -> paying.Partner:
    return paying.Partner(code=provider.code, base_url=provider.api_base_url, secret=provider.api_secret)


def _outgoing(session: Session, rows: Sequence[repository.Sendable]) -> list[paying.Outgoing]:
    """What the partner is sent: an incentive's account from the row itself; a settlement's account and remittance
    (the statement it pays) through ``payees``."""
    out = []
    for r in rows:
        if r.number:
            out.append(paying.Outgoing(end_to_end_id=r.end_to_end_id, number=r.number, amount=r.amount, name=r.name))
            continue
        instruction = session.get(PayoutInstruction, r.id)
        assert instruction is not None
        to = payees.destination(session, instruction)
        out.append(
            paying.Outgoing(
                end_to_end_id=r.end_to_end_id,
                number=to.number,
                amount=r.amount,
                name=to.name,
                remittance=to.remittance,
            )
        )
    return out


def _apply_file(factory: SessionFactory, provider_id: uuid.UUID, reports: Sequence[tuple[paying.Report, str]]) -> int:
    """A status file's lines, stored and applied a chunk per transaction (``results.apply_reports``)."""
    applied = 0
    for start_at in range(0, len(reports), LEDGER_CHUNK):
        with factory() as session:
            provider = session.get(PayoutProvider, provider_id)
            assert provider is not None
            applied += results.apply_reports(
                session,
                provider,
                reports[start_at : start_at + LEDGER_CHUNK],
                source=ResultSource.status_file,
                now=utcnow(),
            )
            session.commit()
    return applied


def _apply(
    factory: SessionFactory, provider_id: uuid.UUID, report: paying.Report, source: ResultSource, event_id: str
) -> bool:
    with factory() as session:
        provider = session.get(PayoutProvider, provider_id)
        assert provider is not None
        outcome = results.apply_report(session, provider, report, source=source, event_id=event_id, now=utcnow())
        session.commit()
        return outcome.applied


def _push_check(factory: SessionFactory, instruction_id: uuid.UUID, *, ready: bool, at: datetime) -> None:
    """A status answer without a final result: ask again later (``ready``: the partner never got it; send it)."""
    with factory() as session:
        instruction = session.get(PayoutInstruction, instruction_id, with_for_update=True)
        if instruction is None or instruction.status not in repository.OPEN:
            return
        if ready:
            instruction.status = InstructionStatus.ready
            instruction.next_check_at = None
        else:
            if instruction.status is InstructionStatus.ready:
                instruction.status = InstructionStatus.sent
            instruction.next_check_at = at
        session.commit()


def _ask(
    factory: SessionFactory,
    http: httpx.Client,
    provider: PayoutProvider,
    instruction: PayoutInstruction,
    summary: PassSummary,
    *,
    check_after: timedelta,
) -> bool:
    """Ask the partner for one instruction and act on the answer; False when the partner could not answer."""
    try:
        report = paying.query(http, _partner(provider), instruction.end_to_end_id)
    except paying.PartnerUnavailable as error:
        summary.errors.append(f"{provider.code}: status query {error}")
        return False
    summary.queried += 1
    if report is None:
        _push_check(factory, instruction.id, ready=True, at=utcnow())
    elif report.status == "received":
        _push_check(factory, instruction.id, ready=False, at=utcnow() + check_after)
    else:
        key = f"query:{report.end_to_end_id}:{instruction.sends}:{report.status}:{report.reason or ''}"
        summary.applied += _apply(factory, provider.id, report, ResultSource.status_query, key)
    return True


def _send_api(
    factory: SessionFactory,
    http: httpx.Client,
    provider: PayoutProvider,
    batch: PayoutBatch,
    summary: PassSummary,
    *,
    checkpoint: Checkpoint,
    check_after: timedelta,
) -> None:
    now = utcnow()
    with factory() as session:
        resent = list(
            repository.open_instructions(session, batch.id, InstructionStatus.ready, due_by=now, sent_before=True)
        )
    # ready but sent before: the partner may have it (a crash between sending and recording, a lost answer)
    for instruction in resent:
        if not _ask(factory, http, provider, instruction, summary, check_after=check_after):
            return
    with factory() as session:
        due = repository.sendable(session, batch.id, due_by=now)
        outgoing = _outgoing(session, due)
    for start_at in range(0, len(due), CHUNK):
        chunk = due[start_at : start_at + CHUNK]
        ids = [i.id for i in chunk]
        reference = chunk_reference(batch, [i.end_to_end_id for i in chunk], max(i.sends for i in chunk))
        with factory() as session:
            repository.mark_sending(
                session, ids, reference=reference, retry_at=utcnow() + results.backoff(max(i.sends for i in chunk) + 1)
            )
            session.commit()
        checkpoint("before_send")
        answer = paying.send_batch(http, _partner(provider), reference, outgoing[start_at : start_at + CHUNK])
        checkpoint("after_send")
        if not isinstance(answer, paying.Accepted):
            summary.errors.append(f"{provider.code}: batch {reference} {answer}")
            return
        with factory() as session:
            repository.mark_sent(session, ids, check_at=utcnow() + check_after)
            session.commit()
        summary.sent += len(chunk)
        checkpoint("recorded")


def _send_file(
    factory: SessionFactory,
    http: httpx.Client,
    provider: PayoutProvider,
    batch: PayoutBatch,
    run_date: date,
    summary: PassSummary,
    *,
    checkpoint: Checkpoint,
    check_after: timedelta,
) -> None:
    now = utcnow()
    with factory() as session:
        due = repository.sendable(session, batch.id, due_by=now)
        outgoing = _outgoing(session, due)
    if not due:
        return
    ids = [i.id for i in due]
    reference = chunk_reference(batch, [i.end_to_end_id for i in due], max(i.sends for i in due))
    if all(i.sends for i in due) and len({i.provider_reference for i in due}) == 1:
        earlier = due[0].provider_reference
        with factory() as session:
            if earlier is not None and repository.file_unanswered(session, batch.id, earlier, ids):
                # the same file whose upload's answer was lost: sent again under its reference, so the partner
                # answers it from its first intake (no second parse) if it got it, and takes it if it did not
                reference = earlier
    document = pain.write_pain001(
        pain.Batch(
            message_id=reference,
            created_at=now,
            execution_date=run_date,
            provider_code=provider.code,
            instructions=outgoing,
        )
    )
    with factory() as session:
        repository.mark_sending(
            session, ids, reference=reference, retry_at=utcnow() + results.backoff(max(i.sends for i in due) + 1)
        )
        session.commit()
    checkpoint("before_send")
    answer = paying.upload_pain001(http, _partner(provider), reference, document)
    checkpoint("after_send")
    if not isinstance(answer, paying.Accepted):
        summary.errors.append(f"{provider.code}: file {reference} {answer}")
        return
    # nothing recorded per instruction: they stay ``ready`` with their file's reference and a send counted, which
    # is what a worker killed here would have left; their file's pain.002 is asked for before any of them is sent
    # again (ADR 0025)
    summary.sent += len(due)
    checkpoint("recorded")
    waiting = [repository.Waiting(i.id, i.end_to_end_id, reference, InstructionStatus.ready) for i in due]
    _ask_files(factory, http, provider, batch, waiting, summary, check_after=check_after, accepted=True)


def _poll_api(
    factory: SessionFactory,
    http: httpx.Client,
    provider: PayoutProvider,
    batch: PayoutBatch,
    summary: PassSummary,
    *,
    check_after: timedelta,
) -> None:
    with factory() as session:
        waiting = list(repository.open_instructions(session, batch.id, InstructionStatus.sent, due_by=utcnow()))
    for instruction in waiting:
        if not _ask(factory, http, provider, instruction, summary, check_after=check_after):
            return


def _poll_files(
    factory: SessionFactory,
    http: httpx.Client,
    provider: PayoutProvider,
    batch: PayoutBatch,
    summary: PassSummary,
    *,
    check_after: timedelta,
) -> bool:
    """The pain.002 of every file whose instructions may be at the partner and are due: ``sent`` ones waiting for a
    result, and ``ready`` ones a file carried (asked before they are sent again). False when a file could not be
    asked for (nothing is sent again in this pass)."""
    with factory() as session:
        waiting = repository.waiting(session, batch.id, due_by=utcnow())
    return _ask_files(factory, http, provider, batch, waiting, summary, check_after=check_after)


def _ask_files(
    factory: SessionFactory,
    http: httpx.Client,
    provider: PayoutProvider,
    batch: PayoutBatch,
    waiting: Sequence[repository.Waiting],
    summary: PassSummary,
    *,
    check_after: timedelta,
    accepted: bool = False,
) -> bool:
    """Fetch each file's pain.002 and apply its lines. Instructions it does not answer are with the partner, without
    a result yet: asked for again after ``check_after`` (``sent``). No pain.002 yet: a file the partner just took
    (``accepted``) is not answered yet, so its instructions are ``sent`` too; otherwise it may never have reached
    the partner: its ``ready`` instructions are sent again when due (the partner dedupes end-to-end ids), its
    ``sent`` ones asked for again. False when a partner could not be asked."""
    asked = True
    by_file: dict[str, list[repository.Waiting]] = defaultdict(list)
    for instruction in waiting:
        by_file[instruction.provider_reference or batch.message_id].append(instruction)
    for reference, items in by_file.items():
        try:
            document = paying.fetch_pain002(http, _partner(provider), reference)
        except paying.PartnerUnavailable as error:
            summary.errors.append(f"{provider.code}: pain.002 {reference} {error}")
            asked = False
            continue
        answered: set[str] = set()
        if document is not None:
            try:
                reports = pain.read_pain002(document, reference)
            except pain.MalformedStatusReport as error:
                summary.errors.append(f"{provider.code}: pain.002 {reference} {error}")
                reports = []
            answered.update(report.end_to_end_id for report in reports)
            keyed = [
                (report, f"{reference}:{report.end_to_end_id}:{report.status}:{report.reason or ''}")
                for report in reports
            ]
            summary.applied += _apply_file(factory, provider.id, keyed)
        unanswered = [
            i.id
            for i in items
            if i.end_to_end_id not in answered
            and (document is not None or accepted or i.status is InstructionStatus.sent)
        ]
        if unanswered:
            with factory() as session:
                repository.push_checks(session, unanswered, at=utcnow() + check_after)
                session.commit()
    return asked


def _finish_batch(factory: SessionFactory, batch_id: uuid.UUID) -> None:
    with factory() as session:
        batch = repository.batch(session, batch_id)
        if batch is None:
            return
        now = utcnow()
        if repository.count_open(session, batch_id) == 0:
            if batch.status is not BatchStatus.completed:
                repository.set_batch_status(session, batch_id, BatchStatus.completed, now=now)
        elif batch.status is BatchStatus.ready and not repository.open_instructions(
            session, batch_id, InstructionStatus.ready
        ):
            repository.set_batch_status(session, batch_id, BatchStatus.sent, now=now)
        session.commit()


def _finish_run(factory: SessionFactory, run_id: uuid.UUID) -> None:
    with factory() as session:
        run = repository.run(session, run_id, lock=True)
        if run is None or run.status in (RunStatus.preparing, RunStatus.completed):
            return
        statuses = {b.status for b in repository.batches(session, run_id)}
        if statuses <= {BatchStatus.completed}:
            run.status = RunStatus.completed
            run.finished_at = utcnow()
        elif BatchStatus.ready not in statuses:
            run.status = RunStatus.awaiting_results
        session.commit()


def _work_batch(
    factory: SessionFactory,
    client: httpx.Client,
    engine: Engine,
    provider: PayoutProvider,
    batch: PayoutBatch,
    run_date: date,
    summary: PassSummary,
    point: Checkpoint,
    check_after: timedelta,
) -> None:
    """One batch's sending and asking, under its advisory lock (skipped when another worker holds it)."""
    # the lock lives on a connection of its own, outside any transaction: it is held across the commits below and
    # dies with the connection of a killed worker
    with engine.connect() as holder:
        if not repository.try_advisory_lock(holder, lock_key(batch.id)):
            holder.commit()
            summary.skipped_batches += 1
            return
        holder.commit()
        try:
            if provider.channel is Channel.api:
                _send_api(factory, client, provider, batch, summary, checkpoint=point, check_after=check_after)
                _poll_api(factory, client, provider, batch, summary, check_after=check_after)
            else:
                # asked first: a file the partner took may have had its answer lost (ADR 0025)
                if _poll_files(factory, client, provider, batch, summary, check_after=check_after):
                    _send_file(
                        factory, client, provider, batch, run_date, summary, checkpoint=point, check_after=check_after
                    )
            _finish_batch(factory, batch.id)
        finally:
            repository.advisory_unlock(holder, lock_key(batch.id))
            holder.commit()


def _no_checkpoint(stage: str) -> None:
    return None


def execute(
    factory: SessionFactory,
    run_id: uuid.UUID,
    *,
    http: httpx.Client | None = None,
    checkpoint: Checkpoint | None = None,
    progress: Progress | None = None,
    check_after: timedelta = CHECK_AFTER,
    workers: int = BATCH_WORKERS,
) -> PassSummary:
    """One pass over a run: post its ledger transfers if not done, send what is ready and due, ask the partner of
    what waited too long, and close batches and the run that are final. Safe to run again, and at the same time
    as another worker (each batch is worked by one worker at a time). ``workers`` batches (one per partner) are
    worked at once, each in a thread with its own connections."""
    point = checkpoint or _no_checkpoint
    summary = PassSummary()
    _post_ledger(factory, run_id)
    point("posted")
    with factory() as session:
        run = repository.run(session, run_id)
        if run is None or run.status is RunStatus.completed:
            return summary
        run_date = run.run_date
        batches = list(repository.batches(session, run_id))
        providers = repository.providers(session, [b.provider_id for b in batches])
        engine = session.get_bind().engine
    own_http = http is None
    client = http or httpx.Client()
    done = [0]
    counting = threading.Lock()

    def work(batch: PayoutBatch) -> PassSummary:
        one = PassSummary()
        _work_batch(factory, client, engine, providers[batch.provider_id], batch, run_date, one, point, check_after)
        if progress is not None:
            with counting:
                done[0] += 1
                progress("batches", done[0], len(batches))
        return one

    try:
        if workers <= 1 or len(batches) <= 1:
            outcomes = [work(batch) for batch in batches]
        else:  # one bank's file read or written by the partner while another's results are applied (ADR 0025)
            with ThreadPoolExecutor(max_workers=min(workers, len(batches)), thread_name_prefix="payout-batch") as pool:
                outcomes = [future.result() for future in [pool.submit(work, batch) for batch in batches]]
    finally:
        if own_http:
            client.close()
    for one in outcomes:
        summary.sent += one.sent
        summary.queried += one.queried
        summary.applied += one.applied
        summary.skipped_batches += one.skipped_batches
        summary.errors += one.errors
    _finish_run(factory, run_id)
    return summary


def check_all(
    factory: SessionFactory, *, http: httpx.Client | None = None, check_after: timedelta = CHECK_AFTER
) -> PassSummary:
    """One pass over every unfinished run (the periodic job): resend what is due, ask for what waited too long."""
    total = PassSummary()
    with factory() as session:
        run_ids = [r.id for r in repository.unfinished_runs(session)]
    for run_id in run_ids:
        one = execute(factory, run_id, http=http, check_after=check_after)
        total.sent += one.sent
        total.queried += one.queried
        total.applied += one.applied
        total.skipped_batches += one.skipped_batches
        total.errors += one.errors
    return total


# reading --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchView:
    id: uuid.UUID
    provider_code: str
    provider_name: str
    channel: str
    message_id: str
    count: int
    control_sum: int
    status: str
    by_status: dict[str, tuple[int, int]]


@dataclass(frozen=True)
class RunView:
    id: uuid.UUID
    kind: str
    run_date: date
    status: str
    started_by: str
    created_at: datetime
    finished_at: datetime | None
    batches: list[BatchView]
    sequence: int = 1
    """1 for the day's run, 2, 3, ... for a further settlement run of the same day."""

    @property
    def count(self) -> int:
        return sum(b.count for b in self.batches)

    @property
    def control_sum(self) -> int:
        return sum(b.control_sum for b in self.batches)

    def total_by_status(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for b in self.batches:
            for status, (count, _amount) in b.by_status.items():
                out[status] += count
        return dict(out)


def view(session: Session, run: PayoutRun) -> RunView:
    batches = list(repository.batches(session, run.id))
    providers = repository.providers(session, [b.provider_id for b in batches])
    counts = repository.counts_by_status(session, run.id)
    return RunView(
        id=run.id,
        kind=run.kind.value,
        run_date=run.run_date,
        status=run.status.value,
        started_by=run.started_by,
        created_at=run.created_at,
        finished_at=run.finished_at,
        sequence=run.sequence,
        batches=[
            BatchView(
                id=b.id,
                provider_code=providers[b.provider_id].code,
                provider_name=providers[b.provider_id].name,
                channel=providers[b.provider_id].channel.value,
                message_id=b.message_id,
                count=b.count,
                control_sum=b.control_sum,
                status=b.status.value,
                by_status={s: v for (bid, s), v in counts.items() if bid == b.id},
            )
            for b in batches
        ],
    )


def recent(session: Session, limit: int = 30) -> list[RunView]:
    return [view(session, r) for r in repository.recent_runs(session, limit)]


def get_run(session: Session, run_id: uuid.UUID) -> RunView | None:
    run = repository.run(session, run_id)
    return view(session, run) if run is not None else None


# year end -------------------------------------------------------------------------------------------------------


def expire_unclaimed(session: Session, *, now: datetime, limit: int = 1000) -> int:
    """Entitlements of a year that is over and were never paid: their money goes back to the treasury (cash
    ledger, deterministic transfer ids) and they become ``expired``. In the caller's transaction."""
    year = now.astimezone(JAKARTA).year
    rows = repository.unclaimed(session, before_year=year, limit=limit)
    if not rows:
        return 0
    treasury = ledger.treasury(session, LedgerCode.cash).id
    for entitlement in rows:
        if entitlement.schedule_transfer_id is not None:
            ledger.create_transfers(
                session,
                [
                    TransferCreate(
                        id=results.system_id("payouts", "expired", entitlement.id),
                        debit_account_id=results.payable(session, entitlement),
                        credit_account_id=treasury,
                        amount=entitlement.amount,
                        code=TransferCode.forfeit_expiry,
                        ref_type="entitlement",
                        ref_id=str(entitlement.id),
                    )
                ],
            )
        entitlement.status = EntitlementStatus.expired
    audit.record(
        session,
        audit.Actor.system(),
        "payouts.unclaimed_expired",
        "payouts",
        "year_end",
        data={"entitlements": len(rows), "year_before": year},
    )
    return len(rows)
