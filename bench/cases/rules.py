"""Rules engine: the whole-region sweep and checking one new contract."""

from __future__ import annotations

import datetime as dt

from run import Case, Env  # type: ignore[import-not-found]
from sqlalchemy import select

from multisite.domain.sessions_text import parse_sessions
from multisite.services import AgreementInput, Registry
from multisite.storage import Database
from multisite.storage.models import Agreement, Institution, Physician, WorkSession


def cases(env: Env) -> list[Case]:
    db = Database(env.url)
    registry = Registry(db, "bench")

    def sweep() -> int:
        return len(registry.check())

    def read_sessions() -> int:
        columns = (
            WorkSession.physician_id, WorkSession.agreement_id, WorkSession.institution_id,
            WorkSession.weekday, WorkSession.start_minute, WorkSession.end_minute,
            WorkSession.start_date, WorkSession.end_date,
        )  # fmt: skip
        with db.engine.connect() as connection:
            return len(connection.execute(select(*columns)).all())

    with db.read() as s:
        cert, physician_id, main_id = s.execute(
            select(Physician.cert_no, Physician.id, Agreement.institution_id)
            .join(Agreement, Agreement.physician_id == Physician.id)
            .where(Agreement.role == "primary")
            .order_by(Physician.id.desc())
            .limit(1)
        ).one()
        other = s.scalar(
            select(Institution.code)
            .where(Institution.id != main_id)
            .order_by(Institution.id)
            .limit(1)
        )
        department = s.scalar(
            select(Agreement.department).where(Agreement.physician_id == physician_id)
        )
    candidate = AgreementInput(
        "BENCH-NEW-1", cert, other, "additional", department, dt.date(2026, 3, 1),
        dt.date(2026, 12, 31), parse_sessions("SU 09:00-12:00"), 3, True,
    )  # fmt: skip

    def check_one() -> int:
        return len(registry.preview_agreement(candidate))

    def physician_sessions() -> int:
        with db.read() as s:
            rows = s.execute(
                select(WorkSession.weekday, WorkSession.start_minute, WorkSession.end_minute,
                       WorkSession.start_date, WorkSession.end_date)
                .where(WorkSession.physician_id == physician_id)
            ).all()  # fmt: skip
            return len(rows)

    return [
        Case("whole-region check", sweep, read_sessions, target=1.5,
             note="baseline: one SELECT of every session row"),
        Case("check one new contract", check_one, physician_sessions, target=3.0, repeat=20,
             note="baseline: one indexed SELECT of that physician's sessions"),
    ]  # fmt: skip
