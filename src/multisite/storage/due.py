"""SELECTs of the reminders (``due``): what ends, lapses or falls due between two dates.

Each reads one table (with the names it shows) over a date range; nothing loads a whole
table but the institutions, whose next validation is computed from their licence date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, aliased

from .models import (
    Agreement,
    CreditListing,
    Filing,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
)


def agreements_ending(
    s: Session, first: dt.date, last: dt.date, institution_id: int | None = None
) -> list[tuple[Any, ...]]:
    """(contract no, last day, termination, cert, name, institution code, institution name,
    profession) of every agreement, not a draft, whose last day in force (termination first) is within the dates."""
    ends = (Agreement.terminated_on.is_not(None)) & (Agreement.terminated_on < Agreement.end)
    in_range = or_(
        and_(ends, Agreement.terminated_on >= first, Agreement.terminated_on <= last),
        and_(~ends, Agreement.end >= first, Agreement.end <= last),
    )
    query = (
        select(
            Agreement.contract_no, Agreement.end, Agreement.terminated_on, Physician.cert_no,
            Physician.name, Institution.code, Institution.name, Physician.profession,
        )
        .join(Physician, Physician.id == Agreement.physician_id)
        .join(Institution, Institution.id == Agreement.institution_id)
        .where(in_range, Agreement.status != "draft")
    )  # fmt: skip
    if institution_id is not None:
        query = query.where(Agreement.institution_id == institution_id)
    return [tuple(r) for r in s.execute(query)]


def filings_lapsing(
    s: Session, first: dt.date, last: dt.date, institution_id: int | None = None
) -> list[tuple[Any, ...]]:
    """(filing id, valid to, cert, name, institution code, institution name, profession) of
    the filings
    not ended whose validity runs out within the dates."""
    query = (
        select(
            Filing.id, Filing.valid_to, Physician.cert_no, Physician.name, Institution.code,
            Institution.name, Physician.profession,
        )
        .join(Registration, Registration.id == Filing.registration_id)
        .join(Physician, Physician.id == Registration.physician_id)
        .join(Institution, Institution.id == Filing.institution_id)
        .where(Filing.ended_on.is_(None), Filing.valid_to >= first, Filing.valid_to <= last)
    )  # fmt: skip
    if institution_id is not None:
        query = query.where(Filing.institution_id == institution_id)
    return [tuple(r) for r in s.execute(query)]


def suspensions_ending(
    s: Session, first: dt.date, last: dt.date, institution_id: int | None = None
) -> list[tuple[Any, ...]]:
    """(registration id, region, last day, cert, name, main institution code and name,
    profession) of the suspensions whose last day is within the dates, unless the registration is cancelled
    on or before it."""
    cancel = aliased(RegistrationEvent)
    cancelled = (
        select(cancel.id)
        .where(
            cancel.registration_id == RegistrationEvent.registration_id,
            cancel.status == "cancelled",
            cancel.on <= RegistrationEvent.until,
        )
        .exists()
    )
    query = (
        select(
            Registration.id, Registration.region_code, RegistrationEvent.until,
            Physician.cert_no, Physician.name, Institution.code, Institution.name,
            Physician.profession,
        )
        .join(Registration, Registration.id == RegistrationEvent.registration_id)
        .join(Physician, Physician.id == Registration.physician_id)
        .join(Institution, Institution.id == Registration.main_institution_id)
        .where(
            RegistrationEvent.status == "suspended",
            RegistrationEvent.until >= first,
            RegistrationEvent.until <= last,
            ~cancelled,
        )
    )  # fmt: skip
    if institution_id is not None:
        query = query.where(Registration.main_institution_id == institution_id)
    return [tuple(r) for r in s.execute(query)]


def listings_ending(
    s: Session, first: dt.date, last: dt.date, institution_id: int | None = None
) -> list[tuple[Any, ...]]:
    """(listing id, last day, cert, physician name, institution code, institution name,
    profession) of the credit listings whose last day is within the dates (one of cert and
    code is None, and the profession with the cert)."""
    query = (
        select(
            CreditListing.id, CreditListing.until, Physician.cert_no, Physician.name,
            Institution.code, Institution.name, Physician.profession,
        )
        .outerjoin(Physician, Physician.id == CreditListing.physician_id)
        .outerjoin(Institution, Institution.id == CreditListing.institution_id)
        .where(CreditListing.until >= first, CreditListing.until <= last)
    )  # fmt: skip
    if institution_id is not None:
        query = query.where(CreditListing.institution_id == institution_id)
    return [tuple(r) for r in s.execute(query)]


def institutions_licensed(s: Session, institution_id: int | None = None) -> list[tuple[Any, ...]]:
    """(code, name, kind, beds, licence date) of every institution (or one)."""
    query = select(
        Institution.code, Institution.name, Institution.kind, Institution.beds,
        Institution.licensed_on,
    ).order_by(Institution.code)  # fmt: skip
    if institution_id is not None:
        query = query.where(Institution.id == institution_id)
    return [tuple(r) for r in s.execute(query)]
