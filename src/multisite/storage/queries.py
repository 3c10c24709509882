"""Every SELECT the service layer needs, and the conversion of rows into plain facts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..domain.facts import (
    InstitutionFact,
    Listing,
    PhysicianFact,
)
from ..domain.schedule import Slot
from . import bulk, facts
from .models import (
    Agreement,
    AuditEntry,
    Clerk,
    HolidayDay,
    Institution,
    Physician,
    Policy,
    Region,
    Registration,
    StaffingMinimum,
    TravelBuffer,
    VocabularyChange,
    WorkSession,
)

missing_terms_mask = facts.missing_terms_mask


def profession_of(s: Session, cert: str) -> str | None:
    """The stored profession of ``cert`` (physician, nurse), or None when unknown."""
    return s.scalar(select(Physician.profession).where(Physician.cert_no == cert))


def physician_by_cert(s: Session, cert: str, *, lock: bool = False) -> Physician | None:
    """The physician; with ``lock`` on PostgreSQL its row is locked (FOR UPDATE) where the
    connection's role may change it (row-level security hides the others from a locking read:
    they are read unlocked, and the service refuses the write naming the region)."""
    query = select(Physician).where(Physician.cert_no == cert)
    if lock and s.bind is not None and s.get_bind().dialect.name == "postgresql":
        found = s.scalars(query.with_for_update()).one_or_none()
        if found is not None:
            return found
    return s.scalars(query).one_or_none()


def lock_physician(s: Session, physician_id: int) -> None:
    """Serialise writers of one physician (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(select(Physician.id).where(Physician.id == physician_id).with_for_update())


def institution_by_code(s: Session, code: str) -> Institution | None:
    return s.scalars(select(Institution).where(Institution.code == code)).one_or_none()


def institutions_by_id(s: Session, ids: Iterable[int]) -> dict[int, Institution]:
    wanted = set(ids)
    if not wanted:
        return {}
    rows = s.scalars(select(Institution).where(Institution.id.in_(wanted)))
    return {i.id: i for i in rows}


def physician_names_by_id(s: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(certificate, name) of the physicians with ``ids``."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = s.execute(
        select(Physician.id, Physician.cert_no, Physician.name).where(Physician.id.in_(wanted))
    )
    return {pid: (cert, name) for pid, cert, name in rows}


def audit_actions(s: Session) -> list[str]:
    """The actions the audit log holds (for the clerk's filter)."""
    return sorted(a for (a,) in s.execute(select(AuditEntry.action).distinct()))


def agreement_by_contract(s: Session, contract_no: str) -> Agreement | None:
    query = (
        select(Agreement)
        .where(Agreement.contract_no == contract_no)
        .options(selectinload(Agreement.sessions), selectinload(Agreement.institution))
    )
    return s.scalars(query).one_or_none()


def region(s: Session, code: str) -> Region | None:
    return s.get(Region, code)


def region_known(s: Session, code: str) -> bool:
    """A stored region, or a city (``NNNN00``) with a stored county under it."""
    if s.get(Region, code) is not None:
        return True
    if len(code) != 6 or not code.endswith("00"):
        return False
    query = select(Region.code).where(Region.code.startswith(code[:4])).limit(1)
    return s.scalars(query).first() is not None


def registrations_of(s: Session, physician_id: int) -> list[Registration]:
    query = (
        select(Registration)
        .where(Registration.physician_id == physician_id)
        .options(selectinload(Registration.events), selectinload(Registration.filings))
        .order_by(Registration.id)
    )
    return list(s.scalars(query))


def agreements_of(s: Session, physician_id: int) -> list[Agreement]:
    query = (
        select(Agreement)
        .where(Agreement.physician_id == physician_id)
        .options(selectinload(Agreement.sessions), selectinload(Agreement.institution))
        .order_by(Agreement.start, Agreement.id)
    )
    return list(s.scalars(query))


def agreements_at(s: Session, institution_id: int) -> list[Agreement]:
    query = (
        select(Agreement)
        .where(Agreement.institution_id == institution_id)
        .options(selectinload(Agreement.sessions), selectinload(Agreement.physician))
        .order_by(Agreement.start, Agreement.id)
    )
    return list(s.scalars(query))


def main_registrations_at(s: Session, institution_id: int) -> list[Registration]:
    query = select(Registration).where(Registration.main_institution_id == institution_id)
    return list(s.scalars(query))


# --- facts -------------------------------------------------------------------------------------


def listings_of(
    s: Session, physician_ids: Iterable[int] = (), institution_ids: Iterable[int] = ()
) -> tuple[dict[int, tuple[Listing, ...]], dict[int, tuple[Listing, ...]]]:
    """The dishonesty-list listings (失信/黑名单) of these physicians and institutions, in
    date order: (physician id → listings, institution id → listings)."""
    return facts.listings_of(s.connection(), physician_ids, institution_ids)


def slot_of(session: WorkSession) -> Slot:
    return Slot(session.weekday, session.start_minute, session.end_minute)


def physician_fact(s: Session, p: Physician) -> PhysicianFact:
    fact = physician_fact_by_id(s, p.id)
    assert fact is not None
    return fact


def physician_fact_by_id(s: Session, physician_id: int) -> PhysicianFact | None:
    return facts.read_one(driver_of(s), s.get_bind().dialect, physician_id=physician_id).physician


def physician_fact_by_cert(s: Session, cert: str) -> PhysicianFact | None:
    return facts.read_one(driver_of(s), s.get_bind().dialect, cert=cert).physician


def institution_and_owner(
    s: Session, code: str, contract_no: str
) -> tuple[InstitutionFact | None, int | None]:
    """An institution's facts and the physician who holds ``contract_no`` (if anyone), in one
    statement: the institution picked for a contract, and whether the number is taken."""
    found = facts.read_one(driver_of(s), s.get_bind().dialect, code=code, contract=contract_no)
    return found.institution, found.owner


T = TypeVar("T")


class OneStatement(Protocol):
    """What runs a read of one statement (``Database.one_statement``)."""

    def one_statement(self, read: Callable[[Any, Any], T]) -> T: ...


def contract_facts(db: OneStatement, cert: str, code: str, contract_no: str) -> facts.OneRead:
    """What checking a new contract reads, in one statement outside any transaction: the
    physician's facts, the institution's and who holds the contract number (on SQLite the
    answer is kept until the next commit: ``facts.read_one_kept``)."""
    return db.one_statement(
        lambda driver, dialect: facts.read_one_kept(
            driver, dialect, cert=cert, code=code, contract=contract_no
        )
    )


def driver_of(s: Session) -> Any:
    """The driver's connection (``sqlite3`` / ``psycopg``) under the session's transaction."""
    return bulk.settled(s).connection.driver_connection


def lock_physician_by_cert(s: Session, cert: str) -> int | None:
    """The physician's id, with their row locked on PostgreSQL (writers of one physician queue)."""
    query = select(Physician.id).where(Physician.cert_no == cert)
    if s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return s.connection().execute(query).scalar()


def contract_owner(s: Session, contract_no: str) -> int | None:
    query = select(Agreement.physician_id).where(Agreement.contract_no == contract_no)
    return s.connection().execute(query).scalar()


def all_physician_facts(
    s: Session,
    physician_ids: Iterable[int] | None = None,
    batch: int = 5000,
    institutions: dict[int, InstitutionFact] | None = None,
) -> Iterator[PhysicianFact]:
    """Facts of many physicians, read in batches with a few SELECTs each (``facts.facts_for``:
    the region sweep's flagged physicians, a batch import's)."""
    id_query = select(Physician.id).order_by(Physician.id)
    ids = list(physician_ids) if physician_ids is not None else list(s.scalars(id_query))
    known = institutions if institutions is not None else {}
    connection = s.connection()
    for offset in range(0, len(ids), batch):
        yield from facts.facts_for(connection, ids[offset : offset + batch], known)


def institution_facts(s: Session, ids: Iterable[int] | None = None) -> dict[int, InstitutionFact]:
    """Institution facts by id (all of them, or those in ``ids``)."""
    if ids is None:
        return institution_facts_where(s, None)
    wanted = set(ids)
    return institution_facts_where(s, Institution.id.in_(wanted)) if wanted else {}


def institution_facts_where(s: Session, condition: Any) -> dict[int, InstitutionFact]:
    """The facts of the institutions meeting ``condition`` (None: all), with their listings."""
    return facts.institution_facts(s.connection(), condition)


def physician_ids_at(s: Session, institution_id: int) -> list[int]:
    query = select(Agreement.physician_id).where(Agreement.institution_id == institution_id)
    mains = select(Registration.physician_id).where(
        Registration.main_institution_id == institution_id
    )
    return sorted(set(s.scalars(query)) | set(s.scalars(mains)))


# --- policy, buffers, holidays ---------------------------------------------------------------


def policy_rows(s: Session, region_code: str) -> list[Policy]:
    query = select(Policy).where(Policy.region_code == region_code).order_by(Policy.version)
    return list(s.scalars(query))


def staffing_row(s: Session, region_code: str, kind: str) -> StaffingMinimum | None:
    query = select(StaffingMinimum).where(
        StaffingMinimum.region_code == region_code, StaffingMinimum.kind == kind
    )
    return s.scalars(query).first()


def staffing_rows(s: Session, region_code: str | None = None) -> list[StaffingMinimum]:
    query = select(StaffingMinimum).order_by(StaffingMinimum.region_code, StaffingMinimum.kind)
    if region_code is not None:
        query = query.where(StaffingMinimum.region_code == region_code)
    return list(s.scalars(query))


def vocabulary_changes(s: Session, region_code: str) -> list[tuple[str, str, bool]]:
    """The changes that hold in ``region_code``: its province's, its city's, then its own,
    each in the order they were made, as (list, value, removed)."""
    chain = list(dict.fromkeys((region_code[:2] + "0000", region_code[:4] + "00", region_code)))
    rank = {code: i for i, code in enumerate(chain)}
    rows = s.execute(
        select(
            VocabularyChange.region_code,
            VocabularyChange.id,
            VocabularyChange.list,
            VocabularyChange.value,
            VocabularyChange.removed,
        ).where(VocabularyChange.region_code.in_(chain))
    ).all()
    ordered = sorted(rows, key=lambda r: (rank[r[0]], r[1]))
    return [(r[2], r[3], bool(r[4])) for r in ordered]


def latest_policy(s: Session) -> Policy | None:
    return s.scalars(select(Policy).order_by(Policy.version.desc()).limit(1)).first()


def latest_policies(s: Session) -> dict[str, Policy]:
    """Region code → the newest stored policy version of that region."""
    out: dict[str, Policy] = {}
    for row in s.scalars(select(Policy).order_by(Policy.region_code, Policy.version)):
        out[row.region_code] = row
    return out


def travel_buffers(s: Session) -> dict[tuple[int, int], int]:
    rows = s.execute(
        select(TravelBuffer.institution_a, TravelBuffer.institution_b, TravelBuffer.minutes)
    )
    out: dict[tuple[int, int], int] = {}
    for a, b, minutes in rows:
        out[(a, b)] = out[(b, a)] = minutes
    return out


def holiday_days(s: Session) -> list[HolidayDay]:
    return list(s.scalars(select(HolidayDay).order_by(HolidayDay.day)))


def counts(s: Session) -> dict[str, int]:
    def count(model: Any) -> int:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)

    multi = s.scalar(
        select(func.count()).select_from(
            select(Agreement.physician_id)
            .join(Physician, Physician.id == Agreement.physician_id)
            .where(Agreement.role == "additional", Physician.profession == "physician")
            .group_by(Agreement.physician_id)
            .subquery()
        )
    )
    professions = dict(
        s.execute(select(Physician.profession, func.count()).group_by(Physician.profession)).all()
    )
    return {
        "regions": count(Region),
        "institutions": count(Institution),
        "physicians": int(professions.get("physician", 0)),
        "nurses": int(professions.get("nurse", 0)),
        "multi_site_physicians": int(multi or 0),
        "agreements": count(Agreement),
        "sessions": count(WorkSession),
        "audit_entries": count(AuditEntry),
    }


def audit_entries(
    s: Session,
    *,
    clerk: str | None = None,
    physician: str | None = None,
    institution: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    before: dt.datetime | None = None,
    limit: int = 200,
) -> list[AuditEntry]:
    """The newest entries first; ``since``/``before`` bound ``at`` (UTC, naive), ``before``
    excluded."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if before is not None:
        query = query.where(AuditEntry.at < before)
    if clerk:
        query = query.where(AuditEntry.clerk == clerk)
    if physician:
        query = query.where(AuditEntry.physician_cert == physician)
    if institution:
        query = query.where(AuditEntry.institution_code == institution)
    return list(s.scalars(query))


# --- clerks and who may write what --------------------------------------------------------------


def clerks(s: Session) -> list[Clerk]:
    return list(s.scalars(select(Clerk).order_by(Clerk.name)))


def clerk_by_name(s: Session, name: str) -> Clerk | None:
    return s.scalars(select(Clerk).where(Clerk.name == name)).first()


def physician_places(s: Session, cert: str) -> list[str]:
    """The region codes of a stored physician's registrations and the counties of their main
    institutions (empty: not stored, or no registration)."""
    main = Institution.__table__.alias("main")
    rows = s.execute(
        select(Registration.region_code, main.c.county_code)
        .join(Physician, Physician.id == Registration.physician_id)
        .join(main, main.c.id == Registration.main_institution_id)
        .where(Physician.cert_no == cert)
    ).all()
    return [code for row in rows for code in row]


def institution_county(s: Session, code: str) -> str | None:
    return s.scalar(select(Institution.county_code).where(Institution.code == code))


def physician_by_digest(s: Session, digest: str) -> str | None:
    """The certificate of the physician whose national-ID hash is ``digest``."""
    return s.scalar(select(Physician.cert_no).where(Physician.id_digest == digest))
