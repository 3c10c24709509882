"""The SELECTs of the validation base (医师基数): scheduled minutes aggregated in SQL.

One statement sums, per agreement in force on a date, the minutes of its weekly sessions
(``(end - start + 1440) % 1440``: an overnight slot counts to its end). The sessions'
denormalised ``start_date``/``end_date`` follow the agreement's effective end (termination
rewrites them), so the session table alone says what is in force; the agreement row adds the
role and the contract number. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    null,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..models import (
    Agreement,
    BaseCache,
    Institution,
    Physician,
    Region,
    Registration,
    RegistrationEvent,
    StaffingMinimum,
)
from . import queries

# (institution_id, physician_id, contract_no, role, last day in force, weekly minutes)
ContributionRow = tuple[int, int, str, str, dt.date, int]


def effective_end() -> Any:
    """The agreement's last day in force as a SQL expression (termination moves it earlier)."""
    return case(
        (
            and_(Agreement.terminated_on.is_not(None), Agreement.terminated_on < Agreement.end),
            Agreement.terminated_on,
        ),
        else_=Agreement.end,
    )


def contributions(
    s: Session,
    on: dt.date,
    institution_ids: Iterable[int] | None = None,
    without_contract: str | None = None,
) -> list[ContributionRow]:
    """Per agreement in force on ``on``: its institution, physician, role, end and minutes.

    The minutes are the agreement's stored ``weekly_minutes`` (kept with its sessions by every
    writer), so this reads the covering index ``ix_agreement_in_force``, not the sessions.
    """
    end = effective_end()
    query = select(
        Agreement.institution_id,
        Agreement.physician_id,
        Agreement.contract_no,
        Agreement.role,
        type_coerce(end, String),
        Agreement.weekly_minutes,
    ).where(Agreement.start <= on, end >= on, Agreement.status != "draft")
    if institution_ids is not None:
        query = query.where(Agreement.institution_id.in_(sorted(set(institution_ids))))
    if without_contract is not None:
        query = query.where(Agreement.contract_no != without_contract)
    return [_row(r) for r in _plain_rows(s, query)]  # DBAPI tuples: ~400k rows


CACHE_VALUES = [
    "valid_from",
    "valid_until",
    "policy_key",
    "code",
    "name",
    "kind",
    "beds",
    "county_code",
    "required",
    "counted",
    "contributors",
    "next_validation",
    "risk_count",
    "risk_from",
    "title_short",
]

ReportRow = tuple[Any, ...]


def report_rows(
    s: Session,
    on: dt.date,
    keys: dict[str, str],
    institution_ids: Iterable[int] | None = None,
    counties: bool = True,
) -> tuple[list[ReportRow], list[int]]:
    """The cached validation bases that hold for ``on``, and the institutions without one.

    Rows, ordered by code: (code, name, kind, beds, county code, required, counted,
    contributors, next validation, risk count, risk from, titles short), dates as ISO text.
    A row holds when ``on`` lies in its dates and it was counted under the policy
    ``keys[province]`` (two-digit province prefix → :func:`multisite.base.policy_key`).
    Without ``counties`` the county column is None (the caller needs it only for regional
    staffing rows or policies that differ by province). One scan of ``base_cache`` and a
    count of the institutions; the ids of the others are
    looked up only when the count says some are missing. Plain DBAPI tuples: 40,000 rows
    take a few tens of milliseconds.
    """
    cache = BaseCache.__table__.c
    sqlite = s.get_bind().dialect.name == "sqlite"
    day: Any = on.isoformat() if sqlite else on  # as each backend stores a date
    if len(set(keys.values())) == 1:
        expected: Any = literal(next(iter(keys.values())))
    else:
        expected = case(
            {prefix: literal(key) for prefix, key in keys.items()},
            value=func.substr(cache.county_code, 1, 2),
            else_=literal(""),
        )
    holds = and_(cache.valid_from <= day, cache.valid_until >= day, cache.policy_key == expected)
    query = select(
        cache.code,
        cache.name,
        cache.kind,
        cache.beds,
        cache.county_code if counties else null(),
        cache.required,
        cache.counted,
        cache.contributors,
        _text(cache.next_validation, not sqlite),
        cache.risk_count,
        _text(cache.risk_from, not sqlite),
        cache.title_short,
    ).where(holds)
    institutions = select(func.count()).select_from(Institution)
    cached = select(func.count()).select_from(BaseCache)
    stale = select(cache.institution_id).where(~func.coalesce(holds, False))
    uncached = select(Institution.id).where(
        ~select(cache.institution_id).where(cache.institution_id == Institution.id).exists()
    )
    if institution_ids is not None:
        wanted = sorted(set(institution_ids))
        query = query.where(cache.institution_id.in_(wanted))
        institutions = institutions.where(Institution.id.in_(wanted))
        cached = cached.where(cache.institution_id.in_(wanted))
        stale = stale.where(cache.institution_id.in_(wanted))
        uncached = uncached.where(Institution.id.in_(wanted))
    rows = _plain_rows(s, query.order_by(cache.code))  # ix_base_cache_report: no sort
    missing: list[int] = []
    total = s.scalar(institutions) or 0
    if len(rows) < total:  # some are stale or were never computed
        missing = list(s.scalars(stale))
        if (s.scalar(cached) or 0) < total:
            missing += s.scalars(uncached)
    return rows, missing


def generations(s: Session, institution_ids: Iterable[int]) -> dict[int, int]:
    """The cache generation of each institution that has a cache row."""
    wanted = sorted(set(institution_ids))
    out: dict[int, int] = {}
    for chunk in range(0, len(wanted), 5000):
        query = select(BaseCache.institution_id, BaseCache.generation).where(
            BaseCache.institution_id.in_(wanted[chunk : chunk + 5000])
        )
        out.update({iid: generation for iid, generation in s.connection().execute(query)})
    return out


def _plain_rows(s: Session, query: Any) -> list[ReportRow]:
    """Run ``query`` on the DBAPI cursor: plain tuples, no result-row objects per row.
    Parameters go to the driver as they are (no SQLAlchemy type processing)."""
    connection = s.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    sqlite = connection.dialect.name == "sqlite"
    params: Any = {k: _driver_value(v, sqlite) for k, v in compiled.params.items()}
    if compiled.positiontup is not None:
        params = [params[name] for name in compiled.positiontup]
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _driver_value(value: Any, sqlite: bool) -> Any:
    """A parameter as SQLAlchemy's types would bind it: SQLite keeps dates as ISO text."""
    if sqlite and isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if sqlite and isinstance(value, dt.date):
        return value.isoformat()
    return value


def _text(column: Any, cast_dates: bool) -> Any:
    """A date as ISO text on both backends, with no per-row conversion in Python."""
    value = cast(column, String) if cast_dates else column
    return type_coerce(value, String).label(column.name)


def save_cache(s: Session, rows: list[dict[str, Any]]) -> int:
    """Store computed bases whose ``generation`` is still the one read before computing.

    A row written meanwhile (its generation bumped by a trigger, or created by one) keeps
    its stale mark. Returns how many were stored."""
    table: Any = BaseCache.__table__
    stored = 0
    insert: Any = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[
        s.get_bind().dialect.name
    ]
    connection = s.connection().execution_options(preserve_rowcount=True)  # psycopg: INSERT too
    fresh = [{**r, "generation": 0} for r in rows if r["generation"] is None]
    if fresh:  # one at a time: a conflict (a trigger made the row meanwhile) skips only it
        statement = insert(table).on_conflict_do_nothing(index_elements=["institution_id"])
        for row in fresh:
            stored += connection.execute(statement, row).rowcount
    known = [r for r in rows if r["generation"] is not None]
    if known:
        statement = (
            update(table)
            .where(
                table.c.institution_id == bindparam("b_id"),
                table.c.generation == bindparam("b_generation"),
            )
            .values({c: bindparam(c) for c in CACHE_VALUES})
        )
        params = [
            {
                **{c: row[c] for c in CACHE_VALUES},
                "b_id": row["institution_id"],
                "b_generation": row["generation"],
            }
            for row in known
        ]
        stored += connection.execute(statement, params).rowcount
    return stored


def next_starts(s: Session, institution_ids: Iterable[int], on: dt.date) -> dict[int, dt.date]:
    """Per institution, the first start after ``on`` of an agreement (the base may change)."""
    wanted = sorted(set(institution_ids))
    out: dict[int, dt.date] = {}
    for chunk in range(0, len(wanted), 5000):
        query = (
            select(Agreement.institution_id, type_coerce(func.min(Agreement.start), String))
            .where(
                Agreement.institution_id.in_(wanted[chunk : chunk + 5000]),
                Agreement.start > on,
                Agreement.status != "draft",
            )
            .group_by(Agreement.institution_id)
        )
        for inst, day in s.connection().execute(query):
            out[inst] = day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
    return out


def _row(r: Any) -> ContributionRow:
    inst, phys, contract, role, end, minutes = r
    day = end if isinstance(end, dt.date) else dt.date.fromisoformat(end)
    return (inst, phys, contract, role, day, int(minutes or 0))


def inactivities(s: Session) -> list[tuple[int, str, dt.date, dt.date | None]]:
    """Every suspension and cancellation: (physician_id, status, from, until or None)."""
    query = (
        select(
            Registration.physician_id,
            RegistrationEvent.status,
            RegistrationEvent.on,
            RegistrationEvent.until,
        )
        .join(Registration, Registration.id == RegistrationEvent.registration_id)
        .where(RegistrationEvent.status.in_(("suspended", "cancelled")))
    )
    return [tuple(r) for r in s.execute(query)]  # type: ignore[misc]


def institutions(
    s: Session, institution_ids: Iterable[int] | None = None
) -> list[tuple[int, str, str, str, int, str, dt.date | None]]:
    """(id, code, name, kind, beds, county_code, licensed_on) of the institutions asked for."""
    query = select(
        Institution.id,
        Institution.code,
        Institution.name,
        Institution.kind,
        Institution.beds,
        Institution.county_code,
        Institution.licensed_on,
    ).order_by(Institution.code)
    if institution_ids is not None:
        query = query.where(Institution.id.in_(sorted(set(institution_ids))))
    return [tuple(r) for r in s.execute(query)]  # type: ignore[misc]


def physicians(s: Session, physician_ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
    """id → (certificate number, name, title); all physicians when more than a few are asked
    for."""
    wanted = sorted(set(physician_ids))
    query = select(Physician.id, Physician.cert_no, Physician.name, Physician.title)
    if len(wanted) > 50_000:  # most of a region: one scan beats that many lookups
        rows = _plain_rows(s, query)
    else:
        rows = []
        for chunk in range(0, len(wanted), 5000):
            rows += _plain_rows(s, query.where(Physician.id.in_(wanted[chunk : chunk + 5000])))
    found = set(wanted)
    return {pid: (cert, name, title) for pid, cert, name, title in rows if pid in found}


def region_known(s: Session, code: str) -> bool:
    return queries.region_known(s, code)


def provinces(s: Session) -> list[str]:
    """The province codes (``NN0000``) of every region on file."""
    return sorted({code[:2] + "0000" for code in s.scalars(select(Region.code))})


def staffing_rows(s: Session) -> list[StaffingMinimum]:
    return list(s.scalars(select(StaffingMinimum).order_by(StaffingMinimum.region_code)))


def agreement_key(s: Session, contract_no: str) -> tuple[int, int, str] | None:
    """(institution_id, physician_id, contract_no) of a contract, or None."""
    row = s.execute(
        select(Agreement.institution_id, Agreement.physician_id, Agreement.contract_no).where(
            Agreement.contract_no == contract_no
        )
    ).first()
    return (row[0], row[1], row[2]) if row else None


def institution_ids_of(s: Session, physician_id: int) -> list[int]:
    query = select(Agreement.institution_id).where(Agreement.physician_id == physician_id)
    return sorted(set(s.scalars(query)))


def physician_id(s: Session, cert: str) -> int | None:
    return s.scalar(select(Physician.id).where(Physician.cert_no == cert))


def institution_id(s: Session, code: str) -> int | None:
    return s.scalar(select(Institution.id).where(Institution.code == code))
