"""Read models of the service layer: what a clerk sees of a physician or an institution.

Each view is a JSON-ready dict; the CLI prints it as tables or ``--json``, the TUI renders it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from ..domain import identifiers as ids
from ..domain import regions, schedule
from ..domain.facts import PhysicianFact
from ..domain.holidays import HolidayCalendar
from ..domain.rules import Violation
from ..domain.vocabulary import shipped
from ..i18n import N_, _
from ..storage import queries as q
from ..storage.validation_base import Person
from . import Registry, ServiceError
from .contracts import ContractTerms, agreement_terms, state_on
from .credit import ListingView, PointsView
from .filings import FilingView
from .physicians import physician_status
from .validation_base import not_counted, validation_base

ONE_DAY = dt.timedelta(days=1)


def _inst(i: Any) -> dict[str, Any]:
    return {"code": i.code, "name": i.name}


def grassroots_hours(
    agreements: list[Any], today: dt.date
) -> tuple[dict[int, float], dict[int, float]]:
    """Per year, hours at grassroots institutions (基层服务经历): those served (sessions on
    days up to ``today``) and, apart, those planned (the days after it)."""
    patterns = [
        a.pattern for a in agreements if a.institution.grassroots and a.start <= a.end and a.slots
    ]
    served: dict[int, float] = {}
    planned: dict[int, float] = {}
    if not patterns:
        return served, planned
    for year in range(min(p.start for p in patterns).year, max(p.end for p in patterns).year + 1):
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
        for out, start, end in (
            (served, first, min(last, today)),
            (planned, max(first, today + ONE_DAY), last),
        ):
            if start <= end:
                total = sum(schedule.minutes_between(patterns, start, end).values())
                if total:
                    out[year] = round(total / 60, 1)
    return served, planned


def minimum_standing(facts: PhysicianFact, on: dt.date) -> list[dict[str, Any]]:
    """At each institution where the physician has an agreement in force on ``on``: whether
    they count toward its physician minimum, or which requirement of its kind they miss (a
    nurse counts toward the nurse minimum wherever a contract is in force)."""
    person = Person(
        facts.cert_no, facts.name, facts.title, facts.level, facts.scopes, facts.practice_start
    )
    vocabulary = shipped()
    seen: dict[int, dict[str, Any]] = {}
    for a in facts.agreements:
        if a.status == "draft" or not a.start <= on <= a.end or a.institution.id in seen:
            continue
        nurse = facts.profession == "nurse"
        missing = "" if nurse else not_counted(vocabulary.kind(a.institution.kind), person, on)
        seen[a.institution.id] = {
            "institution": a.institution.code,
            "name": a.institution.name,
            "kind": a.institution.kind,
            "counted": not missing,
            "not_counted": missing or None,
        }
    return list(seen.values())


def physician_view(registry: Registry, cert: str, today: dt.date | None = None) -> dict[str, Any]:
    """A physician as the CLI and the TUI show them, as of ``today`` (default: the date)."""
    with registry.db.read() as s:
        phys = q.physician_by_cert(s, ids.clean(cert))
        if phys is None:
            raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
        regs = q.registrations_of(s, phys.id)
        institutions = q.institutions_by_id(
            s,
            [r.main_institution_id for r in regs]
            + [f.institution_id for r in regs for f in r.filings],
        )
        agreements = q.agreements_of(s, phys.id)
        facts = q.physician_fact(s, phys)
    violations = registry.evaluate_fully(facts)
    record = registry.credit_record(physician=phys.cert_no)
    today = today or dt.date.today()
    served, planned = grassroots_hours(list(facts.agreements), today)
    status_today = {r.region_code: r.status_on(today) for r in facts.registrations}
    return {
        "cert": phys.cert_no,
        "profession": phys.profession,
        "name": phys.name,
        "level": phys.level,
        "category": phys.category,
        "scopes": list(phys.scopes),
        "title": phys.title,
        "id_number": phys.id_masked,  # masked (330106********1231); the number is never stored
        "status": physician_status(list(status_today.values())),
        "dishonest": any(x.in_force_on(today) for x in record.listings),
        "listings": [x.as_json() for x in record.listings],
        "points": [x.as_json() for x in record.points],
        "registrations": [
            {
                "region": r.region_code,
                "region_name": regions.describe(r.region_code),
                "main_institution": _inst(institutions[r.main_institution_id]),
                "registered_on": r.registered_on.isoformat(),
                "status": status_today.get(r.region_code, r.status),
                "history": [
                    {
                        "status": e.status,
                        "on": e.on.isoformat(),
                        "until": e.until.isoformat() if e.until else None,
                        "reason": e.reason,
                    }
                    for e in r.events
                ],
            }
            for r in regs
        ],
        "filings": [f.as_json(today) for f in registry.filings(phys.cert_no)],
        "agreements": [
            {
                "contract_no": a.contract_no,
                "institution": _inst(a.institution),
                "role": a.role,
                "department": a.department,
                "start": a.start.isoformat(),
                "end": a.effective_end.isoformat(),
                "weekly_hours": a.weekly_hours,
                "scheduled_hours": round(sum(q.slot_of(x).duration for x in a.sessions) / 60, 2),
                "sessions": [str(q.slot_of(x)) for x in a.sessions],
                "consent": a.consent,
                "status": a.status,
                "revision": a.revision,
                "terms": agreement_terms(a),
            }
            for a in agreements
        ],
        "grassroots_hours": served,
        "grassroots_planned_hours": planned,
        "counts_toward_minimum": minimum_standing(facts, today),
        "violations": [v.as_json() for v in violations],
    }


def institution_view(registry: Registry, code: str) -> dict[str, Any]:
    with registry.db.read() as s:
        inst = q.institution_by_code(s, ids.clean(code))
        if inst is None:
            raise ServiceError(_("Unknown institution {code}.").format(code=code))
        agreements = q.agreements_at(s, inst.id)
        mains = q.main_registrations_at(s, inst.id)
        record = registry.credit_record(institution=inst.code)
        view: dict[str, Any] = {
            "code": inst.code,
            "name": inst.name,
            "kind": inst.kind,
            "beds": inst.beds,
            "county_code": inst.county_code,
            "region_name": regions.describe(inst.county_code),
            "departments": list(inst.departments),
            "grassroots": inst.grassroots,
            "address": inst.address,
            "dishonest": any(x.in_force_on(dt.date.today()) for x in record.listings),
            "listings": [x.as_json() for x in record.listings],
            "agreements": [
                {
                    "contract_no": a.contract_no,
                    "physician": {"cert": a.physician.cert_no, "name": a.physician.name},
                    "role": a.role,
                    "department": a.department,
                    "start": a.start.isoformat(),
                    "end": a.effective_end.isoformat(),
                    "weekly_hours": a.weekly_hours,
                    "scheduled_hours": round(
                        sum(q.slot_of(x).duration for x in a.sessions) / 60, 2
                    ),
                    "sessions": [str(q.slot_of(x)) for x in a.sessions],
                    "status": a.status,
                    "terms": agreement_terms(a),
                }
                for a in agreements
            ],
            "main_registered": len(mains),
        }
    (base,) = validation_base(registry, institution=view["code"])
    view["validation"] = base.as_json()
    return view


# -- typed view models of the clerks' UI (no dicts cross the service → TUI boundary) --------


@dataclass(frozen=True, slots=True)
class AgreementLine:
    """One contract as the physician screen lists it."""

    contract_no: str
    institution_code: str
    institution_name: str
    role: str  # primary / additional
    department: str
    start: dt.date
    end: dt.date  # the last day in force (a termination moves it earlier)
    contracted_end: dt.date
    terminated_on: dt.date | None
    weekly_hours: float  # contracted
    scheduled_hours: float  # what the sessions add up to
    slots: tuple[schedule.Slot, ...]
    consent: bool | None
    stored_status: str  # active / terminated / draft, as stored
    terms: ContractTerms

    @property
    def sessions(self) -> tuple[str, ...]:
        return tuple(str(slot) for slot in self.slots)

    def state_on(self, day: dt.date) -> str:
        """active, not yet started, terminated or ended — by date."""
        return state_on(self.start, self.end, self.terminated_on is not None, day)

    def in_force_on(self, day: dt.date) -> bool:
        return self.stored_status != "draft" and self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class StatusEvent:
    status: str  # registered / suspended / cancelled / reinstated
    on: dt.date
    until: dt.date | None
    reason: str


@dataclass(frozen=True, slots=True)
class RegistrationLine:
    region: str
    region_name: str
    main_code: str
    main_name: str
    registered_on: dt.date
    status: str
    history: tuple[StatusEvent, ...]


@dataclass(frozen=True, slots=True)
class PhysicianCard:
    """What the physician screen shows: registration, filings, contracts, the rules' verdict."""

    cert: str
    name: str
    level: str
    category: str
    scopes: tuple[str, ...]
    title: str
    status: str
    registrations: tuple[RegistrationLine, ...]
    filings: tuple[FilingView, ...]
    agreements: tuple[AgreementLine, ...]
    violations: tuple[Violation, ...]
    listings: tuple[ListingView, ...]
    points: tuple[PointsView, ...]
    profession: str = "physician"  # or nurse: no category or scopes
    practising_since: dt.date | None = None
    id_masked: str | None = None  # the national ID as shown (330106********1231), never more

    @property
    def nurse(self) -> bool:
        return self.profession == "nurse"

    def agreement(self, contract_no: str) -> AgreementLine | None:
        return next((a for a in self.agreements if a.contract_no == contract_no), None)

    def listed_on(self, day: dt.date) -> bool:
        return any(x.in_force_on(day) for x in self.listings)


def physician_card(registry: Registry, cert: str, today: dt.date | None = None) -> PhysicianCard:
    """The typed view of one physician (``physician_view`` is its JSON for the CLI)."""
    with registry.db.read() as s:
        phys = q.physician_by_cert(s, ids.clean(cert))
        if phys is None:
            raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
        regs = q.registrations_of(s, phys.id)
        facts = q.physician_fact(s, phys)
        day = today or dt.date.today()
        status_on = {r.region_code: r.status_on(day) for r in facts.registrations}
        mains = q.institutions_by_id(s, [r.main_institution_id for r in regs])
        registrations = tuple(
            RegistrationLine(
                r.region_code,
                regions.describe(r.region_code),
                mains[r.main_institution_id].code,
                mains[r.main_institution_id].name,
                r.registered_on,
                status_on.get(r.region_code, r.status),
                tuple(StatusEvent(e.status, e.on, e.until, e.reason or "") for e in r.events),
            )
            for r in regs
        )
        agreements = []
        for a in q.agreements_of(s, phys.id):
            slots = tuple(q.slot_of(x) for x in a.sessions)
            terms = ContractTerms(
                a.start, a.effective_end, tuple(map(str, slots)), **agreement_terms(a)
            )
            agreements.append(
                AgreementLine(
                    a.contract_no,
                    a.institution.code,
                    a.institution.name,
                    a.role,
                    a.department,
                    a.start,
                    a.effective_end,
                    a.end,
                    a.terminated_on,
                    a.weekly_hours,
                    round(sum(x.duration for x in slots) / 60, 2),
                    slots,
                    a.consent,
                    a.status,
                    terms,
                )
            )
        head = (
            phys.cert_no, phys.name, phys.level, phys.category, tuple(phys.scopes),
            phys.title or "", physician_status(list(status_on.values())),
        )  # fmt: skip
        more = (phys.profession, phys.practising_since, phys.id_masked)
    violations = tuple(registry.evaluate_fully(facts))
    record = registry.credit_record(physician=head[0])
    return PhysicianCard(
        *head,
        registrations,
        tuple(registry.filings(head[0])),
        tuple(agreements),
        violations,
        record.listings,
        record.points,
        *more,
    )


@dataclass(frozen=True, slots=True)
class Stretch:
    """Part of a session drawn on one day: ``lane`` (an institution), minutes of the day."""

    lane: int
    start: int
    end: int  # exclusive, ≤ 1440


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: dt.date
    holiday: str | None  # the statutory holiday's name (a Monday–Friday off)
    makeup: bool  # a weekend working day (调休)
    stretches: tuple[Stretch, ...]


@dataclass(frozen=True, slots=True)
class WeekPlan:
    """A dated week (Monday–Sunday) of what is in force each day, one lane per institution."""

    monday: dt.date
    lanes: tuple[str, ...]
    days: tuple[DayPlan, ...]


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_plan(
    agreements: tuple[AgreementLine, ...], monday: dt.date, holidays: HolidayCalendar | None
) -> WeekPlan:
    """Each day of the week from ``monday``: the sessions of the agreements in force on the
    day the session starts (a terminated one until its last day; one starting later from its
    first day); an overnight session runs on into the next day's row. Display only: the rules
    never expand days."""
    monday = monday_of(monday)
    days = [monday + dt.timedelta(days=n) for n in range(7)]
    lanes: dict[str, int] = {}
    names: list[str] = []
    stretches: list[list[Stretch]] = [[] for _ in days]
    for offset in range(-1, 7):  # the Sunday before: its overnight sessions end on Monday
        day = monday + dt.timedelta(days=offset)
        for a in agreements:
            if not a.in_force_on(day):
                continue
            for slot in a.slots:
                if slot.weekday != day.weekday():
                    continue
                if a.institution_code not in lanes:
                    lanes[a.institution_code] = len(names)
                    names.append(a.institution_name)
                lane = lanes[a.institution_code]
                if slot.end > slot.start:
                    if offset >= 0:
                        stretches[offset].append(Stretch(lane, slot.start, slot.end))
                    continue
                if offset >= 0:
                    stretches[offset].append(Stretch(lane, slot.start, schedule.DAY))
                if offset + 1 < 7 and slot.end > 0:
                    stretches[offset + 1].append(Stretch(lane, 0, slot.end))
    return WeekPlan(
        monday,
        tuple(names),
        tuple(
            DayPlan(
                day,
                (holidays.name(day) or "") if holidays and holidays.is_holiday(day) else None,
                bool(holidays and holidays.is_makeup_workday(day)),
                tuple(found),
            )
            for day, found in zip(days, stretches, strict=True)
        ),
    )


# -- the audit log as a clerk reads it ---------------------------------------------------------

LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
# Internal ids the audit rows carry, and what they name.
_ID_FIELDS = {
    "physician_id": "physician",
    "institution_id": "institution",
    "main_institution_id": "institution",
}
_HIDDEN_FIELDS = frozenset({"id", "pattern", "weekly_minutes", "initials", "revision", "notes"})
FIELD_LABELS = {
    "action": N_("action"), "address": N_("address"), "authority": N_("authority"),
    "beds": N_("beds"), "category": N_("category"), "cert_no": N_("certificate"),
    "code": N_("code"), "consent": N_("consent"), "contract_no": N_("contract"),
    "county_code": N_("county"), "days": N_("days"), "decision": N_("decision"),
    "department": N_("department"), "departments": N_("departments"),
    "employment": N_("employment"), "end": N_("last day"), "failed_assessment_on":
    N_("failed assessment on"), "grassroots": N_("grassroots"), "institution":
    N_("institution"), "institution_id": N_("institution"), "insurance": N_("insurance"),
    "kind": N_("kind"), "level": N_("level"), "liability": N_("liability"),
    "licensed_on": N_("licensed on"), "main_institution": N_("main institution"),
    "main_institution_id": N_("main institution"), "makeup_follows": N_("make-up days"),
    "name": N_("name"), "number": N_("number"), "on": N_("on"), "pay": N_("pay"),
    "physician": N_("physician"), "physician_id": N_("physician"), "points": N_("points"),
    "practising_since": N_("practising since"), "reason": N_("reason"), "region": N_("region"),
    "role": N_("role"), "scope": N_("scope"), "scopes": N_("scopes"),
    "sessions": N_("sessions"), "start": N_("first day"), "status": N_("status"),
    "tasks": N_("tasks"), "terminated_on": N_("terminated on"), "title": N_("title"),
    "until": N_("until"), "valid_from": N_("valid from"), "valid_to": N_("valid to"),
    "weekly_hours": N_("hours/week"),
}  # fmt: skip
# Stored values that are words of the registry's own (translated when shown).
_WORDS = frozenset({
    "primary", "additional", "active", "terminated", "registered", "suspended", "cancelled",
    "province", "city", "county", "filed", "renewed", "extended", "ended", "holiday",
    "workday",
})  # fmt: skip


@dataclass(frozen=True, slots=True)
class AuditChange:
    field: str  # translated label
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class AuditLine:
    id: int
    at: dt.datetime  # local time (Asia/Shanghai)
    clerk: str
    action: str
    entity: str
    key: str
    physician: str
    institution: str
    changes: tuple[AuditChange, ...]


def _shown(value: Any, names: dict[tuple[str, int], str], what: str | None) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if what is not None and isinstance(value, int):
        return names.get((what, value), str(value))
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        if value and isinstance(value[0], list):
            return _("{n} entries").format(n=len(value))
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, str) and value in _WORDS:
        return _(value)
    return str(value)


def _changes(
    before: dict[str, Any] | None, after: dict[str, Any] | None, names: dict[tuple[str, int], str]
) -> tuple[AuditChange, ...]:
    old, new = before or {}, after or {}
    found = []
    # in the order of the field names, however the row's JSON was written (a batch stores
    # its snapshots with the keys sorted, as the chain hashes them; a single write as built)
    for key in sorted(old.keys() | new.keys()):
        if key in _HIDDEN_FIELDS or old.get(key) == new.get(key):
            continue
        what = _ID_FIELDS.get(key)
        found.append(
            AuditChange(
                _(FIELD_LABELS.get(key, key)),
                _shown(old.get(key), names, what) if key in old else "—",
                _shown(new.get(key), names, what) if key in new else "—",
            )
        )
    return tuple(found)


def audit_lines(
    registry: Registry,
    *,
    clerk: str | None = None,
    physician: str | None = None,
    institution: str | None = None,
    action: str | None = None,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    limit: int = 200,
) -> list[AuditLine]:
    """The newest audit entries first, in local time, each as a before → after diff whose ids
    are replaced by names; ``first_day``/``last_day`` are local dates, both included."""

    def utc(day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time(), LOCAL_ZONE)
        return local.astimezone(dt.UTC).replace(tzinfo=None)

    with registry.db.read() as s:
        entries = q.audit_entries(
            s, clerk=clerk, physician=physician, institution=institution, action=action,
            since=utc(first_day) if first_day else None,
            before=utc(last_day + ONE_DAY) if last_day else None, limit=limit,
        )  # fmt: skip
        wanted: dict[str, set[int]] = {"physician": set(), "institution": set()}
        for e in entries:
            for side in (e.before, e.after):
                for key, what in _ID_FIELDS.items():
                    value = (side or {}).get(key)
                    if isinstance(value, int):
                        wanted[what].add(value)
        names: dict[tuple[str, int], str] = {
            ("physician", pid): f"{name} {cert}"
            for pid, (cert, name) in q.physician_names_by_id(s, wanted["physician"]).items()
        }
        names.update(
            (("institution", iid), i.name)
            for iid, i in q.institutions_by_id(s, wanted["institution"]).items()
        )
        return [
            AuditLine(
                e.id,
                e.at.replace(tzinfo=dt.UTC).astimezone(LOCAL_ZONE),
                e.clerk,
                e.action,
                e.entity,
                e.entity_key,
                e.physician_cert or "",
                e.institution_code or "",
                _changes(e.before, e.after, names),
            )
            for e in entries
        ]


def audit_actions(registry: Registry) -> list[str]:
    with registry.db.read() as s:
        return q.audit_actions(s)
