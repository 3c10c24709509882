"""The demo region written in chunks is the region written at once, on each backend; a region
past a million practitioners gives its nurses valid certificate numbers."""

from __future__ import annotations

import datetime as dt
import random
from itertools import islice
from typing import Any

from sqlalchemy import select

from multisite.domain import identifiers as ids
from multisite.services import Registry, demo
from multisite.storage import Database, upgrade
from multisite.storage.models import Agreement, Filing, Institution, Physician, Registration

TODAY = dt.date(2026, 11, 28)


def _stored(registry: Registry) -> dict[str, Any]:
    """What a region holds, keyed by what the demo draws (ids may differ, keys may not)."""
    with registry.db.read() as s:
        codes = dict(s.execute(select(Institution.id, Institution.code)).all())
        certs = dict(s.execute(select(Physician.id, Physician.cert_no)).all())
        people = sorted(
            (p.cert_no, p.name, p.initials, p.level, p.category, tuple(p.scopes), p.title,
             p.profession, r.region_code, codes[r.main_institution_id], r.registered_on)
            for p, r in s.execute(
                select(Physician, Registration).join(
                    Registration, Registration.physician_id == Physician.id
                )
            ).all()
        )  # fmt: skip
        deals = sorted(
            (a.contract_no, certs[a.physician_id], codes[a.institution_id], a.role, a.department,
             a.start, a.end, a.pattern, a.weekly_minutes, a.consent, a.pay, a.tasks)
            for a in s.scalars(select(Agreement))
        )  # fmt: skip
        filings = sorted(
            (codes[f.institution_id], f.scope, f.valid_from, f.valid_to)
            for f in s.scalars(select(Filing))
        )
    return {"people": people, "agreements": deals, "filings": filings}


def _violations(registry: Registry) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((v.code, v.severity, tuple(sorted(v.agreements))) for v in registry.check())


def test_a_region_written_in_chunks_is_the_region_written_at_once(db_url: str, tmp_path) -> None:
    """50 physicians and 60 nurses, 7 practitioners a chunk (a chunk of physicians and nurses
    together among them), against one chunk on SQLite — on SQLite and PostgreSQL alike."""
    regions = []
    databases = []
    try:
        for chunk, url in ((1000, f"sqlite:///{tmp_path / 'whole.db'}"), (7, db_url)):
            database = Database(url)
            upgrade(database.engine)
            databases.append(database)
            registry = Registry(database, clerk="演示")
            built = demo.generate(
                registry, 50, seed=5, today=TODAY, nurses_per_physician=1.2, chunk=chunk
            )
            regions.append((registry, built))
        (whole, whole_built), (chunked, chunked_built) = regions
        counts = chunked.summary()
        assert counts == whole.summary()
        assert (counts["physicians"], counts["nurses"]) == (50, 60)
        assert counts["agreements"] > 110 and counts["sessions"] > counts["agreements"]
        # an audit row (at least) for each region, institution, practitioner and agreement
        assert counts["audit_entries"] > sum(
            counts[k] for k in ("regions", "institutions", "physicians", "nurses", "agreements")
        )
        assert _stored(chunked) == _stored(whole)
        assert _violations(chunked) == _violations(whole)
        assert not [v for v in chunked.check() if v.severity == "error"]
        # the returned rows name what was stored, ids included
        for built, registry in ((whole_built, whole), (chunked_built, chunked)):
            assert len(built.physicians) == 110 and len(built.agreements) == counts["agreements"]
            with registry.db.read() as s:
                stored = dict(s.execute(select(Physician.cert_no, Physician.id)).all())
            assert {p["cert_no"]: p["id"] for p in built.physicians} == stored
        assert [p["cert_no"] for p in chunked_built.physicians] == [
            p["cert_no"] for p in whole_built.physicians
        ]
    finally:
        for database in databases:
            database.dispose()


def test_without_rows_only_the_institutions_are_returned(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'lean.db'}")
    upgrade(database.engine)
    try:
        registry = Registry(database, clerk="演示")
        built = demo.generate(registry, 30, seed=2, today=TODAY, chunk=8, rows=False)
        assert built.physicians == built.agreements == built.sessions == []
        assert len(built.institutions) == registry.summary()["institutions"] == 12
        assert registry.summary()["physicians"] == 30
    finally:
        database.dispose()


def test_the_chunks_draw_the_region_build_holds() -> None:
    """``generate`` and ``build`` draw the same practitioners in the same order."""
    built = demo.build(40, 9, TODAY, 1.2)
    rng = random.Random(9)
    places = demo._institutions(rng, demo._institution_count(40))
    drawn = list(demo._practitioners(rng, 40, 1.2, places, TODAY))
    assert [d.fact.cert_no for d in drawn] == [p["cert_no"] for p in built.physicians]
    assert [a.contract_no for d in drawn for a in d.agreements] == [
        a["contract_no"] for a in built.agreements
    ]


def test_nurses_past_a_million_practitioners_get_valid_certificate_numbers() -> None:
    """Past 999,999 practitioners a nurse's serial is no longer her id (it would take seven
    digits): each year of first registration numbers its nurses from 1."""
    rng = random.Random(3)
    places = demo._institutions(rng, 12)
    mains = sorted(places.facts)
    serials: dict[int, int] = {}
    certs = []
    for pid in range(999_990, 1_000_200):
        fact, registration = demo._nurse(rng, pid, places, mains, serials)
        assert ids.nurse_cert_ok(fact.cert_no), fact.cert_no
        assert fact.cert_no.startswith(str(registration.registered_on.year))
        certs.append(fact.cert_no)
    assert len(set(certs)) == len(certs)
    # below a million practitioners the serial is the id, as before (cached regions keep theirs)
    drawn = demo._practitioners(random.Random(3), 10, 1.2, places, TODAY)
    nurses = [d.fact for d in islice(drawn, 22) if d.fact.profession == "nurse"]
    assert [int(f.cert_no[-6:]) for f in nurses] == list(range(11, 23))
