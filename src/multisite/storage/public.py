"""SELECTs of the public pages (信息公开): search, a physician, an institution, the listings.

Search reads one page of physicians by an index range: a ``cert_no`` prefix as ``>= p AND <
p'``; a ``name`` prefix the same way on SQLite (code-point order) and as ``LIKE 'p%'`` on
PostgreSQL (the ``text_pattern_ops`` index of revision 0012, right under any collation).
Nothing here loads a table.
Only public columns are selected: never ``id_digest`` (the national ID's keyed hash).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .models import (
    CreditListing,
    Filing,
    Inspection,
    Inspector,
    Institution,
    Physician,
    Registration,
)
from .search import _like_escape, _prefix


def search_physicians(s: Session, text: str, by: str, limit: int, offset: int) -> list[Any]:
    """(cert, name, title, category, profession, practitioner id) of one page, ``by`` name or
    cert prefix; physicians and nurses alike."""
    column = Physician.cert_no if by == "cert" else Physician.name
    if by == "name" and s.get_bind().dialect.name == "postgresql":
        # a linguistic collation (zh_CN) need not keep a prefix's names between p and p':
        # LIKE 'p%' is served by the text_pattern_ops index byte-wise whatever the collation
        matches = column.like(_like_escape(text) + "%", escape="\\")
    else:
        matches = _prefix(column, text)  # SQLite: code-point order; digits: the same anywhere
    query = (
        select(
            Physician.cert_no,
            Physician.name,
            Physician.title,
            Physician.category,
            Physician.profession,
            Physician.id,
        )
        .where(matches)
        .order_by(column, Physician.id)
        .limit(limit)
        .offset(offset)
    )
    return [tuple(r) for r in s.execute(query)]


def main_institutions(s: Session, physician_ids: Iterable[int]) -> dict[int, list[str]]:
    """Physician id → the names of their main institutions (one per registration)."""
    wanted = list(physician_ids)
    if not wanted:
        return {}
    query = (
        select(Registration.physician_id, Institution.name)
        .join(Institution, Institution.id == Registration.main_institution_id)
        .where(Registration.physician_id.in_(wanted))
        .order_by(Registration.id)
    )
    found: dict[int, list[str]] = {}
    for pid, name in s.execute(query):
        found.setdefault(pid, []).append(name)
    return found


def registered_at(s: Session, institution_id: int) -> list[tuple[Registration, Physician]]:
    """The registrations whose main institution it is, with their physicians and events."""
    query = (
        select(Registration, Physician)
        .join(Physician, Physician.id == Registration.physician_id)
        .where(Registration.main_institution_id == institution_id)
        .options(selectinload(Registration.events))
        .order_by(Physician.name, Physician.cert_no)
    )
    return [(r, p) for r, p in s.execute(query)]


def filed_at(s: Session, institution_id: int) -> list[tuple[Filing, Physician]]:
    """The filings at the institution with their physicians."""
    query = (
        select(Filing, Physician)
        .join(Registration, Registration.id == Filing.registration_id)
        .join(Physician, Physician.id == Registration.physician_id)
        .where(Filing.institution_id == institution_id)
        .order_by(Physician.name, Physician.cert_no, Filing.valid_from)
    )
    return [(f, p) for f, p in s.execute(query)]


def listings(
    s: Session,
    *,
    physician_id: int | None = None,
    institution_id: int | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[tuple[CreditListing, str | None, str | None, str | None, str | None]]:
    """Listings newest first, with (cert, physician name, code, institution name)."""
    query = (
        select(CreditListing, Physician.cert_no, Physician.name, Institution.code, Institution.name)
        .outerjoin(Physician, Physician.id == CreditListing.physician_id)
        .outerjoin(Institution, Institution.id == CreditListing.institution_id)
        .order_by(CreditListing.start.desc(), CreditListing.id.desc())
        .offset(offset)
    )
    if physician_id is not None:
        query = query.where(CreditListing.physician_id == physician_id)
    if institution_id is not None:
        query = query.where(CreditListing.institution_id == institution_id)
    if limit is not None:
        query = query.limit(limit)
    return [tuple(r) for r in s.execute(query)]  # type: ignore[misc]


def inspections_at(s: Session, institution_id: int) -> list[Inspection]:
    """The inspections of the institution whose result is recorded, newest first."""
    query = (
        select(Inspection)
        .where(Inspection.institution_id == institution_id, Inspection.outcome.is_not(None))
        .order_by(Inspection.inspected_on.desc(), Inspection.id.desc())
    )
    return list(s.scalars(query))


def inspector_names(s: Session, ids: Iterable[int]) -> dict[int, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = s.execute(select(Inspector.id, Inspector.name).where(Inspector.id.in_(wanted)))
    return {i: n for i, n in rows}
