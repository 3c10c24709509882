"""PostgreSQL guard: an exclusion constraint so no write can double-book a physician

Revision ID: 0004
Revises: 0003

The service layer refuses overlapping sessions (rule OVERLAP) before anything is stored. This
revision adds a second, independent line on PostgreSQL: the database itself rejects two
``work_session`` rows of one physician that occupy the same minutes, even when a write
bypasses the service (a hand-written INSERT, a bug). On SQLite it does nothing.

How a session is represented
----------------------------
A session occurs on every date of ``[start_date, end_date]`` whose weekday is ``weekday``, from
``start_minute`` for ``(end_minute - start_minute) mod 1440`` minutes (``end <= start`` runs
into the next day). The constraint sees each row as a rectangle:

* **weeks**: ``daterange(first_monday, last_monday, '[]')``, the Mondays of the weeks holding
  the first and the last occurrence (``first_occ = start_date`` moved forward to the slot's
  weekday, ``last_occ = end_date`` moved back to it; the Monday is ``occ - weekday``);
* **minutes of the week**: ``int4range(weekday*1440 + start, weekday*1440 + start +
  duration)``, half-open, so sessions that merely touch (12:00 end, 12:00 start) are not
  an overlap (the rules treat touching as a travel gap question, never as OVERLAP).

``EXCLUDE USING gist (physician_id WITH =, weeks WITH &&, minutes WITH &&)``, restricted to
rows with at least one occurrence (``first_occ <= last_occ``; an agreement terminated the day
before it starts keeps such rows, and the rules ignore it too).

Why there are no false positives
--------------------------------
If two rows share a week ``w`` and their minute-of-week ranges intersect, both occur in week
``w`` (every week between a row's first and last occurrence holds exactly one occurrence) at
those minutes, so they really intersect in time: OVERLAP would refuse the pair too. This holds
for two sessions on the same weekday and for an overnight session against the next morning's
session (its range runs past midnight into the next weekday's minutes). Nothing that the
rules accept is rejected. (Agreements of status ``draft`` are ignored by the rules; nothing in
the product stores draft agreements, and a draft's sessions would be checked here.)

What it misses (documented, the rules still catch it)
-----------------------------------------------------
Only one case: a Sunday overnight session spills into the Monday of the *next* week
(minutes 10080 and beyond), and that spill is not compared with Monday sessions of the next
week, because the constraint compares one rectangle per row and the spill would be a second
one. A hand-written INSERT double-booking "SU 20:00-08:00" against "MO 07:00-09:00" is not
stopped by the database; the service's OVERLAP rule and ``multisite check`` still find it.

The constraint is ``DEFERRABLE INITIALLY DEFERRED``: it is checked at commit, so an update
that deletes an agreement's old sessions and inserts new ones (in whichever order the ORM
flushes them) is judged on the final state only. ``btree_gist`` supplies the ``=`` operator
class for ``physician_id``; it is created in the ``public`` schema when that exists (one
database-wide extension shared by every schema), under an advisory lock so two ``init`` runs
at once do not race. Upgrading a database that already holds a double booking fails, naming
the physician, and changes nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from multisite.i18n import _
from multisite.storage import StorageError

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARD = "ex_work_session_no_double_booking"
LOCK_KEY = 7_482_001  # pg_advisory_xact_lock key of this revision's extension step

# Weekday of a date, 0 = Monday (2001-01-01 was a Monday); immutable, unlike to_char/extract.
_WD_START = "((((start_date - DATE '2001-01-01') % 7) + 7) % 7)"
_WD_END = "((((end_date - DATE '2001-01-01') % 7) + 7) % 7)"
FIRST_OCC = f"(start_date + ((weekday - {_WD_START} + 7) % 7))"
LAST_OCC = f"(end_date - (({_WD_END} - weekday + 7) % 7))"
WEEKS = f"daterange({FIRST_OCC} - weekday, {LAST_OCC} - weekday, '[]')"
MOW_START = "(weekday * 1440 + start_minute)"
MOW_END = (
    "(weekday * 1440 + end_minute + CASE WHEN end_minute <= start_minute THEN 1440 ELSE 0 END)"
)
MINUTES = f"int4range({MOW_START}, {MOW_END})"
HAS_OCCURRENCE = f"{FIRST_OCC} <= {LAST_OCC}"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute(sa.text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
    has_public = bind.execute(
        sa.text("SELECT 1 FROM pg_namespace WHERE nspname = 'public'")
    ).scalar()
    schema = " SCHEMA public" if has_public else ""
    op.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS btree_gist{schema}"))
    rows = f"SELECT id, physician_id, {WEEKS} AS w, {MINUTES} AS m FROM work_session"
    clash = bind.execute(
        sa.text(
            f"SELECT p.cert_no FROM ({rows} WHERE {HAS_OCCURRENCE}) a "
            f"JOIN ({rows} WHERE {HAS_OCCURRENCE}) b ON a.physician_id = b.physician_id "
            "AND a.id < b.id AND a.w && b.w AND a.m && b.m "
            "JOIN physician p ON p.id = a.physician_id LIMIT 1"
        )
    ).scalar()
    if clash is not None:
        raise StorageError(
            _(
                "Physician {cert} already has two sessions at the same time: resolve it "
                "(multisite check) before upgrading, nothing was changed."
            ).format(cert=clash)
        )
    op.execute(
        sa.text(
            f"ALTER TABLE work_session ADD CONSTRAINT {GUARD} EXCLUDE USING gist "
            f"(physician_id WITH =, ({WEEKS}) WITH &&, ({MINUTES}) WITH &&) "
            f"WHERE ({HAS_OCCURRENCE}) DEFERRABLE INITIALLY DEFERRED"
        )
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text(f"ALTER TABLE work_session DROP CONSTRAINT IF EXISTS {GUARD}"))
