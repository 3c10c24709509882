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

from sqlalchemy import String, and_, case, func, literal, select, type_coerce
from sqlalchemy.orm import Session

from ..models import (
    Agreement,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
    StaffingMinimum,
    WorkSession,
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

    Minutes are summed in SQL over the session rows (one GROUP BY); agreements in force
    without any session come from the agreement table with 0 minutes (they count in the
    ``primary_only`` mode and, with a zero threshold, in ``headcount``).
    """
    minutes = func.sum((WorkSession.end_minute - WorkSession.start_minute + 1440) % 1440)
    per_agreement = (
        select(
            WorkSession.agreement_id.label("agreement_id"),
            minutes.label("minutes"),
        )
        .where(WorkSession.start_date <= on, WorkSession.end_date >= on)
        .group_by(WorkSession.agreement_id)
    )
    wanted = sorted(set(institution_ids)) if institution_ids is not None else None
    if wanted is not None:
        per_agreement = per_agreement.where(WorkSession.institution_id.in_(wanted))
    sub = per_agreement.subquery()
    # Dates come back as text on SQLite; ``date.fromisoformat`` reads them far faster than the
    # ORM's result processor, which dominated the region-wide report.
    end = type_coerce(effective_end(), String)
    query = select(
        Agreement.institution_id,
        Agreement.physician_id,
        Agreement.contract_no,
        Agreement.role,
        end,
        sub.c.minutes,
    ).join(sub, sub.c.agreement_id == Agreement.id)
    if without_contract is not None:
        query = query.where(Agreement.contract_no != without_contract)
    connection = s.connection()  # Core rows: no ORM result processing on ~400k rows
    rows: list[ContributionRow] = [_row(r) for r in connection.execute(query)]
    # Agreements in force that have no session at all (rare): read from the agreement table.
    bare = select(
        Agreement.institution_id,
        Agreement.physician_id,
        Agreement.contract_no,
        Agreement.role,
        end,
        literal(0),
    ).where(
        Agreement.start <= on,
        end >= on,
        ~select(WorkSession.id).where(WorkSession.agreement_id == Agreement.id).exists(),
    )
    if wanted is not None:
        bare = bare.where(Agreement.institution_id.in_(wanted))
    if without_contract is not None:
        bare = bare.where(Agreement.contract_no != without_contract)
    rows.extend(_row(r) for r in connection.execute(bare))
    return rows


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
