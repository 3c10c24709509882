"""The reads of the whole-region sweep: one row per physician with the rules' row-level
preconditions tested in SQL (:func:`physician_rows`), the few physicians that always need
the full rules (see ``multisite.domain.sweep``), and the verdicts kept between sweeps with
the marks triggers write when a physician's rows change (:func:`sweep_state`,
:func:`save_sweep`; revision 0014)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    delete,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session

from ..domain.inputs import TERMS
from ..domain.sweep import SweepLimits
from ..domain.vocabulary import SCOPES
from .batch import _chunks
from .models import (
    Agreement,
    CreditListing,
    Filing,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
    SweepCache,
    SweepKey,
    SweepStale,
)

PhysicianRow = tuple[int, int, str | None, str | None]
"""(physician id, 1 when some row-level precondition fails, the live agreements' patterns
joined by ``|``, the first two digits of the registration's region: its province)."""


def listed_institutions(s: Session) -> list[int]:
    """The institutions ever on the dishonesty list (the CREDIT precondition's)."""
    listed = s.scalars(
        select(CreditListing.institution_id)
        .distinct()
        .where(CreditListing.institution_id.is_not(None))
    )
    return sorted(i for i in listed if i is not None)


def physician_rows(
    s: Session,
    limits: Mapping[str, SweepLimits],
    default: SweepLimits,
    listed: list[int],
    physician_ids: Iterable[int] | None = None,
) -> list[PhysicianRow]:
    """One row per practitioner with a live (not draft) agreement (of ``physician_ids``
    only, when given), the preconditions of every rule that reads the agreement rows
    (``Rule.clears``) tested in the database under the limits of the physician's province
    (``limits``; ``default`` elsewhere; ``listed``: the institutions ever on the dishonesty
    list), and the weekly patterns the schedule rules' precondition reads
    (``Sweeper.patterns_risky``).

    A row marked 1 needs the full rules; so does a physician whose several agreements share an
    institution (the always-on union of their patterns is judged as if each were at its own
    site) or sit at an institution with a travel buffer of its own. Only the physicians with
    one registration are judged by these rows: :func:`always_full` sends the others (and the
    suspended, the listed and those outside their filings) to the full rules. The rows are the
    driver's plain tuples: this read is the sweep's bulk."""
    query = _physician_query(s.get_bind().dialect.name, limits, default, listed)
    if physician_ids is None:
        return _plain(s, query)
    rows: list[PhysicianRow] = []
    for chunk in _chunks(sorted(set(physician_ids))):
        rows += _plain(s, query.where(Agreement.physician_id.in_(chunk)))
    return rows


def _plain(s: Session, query: Any) -> list[PhysicianRow]:
    result = s.connection().execute(query)
    try:
        rows: list[PhysicianRow] = list(result.cursor.fetchall())
        return rows
    finally:
        result.close()


@dataclass(frozen=True)
class SweepState:
    """What the last sweep kept, as read before the data: the fingerprint its verdicts hold
    under (None: none kept), the physicians it flagged, and the stale marks (mark id,
    physician id) written since."""

    key: str | None
    flagged: set[int]
    marks: list[tuple[int, int | None]]

    @property
    def stale(self) -> set[int]:
        return {pid for _mark, pid in self.marks if pid is not None}


def sweep_state(s: Session) -> SweepState:
    """The marks first (a mark committed after this read stays for the next sweep), then the
    fingerprint and the flagged physicians."""
    marks = [(m, p) for m, p in s.execute(select(SweepStale.id, SweepStale.physician_id))]
    key = s.scalar(select(SweepKey.key).where(SweepKey.id == 1))
    flagged = set(s.scalars(select(SweepCache.physician_id))) if key is not None else set()
    return SweepState(key, flagged, marks)


def save_sweep(
    s: Session,
    key: str,
    *,
    everyone: bool,
    decided: Mapping[int, bool],
    marks: list[int],
) -> None:
    """Keep the verdicts reached under ``key``: ``decided`` (physician → flagged) for
    ``everyone`` (every verdict there is: the kept ones are replaced) or for the physicians
    it names; then delete the stale ``marks`` they answer (those read before the data)."""
    flagged = [{"physician_id": pid} for pid, flag in sorted(decided.items()) if flag]
    if everyone:
        s.execute(delete(SweepCache))
        s.execute(delete(SweepKey))
        s.execute(insert(SweepKey), [{"id": 1, "key": key}])
    else:
        for chunk in _chunks(sorted(decided)):
            s.execute(delete(SweepCache).where(SweepCache.physician_id.in_(chunk)))
    for rows in _chunks(flagged):
        s.execute(insert(SweepCache), rows)
    for chunk in _chunks(marks):
        s.execute(delete(SweepStale).where(SweepStale.id.in_(chunk)))


def _by_province(
    province: Any, limits: Mapping[str, SweepLimits], default: SweepLimits, field: str
) -> Any:
    """``field`` of the limits of each row's province: one bound value when every province
    has the same, else a CASE over the provinces with limits of their own."""
    value = getattr(default, field)
    if all(getattr(v, field) == value for v in limits.values()):
        return literal(value)
    whens = [(province == code[:2], literal(getattr(v, field))) for code, v in limits.items()]
    return case(*whens, else_=literal(value))


def _outside_region(region: Any, county: Any) -> ColumnElement[bool]:
    """``identifiers.region_contains`` negated: a province holds the counties of its first
    two digits, a city those of its first four, a county itself."""
    return case(
        (func.substr(region, 3) == "0000", func.substr(county, 1, 2) != func.substr(region, 1, 2)),
        (func.substr(region, 5) == "00", func.substr(county, 1, 4) != func.substr(region, 1, 4)),
        else_=county != region,
    )


def _not_empty(values: Any) -> ColumnElement[bool]:
    """The JSON array ``values`` is not stored as ``[]`` (as ``json.dumps`` writes an empty
    list; any other spelling counts as not empty, which only sends a physician to the full
    rules)."""
    return cast(values, String) != "[]"


def _not_among(dialect: str, values: Any, value: Any) -> ColumnElement[bool]:
    """``value`` is not an element of the JSON array of strings ``values``.

    The array is searched as stored text (no JSON is parsed per row) for the element as the
    registry writes it (``json.dumps``: ASCII with ``\\u`` escapes, quotes included, so only
    a whole element matches). A value outside the shipped scopes has no such token, and an
    array written another way may not hold it: both count as absent, which sends the
    physician to the full rules (never the other way round)."""
    tokens = {name: json.dumps(name) for names in SCOPES.values() for name in names}
    token = case(*((value == name, literal(text)) for name, text in tokens.items()))
    find = func.strpos if dialect == "postgresql" else func.instr
    return func.coalesce(find(cast(values, String), token), 0) == 0


def _physician_query(
    dialect: str, limits: Mapping[str, SweepLimits], default: SweepLimits, listed: list[int]
) -> Any:
    a, r, p, i = Agreement, Registration, Physician, Institution
    province = func.substr(r.region_code, 1, 2)
    every = (default, *limits.values())
    primary, additional = a.role == "primary", a.role != "primary"
    end = case(
        (and_(a.terminated_on.is_not(None), a.terminated_on < a.end), a.terminated_on),
        else_=a.end,
    )  # the effective end: a termination moves it earlier

    def limit(field: str) -> Any:
        return _by_province(province, limits, default, field)

    row_fails = [
        a.pattern.is_(None),
        r.id.is_(None),  # no registration: only the full rules can say
        r.registered_on > a.start,  # REGISTRATION
        _outside_region(r.region_code, i.county_code),  # OUT_OF_REGION
        and_(primary, a.institution_id != r.main_institution_id),  # PRIMARY
        or_(a.start > a.end, a.start > a.terminated_on),  # PERIOD
        and_(additional, not_(func.coalesce(a.consent, false()))),  # CONSENT
        and_(a.status == "active", or_(*(getattr(a, term) == "" for term in TERMS))),  # TERMS
        and_(  # CONTRACT_HOURS
            a.weekly_hours > 0,
            func.abs(a.weekly_minutes / 60.0 - a.weekly_hours)
            > limit("tolerance") * a.weekly_hours + 1e-9,
        ),
        a.start < limit("first_known"),  # HOLIDAY_DATA
        and_(
            a.end > limit("last_known"), func.coalesce(a.terminated_on, a.end) > limit("last_known")
        ),
        and_(  # SCOPE (physicians only)
            p.profession == "physician",
            or_(
                _not_among(dialect, p.scopes, a.department),
                and_(
                    _not_empty(i.departments),
                    _not_among(dialect, i.departments, a.department),
                ),
            ),
        ),
    ]
    if listed:  # CREDIT: an institution ever listed
        row_fails.append(a.institution_id.in_(listed))
    if any(v.eligibility_gate for v in every):  # ELIGIBILITY (physicians only)
        gate = limit("eligibility_gate")
        row_fails.append(and_(gate == True, p.profession == "physician", additional))  # noqa: E712
    count, sites = func.count(), func.count(a.institution_id.distinct())
    physician_fails = [
        func.max(case((or_(*row_fails), 1), else_=0)) == 1,
        sites < count,  # several agreements at one institution
        # PRIMARY: exactly one primary, every additional agreement within its period
        func.sum(case((primary, 1), else_=0)) != 1,
        func.min(case((additional, a.start))) < func.max(case((primary, a.start))),
        func.max(case((additional, a.end))) > func.max(case((primary, end))),
    ]
    if any(v.max_institutions is not None for v in every):  # SITE_LIMIT
        cap = _by_province(func.min(province), limits, default, "max_institutions")
        physician_fails.append(sites > func.coalesce(cap, sites))
    buffered = sorted(set().union(*(v.buffered for v in every)))
    if buffered:  # a pair of institutions with a travel buffer of its own
        near = func.max(case((a.institution_id.in_(buffered), 1), else_=0))
        physician_fails.append(and_(count > 1, near == 1))
    patterns = func.coalesce(a.pattern, "")
    joined = (
        func.string_agg(patterns, "|")
        if dialect == "postgresql"
        else func.group_concat(patterns, "|")
    )
    bad = case(*((test, 1) for test in physician_fails), else_=0)
    return (
        select(a.physician_id, bad, joined, func.min(province))
        .select_from(a)
        .join(p, p.id == a.physician_id)
        .join(i, i.id == a.institution_id)
        .outerjoin(r, r.physician_id == a.physician_id)
        .where(a.status != "draft")
        .group_by(a.physician_id)
    )


def always_full(s: Session) -> set[int]:
    """Physicians the cheap tests cannot vouch for: suspended or cancelled at some time,
    several registrations, on the dishonesty list, or an agreement outside its filing."""
    out: set[int] = set()
    inactive = (
        select(Registration.physician_id)
        .join(RegistrationEvent, RegistrationEvent.registration_id == Registration.id)
        .where(RegistrationEvent.status.in_(("suspended", "cancelled")))
    )
    out.update(s.scalars(inactive))
    several = (
        select(Registration.physician_id)
        .group_by(Registration.physician_id)
        .having(func.count() > 1)
    )
    out.update(s.scalars(several))
    listed = select(CreditListing.physician_id).where(CreditListing.physician_id.is_not(None))
    out.update(s.scalars(listed))
    out.update(outside_filings(s))
    return out


OUTSIDE_FILINGS_SQLITE = """
SELECT a.physician_id FROM filing f
CROSS JOIN registration r ON r.id = f.registration_id
CROSS JOIN agreement a ON a.physician_id = r.physician_id
  AND a.institution_id = f.institution_id AND a.role = 'additional'
GROUP BY a.id, a.physician_id
HAVING max(CASE WHEN f.valid_from <= a.start AND f.valid_to >= a."end" THEN 1 ELSE 0 END) = 0
"""


def outside_filings(s: Session) -> set[int]:
    """Physicians with an additional agreement that does not fit in its filing(s).

    Driven from the filings (few) to the agreements; on SQLite ``CROSS JOIN`` pins that
    order, which its planner otherwise reverses into a scan of every agreement.
    """
    if s.get_bind().dialect.name == "sqlite":
        return set(s.connection().exec_driver_sql(OUTSIDE_FILINGS_SQLITE).scalars())
    fits = func.max(
        case((and_(Filing.valid_from <= Agreement.start, Filing.valid_to >= Agreement.end), 1),
             else_=0)
    )  # fmt: skip
    query = (
        select(Agreement.physician_id)
        .select_from(Filing)
        .join(Registration, Registration.id == Filing.registration_id)
        .join(
            Agreement,
            and_(
                Agreement.physician_id == Registration.physician_id,
                Agreement.institution_id == Filing.institution_id,
                Agreement.role == "additional",
            ),
        )
        .group_by(Agreement.id, Agreement.physician_id)
        .having(fits == 0)
    )
    return set(s.scalars(query))
