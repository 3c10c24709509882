"""Read models of the service layer: what a clerk sees of a physician or an institution.

Each view is a JSON-ready dict; the CLI prints it as tables or ``--json``, the TUI renders it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..domain import identifiers as ids
from ..domain import regions, schedule
from ..domain.facts import PhysicianFact
from ..domain.vocabulary import shipped
from ..i18n import _
from ..storage import queries as q
from ..storage.validation_base import Person
from . import Registry, ServiceError
from .contracts import agreement_terms
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
