"""Wave use cases: create, quotas, open, join, close (eligibility re-check and freeze). Never commits.

Other domains call: :func:`get_wave`, :func:`list_waves`, :func:`quotas`, :func:`eligible_rows`, :func:`advance`,
:func:`record_outcomes`, :func:`entries_of_account`, :func:`check_scheme`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.audit import service as audit
from prakerja.eligibility import service as eligibility
from prakerja.kit.clock import JAKARTA, utcnow
from prakerja.kit.digits import read_number
from prakerja.recipients import service as recipients
from prakerja.registration import service as registration
from prakerja.registration.errors import AbilityWaveNotForApplicant, AbilityWaveNotFound, AbilityWaveNotOpen
from prakerja.schemes.rules import SchemeError, file_hash, load
from prakerja.waves import repository, rules
from prakerja.waves.errors import (
    AbilityTestRequired,
    AlreadyInWave,
    ConsentRequired,
    IdentityNotVerified,
    InvalidQuotas,
    InvalidRegionList,
    InvalidTiers,
    InvalidWave,
    NoApplicantProfile,
    NotEligible,
    OncePerLifetime,
    QuotasFrozen,
    RegionListExists,
    SchemeChanged,
    TiersFrozen,
    WaveNotForDomicile,
    WaveNotFound,
    WaveNotOpen,
    WaveStateConflict,
)
from prakerja.waves.models import Entry, EntryStatus, RegionList, StratumLevel, Wave, WaveState
from prakerja.waves.schemas import JoinReceipt

RegionCheck = Callable[[str], bool]


# ---------------------------------------------------------------------------------------------- reading


def get_wave(session: Session, wave_id: uuid.UUID, *, lock: bool = False) -> Wave:
    found = repository.wave(session, wave_id, lock=lock)
    if found is None:
        raise WaveNotFound(details={"wave_id": str(wave_id)})
    return found


def wave_id_of(session: Session, label: str) -> uuid.UUID:
    """The wave an operator names by its number (``3``) or its id; 404 ``wave_not_found`` otherwise."""
    label = label.strip()
    if label.isascii() and label.isdigit():
        for wave in repository.waves(session, None):
            if wave.number == int(label):
                return wave.id
        raise WaveNotFound(details={"wave": label[:40]})
    try:
        return get_wave(session, uuid.UUID(label)).id
    except ValueError:
        raise WaveNotFound(details={"wave": label[:40]}) from None


def list_waves(session: Session, states: Sequence[WaveState] | None = None) -> list[Wave]:
    return repository.waves(session, states)


def quotas(session: Session, wave_id: uuid.UUID) -> dict[str, int]:
    return repository.quotas(session, wave_id)


def eligible_rows(session: Session, wave_id: uuid.UUID) -> list[tuple[str, str, int]]:
    """The frozen eligible set: (entry_hash hex, stratum, tier), sorted by entry_hash."""
    return repository.eligible_rows(session, wave_id)


def entries_of_account(session: Session, account_id: uuid.UUID) -> list[Entry]:
    return repository.entries_of_account(session, account_id)


def tiers(wave: Wave) -> list[rules.Tier]:
    return rules.tiers_from_json(wave.priority_tiers)


def check_scheme(wave: Wave) -> None:
    """The scheme file must still be the one frozen into the wave."""
    try:
        current = file_hash(wave.scheme_name)
    except SchemeError:
        current = ""
    if current != wave.scheme_hash:
        raise SchemeChanged(details={"scheme": wave.scheme_name})


# ---------------------------------------------------------------------------------------------- PMO actions


def _require_state(wave: Wave, *states: WaveState) -> None:
    if wave.state not in states:
        raise WaveStateConflict(
            code=f"wave_not_{states[0].value}" if len(states) == 1 else "wave_state_conflict",
            details={"state": wave.state.value, "needed": [s.value for s in states]},
        )


def create_wave(
    session: Session,
    *,
    title: str,
    scheme: str,
    opens_at: datetime,
    closes_at: datetime,
    total_quota: int,
    stratum_level: StratumLevel = StratumLevel.regency,
    provinces: Sequence[str] = (),
    priority_tiers: Sequence[dict[str, Any]] = (),
    number: int | None = None,
    actor: audit.Actor,
) -> Wave:
    problems: list[dict[str, str]] = []
    try:
        load(scheme)
        scheme_hash = file_hash(scheme)
    except SchemeError:
        problems.append(
            {
                "field": "scheme",
                "problem": f"unknown scheme {scheme!r}",
                "message": "Skema program tidak dikenal.",
                "message_en": "Unknown program scheme.",
            }
        )
        scheme_hash = ""
    if total_quota < 0:
        problems.append(
            {
                "field": "total_quota",
                "problem": "must not be negative",
                "message": "Kuota total tidak boleh negatif.",
                "message_en": "The total quota must not be negative.",
            }
        )
    if opens_at.tzinfo is None or closes_at.tzinfo is None or closes_at <= opens_at:
        problems.append(
            {
                "field": "closes_at",
                "problem": "must be timezone-aware and after opens_at",
                "message": "Waktu tutup harus sesudah waktu buka.",
                "message_en": "The closing time must be after the opening time.",
            }
        )
    for code in provinces:
        if not rules.code_shape_ok(StratumLevel.province, code):
            problems.append({"field": "provinces", "problem": f"{code!r} is not a province code"})
    tier_list, tier_problems = _parse_tiers(session, list(priority_tiers))
    problems.extend(p.to_dict() for p in tier_problems)
    if number is not None and repository.wave_by_number(session, number) is not None:
        problems.append({"field": "number", "problem": f"wave {number} exists"})
    if problems:
        raise InvalidWave(details={"fields": problems})
    wave = Wave(
        number=number or repository.next_number(session),
        title=title.strip(),
        state=WaveState.draft,
        scheme_name=scheme,
        scheme_hash=scheme_hash,
        opens_at=opens_at,
        closes_at=closes_at,
        total_quota=total_quota,
        stratum_level=stratum_level,
        provinces=sorted(set(provinces)),
        priority_tiers=[t.to_json() for t in tier_list],
        quota_method="",
    )
    repository.add(session, wave)
    audit.record(
        session,
        actor,
        "waves.created",
        "wave",
        wave.id,
        data={"number": wave.number, "scheme": scheme, "scheme_hash": scheme_hash, "total_quota": total_quota},
    )
    return wave


def set_quotas(
    session: Session,
    wave_id: uuid.UUID,
    table: dict[str, int],
    *,
    method: str,
    actor: audit.Actor,
    known_region: RegionCheck | None = None,
) -> dict[str, int]:
    """Replace the wave's stratum quotas after validating them; nothing changes on any problem."""
    wave = get_wave(session, wave_id, lock=True)
    if wave.state not in rules.QUOTAS_EDITABLE:
        raise QuotasFrozen(details={"state": wave.state.value})
    problems = rules.validate_quotas(
        table,
        level=wave.stratum_level,
        total=wave.total_quota,
        known=known_region if known_region is not None else region_check(wave.stratum_level),
        provinces=wave.provinces,
    )
    if problems:
        raise InvalidQuotas(details={"problems": [p.to_dict() for p in problems]})
    repository.replace_quotas(session, wave.id, table)
    wave.quota_method = method
    audit.record(
        session,
        actor,
        "waves.quotas_set",
        "wave",
        wave.id,
        data={"method": method, "strata": len(table), "total": sum(table.values())},
    )
    return table


def set_quotas_from_csv(session: Session, wave_id: uuid.UUID, content: str, *, actor: audit.Actor) -> dict[str, int]:
    parsed = rules.parse_quota_csv(content)
    if parsed.problems:
        raise InvalidQuotas(details={"problems": [p.to_dict() for p in parsed.problems]})
    return set_quotas(session, wave_id, parsed.quotas, method="csv", actor=actor)


def set_quotas_by_applicants(session: Session, wave_id: uuid.UUID, *, actor: audit.Actor) -> dict[str, int]:
    """Proportional to applicants: eligible entries once closed, joined entries before."""
    wave = get_wave(session, wave_id)
    if wave.state not in rules.QUOTAS_EDITABLE:
        raise QuotasFrozen(details={"state": wave.state.value})
    statuses = [EntryStatus.eligible] if wave.state is WaveState.closed else [EntryStatus.joined]
    counts = repository.applicants_per_stratum(session, wave_id, statuses)
    if not counts:
        raise InvalidQuotas(details={"problems": [{"code": "quota_no_applicants", "problem": "no applicants yet"}]})
    return set_quotas(
        session, wave_id, rules.quotas_by_applicants(wave.total_quota, counts), method="applicants", actor=actor
    )


def set_quotas_by_labour_force(
    session: Session, wave_id: uuid.UUID, content: str, *, actor: audit.Actor
) -> dict[str, int]:
    """Proportional to labour force x weight, from ``stratum,labour_force[,weight]``."""
    wave = get_wave(session, wave_id)
    weights, problems = rules.parse_labour_force_csv(content)
    if problems:
        raise InvalidQuotas(details={"problems": [p.to_dict() for p in problems]})
    if sum(weights.values(), Fraction(0)) == 0:
        raise InvalidQuotas(details={"problems": [{"code": "quota_no_weight", "problem": "all weights are zero"}]})
    return set_quotas(session, wave_id, rules.apportion(wave.total_quota, weights), method="labour_force", actor=actor)


def set_priority_tiers(
    session: Session,
    wave_id: uuid.UUID,
    tiers_json: Any,
    *,
    actor: audit.Actor,
    known_region: RegionCheck | None = None,
) -> Wave:
    """Replace the wave's ordered priority tiers (a draft or open wave only: tiers are fixed for each entry at
    close). Named region lists are frozen into the wave with their provenance. Nothing changes on any problem."""
    wave = get_wave(session, wave_id, lock=True)
    if wave.state not in (WaveState.draft, WaveState.open):
        raise TiersFrozen(details={"state": wave.state.value})
    tier_list, problems = _parse_tiers(session, tiers_json, known_region=known_region)
    if problems:
        raise InvalidTiers(details={"fields": [p.to_dict() for p in problems]})
    before = wave.priority_tiers
    wave.priority_tiers = [t.to_json() for t in tier_list]
    audit.record(
        session,
        actor,
        "waves.tiers_set",
        "wave",
        wave.id,
        data={"tiers": wave.priority_tiers, "previous": before},
    )
    return wave


def _parse_tiers(
    session: Session, data: Any, *, known_region: RegionCheck | None = None
) -> tuple[list[rules.Tier], list[rules.FieldProblem]]:

    return rules.parse_tiers(
        data,
        known_region=known_region if known_region is not None else region_check(StratumLevel.regency),
        whitelist_types=registration.WHITELIST_TYPES,
        region_lists={r.name: _frozen(r) for r in repository.region_lists(session)},
    )


def region_codes_from_text(content: str) -> list[str]:
    """Regency codes pasted or uploaded (one per line, CSV ``code[,name]``, or separated by commas/spaces; Kemendagri's
    dotted ``32.01`` accepted), unchecked: :func:`set_priority_tiers` and :func:`import_region_list` check them."""
    return [code for code, _line in rules.parse_region_codes(content)]


def whitelist_types() -> tuple[str, ...]:
    """The priority list types a tier may name (the registration domain's whitelists)."""

    return tuple(registration.WHITELIST_TYPES)


# ---------------------------------------------------------------------------------------------- region lists


def _frozen(region_list: RegionList) -> rules.FrozenRegionList:
    return rules.FrozenRegionList(
        name=region_list.name,
        source=region_list.source,
        as_of=region_list.as_of.isoformat(),
        codes_sha256=region_list.codes_sha256,
        codes=frozenset(region_list.codes),
    )


def list_region_lists(session: Session) -> list[RegionList]:
    return repository.region_lists(session)


def import_region_list(
    session: Session,
    *,
    name: str,
    content: str,
    source: str,
    as_of: date | None,
    actor: audit.Actor,
    known_region: RegionCheck | None = None,
) -> RegionList:
    """A named list of regency codes with its provenance (e.g. the annex of the decree naming the extreme-poverty
    regencies), every code checked against the official region list. Lists are never edited: a name is used once.
    Nothing is saved on any problem."""
    name = name.strip()
    problems = rules.check_region_list(name, source, as_of, utcnow().astimezone(JAKARTA).date())
    codes, bad = rules.check_regency_codes(
        rules.parse_region_codes(content),
        field="file",
        known=known_region if known_region is not None else region_check(StratumLevel.regency),
    )
    problems.extend(bad)
    if not codes and not bad:
        problems.append(rules.FieldProblem("file", "region_list_empty", "no regency code found"))
    if problems:
        raise InvalidRegionList(details={"fields": [p.to_dict() for p in problems]})
    if repository.region_list(session, name) is not None:
        raise RegionListExists(details={"name": name})
    assert as_of is not None
    region_list = RegionList(
        name=name,
        source=source.strip(),
        as_of=as_of,
        codes=codes,
        codes_sha256=rules.codes_sha256(codes),
        imported_by=str(actor.id) if actor.id else actor.role,
    )
    repository.add(session, region_list)
    audit.record(
        session,
        actor,
        "waves.region_list_imported",
        "region_list",
        region_list.id,
        data={
            "name": name,
            "source": region_list.source,
            "as_of": as_of.isoformat(),
            "count": len(codes),
            "codes_sha256": region_list.codes_sha256,
        },
    )
    return region_list


def open_wave(session: Session, wave_id: uuid.UUID, *, actor: audit.Actor) -> Wave:
    wave = get_wave(session, wave_id, lock=True)
    _require_state(wave, WaveState.draft)
    check_scheme(wave)
    wave.state = WaveState.open
    audit.record(session, actor, "waves.opened", "wave", wave.id)
    return wave


def advance(session: Session, wave: Wave, target: WaveState, *, actor: audit.Actor, data: dict[str, Any]) -> None:
    """Selection moves a wave to committed, drawn and announced through here."""
    if not rules.can_move(wave.state, target):
        raise WaveStateConflict(
            code=f"wave_not_{rules.ORDER[rules.ORDER.index(target) - 1].value}",
            details={"state": wave.state.value, "target": target.value},
        )
    wave.state = target
    audit.record(session, actor, f"waves.{target.value}", "wave", wave.id, data=data)


def record_outcomes(session: Session, wave: Wave, recipient_hashes: list[bytes]) -> None:
    """At announcement: recipients marked (never joining again), everybody else free for a later wave."""
    repository.set_outcomes(session, wave.id, recipient_hashes)


def untold_ineligible(session: Session, wave_id: uuid.UUID, limit: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(entry id, account id) of entries found ineligible at close whose applicant was not told yet (locked)."""
    return repository.untold_ineligible(session, wave_id, limit)


def mark_told(session: Session, entry_ids: Sequence[uuid.UUID], at: datetime) -> None:
    repository.mark_told(session, entry_ids, at)


# ---------------------------------------------------------------------------------------------- joining


def join(session: Session, *, account_id: uuid.UUID, wave_id: uuid.UUID, consent: bool) -> JoinReceipt:
    """An applicant joins an open wave. The entry secret is drawn here and shown to them."""

    if not consent:
        raise ConsentRequired(details={"field": "consent"})
    applicant = registration.applicant_for_account(session, account_id)
    if applicant is None:
        raise NoApplicantProfile()
    if not applicant.identity_verified:
        raise IdentityNotVerified()
    repository.lock_applicant(session, applicant.applicant_id)
    wave = get_wave(session, wave_id)
    now = utcnow()
    if wave.state is not WaveState.open or not (wave.opens_at <= now < wave.closes_at):
        raise WaveNotOpen(details={"wave": wave.number})
    regency = applicant.domicile_regency or ""
    if not rules.code_shape_ok(StratumLevel.regency, regency) or (wave.provinces and regency[:2] not in wave.provinces):
        raise WaveNotForDomicile(details={"wave": wave.number})
    if repository.was_recipient(session, applicant.applicant_id):
        raise OncePerLifetime()
    listed = registration.list_types_for(session, [applicant.nik_index]).get(applicant.nik_index, set())
    if listed & {"past_recipient", "revoked"}:
        raise OncePerLifetime()
    if repository.active_entry(session, applicant.applicant_id) is not None:
        raise AlreadyInWave()
    if repository.entry_in_wave(session, wave.id, applicant.applicant_id) is not None:
        raise AlreadyInWave()
    if ability_test_required(wave) and not registration.ability.scores(
        session, [applicant.applicant_id], ability_ref(wave)
    ):
        raise AbilityTestRequired(details={"wave": wave.number})
    decision = _decide(session, wave, [applicant.applicant_id], context="join")[applicant.applicant_id]
    if not decision[0]:
        # the decision stays stored: the caller commits it with the refusal (the page shows its reasons)
        stored = eligibility.decisions_for(session, applicant.applicant_id, limit=1)
        reasons = list(stored[0].reason_codes) if stored else [decision[1] or "not_eligible"]
        raise NotEligible(details={"reasons": reasons, "decision_id": decision[2]})
    secret = lottery.new_entry_secret()
    entry_hash = bytes.fromhex(lottery.entry_hash(str(wave.id), secret))
    entry = Entry(
        wave_id=wave.id,
        applicant_id=applicant.applicant_id,
        account_id=account_id,
        stratum=rules.stratum_of(wave.stratum_level, regency),
        regency=regency,
        joined_at=now,
        consent_at=now,
        entry_secret=secret.hex(),
        entry_hash=entry_hash,
        status=EntryStatus.joined,
        active=True,
    )
    repository.add(session, entry)
    return JoinReceipt(
        entry_id=entry.id,
        wave_id=wave.id,
        wave_number=wave.number,
        stratum=entry.stratum,
        entry_secret=secret.hex(),
        entry_hash=entry_hash.hex(),
    )


def ability_ref(wave: Wave) -> str:
    """The wave's reference for its ability test attempts (registration keys attempts by it): its number, the
    canonical reference the test's own wave check returns."""
    return str(wave.number)


def ability_test_required(wave: Wave) -> bool:
    """Whether the wave's scheme asks applicants to finish the ability test before joining."""
    return load(wave.scheme_name).eligibility.ability_test_required


def receipt_for(session: Session, *, account_id: uuid.UUID, wave_id: uuid.UUID) -> JoinReceipt | None:
    """The join receipt again (its page after the redirect, and the proof download): the account's own entry."""
    for entry in repository.entries_of_account(session, account_id):
        if entry.wave_id == wave_id and entry.entry_secret:
            return JoinReceipt(
                entry_id=entry.id,
                wave_id=entry.wave_id,
                wave_number=get_wave(session, wave_id).number,
                stratum=entry.stratum,
                entry_secret=entry.entry_secret,
                entry_hash=bytes(entry.entry_hash).hex(),
            )
    return None


def open_waves_for(session: Session, account_id: uuid.UUID) -> list[Wave]:
    """Open waves the applicant's domicile matches (what the join page offers)."""

    applicant = registration.applicant_for_account(session, account_id)
    regency = (applicant.domicile_regency or "") if applicant else ""
    now = utcnow()
    return [
        w
        for w in repository.waves(session, [WaveState.open])
        if w.opens_at <= now < w.closes_at and (not w.provinces or regency[:2] in w.provinces)
    ]


# ---------------------------------------------------------------------------------------------- closing


def close_wave(session: Session, wave_id: uuid.UUID, *, actor: audit.Actor) -> Wave:
    """Stop joining; re-check every entry against the current exclusion lists and registry results; freeze the
    eligible set with each entry's priority tier. A few set-based queries for the whole wave."""

    wave = get_wave(session, wave_id, lock=True)
    _require_state(wave, WaveState.open)
    check_scheme(wave)
    rows = repository.entries_to_check(session, wave.id)
    applicant_ids = [applicant_id for _, applicant_id, _ in rows]
    decisions = _decide(session, wave, applicant_ids, context="close")
    snaps = registration.snapshots(session, applicant_ids)
    nik_indexes = [s.nik_index for s in snaps.values() if s.nik_index]
    whitelists = registration.whitelist_types_for(session, nik_indexes) if wave.priority_tiers else {}
    tier_list = tiers(wave)
    oks: list[bool] = []
    tier_values: list[int | None] = []
    reasons: list[str | None] = []
    refs: list[str | None] = []
    for _entry_id, applicant_id, regency in rows:
        ok, reason, ref = decisions[applicant_id]
        snap = snaps.get(applicant_id)
        current_regency = (snap.domicile_regency if snap else None) or regency
        whitelist = whitelists.get(snap.nik_index, set()) if snap and snap.nik_index else set()
        oks.append(ok)
        tier_values.append(rules.tier_of(tier_list, whitelist, current_regency) if ok else None)
        reasons.append(reason)
        refs.append(ref)
    repository.apply_close_results(
        session,
        entry_ids=[entry_id for entry_id, _, _ in rows],
        eligible=oks,
        tiers=tier_values,
        reasons=reasons,
        decision_refs=refs,
    )
    wave.state = WaveState.closed
    wave.closed_at = utcnow()
    wave.eligible_count = repository.count_status(session, wave.id, EntryStatus.eligible)
    wave.ineligible_count = repository.count_status(session, wave.id, EntryStatus.ineligible)
    audit.record(
        session,
        actor,
        "waves.closed",
        "wave",
        wave.id,
        data={"eligible": wave.eligible_count, "ineligible": wave.ineligible_count},
    )
    return wave


def _decide(
    session: Session, wave: Wave, applicant_ids: list[uuid.UUID], *, context: str
) -> dict[uuid.UUID, tuple[bool, str | None, str | None]]:
    """Eligibility of many applicants under the wave's scheme, stored by the eligibility domain:
    (eligible, first reason code, decision id). A handful of set-based look-ups for the whole list."""

    if not applicant_ids:
        return {}
    snaps = registration.snapshots(session, applicant_ids)
    listed = registration.list_types_for(session, [s.nik_index for s in snaps.values()])
    kk_counts = recipients.recipients_per_kk(session, [s.kk_index for s in snaps.values()])
    past = recipients.recipient_statuses(session, list(snaps))
    params = eligibility.params_for(load(wave.scheme_name), wave_number=wave.number)
    wave_date = wave.closes_at.astimezone(JAKARTA).date()
    result: dict[uuid.UUID, tuple[bool, str | None, str | None]] = {}
    items = []
    for applicant_id in applicant_ids:
        snap = snaps.get(applicant_id)
        if snap is None:
            result[applicant_id] = (False, "profile_incomplete", None)
            continue
        if not snap.identity_verified:
            result[applicant_id] = (False, "identity_not_verified", None)
            continue
        status = past.get(applicant_id)
        facts = eligibility.ApplicantFacts(
            birth_date=snap.birth_date,
            wave_date=wave_date,
            citizen=snap.is_citizen,
            is_student=snap.declared_student,
            exclusion_lists=frozenset(listed.get(snap.nik_index, set())),
            kk_existing_recipients=max(0, kk_counts.get(snap.kk_index, 0) - (1 if status else 0)),
            is_past_recipient=status is not None,
            is_revoked=status == "revoked",
        )
        items.append((applicant_id, facts))
    for decision in eligibility.decide_many(session, items=items, params=params, context=context):
        codes = list(decision.reason_codes)
        result[decision.applicant_id] = (decision.eligible, codes[0] if codes else None, str(decision.id))
    return result


def region_check(level: StratumLevel) -> RegionCheck | None:
    """Whether a code is a real province/regency, from the registration domain's region list."""

    return registration.region_exists


def ability_wave_check(session: Session, account_id: uuid.UUID, wave_ref: str) -> str:
    """Who may take a wave's ability test (``registration.service.ability.WaveCheck``): the wave (by number)
    exists (else 404), is open now (else 409) and is open to this applicant's domicile (else 409). Returns the
    wave's number, the canonical reference registration keys attempts by (:func:`ability_ref`)."""
    number = read_number(wave_ref.strip())
    wave = next((w for w in list_waves(session) if number and w.number == int(number)), None)
    if wave is None:
        raise AbilityWaveNotFound()
    now = utcnow()
    if wave.state is not WaveState.open or not (wave.opens_at <= now < wave.closes_at):
        raise AbilityWaveNotOpen(details={"wave": wave.number})
    if all(w.id != wave.id for w in open_waves_for(session, account_id)):
        raise AbilityWaveNotForApplicant(details={"wave": wave.number})
    return str(wave.number)
