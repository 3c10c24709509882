"""The reads of the whole-region sweep: one row per agreement, and the few physicians that
always need the full rules (see ``multisite.sweep``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, select
from sqlalchemy.orm import Session, aliased

from ..models import (
    Agreement,
    Filing,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
)


def agreement_rows(s: Session) -> Iterator[Sequence[Any]]:
    """Every agreement with its physician's registration, ordered by physician (streamed)."""
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
        )
        .join(Physician, Physician.id == Agreement.physician_id)
        .join(Registration, Registration.physician_id == Agreement.physician_id)
        .order_by(Agreement.physician_id)
    )
    result = s.connection().execution_options(stream_results=True).execute(query)
    for partition in result.partitions(20_000):
        yield from partition


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
    out.update(s.scalars(select(Physician.id).where(Physician.dishonest.is_(True))))
    f = aliased(Filing)
    any_filing = exists().where(
        f.registration_id == Registration.id, f.institution_id == Agreement.institution_id
    )
    containing = exists().where(
        f.registration_id == Registration.id,
        f.institution_id == Agreement.institution_id,
        f.valid_from <= Agreement.start,
        f.valid_to >= Agreement.end,
    )
    outside = (
        select(Agreement.physician_id)
        .join(Registration, Registration.physician_id == Agreement.physician_id)
        .where(Agreement.role == "additional", any_filing, ~containing)
    )
    out.update(s.scalars(outside))
    return out


def dishonest_institutions(s: Session) -> set[int]:
    return set(s.scalars(select(Institution.id).where(Institution.dishonest.is_(True))))
