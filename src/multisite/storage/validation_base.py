"""The statements of the validation base (医师基数), on SQLite and PostgreSQL alike.

* The agreements in force on a date with their weekly minutes (``agreement.weekly_minutes``,
  kept with the sessions by every writer), read from the covering ``ix_agreement_in_force``;
  the institutions, physicians, suspensions and cancellations around them.
* ``base_cache``: the stored per-institution results (one scan of ``ix_base_cache_report``
  for the region-wide report) and ``base_stale``, the marks triggers write (revision 0005).
  Its JSON documents are stored compressed by the client (:func:`pack`, :func:`unpack`).

Large results come back as plain DBAPI tuples (``_plain_rows``): no result-row objects.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

import lz4.block
from sqlalchemy import (
    ARRAY,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import bulk
from .among import among
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
        query = query.where(among(s, Agreement.institution_id, institution_ids))
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
    "packed",
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


def pack(document: str) -> bytes:
    """A JSON document as ``base_cache.packed`` keeps it: UTF-8, LZ4-compressed (block
    format, its size first). Three times smaller; PostgreSQL stores it as it is (STORAGE
    EXTERNAL): reading it back costs no decompression on the server, ~1 ms per 10 MB here."""
    return lz4.block.compress(document.encode(), store_size=True)


def unpack(packed: bytes) -> bytes:
    """The UTF-8 JSON document :func:`pack` kept."""
    return lz4.block.decompress(packed)


def report_documents(
    s: Session,
    on: dt.date,
    keys: dict[str, str],
    marks: StaleMarks,
    institution_ids: Iterable[int] | None = None,
) -> tuple[list[ReportRow], list[int]]:
    """As :func:`report_rows`, the stored JSON documents: (id, code, document as
    :func:`pack` kept it) by code. A result kept without its document (the table's cold
    recount) counts as missing."""
    cache = BaseCache.__table__.c
    columns = [cache.code, cache.packed]
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
        everyone = everyone.where(among(s, Institution.id, institution_ids))
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
        query = query.where(among(s, cache.institution_id, institution_ids))
    if documented:
        query = query.where(cache.packed.is_not(None))
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
    connection = bulk.settled(s)
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
    connection = bulk.settled(s)
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(rows[0]))
    sqlite = connection.dialect.name == "sqlite"
    names = list(compiled.positiontup) if compiled.positiontup is not None else None
    if names is not None:  # SQLite: dates as ISO text, every other value as it is
        values = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        dated = [i for i, n in enumerate(names) if isinstance(statement.table.c[n].type, Date)]
        params: Any = [list(values(row)) for row in rows]
        texts: dict[Any, Any] = {}  # a report's rows share a few dates: each formatted once
        for row in params:
            for i in dated:
                day = row[i]
                found = texts.get(day)
                if found is None:
                    found = texts[day] = _driver_value(day, sqlite)
                row[i] = found
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
    before computing: a mark written meanwhile stays). Returns how many rows were stored.
    A row's JSON document is given as :func:`pack` keeps it (``packed``, or None)."""
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
        query = query.where(among(s, Agreement.institution_id, institution_ids))
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
        query = query.where(among(s, Institution.id, institution_ids))
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
        rows = _plain_rows(s, query.where(among(s, Physician.id, wanted)))
    unknown = [row[0] for row in rows if not row[6]]
    first: dict[int, str] = {}
    if unknown:
        registered = (
            select(Registration.physician_id, cast(func.min(Registration.registered_on), String))
            .where(among(s, Registration.physician_id, unknown))
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


# --- the count itself in SQL (the region's table, cold) ----------------------------------------


class CountParams(NamedTuple):
    """What one institution is counted under, for :func:`counts`."""

    id: int
    validation: dt.date  # its next validation day: the losses before it are the risks'
    rule: int  # who counts: 0 everyone, 1 general practitioners, 2 执业医师 of five years
    mode: int  # 0 fte, 1 headcount, 2 primary_only
    week: float  # fte: the standard week in minutes (≤ 0: nobody counts anything)
    least: int  # headcount: the fewest weekly minutes that count


class Counted(NamedTuple):
    """One institution's count on a day, as :func:`counts` sums it. A share is kept as two
    integers, whole shares and the minutes of shares below one (fte: ``minutes ÷ week``), so
    that the sum is exact whichever engine adds it up; ``…_v``: what is left on the validation
    day of the agreements in force today (the losses before it taken away)."""

    institution_id: int
    physicians: int  # the physicians practising there (counted or only shown)
    nurses: int
    whole: int  # the physicians counted
    minutes: int
    nurse_whole: int
    nurse_minutes: int
    ranks: tuple[int, int, int, int]  # physicians counted (share > 0) of each title rank or above
    whole_v: int
    minutes_v: int
    ranks_v: tuple[int, int, int, int]
    lost: int  # physicians counted with an agreement there ending before the validation day
    lost_many: bool  # one of several agreements of a physician counted ends before it
    first_loss: dt.date | None  # the first of those agreements' last days
    holds: dt.date  # the first last day of an agreement in force
    later: dt.date | None  # the earliest start of practice of an 执业医师 not yet counted
    inactive: bool  # a practitioner there has a suspension or cancellation not over by then


COUNT_PARAMS = Table(
    "count_params",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("validation", Date),
    Column("rule", Integer),
    Column("mode", Integer),
    Column("week", Float),
    Column("least", Integer),
    prefixes=["TEMPORARY"],
)


def _parameters(s: Session, params: list[CountParams]) -> Any:
    """``params`` as a table (id, validation, rule, mode, week, least) to join by id.

    PostgreSQL: one array per column, unnested together (hash-joined). SQLite: a temporary
    table of this connection (``temp`` is the connection's own: writing it takes no lock on
    the registry, and works on a read-only file), found by its primary key; SQLite would scan
    a table made of JSON once per row joined."""
    if s.get_bind().dialect.name == "postgresql":
        columns = list(zip(*params, strict=True)) if params else [()] * 6
        types: tuple[Any, ...] = (Integer, Date, Integer, Integer, Float, Integer)
        arrays: list[Any] = [
            bindparam(None, list(values), ARRAY(kind))
            for values, kind in zip(columns, types, strict=True)
        ]
        unnested = func.unnest(*arrays).table_valued(*CountParams._fields)
        return select(unnested.render_derived(with_types=False)).subquery("counted_under")
    connection = s.connection()
    COUNT_PARAMS.create(connection, checkfirst=True)
    cursor = connection.connection.cursor()
    try:
        cursor.execute("DELETE FROM temp.count_params")
        cursor.executemany(
            "INSERT INTO temp.count_params VALUES (?, ?, ?, ?, ?, ?)",
            [(p[0], p[1].isoformat(), *p[2:]) for p in params],
        )
    finally:
        cursor.close()
    return COUNT_PARAMS


def _has_scope(s: Session, scopes: Any, scope: str) -> Any:
    """Whether the JSON list ``scopes`` holds ``scope`` (as ``scope in json.loads(text)``)."""
    if s.get_bind().dialect.name == "postgresql":
        element = func.json_array_elements_text(scopes).table_valued("value")
    else:
        element = func.json_each(scopes).table_valued("value")
    return select(literal(1)).select_from(element).where(element.c.value == scope).exists()


def counts(
    s: Session,
    on: dt.date,
    params: list[CountParams],
    *,
    span: tuple[int, int] | None,
    practised_by: dt.date,
    level: str,
    scope: str,
    nurse: str,
    ranks: dict[str, int],
) -> list[Counted]:
    """Per institution of ``params`` with an agreement in force on ``on``, its count, summed
    by the database in one statement (the agreements never leave it): each practitioner's
    agreements there grouped (``ix_agreement_in_force`` is in that order), their share under
    the institution's mode, who counts under its rule (``scope`` among the scopes; ``level``
    with a start of practice, else the first registration's date, on or before
    ``practised_by``), the title ``ranks`` of those counted, the same on the validation day.
    ``span``: the institutions' ids lie in this range (both ends included) and the
    agreements read are those of the range, by the index (None: those of each institution
    named, looked up one by one; either way only the institutions named are counted).
    PostgreSQL plans it without JIT compilation (a one-off statement: compiling costs more
    than it saves)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SET LOCAL jit = off"))
        s.execute(text("SET LOCAL work_mem = '64MB'"))  # its sorts and hashes in memory
    a, p = Agreement, _parameters(s, params)
    end = effective_end()
    grouped = select(
        a.institution_id.label("i"),
        a.physician_id.label("pid"),
        func.count().label("n"),
        func.sum(a.weekly_minutes).label("m"),
        func.max(case((a.role == "primary", 1), else_=0)).label("prim"),
        func.min(end).label("first_end"),
    ).where(a.start <= on, end >= on, a.status != "draft")
    if span is None:  # a few institutions: their agreements only, by the index
        grouped = grouped.where(among(s, a.institution_id, [given.id for given in params]))
    else:
        grouped = grouped.where(a.institution_id.between(*span))
    # in the order of ix_agreement_in_force: grouped as it is read
    stakes = grouped.group_by(a.institution_id, a.physician_id).subquery("stakes")
    r, e, ph = Registration, RegistrationEvent, Physician
    stopped = select(e.registration_id).where(
        e.status.in_(("suspended", "cancelled")), or_(e.until.is_(None), e.until >= on)
    )
    # from the few events that stop someone to their registrations (SQLite would otherwise
    # walk every registration, looking up its events)
    inactive = select(r.physician_id).where(r.id.in_(stopped)).distinct().subquery("inactive")
    since = func.coalesce(
        ph.practising_since,
        select(func.min(r.registered_on)).where(r.physician_id == ph.id).scalar_subquery(),
    )
    st, under = stakes.c, p.c
    counts_there = case(
        (under.rule == 0, 1),
        (under.rule == 1, case((_has_scope(s, ph.scopes, scope), 1), else_=0)),
        (and_(ph.level == level, since <= practised_by), 1),
        else_=0,
    )

    def portions(m: Any, prim: Any) -> tuple[Any, Any]:
        """(whole shares, minutes of a share below one) of one practitioner there."""
        whole = case(
            (under.mode == 0, case((and_(under.week > 0, m >= under.week), 1), else_=0)),
            (under.mode == 1, case((m >= under.least, 1), else_=0)),
            else_=prim,
        )
        part = case((and_(under.mode == 0, under.week > 0, m < under.week), m), else_=0)
        return whole, part

    whole, part = portions(st.m, st.prim)
    # what stays on the validation day, at least: all of it if no agreement ends before
    lasting = st.first_end >= under.validation
    whole_v, part_v = portions(case((lasting, st.m), else_=0), case((lasting, st.prim), else_=0))
    rows = (
        select(
            st.i,
            case((ph.profession == nurse, 1), else_=0).label("nurse"),
            counts_there.label("counts"),
            whole.label("whole"),
            part.label("part"),
            whole_v.label("whole_v"),
            part_v.label("part_v"),
            case(ranks, value=ph.title, else_=-1).label("rank"),
            (st.first_end < under.validation).label("ending"),
            (st.n > 1).label("many"),
            st.first_end,
            case((and_(under.rule == 2, ph.level == level), since)).label("since"),
            case((inactive.c.physician_id.is_(None), 0), else_=1).label("inactive"),
        )
        .join(p, under.id == st.i)
        .join(ph, ph.id == st.pid)
        .outerjoin(inactive, inactive.c.physician_id == st.pid)
        .cte("practitioners")
        .prefix_with("MATERIALIZED")  # each row's columns once, not once per sum naming them
    )
    x = rows.c
    doctor = and_(x.nurse == 0, x.counts == 1)
    shared = and_(doctor, or_(x.whole > 0, x.part > 0))
    shared_v = and_(doctor, or_(x.whole_v > 0, x.part_v > 0))

    def total(where: Any, value: Any = 1) -> Any:
        return func.coalesce(func.sum(case((where, value), else_=0)), 0)

    query = select(
        x.i,
        total(x.nurse == 0),
        total(x.nurse == 1),
        total(doctor, x.whole),
        total(doctor, x.part),
        total(x.nurse == 1, x.whole),
        total(x.nurse == 1, x.part),
        *(total(and_(shared, x.rank >= n)) for n in range(4)),
        total(doctor, x.whole_v),
        total(doctor, x.part_v),
        *(total(and_(shared_v, x.rank >= n)) for n in range(4)),
        total(and_(shared, x.ending)),
        func.max(case((and_(shared, x.ending, x.many), 1), else_=0)),
        func.min(case((and_(shared, x.ending), x.first_end))),
        func.min(x.first_end),
        func.min(case((and_(x.nurse == 0, x.counts == 0), x.since))),
        func.max(x.inactive),
    ).group_by(x.i)
    out = []
    for row in _plain_rows(s, query):
        (i, doctors, nurses, whole_n, minutes, nurse_whole, nurse_minutes, r0, r1, r2, r3,
         whole_vn, minutes_v, v0, v1, v2, v3, lost, lost_many, first_loss, holds, later,
         inactive_n) = row  # fmt: skip
        out.append(
            Counted(
                i, int(doctors), int(nurses), int(whole_n), int(minutes), int(nurse_whole),
                int(nurse_minutes), (int(r0), int(r1), int(r2), int(r3)), int(whole_vn),
                int(minutes_v), (int(v0), int(v1), int(v2), int(v3)), int(lost),
                bool(lost_many), _day(first_loss) if first_loss else None, _day(holds),
                _day(later) if later else None, bool(inactive_n),
            )
        )  # fmt: skip
    return out


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
