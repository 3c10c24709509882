"""What the public pages show (信息公开): documents built from the registry for anyone to read.

Each function returns one JSON-ready document; the public server renders it as HTML or sends
it as JSON (schemas in the README). Only what a commission publishes is in them: who may
practise where and until when (registration, main institution, filings with validity), the
status with its dates, credit listings, and the inspection results the province publishes.
Never the national ID (not stored in clear anyway), never the reasons of a suspension, and the
weekly schedule only where the province's policy says ``publish_schedule``.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

from ..domain import identifiers as ids
from ..domain import regions
from ..domain.filings import state as filing_state
from ..domain.vocabulary import shipped
from ..storage import public as sq
from ..storage import queries as q
from . import Registry
from .physicians import physician_status
from .validation_base import next_validation

PAGE = 20
MAX_PAGES = 10  # a search shows at most PAGE × MAX_PAGES physicians: refine the query past it
MIN_QUERY = 2
MAX_QUERY = 64  # characters of a search (the page's field takes no more)


class PublicNotFound(LookupError):
    """No physician or institution with that key (the page answers 404)."""


class BadQuery(ValueError):
    """A search the pages refuse (too short, too long, a page past the cap); ``problem`` is a
    key of the pages' messages."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _province(code: str) -> str:
    return code[:2] + "0000"


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _listing(row: tuple[Any, ...]) -> dict[str, Any]:
    x, cert, pname, code, iname = row
    subject = (
        {"kind": "physician", "key": cert, "name": pname}
        if cert is not None
        else {"kind": "institution", "key": code, "name": iname}
    )
    return {
        "id": x.id,
        "subject": subject,
        "from": x.start.isoformat(),
        "to": _iso(x.until),
        "reason": x.reason,
        "authority": x.authority,
        "decision": x.decision,
    }


def search(registry: Registry, text: str, page: int = 1) -> dict[str, Any]:
    """Physicians and nurses whose name starts with ``text`` (at least two characters) or whose
    certificate number starts with it (digits), ``PAGE`` a page, at most ``MAX_PAGES`` pages;
    each result says its profession."""
    query = unicodedata.normalize("NFKC", text).strip()
    if len(query) < MIN_QUERY:
        raise BadQuery("short")
    if len(query) > MAX_QUERY:
        raise BadQuery("long")
    if not 1 <= page <= MAX_PAGES:
        raise BadQuery("page")
    by = "cert" if query.isdigit() else "name"
    with registry.db.read() as s:
        rows = sq.search_physicians(s, query, by, PAGE + 1, (page - 1) * PAGE)
        mains = sq.main_institutions(s, [r[5] for r in rows[:PAGE]])
    return {
        "query": query,
        "by": by,
        "page": page,
        "page_size": PAGE,
        "more": len(rows) > PAGE and page < MAX_PAGES,
        "capped": len(rows) > PAGE and page == MAX_PAGES,
        "results": [
            {
                "cert": cert,
                "name": name,
                "title": title,
                "category": category,
                "profession": profession,
                "main_institutions": mains.get(pid, []),
            }
            for cert, name, title, category, profession, pid in rows[:PAGE]
        ],
    }


def physician_page(registry: Registry, cert: str, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    with registry.db.read() as s:
        phys = q.physician_by_cert(s, ids.clean(cert))
        if phys is None:
            raise PublicNotFound(cert)
        regs = q.registrations_of(s, phys.id)
        facts = q.physician_fact(s, phys)
        places = q.institutions_by_id(
            s,
            [r.main_institution_id for r in regs]
            + [f.institution_id for r in regs for f in r.filings],
        )
        listed = [_listing(r) for r in sq.listings(s, physician_id=phys.id)]
        published = {
            r.region_code
            for r in regs
            if registry.policy(_province(r.region_code)).publish_schedule
        }
        agreements = q.agreements_of(s, phys.id) if published else []
        schedule = [
            {
                "institution": {"code": a.institution.code, "name": a.institution.name},
                "department": a.department,
                "from": a.start.isoformat(),
                "to": a.effective_end.isoformat(),
                "sessions": [str(q.slot_of(x)) for x in a.sessions],
            }
            for a in agreements
            if a.status != "draft"
            and a.effective_end >= today
            and any(ids.region_contains(code, a.institution.county_code) for code in published)
        ]
    status_today = {r.region_code: r.status_on(today) for r in facts.registrations}
    return {
        "cert": phys.cert_no,
        "name": phys.name,
        "profession": phys.profession,
        "level": phys.level,
        "category": phys.category,
        "scopes": list(phys.scopes),
        "title": phys.title,
        "status": physician_status(list(status_today.values())),
        "registrations": [
            {
                "region": r.region_code,
                "region_name": regions.describe(r.region_code),
                "main_institution": {
                    "code": places[r.main_institution_id].code,
                    "name": places[r.main_institution_id].name,
                },
                "registered_on": r.registered_on.isoformat(),
                "status": status_today.get(r.region_code, r.status),
                "history": [
                    {"status": e.status, "from": e.on.isoformat(), "to": _iso(e.until)}
                    for e in r.events
                ],
                "filings": [
                    {
                        "institution": {
                            "code": places[f.institution_id].code,
                            "name": places[f.institution_id].name,
                        },
                        "scope": f.scope,
                        "valid_from": f.valid_from.isoformat(),
                        "valid_to": f.valid_to.isoformat(),
                        "ended_on": _iso(f.ended_on),
                        "state": filing_state(f.valid_from, f.valid_to, f.ended_on, today),
                    }
                    for f in sorted(r.filings, key=lambda f: (f.valid_from, f.id))
                ],
            }
            for r in regs
        ],
        "listings": listed,
        "schedule": schedule if published else None,
    }


def institution_page(registry: Registry, code: str, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    with registry.db.read() as s:
        inst = q.institution_by_code(s, ids.clean(code))
        if inst is None:
            raise PublicNotFound(code)
        mains = sq.registered_at(s, inst.id)
        filed = sq.filed_at(s, inst.id)
        listed = [_listing(r) for r in sq.listings(s, institution_id=inst.id)]
        publish = registry.policy(_province(inst.county_code)).publish_inspections
        inspections = sq.inspections_at(s, inst.id) if publish else []
        names = sq.inspector_names(s, [i for x in inspections for i in x.inspector_ids])
        facts = {pid: q.physician_fact_by_id(s, pid) for pid in {r.physician_id for r, _p in mains}}
    validation = None
    if inst.licensed_on is not None:
        validation = next_validation(
            inst.licensed_on, inst.beds or 0, today, shipped().kind(inst.kind)
        ).isoformat()

    def status(reg_physician: int, region: str) -> str:
        fact = facts.get(reg_physician)
        found = fact and next((r for r in fact.registrations if r.region_code == region), None)
        return found.status_on(today) if found else "registered"

    return {
        "code": inst.code,
        "name": inst.name,
        "kind": inst.kind,
        "address": inst.address,
        "region": inst.county_code,
        "region_name": regions.describe(inst.county_code),
        "licensed_on": _iso(inst.licensed_on),
        "next_validation": validation,
        "registered": [
            {
                "cert": p.cert_no,
                "name": p.name,
                "profession": p.profession,
                "title": p.title,
                "registered_on": r.registered_on.isoformat(),
                "status": status(p.id, r.region_code),
            }
            for r, p in mains
        ],
        "filed": [
            {
                "cert": p.cert_no,
                "name": p.name,
                "profession": p.profession,
                "title": p.title,
                "scope": f.scope,
                "valid_from": f.valid_from.isoformat(),
                "valid_to": f.valid_to.isoformat(),
                "ended_on": _iso(f.ended_on),
                "state": filing_state(f.valid_from, f.valid_to, f.ended_on, today),
            }
            for f, p in filed
        ],
        "listings": listed,
        "inspections": [
            {
                "draw": x.draw_id,
                "inspected_on": _iso(x.inspected_on),
                "outcome": x.outcome,
                "findings": x.findings,
                "inspectors": [names.get(i, "") for i in x.inspector_ids],
            }
            for x in inspections
        ]
        if publish
        else None,
    }


def listings_page(registry: Registry, page: int = 1) -> dict[str, Any]:
    """Every credit listing, newest first, ``PAGE`` a page."""
    if not 1 <= page <= 10_000:
        raise BadQuery("page")
    with registry.db.read() as s:
        rows = sq.listings(s, limit=PAGE + 1, offset=(page - 1) * PAGE)
    return {
        "page": page,
        "page_size": PAGE,
        "more": len(rows) > PAGE,
        "listings": [_listing(r) for r in rows[:PAGE]],
    }
