"""SQL of the iCalendar export and the feed: subscriptions, fingerprints, loaded holidays.

A *fingerprint* is the small set of stored values that decides a calendar body (the
agreements' revisions and ``updated_at``, the institutions' name, address, 调休 policy and
``updated_at``, the calendar owner's name, the newest event of the physicians'
registrations: a suspension or cancellation changes the body). The feed server compares it with the
fingerprint of the body it cached, so a warm feed is checked with one indexed SELECT and
never rebuilt while nothing changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from .models import (
    Agreement,
    FeedToken,
    HolidayDay,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
)

Fingerprint = tuple[Hashable, ...]


# --- subscriptions -----------------------------------------------------------------------------


def add_token(
    s: Session,
    token_hash: str,
    *,
    physician_id: int | None,
    institution_id: int | None,
    kind: str = "schedule",
) -> FeedToken:
    token = FeedToken(
        token_hash=token_hash, physician_id=physician_id, institution_id=institution_id, kind=kind
    )
    s.add(token)
    s.flush()
    return token


def token_by_hash(s: Session, token_hash: str) -> FeedToken | None:
    """The subscription whose token hashes to ``token_hash`` (revoked ones included)."""
    return s.scalars(select(FeedToken).where(FeedToken.token_hash == token_hash)).one_or_none()


def active_tokens(
    s: Session, *, physician_id: int | None = None, institution_id: int | None = None
) -> list[FeedToken]:
    """Unrevoked subscriptions of one physician (or of one institution's own feed)."""
    query = select(FeedToken).where(FeedToken.revoked_at.is_(None))
    if physician_id is not None:
        query = query.where(FeedToken.physician_id == physician_id)
    else:
        query = query.where(
            FeedToken.institution_id == institution_id, FeedToken.physician_id.is_(None)
        )
    return list(s.scalars(query.order_by(FeedToken.id)))


# --- what a calendar is built from -------------------------------------------------------------


def inactivity(
    s: Session, physician_ids: Sequence[int]
) -> dict[int, list[tuple[str, dt.date, dt.date | None]]]:
    """Physician id → (region, first day, last day or None) of each suspension or
    cancellation of their registrations."""
    found: dict[int, list[tuple[str, dt.date, dt.date | None]]] = {}
    for start in range(0, len(physician_ids), 5000):
        chunk = list(physician_ids[start : start + 5000])
        rows = s.execute(
            select(
                Registration.physician_id, Registration.region_code, RegistrationEvent.on,
                RegistrationEvent.until,
            )
            .join(RegistrationEvent, RegistrationEvent.registration_id == Registration.id)
            .where(
                Registration.physician_id.in_(chunk),
                RegistrationEvent.status.in_(("suspended", "cancelled")),
            )
        )  # fmt: skip
        for pid, region, on, until in rows:
            found.setdefault(pid, []).append((region, on, until))
    return found


def _latest_event(physician_id: Any) -> Any:
    """The newest registration event of a physician (a suspension, cancellation or
    reinstatement changes it): part of a feed's fingerprint."""
    return (
        select(func.max(RegistrationEvent.id))
        .join(Registration, Registration.id == RegistrationEvent.registration_id)
        .where(Registration.physician_id == physician_id)
        .scalar_subquery()
    )


def physician_by_id(s: Session, physician_id: int) -> Physician | None:
    return s.get(Physician, physician_id)


def institution_by_id(s: Session, institution_id: int) -> Institution | None:
    return s.get(Institution, institution_id)


def physician_agreements(s: Session, physician_id: int) -> list[Agreement]:
    """One physician's agreements at every institution, with sessions and institutions."""
    query = (
        select(Agreement)
        .where(Agreement.physician_id == physician_id)
        .options(selectinload(Agreement.sessions), selectinload(Agreement.institution))
        .order_by(Agreement.id)
    )
    return list(s.scalars(query))


def institution_agreements(s: Session, institution_id: int) -> list[Agreement]:
    """Every agreement at one institution, with sessions, physicians and the institution."""
    query = (
        select(Agreement)
        .where(Agreement.institution_id == institution_id)
        .options(
            selectinload(Agreement.sessions),
            selectinload(Agreement.physician),
            selectinload(Agreement.institution),
        )
        .order_by(Agreement.id)
    )
    return list(s.scalars(query))


def physician_fingerprint(s: Session, physician_id: int) -> Fingerprint:
    """The stored values a physician's calendar body depends on, in one indexed SELECT."""
    rows = s.execute(
        select(
            Physician.name,
            Agreement.id,
            Agreement.revision,
            Agreement.updated_at,
            Agreement.terminated_on,
            Agreement.end,
            Institution.id,
            Institution.name,
            Institution.address,
            Institution.makeup_follows,
            Institution.updated_at,
            _latest_event(Physician.id),
        )
        .select_from(Physician)
        .outerjoin(Agreement, Agreement.physician_id == Physician.id)
        .outerjoin(Institution, Institution.id == Agreement.institution_id)
        .where(Physician.id == physician_id)
        .order_by(Agreement.id)
    ).all()
    return tuple(tuple(r) for r in rows)


def institution_fingerprint(s: Session, institution_id: int) -> Fingerprint:
    """The stored values an institution's calendar body depends on."""
    head = s.execute(
        select(
            Institution.name,
            Institution.address,
            Institution.makeup_follows,
            Institution.updated_at,
        ).where(Institution.id == institution_id)
    ).all()
    rows = s.execute(
        select(
            Agreement.id,
            Agreement.revision,
            Agreement.updated_at,
            Agreement.terminated_on,
            Agreement.end,
            Physician.name,
            _latest_event(Physician.id),
        )
        .join(Physician, Physician.id == Agreement.physician_id)
        .where(Agreement.institution_id == institution_id)
        .order_by(Agreement.id)
    ).all()
    return tuple(tuple(r) for r in head) + tuple(tuple(r) for r in rows)


# --- loaded holiday years ----------------------------------------------------------------------


def holiday_rows(s: Session) -> list[tuple[dt.date, str, str]]:
    """Every clerk-loaded holiday day as plain tuples (a small table)."""
    rows = s.execute(
        select(HolidayDay.day, HolidayDay.kind, HolidayDay.name).order_by(HolidayDay.day)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def holiday_year(s: Session, year: int) -> list[HolidayDay]:
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    query = select(HolidayDay).where(HolidayDay.day >= first, HolidayDay.day <= last)
    return list(s.scalars(query.order_by(HolidayDay.day)))


def replace_holiday_year(s: Session, year: int, days: Sequence[tuple[dt.date, str, str]]) -> None:
    """Delete the loaded rows of ``year`` and store ``days`` instead."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    s.execute(delete(HolidayDay).where(HolidayDay.day >= first, HolidayDay.day <= last))
    s.add_all(HolidayDay(day=d, kind=k, name=n) for d, k, n in days)
    s.flush()
