"""Reading the rules' facts (``domain.facts``) from the database, as the driver returns rows.

* One physician (the write path, and checking one new contract): :func:`read_one` reads the
  physician, registrations, suspensions, filings, listings, agreements with their sessions and
  institutions — and, when asked, the institution picked for a new contract and who holds its
  number — in **one statement** (a ``UNION ALL`` of tagged rows), so one round trip and one
  snapshot, with no transaction of its own. The statement is compiled once per dialect and run
  on the driver's cursor (the driver prepares it: ``sqlite3``'s statement cache, psycopg's
  automatic preparation).
* Many physicians (the region sweep's flagged ones, a batch import): :func:`facts_for` reads
  each kind of row for a chunk of physicians with one SELECT and joins them in Python.

Rows come as the driver gives them: SQLite returns dates as ISO text, JSON as text and
booleans as 0/1; psycopg returns ``date``, ``bool`` and decoded JSON. :func:`day`,
:func:`strings` and :func:`flag` read either.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    Integer,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import Dialect

from ..domain.facts import (
    AgreementFact,
    FilingFact,
    Inactivity,
    InstitutionFact,
    Listing,
    PhysicianFact,
    RegistrationFact,
    terms_from_mask,
)
from ..domain.inputs import TERMS
from ..domain.schedule import Slot
from .among import among
from .models import (
    Agreement,
    CreditListing,
    Filing,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
    WorkSession,
)

INACTIVE = ("suspended", "cancelled")

# --- reading the driver's values -----------------------------------------------------------


def day(value: Any) -> dt.date | None:
    """A date column as the driver returns it (ISO text on SQLite)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


@cache
def _decoded(text: str) -> frozenset[str]:
    return frozenset(json.loads(text))


def strings(value: Any) -> frozenset[str]:
    """A JSON list of strings (scopes, departments) as the driver returns it (text on SQLite,
    decoded on PostgreSQL); the few distinct texts are decoded once."""
    if value is None:
        return frozenset()
    if isinstance(value, str):
        return _decoded(value)
    return frozenset(value)


def flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def missing_terms_mask() -> Any:
    """An agreement's empty terms as bits (bit i: ``inputs.TERMS[i]`` is empty), in SQL."""
    columns = [getattr(Agreement, term) for term in TERMS]
    return sum(
        (case((func.coalesce(c, "") == "", 1 << i), else_=0) for i, c in enumerate(columns)),
        literal(0),
    ).label("missing_terms")


# --- one physician in one statement ----------------------------------------------------------

PHYSICIAN, REGISTRATION, INACTIVITY, FILING, LISTING, SESSION, INSTITUTION, OWNER = range(8)
SLOTS = (
    ("k", Integer), *((f"n{i}", Integer) for i in range(1, 8)),
    *((f"t{i}", String) for i in range(1, 8)), *((f"d{i}", Date) for i in range(1, 4)),
    ("f1", Float), ("b1", Boolean),
)  # fmt: skip
"""The columns every part of the statement fills (NULL where it has nothing): the kind of
row, then integers, texts, dates, a number and a flag."""


def _part(kind: int, query_from: Any, **values: Any) -> Any:
    columns = [literal_column(str(kind), Integer).label("k")]
    for name, type_ in SLOTS[1:]:
        value = values.pop(name, None)
        columns.append((cast(null(), type_) if value is None else value).label(name))
    assert not values, values
    return select(*columns).select_from(query_from)


@dataclass(frozen=True)
class OneRead:
    """What :func:`read_one` found: the physician's facts, the institution asked for by code,
    and the physician who holds the contract number asked for."""

    physician: PhysicianFact | None
    institution: InstitutionFact | None
    owner: int | None


@cache
def _one_statement(dialect: Dialect, by_cert: bool) -> tuple[str, Any]:
    """The statement's text in the driver's parameter style, and a function from the keys
    (cert or physician id, code, contract) to its parameters."""
    me = (
        select(Physician.id.label("id")).where(Physician.cert_no == bindparam("cert", None, String))
        if by_cert
        else select(Physician.id.label("id")).where(Physician.id == bindparam("pid", None, Integer))
    ).cte("me")  # the physician's id, looked up once
    code, contract = bindparam("code", None, String), bindparam("contract", None, String)
    key = select(me.c.id).scalar_subquery()  # an equality on it uses each table's index
    p, r, a, i, c = Physician, Registration, Agreement, Institution, CreditListing
    theirs = select(a.institution_id).where(a.physician_id == key)

    def listings(where: Any) -> Any:
        return _part(LISTING, c, n1=c.id, n2=c.physician_id, n3=c.institution_id,
                     d1=c.start, d2=c.until).where(where)  # fmt: skip

    def institutions(where: Any) -> Any:
        return _part(INSTITUTION, i, n1=i.id, n2=i.beds, t1=i.code, t2=i.name, t3=i.kind,
                     t4=i.county_code, t5=cast(i.departments, String), b1=i.grassroots,
                     ).where(where)  # fmt: skip

    statement = union_all(
        _part(PHYSICIAN, p, n1=p.id, t1=p.cert_no, t2=p.name, t3=p.level, t4=p.category,
              t5=cast(p.scopes, String), t6=p.title, t7=p.profession, d1=p.practising_since,
              d2=p.failed_assessment_on).where(p.id == key),
        _part(REGISTRATION, r, n1=r.id, n2=r.main_institution_id, t1=r.region_code,
              d1=r.registered_on).where(r.physician_id == key),
        _part(INACTIVITY, RegistrationEvent.__table__.join(r), n1=r.id,
              t1=RegistrationEvent.status, d1=RegistrationEvent.on, d2=RegistrationEvent.until)
        .where(r.physician_id == key, RegistrationEvent.status.in_(INACTIVE)),
        _part(FILING, Filing.__table__.join(r), n1=Filing.institution_id, t1=Filing.scope,
              d1=Filing.valid_from, d2=Filing.valid_to, d3=Filing.ended_on)
        .where(r.physician_id == key),
        listings(c.physician_id == key),
        listings(c.institution_id.in_(theirs)),
        listings(c.institution_id == select(i.id).where(i.code == code).scalar_subquery()),
        _part(SESSION, a.__table__.outerjoin(WorkSession), n1=a.id, n2=a.institution_id,
              n3=WorkSession.weekday, n4=WorkSession.start_minute, n5=WorkSession.end_minute,
              n6=missing_terms_mask(), n7=WorkSession.id, t1=a.contract_no, t2=a.role,
              t3=a.department, t4=a.status, d1=a.start, d2=a.end, d3=a.terminated_on,
              f1=a.weekly_hours, b1=a.consent).where(a.physician_id == key),
        institutions(i.id.in_(theirs)),
        institutions(i.code == code),
        _part(OWNER, a, n1=a.physician_id).where(a.contract_no == contract),
    )  # fmt: skip
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    defaults = compiled.construct_params()
    text, order = str(compiled), compiled.positiontup
    if order is None:  # PostgreSQL: psycopg's %(name)s as the server's own $1, $2, …
        text, order = _numbered(text)
    template = [defaults[name] for name in order]  # the constants' values in place
    keyed = [(index, name) for index, name in enumerate(order) if name in KEYS]

    def parameters(keys: Mapping[str, Any]) -> list[Any]:
        values = template.copy()
        for index, name in keyed:
            values[index] = keys[name]
        return values

    return text, parameters


KEYS = frozenset(("cert", "pid", "code", "contract"))
"""The parameters of :func:`_one_statement` a read names (the others are its constants)."""


def _numbered(text: str) -> tuple[str, list[str]]:
    """``text`` in psycopg's named style with the server's numbered placeholders instead
    (a name used twice is one number), and the names in the numbers' order. psycopg parses a
    statement's placeholders on every execution once it is longer than 4,096 characters
    (this one has 8,000): ~0.2 ms of a 0.7 ms check. A raw cursor sends it as it is."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"%\((\w+)\)s", number, text).replace("%%", "%"), names


def read_one(
    driver: Any,
    dialect: Dialect,
    *,
    cert: str | None = None,
    physician_id: int | None = None,
    code: str | None = None,
    contract: str | None = None,
) -> OneRead:
    """One physician's facts (by ``cert`` or ``physician_id``; neither: none), the facts of
    the institution with ``code`` and the physician holding ``contract``, in one statement on
    the driver's connection ``driver``."""
    sql, parameters = _one_statement(dialect, physician_id is None)
    values = parameters({"cert": cert, "pid": physician_id, "code": code, "contract": contract})
    if dialect.name == "postgresql":
        # A raw cursor sends the $1 placeholders as they are; the statement is prepared on
        # the connection from its first read (psycopg would wait for its fifth: planning
        # the 8,000 characters took 2-4 ms of each of those checks).
        cursor = _raw_cursor()(driver)
        try:
            cursor.execute(sql, values, prepare=True)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    else:
        cursor = driver.cursor()
        try:
            rows = cursor.execute(sql, values).fetchall()
        finally:
            cursor.close()
    return _one_from(rows, code)


class _Kept:
    """:func:`read_one`'s answers on one SQLite connection, good while its ``data_version``
    holds (the connection is kept too: its id is not reused while the answers are)."""

    __slots__ = ("answers", "connection", "version")

    def __init__(self, connection: Any, version: int) -> None:
        self.connection = connection
        self.version = version
        self.answers: dict[tuple[str, str, str], OneRead] = {}


_KEPT: dict[int, _Kept] = {}
_KEPT_CONNECTIONS = 8  # the spares of a few threads
_KEPT_ANSWERS = 64  # per connection: the contracts a clerk is typing, a few physicians'


def read_one_kept(driver: Any, dialect: Dialect, *, cert: str, code: str, contract: str) -> OneRead:
    """:func:`read_one` of a physician, an institution and a contract number on a connection
    in autocommit that only reads (``Database.one_statement``'s spares). On SQLite the answer
    is kept until anyone commits a change to the database: ``PRAGMA data_version`` of the
    connection moves with every commit of another connection, the registry's writers and
    other processes alike. The contract form checks the rules as the clerk types, each time
    against the same physician: the 7-table statement is read again only after a write.
    PostgreSQL has no such counter: read every time."""
    if dialect.name != "sqlite":
        return read_one(driver, dialect, cert=cert, code=code, contract=contract)
    version = int(driver.execute("PRAGMA data_version").fetchone()[0])
    kept = _KEPT.get(id(driver))
    if kept is None or kept.connection is not driver or kept.version != version:
        if kept is None and len(_KEPT) >= _KEPT_CONNECTIONS:
            _KEPT.pop(next(iter(_KEPT)))  # the oldest connection's
        kept = _KEPT[id(driver)] = _Kept(driver, version)
    key = (cert, code, contract)
    found = kept.answers.get(key)
    if found is None:
        found = read_one(driver, dialect, cert=cert, code=code, contract=contract)
        if len(kept.answers) >= _KEPT_ANSWERS:
            kept.answers.clear()
        kept.answers[key] = found
    return found


@cache
def _raw_cursor() -> Any:
    import psycopg  # the PostgreSQL driver: imported only there

    return psycopg.RawCursor


def _one_from(rows: list[Any], code: str | None) -> OneRead:
    """The facts of :func:`read_one`'s tagged rows, sorted out in one pass (the check of one
    contract runs this once: no grouping it does not need)."""
    head = owner = None
    registered: list[Any] = []
    inactive: list[Any] = []
    filed: list[Any] = []
    listed: list[Any] = []
    sessions: list[Any] = []
    found: list[Any] = []
    for row in rows:
        kind = row[0]
        if kind == SESSION:
            sessions.append(row)
        elif kind == INSTITUTION:
            found.append(row)
        elif kind == PHYSICIAN:
            head = row
        elif kind == REGISTRATION:
            registered.append(row)
        elif kind == FILING:
            filed.append(row)
        elif kind == LISTING:
            listed.append(row)
        elif kind == INACTIVITY:
            inactive.append(row)
        elif owner is None:  # OWNER
            owner = row[1]
    people, at = _listings(listed) if listed else ({}, {})
    places = {
        r[1]: InstitutionFact(r[1], r[8], r[9], r[10], r[11], strings(r[12]), bool(r[19]),
                              at.get(r[1], ()), r[2] or 0)
        for r in found
    }  # fmt: skip
    picked = None
    for fact in places.values():
        if fact.code == code:
            picked = fact
            break
    if head is None:
        return OneRead(None, picked, owner)
    p = head
    stretches: dict[int, list[Inactivity]] = {}
    for r in inactive:
        stretches.setdefault(r[1], []).append(Inactivity(r[8], day(r[15]), day(r[16])))  # type: ignore[arg-type]
    if len(registered) > 1:
        registered.sort(key=_second)
    registrations = tuple(
        RegistrationFact(r[8], r[2], day(r[15]), tuple(stretches.get(r[1], ())))  # type: ignore[arg-type]
        for r in registered
    )
    filings = tuple(
        FilingFact(r[1], r[8], day(r[15]), day(r[16]), day(r[17]))  # type: ignore[arg-type]
        for r in filed
    )
    physician = PhysicianFact(
        p[1], p[8], p[9], p[10], p[11], strings(p[12]), p[13], people.get(p[1], ()),
        day(p[15]), day(p[16]), registrations, filings, _agreements_from(sessions, places),
        p[14],
    )  # fmt: skip
    return OneRead(physician, picked, owner)


_second = itemgetter(1)


def _listings(
    rows: list[Any],
) -> tuple[dict[int, tuple[Listing, ...]], dict[int, tuple[Listing, ...]]]:
    """(physician id → listings, institution id → listings) in date order, each listing
    once (an institution may be both an agreement's and the one picked)."""
    seen: dict[int, Any] = {r[1]: r for r in rows}
    people: dict[int, list[Listing]] = defaultdict(list)
    places: dict[int, list[Listing]] = defaultdict(list)
    for r in sorted(seen.values(), key=lambda r: (day(r[15]), r[1])):
        listing = Listing(day(r[15]), day(r[16]))  # type: ignore[arg-type]
        if r[2] is not None:
            people[r[2]].append(listing)
        if r[3] is not None:
            places[r[3]].append(listing)
    return (
        {k: tuple(v) for k, v in people.items()},
        {k: tuple(v) for k, v in places.items()},
    )


def _agreements_from(
    rows: list[Any], places: Mapping[int, InstitutionFact]
) -> tuple[AgreementFact, ...]:
    """The agreements of session rows (one per session, or one with no session), ordered by
    start and id, their sessions in the order they were stored."""
    heads: dict[int, Any] = {}
    timed: list[Any] = []
    for r in rows:
        if r[1] not in heads:
            heads[r[1]] = r
        if r[3] is not None:
            timed.append(r)
    if len(timed) > 1:
        timed.sort(key=_session_id)
    slots: dict[int, list[Slot]] = {}
    for r in timed:
        slots.setdefault(r[1], []).append(_slot(r[3], r[4], r[5]))
    found = []
    for r in heads.values():
        start, end, terminated = day(r[15]), day(r[16]), day(r[17])
        assert start is not None and end is not None
        effective = terminated if terminated is not None and terminated < end else end
        found.append(
            AgreementFact(
                r[1], r[8], places[r[2]], r[9], r[10], start, effective, r[18] or 0.0,
                flag(r[19]), tuple(slots.get(r[1], ())), r[11], terms_from_mask(r[6]),
            )
        )  # fmt: skip
    if len(found) > 1:
        found.sort(key=_start_and_id)
    return tuple(found)


_session_id = itemgetter(7)
_slot = lru_cache(maxsize=1 << 12)(Slot)
"""A weekly session's slot: the same few recur, each checked once (``Slot`` validates)."""


def _start_and_id(a: AgreementFact) -> tuple[dt.date, int]:
    return a.start, a.id or 0


# --- many physicians ---------------------------------------------------------------------------


def facts_for(
    connection: Any, ids: list[int], institutions: dict[int, InstitutionFact]
) -> Iterator[PhysicianFact]:
    """The facts of the physicians ``ids`` (one chunk), with one SELECT per kind of row on
    the SQLAlchemy ``connection``, the rows fetched as the driver gives them;
    ``institutions`` is filled with the institutions the agreements name."""
    registrations, filings = _registrations_of(connection, ids)
    agreements = _agreements_of(connection, ids, institutions)
    people = _rows(connection, select(
        Physician.id, Physician.cert_no, Physician.name, Physician.level, Physician.category,
        cast(Physician.scopes, String), Physician.title, Physician.practising_since,
        Physician.failed_assessment_on, Physician.profession,
    ).where(among(connection, Physician.id, ids)))  # fmt: skip
    listed = listings_of(connection, physician_ids=ids)[0]
    for pid, cert, name, level, category, scopes, title, since, failed, profession in people:
        yield PhysicianFact(
            pid, cert, name, level, category, strings(scopes), title, listed.get(pid, ()),
            day(since), day(failed), tuple(registrations.get(pid, ())),
            tuple(filings.get(pid, ())), tuple(agreements.get(pid, ())), profession,
        )  # fmt: skip


def _rows(connection: Any, query: Any) -> list[Any]:
    """The rows of ``query`` as the driver returns them (no SQLAlchemy row processing)."""
    result = connection.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _registrations_of(
    connection: Any, ids: list[int]
) -> tuple[dict[int, list[RegistrationFact]], dict[int, list[FilingFact]]]:
    """Physician id → registrations (with their suspensions and cancellations, in id order)
    and physician id → filings."""
    r = Registration
    rows = _rows(connection, select(
        r.id, r.physician_id, r.region_code, r.main_institution_id, r.registered_on
    ).where(among(connection, r.physician_id, ids)).order_by(r.id))  # fmt: skip
    owner = {row[0]: row[1] for row in rows}
    events: dict[int, list[Inactivity]] = defaultdict(list)
    filings: dict[int, list[FilingFact]] = defaultdict(list)
    if owner:
        e, f = RegistrationEvent, Filing
        wanted = list(owner)
        for reg_id, status, on, until in _rows(connection, select(
            e.registration_id, e.status, e.on, e.until
        ).where(among(connection, e.registration_id, wanted), e.status.in_(INACTIVE))):  # fmt: skip
            events[reg_id].append(Inactivity(status, day(on), day(until)))  # type: ignore[arg-type]
        for reg_id, inst, scope, start, end, ended in _rows(connection, select(
            f.registration_id, f.institution_id, f.scope, f.valid_from, f.valid_to, f.ended_on
        ).where(among(connection, f.registration_id, wanted))):  # fmt: skip
            filings[owner[reg_id]].append(FilingFact(inst, scope, day(start), day(end), day(ended)))  # type: ignore[arg-type]
    registrations: dict[int, list[RegistrationFact]] = defaultdict(list)
    for reg_id, pid, region, main, registered in rows:
        registrations[pid].append(
            RegistrationFact(region, main, day(registered), tuple(events.get(reg_id, ())))  # type: ignore[arg-type]
        )
    return registrations, filings


def _agreements_of(
    connection: Any, ids: list[int], institutions: dict[int, InstitutionFact]
) -> dict[int, list[AgreementFact]]:
    """Physician id → agreements (in id order) with their sessions (in the order stored)."""
    a, w = Agreement, WorkSession
    rows = _rows(connection, select(
        a.id, a.physician_id, a.contract_no, a.institution_id, a.role, a.department, a.start,
        a.end, a.terminated_on, a.weekly_hours, a.consent, a.status, missing_terms_mask(),
    ).where(among(connection, a.physician_id, ids)).order_by(a.id))  # fmt: skip
    slots: dict[int, list[Slot]] = defaultdict(list)
    for agreement_id, weekday, start, end in _rows(connection, select(
        w.agreement_id, w.weekday, w.start_minute, w.end_minute
    ).where(among(connection, w.physician_id, ids)).order_by(w.id)):  # fmt: skip
        slots[agreement_id].append(Slot(weekday, start, end))
    missing = {row[3] for row in rows} - institutions.keys()
    if missing:
        wanted = sorted(missing)
        institutions.update(
            institution_facts(connection, among(connection, Institution.id, wanted))
        )
    found: dict[int, list[AgreementFact]] = defaultdict(list)
    for (
        aid,
        pid,
        no,
        inst,
        role,
        dept,
        start,
        end,
        terminated,
        hours,
        consent,
        status,
        mask,
    ) in rows:
        begins, ends, stops = day(start), day(end), day(terminated)
        assert begins is not None and ends is not None
        effective = stops if stops is not None and stops < ends else ends
        found[pid].append(
            AgreementFact(
                aid, no, institutions[inst], role, dept, begins, effective, hours or 0.0,
                flag(consent), tuple(slots.get(aid, ())), status, terms_from_mask(mask),
            )
        )  # fmt: skip
    return found


def institution_facts(connection: Any, condition: Any = None) -> dict[int, InstitutionFact]:
    """The facts of the institutions meeting ``condition`` (None: all) with their listings."""
    i = Institution
    query = select(i.id, i.code, i.name, i.kind, i.county_code, cast(i.departments, String),
                   i.grassroots, i.beds)  # fmt: skip
    if condition is not None:
        query = query.where(condition)
    rows = _rows(connection, query)
    listed = listings_of(connection, institution_ids=[r[0] for r in rows])[1]
    return {
        r[0]: InstitutionFact(r[0], r[1], r[2], r[3], r[4], strings(r[5]), bool(r[6]),
                              listed.get(r[0], ()), r[7] or 0)
        for r in rows
    }  # fmt: skip


def listings_of(
    connection: Any, physician_ids: Iterable[int] = (), institution_ids: Iterable[int] = ()
) -> tuple[dict[int, tuple[Listing, ...]], dict[int, tuple[Listing, ...]]]:
    """The dishonesty-list listings (失信/黑名单) of these physicians and institutions, in
    date order: (physician id → listings, institution id → listings)."""
    people, places = sorted(set(physician_ids)), sorted(set(institution_ids))
    by_physician: dict[int, list[Listing]] = defaultdict(list)
    by_institution: dict[int, list[Listing]] = defaultdict(list)
    c = CreditListing
    for chunk in range(0, max(len(people), len(places)), 5000):
        some_people, some_places = people[chunk : chunk + 5000], places[chunk : chunk + 5000]
        query = select(c.physician_id, c.institution_id, c.start, c.until).where(
            among(connection, c.physician_id, some_people)
            | among(connection, c.institution_id, some_places)
        )
        for pid, iid, start, until in _rows(connection, query.order_by(c.start, c.id)):
            listing = Listing(day(start), day(until))  # type: ignore[arg-type]
            if pid is not None:
                by_physician[pid].append(listing)
            if iid is not None:
                by_institution[iid].append(listing)
    return (
        {k: tuple(v) for k, v in by_physician.items()},
        {k: tuple(v) for k, v in by_institution.items()},
    )
