"""The SELECTs of the validation base (医师基数): scheduled minutes aggregated in SQL.

One statement sums, per agreement in force on a date, the minutes of its weekly sessions
(``(end - start + 1440) % 1440``: an overnight slot counts to its end). The sessions'
denormalised ``start_date``/``end_date`` follow the agreement's effective end (termination
rewrites them), so the session table alone says what is in force; the agreement row adds the
role and the contract number. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from ..models import (
    Agreement,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
    StaffingMinimum,
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
        query = query.where(Agreement.institution_id.in_(sorted(set(institution_ids))))
    if without_contract is not None:
        query = query.where(Agreement.contract_no != without_contract)
    connection = s.connection()  # Core rows: no ORM result processing on ~400k rows
    return [_row(r) for r in connection.execute(query)]


def institution_totals(
    s: Session, on: dt.date, week_minutes: float, threshold_minutes: float
) -> list[tuple[Any, ...]]:
    """Every institution with its counted base on ``on`` in each counting mode, summed in SQL.

    Rows: id, code, name, kind, beds, county code, licensed on, fte, headcount, primary_only.
    Physicians whose registration is suspended or cancelled on ``on`` count nothing.
    """
    end = effective_end()
    inactive = (
        select(Registration.physician_id)
        .join(RegistrationEvent, RegistrationEvent.registration_id == Registration.id)
        .where(
            RegistrationEvent.status.in_(("suspended", "cancelled")),
            RegistrationEvent.on <= on,
            or_(RegistrationEvent.until.is_(None), RegistrationEvent.until >= on),
        )
    )
    minutes = func.sum(Agreement.weekly_minutes)
    primary = func.max(case((Agreement.role == "primary", 1), else_=0))
    stakes = (
        select(Agreement.institution_id, minutes.label("minutes"), primary.label("primary"))
        .where(
            Agreement.start <= on,
            end >= on,
            Agreement.status != "draft",
            Agreement.physician_id.not_in(inactive),
        )
        .group_by(Agreement.institution_id, Agreement.physician_id)
        .subquery()
    )
    week = float(week_minutes) if week_minutes > 0 else float("inf")
    fte = case((stakes.c.minutes >= week, 1.0), else_=stakes.c.minutes / week)
    head = case((stakes.c.minutes >= threshold_minutes - 1e-6, 1), else_=0)
    per_institution = (
        select(
            stakes.c.institution_id,
            func.sum(fte).label("fte"),
            func.sum(head).label("headcount"),
            func.sum(stakes.c.primary).label("primary_only"),
        )
        .group_by(stakes.c.institution_id)
        .subquery()
    )
    query = select(
        Institution.id,
        Institution.code,
        Institution.name,
        Institution.kind,
        Institution.beds,
        Institution.county_code,
        type_coerce(Institution.licensed_on, String),
        per_institution.c.fte,
        per_institution.c.headcount,
        per_institution.c.primary_only,
    ).outerjoin(per_institution, per_institution.c.institution_id == Institution.id)
    out = []
    for r in s.connection().execute(query.order_by(Institution.code)):
        licensed = (
            r[6] if r[6] is None or isinstance(r[6], dt.date) else dt.date.fromisoformat(r[6])
        )
        out.append((*r[:6], licensed, float(r[7] or 0), float(r[8] or 0), float(r[9] or 0)))
    return out


def _row(r: Any) -> ContributionRow:
    inst, phys, contract, role, end, minutes = r
    day = end if isinstance(end, dt.date) else dt.date.fromisoformat(end)
    return (inst, phys, contract, role, day, int(minutes or 0))


def inactivities(s: Session) -> list[tuple[int, str, dt.date, dt.date | None]]:
    """Every suspension and cancellation: (physician_id, status, from, until or None)."""
    query = (
        select(
            Registration.physician_id,
            RegistrationEvent.status,
            RegistrationEvent.on,
            RegistrationEvent.until,
        )
        .join(Registration, Registration.id == RegistrationEvent.registration_id)
        .where(RegistrationEvent.status.in_(("suspended", "cancelled")))
    )
    return [tuple(r) for r in s.execute(query)]  # type: ignore[misc]


def institutions(
    s: Session, institution_ids: Iterable[int] | None = None
) -> list[tuple[int, str, str, str, int, str, dt.date | None]]:
    """(id, code, name, kind, beds, county_code, licensed_on) of the institutions asked for."""
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
        query = query.where(Institution.id.in_(sorted(set(institution_ids))))
    return [tuple(r) for r in s.execute(query)]  # type: ignore[misc]


def physicians(s: Session, physician_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """id → (certificate number, name); all physicians when more than a few are asked for."""
    wanted = set(physician_ids)
    if not wanted:
        return {}
    query = select(Physician.id, Physician.cert_no, Physician.name)
    if len(wanted) <= 5000:
        query = query.where(Physician.id.in_(sorted(wanted)))
    return {pid: (cert, name) for pid, cert, name in s.execute(query) if pid in wanted}


def staffing_rows(s: Session) -> list[StaffingMinimum]:
    return list(s.scalars(select(StaffingMinimum).order_by(StaffingMinimum.region_code)))


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
