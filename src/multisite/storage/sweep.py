"""The reads of the whole-region sweep: one row per agreement, and the few physicians that
always need the full rules (see ``multisite.domain.sweep``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.orm import Session

from ..domain.rules import SweepAgreement
from ..domain.sweep import Site
from .models import (
    Agreement,
    CreditListing,
    Filing,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
)
from .queries import missing_terms_mask


def agreement_rows(
    s: Session, first: int | None = None, last: int | None = None
) -> Iterator[SweepAgreement]:
    """Every agreement (of physicians ``first``–``last``, when given) with its physician's
    registration, ordered by physician (streamed), as the rules' preconditions read it."""
    effective_end = case(
        (and_(Agreement.terminated_on.is_not(None), Agreement.terminated_on < Agreement.end),
         Agreement.terminated_on),
        else_=Agreement.end,
    )  # fmt: skip
    query = (
        select(
            Agreement.physician_id,
            Agreement.institution_id,
            Agreement.role,
            Agreement.department,
            cast(Agreement.start, String),
            cast(effective_end, String),
            Agreement.weekly_hours,
            Agreement.consent,
            Agreement.status,
            Agreement.pattern,
            Registration.region_code,
            Registration.main_institution_id,
            cast(Registration.registered_on, String),
            cast(Physician.scopes, String),
            missing_terms_mask(),
            Physician.profession,
        )
        .join(Physician, Physician.id == Agreement.physician_id)
        .join(Registration, Registration.physician_id == Agreement.physician_id)
        .order_by(Agreement.physician_id)
    )
    if first is not None:
        query = query.where(Agreement.physician_id >= first)
    if last is not None:
        query = query.where(Agreement.physician_id <= last)
    result = s.connection().execution_options(stream_results=True).execute(query)
    make = SweepAgreement._make
    for partition in result.partitions(20_000):
        yield from map(make, partition)


def physician_span(s: Session) -> tuple[int, int, int]:
    """The smallest and largest physician id among the agreements, and the number of
    agreements: how a sweep splits its work."""
    low, high, count = (
        s.connection()
        .execute(
            select(func.min(Agreement.physician_id), func.max(Agreement.physician_id), func.count())
        )
        .one()
    )
    return int(low or 0), int(high or 0), int(count or 0)


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


def sites(s: Session) -> dict[int, Site]:
    """Every institution's county, departments and whether it was ever on the dishonesty list
    (JSON read as text and decoded once per distinct value: the ORM's JSON processing
    dominated this read)."""
    query = select(Institution.id, Institution.county_code, cast(Institution.departments, String))
    listed = set(
        s.scalars(
            select(CreditListing.institution_id).where(CreditListing.institution_id.is_not(None))
        )
    )
    decoded: dict[str | None, frozenset[str]] = {}
    out: dict[int, Site] = {}
    for inst_id, county, departments in s.connection().execute(query):
        found = decoded.get(departments)
        if found is None:
            found = decoded[departments] = frozenset(json.loads(departments or "[]"))
        out[inst_id] = Site(county, found, inst_id in listed)
    return out
