"""The statements of the validation base (医师基数), on SQLite and PostgreSQL alike.

* The agreements in force on a date with their weekly minutes (``agreement.weekly_minutes``,
  kept with the sessions by every writer), read from the covering ``ix_agreement_in_force``;
  the institutions, physicians, suspensions and cancellations around them.
* ``base_cache``: the stored per-institution results (one scan of ``ix_base_cache_report``
  for the region-wide report) and ``base_stale``, the marks triggers write (revision 0005).

Large results come back as plain DBAPI tuples (``_plain_rows``): no result-row objects.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    Date,
    Integer,
    LargeBinary,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from .models import (
    Agreement,
    BaseCache,
    BaseStale,
    Institution,
    Physician,
    Region,
    Registration,
    RegistrationEvent,
)

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


def _among(s: Session, column: Any, ids: Iterable[int]) -> Any:
    """``column`` among ``ids`` as **one** bound parameter: an array on PostgreSQL (``= ANY``),
    a JSON array on SQLite (``IN (SELECT value FROM json_each(?))``). The statement is the same
    whatever the number of ids: compiled once, no limit on bind parameters (65,535 on
    PostgreSQL, 32,766 on SQLite: a province of 100,000 institutions recounted cold asks for
    them all), and no statement per chunk of ids."""
    values = sorted(set(ids))
    if s.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, ARRAY(Integer)))
    listed = func.json_each(bindparam(None, json.dumps(values), String)).table_valued("value")
    return column.in_(select(listed.c.value))


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
        query = query.where(_among(s, Agreement.institution_id, institution_ids))
    if without_contract is not None:
        query = query.where(Agreement.contract_no != without_contract)
    rows = _plain_rows(s, query)  # ~400k rows at 300,000 physicians
    if s.get_bind().dialect.name == "postgresql":
        return rows  # the driver's tuples: dates as dates already
    # SQLite: the few distinct last days, decoded once each
    days = {end: dt.date.fromisoformat(end) for end in {row[4] for row in rows}}
    return [(inst, pid, no, role, days[end], minutes) for inst, pid, no, role, end, minutes in rows]


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
    "nurse_required",
    "nurse_counted",
    "document",
]

ReportRow = tuple[Any, ...]


@dataclass(frozen=True)
class StaleMarks:
    """The ``base_stale`` marks as read before a report reads any data: (mark id,
    institution id, or None for all institutions)."""

    pairs: list[tuple[int, int | None]]
    institutions: set[int] = field(init=False)
    everything: bool = field(init=False)  # staffing or policy changed

    def __post_init__(self) -> None:
        object.__setattr__(self, "institutions", {i for _m, i in self.pairs if i is not None})
        object.__setattr__(self, "everything", any(i is None for _m, i in self.pairs))

    def answered_by(self, institution_ids: set[int], covered_all: bool) -> list[int]:
        """The marks made obsolete by recomputing ``institution_ids`` (``covered_all``: the
        report recomputed every institution there is)."""
        return [
            mark
            for mark, iid in self.pairs
            if (covered_all if iid is None else iid in institution_ids)
        ]


def stale_marks(s: Session) -> StaleMarks:
    return StaleMarks(
        [(m, i) for m, i in s.execute(select(BaseStale.id, BaseStale.institution_id))]
    )


def report_rows(
    s: Session,
    on: dt.date,
    keys: dict[str, str],
    marks: StaleMarks,
    institution_ids: Iterable[int] | None = None,
) -> tuple[list[ReportRow], list[int]]:
    """The stored validation bases that hold for ``on``, and the institutions without one.

    Rows, ordered by code: (id, code, name, kind, beds, county code, required, counted,
    contributors, next validation, risk count, risk from, titles short), dates as ISO text.
    A row holds when ``on`` lies in its dates, it was counted under the policy
    ``keys[province]`` (two-digit province prefix → :func:`multisite.services.validation_base.policy_key`) and
    ``marks`` do not mark it. One scan of
    ``ix_base_cache_report`` and a count of the institutions; their ids are read only when
    some are missing. Plain DBAPI tuples: 40,000 rows take a few tens of milliseconds.
    """
    cache = BaseCache.__table__.c
    sqlite = s.get_bind().dialect.name == "sqlite"
    columns = [
        cache.code,
        cache.name,
        cache.kind,
        cache.beds,
        cache.county_code,
        cache.required,
        cache.counted,
        cache.contributors,
        _text(cache.next_validation, not sqlite),
        cache.risk_count,
        _text(cache.risk_from, not sqlite),
        cache.title_short,
        cache.nurse_required,
        cache.nurse_counted,
    ]
    return _held(s, on, keys, marks, institution_ids, columns)


def report_documents(
    s: Session,
    on: dt.date,
    keys: dict[str, str],
    marks: StaleMarks,
    institution_ids: Iterable[int] | None = None,
) -> tuple[list[ReportRow], list[int]]:
    """As :func:`report_rows`, the stored JSON documents: (id, code, document as UTF-8
    bytes, never decoded) by code. A result kept without its document (the table's cold
    recount) counts as missing."""
    cache = BaseCache.__table__.c
    if s.get_bind().dialect.name == "sqlite":
        document: Any = cast(cache.document, LargeBinary)
    else:
        document = func.convert_to(cache.document, literal("UTF8"))
    columns = [cache.code, type_coerce(document, LargeBinary)]
    # in table order, sorted here: by the index it would seek every row's document
    rows, missing = _held(
        s, on, keys, marks, institution_ids, columns, ordered=False, documented=True, binary=True
    )
    rows.sort(key=itemgetter(1))
    return rows, missing


def _held(
    s: Session,
    on: dt.date,
    keys: dict[str, str],
    marks: StaleMarks,
    institution_ids: Iterable[int] | None,
    columns: list[Any],
    ordered: bool = True,
    documented: bool = False,
    binary: bool = False,
) -> tuple[list[ReportRow], list[int]]:
    """The rows of ``columns`` that hold for ``on`` (``documented``: with a JSON document,
    which the table's cold recount does not keep), and the institutions without one."""
    everyone = select(Institution.id)
    if institution_ids is not None:
        institution_ids = sorted(set(institution_ids))
        everyone = everyone.where(_among(s, Institution.id, institution_ids))
    if marks.everything or not keys:
        return [], list(s.scalars(everyone))
    cache = BaseCache.__table__.c
    day: Any = on.isoformat() if s.get_bind().dialect.name == "sqlite" else on
    if len(set(keys.values())) == 1:
        expected: Any = literal(next(iter(keys.values())))
    else:
        expected = case(
            {prefix: literal(key) for prefix, key in keys.items()},
            value=func.substr(cache.county_code, 1, 2),
            else_=literal(""),
        )
    query = select(cache.institution_id, *columns).where(
        cache.valid_from <= day, cache.valid_until >= day, cache.policy_key == expected
    )
    if institution_ids is not None:
        query = query.where(_among(s, cache.institution_id, institution_ids))
    if documented:
        query = query.where(cache.document.is_not(None))
    rows = _plain_rows(s, query.order_by(cache.code) if ordered else query, binary)
    # (ordered: ix_base_cache_report holds every column asked for, in code order)
    marked = marks.institutions
    if marked:
        rows = [row for row in rows if row[0] not in marked]
    total = s.scalar(select(func.count()).select_from(everyone.subquery())) or 0
    missing: list[int] = []
    if len(rows) < total:  # some are stale, marked or were never computed
        held = {row[0] for row in rows}
        missing = [iid for iid in s.scalars(everyone) if iid not in held]
    return rows, missing


def _plain_rows(s: Session, query: Any, binary: bool = False) -> list[ReportRow]:
    """Run ``query`` on the DBAPI cursor: plain tuples, no result-row objects per row.
    Parameters go to the driver as they are (no SQLAlchemy type processing). ``binary``:
    PostgreSQL sends the results in binary (bytea as it is, not hex text twice its size)."""
    connection = s.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    sqlite = connection.dialect.name == "sqlite"
    params: Any = {k: _driver_value(v, sqlite) for k, v in compiled.params.items()}
    if compiled.positiontup is not None:
        params = [params[name] for name in compiled.positiontup]
    if binary and not sqlite:
        cursor = connection.connection.driver_connection.cursor(binary=True)  # type: ignore[union-attr]
    else:
        cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _plain_executemany(s: Session, statement: Any, rows: list[dict[str, Any]]) -> int:
    """Run ``statement`` once per row on the DBAPI cursor (no per-row parameter processing
    by SQLAlchemy: 40,000 base rows are stored in a fraction of the time). Returns the rows
    written."""
    connection = s.connection()
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(rows[0]))
    sqlite = connection.dialect.name == "sqlite"
    names = list(compiled.positiontup) if compiled.positiontup is not None else None
    if names is not None:  # SQLite: dates as ISO text, every other value as it is
        values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        dated = [i for i, n in enumerate(names) if isinstance(statement.table.c[n].type, Date)]
        params: Any = [list(values(row)) for row in rows]
        for row in params:
            for i in dated:
                row[i] = _driver_value(row[i], sqlite)
    else:
        params = rows  # psycopg binds every value as it is
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(str(compiled), params)
        return len(rows) if cursor.rowcount < 0 else int(cursor.rowcount)
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


def save_cache(s: Session, rows: list[dict[str, Any]], marks: list[int]) -> int:
    """Store computed bases and delete the stale ``marks`` they answer (exactly those read
    before computing: a mark written meanwhile stays). Returns how many rows were stored."""
    table: Any = BaseCache.__table__
    insert: Any = {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[
        s.get_bind().dialect.name
    ]
    connection = s.connection().execution_options(preserve_rowcount=True)  # psycopg: INSERT too
    stored = 0
    if rows:
        statement = insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=["institution_id"],
            set_={c: statement.excluded[c] for c in CACHE_VALUES},
        )
        ordered = sorted(rows, key=itemgetter("institution_id"))  # one lock order for all
        stored = _plain_executemany(s, statement, ordered)
    for chunk in range(0, len(marks), 5000):
        connection.execute(delete(BaseStale).where(BaseStale.id.in_(marks[chunk : chunk + 5000])))
    return stored


def next_starts(
    s: Session, institution_ids: Iterable[int] | None, on: dt.date
) -> dict[int, dt.date]:
    """Per institution (every one without ``institution_ids``), the first start after ``on``
    of an agreement (the base may change)."""
    query = (
        select(Agreement.institution_id, type_coerce(func.min(Agreement.start), String))
        .where(Agreement.start > on, Agreement.status != "draft")
        .group_by(Agreement.institution_id)
    )
    if institution_ids is not None:
        query = query.where(_among(s, Agreement.institution_id, institution_ids))
    return {
        inst: day if isinstance(day, dt.date) else dt.date.fromisoformat(day)
        for inst, day in _plain_rows(s, query)
    }


def inactivities(s: Session) -> list[tuple[int, str, str, dt.date, dt.date | None]]:
    """Every suspension and cancellation: (physician_id, the registration's region, status,
    from, until or None)."""
    query = (
        select(
            Registration.physician_id,
            Registration.region_code,
            RegistrationEvent.status,
            RegistrationEvent.on,
            RegistrationEvent.until,
        )
        .join(Registration, Registration.id == RegistrationEvent.registration_id)
        .where(RegistrationEvent.status.in_(("suspended", "cancelled")))
    )
    return [tuple(r) for r in s.execute(query)]  # type: ignore[misc]


class InstitutionRow(NamedTuple):
    """What the validation base reads of an institution."""

    id: int
    code: str
    name: str
    kind: str
    beds: int | None
    county: str  # GB/T 2260 county code
    licensed_on: dt.date | None  # the licence date the validation cycles run from


def institutions(s: Session, institution_ids: Iterable[int] | None = None) -> list[InstitutionRow]:
    """The institutions asked for (every one without ``institution_ids``), by code."""
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
        query = query.where(_among(s, Institution.id, institution_ids))
    return [InstitutionRow(*r) for r in s.execute(query)]


class Person(NamedTuple):
    """What the validation base reads of a physician: who they are, and what decides whether
    they count toward a kind's minimum (level, scopes, start of practice: the recorded
    practising_since, else the first registration's date, the latest the practice began)."""

    cert: str
    name: str
    title: str
    level: str = ""
    scopes: frozenset[str] = frozenset()
    practising_since: dt.date | None = None
    profession: str = "physician"  # or nurse: counted toward the nurse minimum


def physicians(
    s: Session, physician_ids: Iterable[int], *, most: bool = False
) -> dict[int, Person]:
    """id → :class:`Person`: one statement, and one more for the physicians with no start of
    practice on record (their first registration's date); scopes and dates are read as text
    and decoded once per distinct value. (No correlated subquery for that date: PostgreSQL
    costs it for every row, and a statement that costly is JIT-compiled, ~0.6 s for 44,000.)
    ``most``: the ids are most of the table (a region-wide recount), which is then read whole
    and the rows asked for kept (PostgreSQL: 0.3 s against 0.5 s for 44,000 ids as an array)."""
    wanted = set(physician_ids)
    query = select(
        Physician.id,
        Physician.cert_no,
        Physician.name,
        Physician.title,
        Physician.level,
        cast(Physician.scopes, String),
        cast(Physician.practising_since, String),
        Physician.profession,
    )
    if most:
        rows = [row for row in _plain_rows(s, query) if row[0] in wanted]
    else:
        rows = _plain_rows(s, query.where(_among(s, Physician.id, wanted)))
    unknown = [row[0] for row in rows if not row[6]]
    first: dict[int, str] = {}
    if unknown:
        registered = (
            select(Registration.physician_id, cast(func.min(Registration.registered_on), String))
            .where(_among(s, Registration.physician_id, unknown))
            .group_by(Registration.physician_id)
        )
        first = dict(_plain_rows(s, registered))
    # the few distinct scope lists and start days, decoded once each
    starts = [row[6] or first.get(row[0]) for row in rows]
    scopes = {text: frozenset(json.loads(text or "[]")) for text in {row[5] for row in rows}}
    since: dict[str | None, dt.date | None] = {
        text: dt.date.fromisoformat(text[:10]) if text else None for text in set(starts)
    }
    return {
        row[0]: Person(row[1], row[2], row[3], row[4], scopes[row[5]], since[start], row[7])
        for row, start in zip(rows, starts, strict=True)
    }


def provinces(s: Session) -> list[str]:
    """The province codes (``NN0000``) of every region on file."""
    return sorted({code[:2] + "0000" for code in s.scalars(select(Region.code))})


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
