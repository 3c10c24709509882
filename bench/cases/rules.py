"""Rules engine: the whole-region sweep and checking one new contract, against the raw driver
reading the same session rows (one SELECT of every session; one indexed SELECT of the
physician's sessions)."""

from __future__ import annotations

import datetime as dt

from run import Case, Env  # type: ignore[import-not-found]
from sqlalchemy import select

from multisite.domain.sessions_text import parse_sessions
from multisite.services import AgreementInput, Registry
from multisite.storage import Database
from multisite.storage.models import Agreement, Institution, Physician


def cases(env: Env) -> list[Case]:
    db = Database(env.url)
    registry = Registry(db, "bench")

    def sweep() -> int:
        return len(registry.check())

    raw = env.raw()
    mark = "?" if env.engine == "sqlite" else "%s"
    every_session = (
        "SELECT physician_id, agreement_id, institution_id, weekday, start_minute, "
        "end_minute, start_date, end_date FROM work_session"
    )
    one_physician = (
        "SELECT weekday, start_minute, end_minute, start_date, end_date FROM work_session "
        f"WHERE physician_id = {mark}"
    )

    def read_sessions() -> int:
        cursor = raw.cursor()
        rows = cursor.execute(every_session).fetchall()
        cursor.close()
        return len(rows)

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
        cursor = raw.cursor()
        rows = cursor.execute(one_physician, (physician_id,)).fetchall()
        cursor.close()
        return len(rows)

    driver = "sqlite3" if env.engine == "sqlite" else "psycopg"
    return [
        Case("whole-region check", sweep, read_sessions, target=1.5,
             note=f"floor: one SELECT of every session row ({driver}, fetched)"),
        Case("check one new contract", check_one, physician_sessions, target=3.0, repeat=20,
             note=f"floor: one indexed SELECT of that physician's sessions ({driver})"),
    ]  # fmt: skip
