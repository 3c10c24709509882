"""`check` keeps its per-physician verdicts between runs (``sweep_cache``) and judges again only
the physicians whose rows changed (triggers mark them in ``sweep_stale``), or everyone when a
policy, the holiday years, a travel buffer or the dishonesty list changed. After every kind of
write a clerk, an import or a hand-written statement makes, the kept sweep must find exactly
what full evaluation of every physician finds — on SQLite and PostgreSQL, from an empty
database fed with an office's files (tests/offices.py: 四川省)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from multisite.domain.inputs import AgreementInput, ListingInput
from multisite.domain.sessions_text import parse_sessions
from multisite.services import Registry
from multisite.storage import Database
from multisite.storage import queries as q
from multisite.storage.models import Agreement, Physician
from tests.offices import PROVINCE, make_office
from tests.test_office_e2e import cli, import_all


def key(v) -> tuple:
    return (v.code, v.physician, v.agreements, v.first_date, v.measure)


def oracle(registry: Registry) -> list[tuple]:
    """Every violation by the full rules, physician by physician (no sweep, nothing kept)."""
    with registry.db.read() as s:
        facts = list(q.all_physician_facts(s))
    return sorted(key(v) for f in facts for v in registry.evaluate_fully(f))


def swept(registry: Registry) -> list[tuple]:
    return sorted(map(key, registry.check()))


def marks(db: Database) -> set[int | None]:
    with db.engine.connect() as connection:
        return set(connection.execute(sa.text("SELECT physician_id FROM sweep_stale")).scalars())


def flagged(db: Database) -> set[int]:
    with db.engine.connect() as connection:
        return set(connection.execute(sa.text("SELECT physician_id FROM sweep_cache")).scalars())


def codes_of(found: list[tuple], cert: str) -> set[str]:
    return {code for code, physician, *_ in found if physician == cert}


def test_the_kept_sweep_finds_what_full_evaluation_finds_after_every_kind_of_write(
    db_url: str, tmp_path: Path
) -> None:
    office = make_office(physicians=30, seed=5)
    assert cli(db_url, "init") == 0
    import_all(db_url, office.write(tmp_path), tmp_path)
    db = Database(db_url)
    registry = Registry(db, clerk="四川窗口")
    try:
        # the office's additional contracts leave their terms blank (a warning: every one of
        # those physicians is judged in full); a clerk completes them
        with db.read() as s:
            kept = set(s.scalars(sa.select(Agreement.contract_no)))
        terms = dict(tasks="门诊", liability="双方协商", pay="按次", insurance="医责险",
                     employment="不变")  # fmt: skip
        completed = [
            (row, dataclasses.replace(data, **terms))
            for kind in ("contracts", "contracts_more")
            for row, data in office.inputs(kind)
            if data.contract_no in kept and data.role == "additional"
        ]
        assert registry.save_agreements(completed).updated == len(completed)
        assert swept(registry) == oracle(registry)  # the first sweep judges everyone
        assert marks(db) == set()  # and answers every mark the import wrote
        assert swept(registry) == oracle(registry)  # the second reads the verdicts kept

        with db.read() as s:
            stored = list(s.scalars(sa.select(Agreement).order_by(Agreement.id)))
            cert_of = {a.physician_id: a.physician.cert_no for a in stored}
            code_of = {a.id: a.institution.code for a in stored}
        # the physicians the kept verdicts cleared, one for each change below: a verdict
        # wrongly kept would hide the violation each change makes
        cleared: list[Agreement] = []
        judged_in_full = flagged(db)
        for a in stored:
            taken = judged_in_full | {c.physician_id for c in cleared}
            if a.role == "additional" and a.status == "active" and a.physician_id not in taken:
                cleared.append(a)
        assert len(cleared) >= 4, "the office's region has too few multi-site physicians"
        first, second, third, fourth = cleared[:4]

        # a clerk files a second contract at the same institution, without the main
        # institution's consent (a warning: it is stored): only that physician is judged again
        registry.save_agreement(
            AgreementInput(
                "SC-MORE-1", cert_of[first.physician_id], code_of[first.id], "additional",
                first.department, first.start, first.end,
                parse_sessions("SU 06:00-07:00"), 1, None,
            )
        )  # fmt: skip
        assert marks(db) == {first.physician_id}
        found = swept(registry)
        assert "CONSENT" in codes_of(found, cert_of[first.physician_id])
        assert found == oracle(registry)

        # a hand-written statement withdraws a consent: the trigger marks that physician
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Agreement).where(Agreement.id == second.id).values(consent=False)
            )
        assert marks(db) == {second.physician_id}
        found = swept(registry)
        assert "CONSENT" in codes_of(found, cert_of[second.physician_id])
        assert found == oracle(registry) and marks(db) == set()

        # the physician's scopes narrow (by hand: the service refuses it)
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Physician)
                .where(Physician.id == third.physician_id)
                .values(scopes=["眼耳鼻咽喉科"] if third.department != "眼耳鼻咽喉科" else ["内科"])
            )
        assert marks(db) == {third.physician_id}
        found = swept(registry)
        assert "SCOPE" in codes_of(found, cert_of[third.physician_id])
        assert found == oracle(registry)

        # an institution narrows its departments: everyone with a contract there
        institution = next(
            data for _row, data in office.inputs("institutions") if data.code == code_of[fourth.id]
        )
        others = [d for d in ("口腔专业", "眼耳鼻咽喉科") if d != fourth.department]
        registry.file_institution(dataclasses.replace(institution, departments=others[:1]))
        assert fourth.physician_id in marks(db)
        found = swept(registry)
        assert "SCOPE" in codes_of(found, cert_of[fourth.physician_id])
        assert found == oracle(registry)

        # a termination, a suspension, a listing on the dishonesty list, a tighter policy
        registry.terminate_agreement(first.contract_no, dt.date(2026, 6, 30), "合同到期")
        registry.suspend_registration(
            cert_of[stored[0].physician_id], dt.date(2026, 4, 1), dt.date(2026, 4, 30), "处罚"
        )
        assert swept(registry) == oracle(registry)
        registry.add_listing(
            ListingInput("institution", office.institutions[1]["机构代码"], dt.date(2026, 1, 1),
                         "虚假材料", "四川省卫生健康委员会")
        )  # fmt: skip
        assert swept(registry) == oracle(registry)
        registry.set_policy(PROVINCE, {"weekly_max_hours": 8, "max_institutions": 1})
        registry.forget_context()
        found = swept(registry)
        assert {"WEEKLY_HOURS", "SITE_LIMIT"} <= {v[0] for v in found}
        assert found == oracle(registry)
    finally:
        db.dispose()
