"""The credit register's reads: listings (失信/黑名单) and misconduct points (不良执业行为记分)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from .models import CreditListing, CreditPoints, Institution, Physician


def same_listing(
    s: Session,
    physician_id: int | None,
    institution_id: int | None,
    start: dt.date,
    authority: str,
    decision: str,
) -> CreditListing | None:
    """The listing of this subject from ``start`` by the same decision, if one is stored."""
    subject = (
        CreditListing.physician_id == physician_id
        if physician_id is not None
        else CreditListing.institution_id == institution_id
    )
    return s.scalars(
        select(CreditListing).where(
            subject,
            CreditListing.start == start,
            CreditListing.authority == authority,
            CreditListing.decision == decision,
        )
    ).first()


def record(
    s: Session, physician_id: int | None, institution_id: int | None, *, everyone: bool
) -> tuple[list[CreditListing], list[CreditPoints]]:
    """Listings and points of everyone, or of the physician and/or institution given (points
    are a physician's), each in date order."""
    listings = select(CreditListing).order_by(CreditListing.start, CreditListing.id)
    points = select(CreditPoints).order_by(CreditPoints.on, CreditPoints.id)
    if not everyone:
        wanted = []
        if physician_id is not None:
            wanted.append(CreditListing.physician_id == physician_id)
            points = points.where(CreditPoints.physician_id == physician_id)
        else:
            points = points.where(false())
        if institution_id is not None:
            wanted.append(CreditListing.institution_id == institution_id)
        listings = listings.where(or_(*wanted))
    return list(s.scalars(listings)), list(s.scalars(points))


def physician_names(s: Session, ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    """Physician id → (certificate, name)."""
    return _names(s, Physician, Physician.cert_no, Physician.name, ids)


def professions(s: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Practitioner id → profession (``physician`` or ``nurse``)."""
    wanted = {x for x in ids if x is not None}
    if not wanted:
        return {}
    rows = s.execute(select(Physician.id, Physician.profession).where(Physician.id.in_(wanted)))
    return {row_id: profession for row_id, profession in rows}


def institution_names(s: Session, ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    """Institution id → (code, name)."""
    return _names(s, Institution, Institution.code, Institution.name, ids)


def _names(
    s: Session, model: Any, key: Any, name: Any, ids: Iterable[int | None]
) -> dict[int, tuple[str, str]]:
    wanted = {x for x in ids if x is not None}
    if not wanted:
        return {}
    rows = s.execute(select(model.id, key, name).where(model.id.in_(wanted)))
    return {row_id: (k, n) for row_id, k, n in rows}
