"""Rules engine: the whole-region sweep and checking one new contract, against the raw driver
reading the same session rows (one SELECT of every session; one indexed SELECT of the
physician's sessions)."""

from __future__ import annotations

import datetime as dt
import random

from run import Case, Env  # type: ignore[import-not-found]
from sqlalchemy import select, text

from multisite.domain.sessions_text import parse_sessions
from multisite.services import AgreementInput, Registry
from multisite.storage import Database
from multisite.storage.models import Agreement, Institution, Physician

CHANGED = 300  # agreements a region's clerks change in a day (as in the validation-base cases)


def cases(env: Env) -> list[Case]:
    db = Database(env.url)
    registry = Registry(db, "bench")

    def sweep() -> int:
        return len(registry.check())

    # The sweep keeps its per-physician verdicts (sweep_cache) and judges again only those
    # whose rows changed: timed with nothing changed, after a day of clerks' changes, and cold.
    with db.engine.connect() as connection:
        agreement_ids = [row[0] for row in connection.execute(text("SELECT id FROM agreement"))]
    rng = random.Random(7)

    def a_day_of_changes() -> None:
        sweep()
        with db.engine.begin() as connection:
            connection.execute(
                text("UPDATE agreement SET weekly_minutes = weekly_minutes WHERE id = :id"),
                [{"id": i} for i in rng.sample(agreement_ids, CHANGED)],
            )

    def a_write() -> None:  # a commit on another connection (rewriting one row as it is)
        with db.engine.begin() as connection:
            connection.execute(
                text("UPDATE agreement SET weekly_minutes = weekly_minutes WHERE id = :id"),
                {"id": agreement_ids[0]},
            )

    def nothing_kept() -> None:
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM sweep_key"))

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
        Case("whole-region check", sweep, read_sessions, target=1.5, setup=sweep,
             note=f"floor: one SELECT of every session row ({driver}, fetched); the "
                  "verdicts kept by the last check, nothing changed since"),
        Case(f"whole-region check after {CHANGED} contracts changed", sweep, read_sessions,
             target=None, setup=a_day_of_changes,
             note=f"{CHANGED} agreements rewritten since the last check: their physicians "
                  "judged again"),
        Case("whole-region check, cold (every physician judged)", sweep, read_sessions,
             target=None, setup=nothing_kept, repeat=1,
             note="as after a policy change or an upgrade: the precondition query over every "
                  "agreement, the verdicts stored"),
        Case("check one new contract", check_one, physician_sessions, target=3.0, repeat=20,
             note=f"floor: one indexed SELECT of that physician's sessions ({driver}); on "
                  "SQLite the physician's facts are kept until the next commit, as the "
                  "contract form checks at every keystroke"),
        Case("check one new contract, right after a write", check_one, physician_sessions,
             target=None, repeat=20, setup=a_write,
             note="another connection commits before each check: the facts are read again"),
    ]  # fmt: skip
