"""Every SELECT the service layer needs, and the conversion of rows into plain facts."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import bindparam, case, func, literal, select
from sqlalchemy.orm import Session, selectinload

from ..domain.facts import (
    AgreementFact,
    FilingFact,
    Inactivity,
    InstitutionFact,
    Listing,
    PhysicianFact,
    RegistrationFact,
    terms_from_mask,
)
from ..domain.inputs import TERMS
from ..domain.schedule import Slot
from .models import (
    Agreement,
    AuditEntry,
    Clerk,
    CreditListing,
    Filing,
    HolidayDay,
    Institution,
    Physician,
    Policy,
    Region,
    Registration,
    RegistrationEvent,
    StaffingMinimum,
    TravelBuffer,
    VocabularyChange,
    WorkSession,
)


def missing_terms_mask() -> Any:
    """An agreement's empty terms as bits (bit i: ``inputs.TERMS[i]`` is empty), in SQL."""
    columns = [getattr(Agreement, term) for term in TERMS]
    return sum(
        (case((func.coalesce(c, "") == "", 1 << i), else_=0) for i, c in enumerate(columns)),
        literal(0),
    ).label("missing_terms")


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


INSTITUTION_LISTED = (
    select(CreditListing.id).where(CreditListing.institution_id == Institution.id).exists()
)
PHYSICIAN_LISTED = (
    select(CreditListing.id)
    .where(CreditListing.physician_id == Physician.id)
    .exists()
    .label("listed")
)
INSTITUTION_FACT_COLUMNS = (
    Institution.id, Institution.code, Institution.name, Institution.kind,
    Institution.county_code, Institution.departments, Institution.grassroots,
    INSTITUTION_LISTED.label("listed"), Institution.beds,
)  # fmt: skip


def _institution_from(
    r: Sequence[Any], listings: dict[int, tuple[Listing, ...]] | None = None
) -> InstitutionFact:
    """An institution's facts from the values of ``INSTITUTION_FACT_COLUMNS``, in order, with
    its listings (read by :func:`listings_of` for the institutions flagged listed)."""
    listed = listings.get(r[0], ()) if listings and r[7] else ()
    return InstitutionFact(
        r[0], r[1], r[2], r[3], r[4], frozenset(r[5] or ()), bool(r[6]), listed, r[8] or 0
    )


def listings_of(
    s: Session, physician_ids: Iterable[int] = (), institution_ids: Iterable[int] = ()
) -> tuple[dict[int, tuple[Listing, ...]], dict[int, tuple[Listing, ...]]]:
    """The dishonesty-list listings (失信/黑名单) of these physicians and institutions, in
    date order: (physician id → listings, institution id → listings)."""
    people, places = sorted(set(physician_ids)), sorted(set(institution_ids))
    by_physician: dict[int, list[Listing]] = defaultdict(list)
    by_institution: dict[int, list[Listing]] = defaultdict(list)
    columns = (CreditListing.physician_id, CreditListing.institution_id, CreditListing.start,
               CreditListing.until)  # fmt: skip
    for chunk in range(0, max(len(people), len(places)), 5000):
        some_people, some_places = people[chunk : chunk + 5000], places[chunk : chunk + 5000]
        query = select(*columns).where(
            CreditListing.physician_id.in_(some_people)
            | CreditListing.institution_id.in_(some_places)
        )
        for pid, iid, start, until in s.connection().execute(query.order_by(CreditListing.start)):
            if pid is not None:
                by_physician[pid].append(Listing(start, until))
            if iid is not None:
                by_institution[iid].append(Listing(start, until))
    return (
        {k: tuple(v) for k, v in by_physician.items()},
        {k: tuple(v) for k, v in by_institution.items()},
    )


def slot_of(session: WorkSession) -> Slot:
    return Slot(session.weekday, session.start_minute, session.end_minute)


def physician_fact(s: Session, p: Physician) -> PhysicianFact:
    fact = physician_fact_by_id(s, p.id)
    assert fact is not None
    return fact


def physician_fact_by_id(s: Session, physician_id: int) -> PhysicianFact | None:
    return _physician_fact(s, _statements().head_by_id, {"key": physician_id})


def physician_fact_by_cert(s: Session, cert: str) -> PhysicianFact | None:
    return _physician_fact(s, _statements().head_by_cert, {"key": cert})


@dataclass(frozen=True)
class _WritePathStatements:
    head_by_id: Any
    head_by_cert: Any
    inactivity: Any
    filings: Any
    agreements: Any
    institution_and_owner: Any


@cache
def _statements() -> _WritePathStatements:
    """The write path's SELECTs, built once with bound parameters: building a statement
    costs more than running it on an indexed key."""
    has_inactivity = (
        select(RegistrationEvent.id)
        .where(
            RegistrationEvent.registration_id == Registration.id,
            RegistrationEvent.status.in_(("suspended", "cancelled")),
        )
        .exists()
    )
    has_filing = select(Filing.id).where(Filing.registration_id == Registration.id).exists()
    head = (
        select(
            Physician.cert_no, Physician.name, Physician.level, Physician.category,
            Physician.scopes, Physician.title, PHYSICIAN_LISTED, Physician.practising_since,
            Physician.failed_assessment_on, Registration.id, Registration.region_code,
            Registration.main_institution_id, Registration.registered_on, has_inactivity,
            has_filing, Physician.id, Physician.profession,
        )
        .outerjoin(Registration, Registration.physician_id == Physician.id)
        .order_by(Registration.id)
    )  # fmt: skip
    regs: Any = bindparam("regs", expanding=True)
    owner = (
        select(Agreement.physician_id)
        .where(Agreement.contract_no == bindparam("contract"))
        .scalar_subquery()
    )
    return _WritePathStatements(
        head.where(Physician.id == bindparam("key")),
        head.where(Physician.cert_no == bindparam("key")),
        select(
            RegistrationEvent.registration_id, RegistrationEvent.status, RegistrationEvent.on,
            RegistrationEvent.until,
        ).where(
            RegistrationEvent.registration_id.in_(regs),
            RegistrationEvent.status.in_(("suspended", "cancelled")),
        ),
        select(
            Filing.institution_id, Filing.scope, Filing.valid_from, Filing.valid_to,
            Filing.ended_on,
        ).where(Filing.registration_id.in_(regs)),
        select(
            Agreement.id, Agreement.contract_no, Agreement.role, Agreement.department,
            Agreement.start, Agreement.end, Agreement.terminated_on, Agreement.weekly_hours,
            Agreement.consent, Agreement.status, *INSTITUTION_FACT_COLUMNS,
            WorkSession.weekday, WorkSession.start_minute, WorkSession.end_minute,
            missing_terms_mask(),
        )
        .join(Institution, Institution.id == Agreement.institution_id)
        .outerjoin(WorkSession, WorkSession.agreement_id == Agreement.id)
        .where(Agreement.physician_id == bindparam("physician"))
        .order_by(Agreement.start, Agreement.id, WorkSession.id),
        select(*INSTITUTION_FACT_COLUMNS, owner).where(Institution.code == bindparam("code")),
    )  # fmt: skip


def _physician_fact(s: Session, head_query: Any, params: dict[str, Any]) -> PhysicianFact | None:
    """One physician's facts with two to four small Core queries (the write path's hot spot):
    suspensions and filings are read only where the first query says there are some."""
    c = s.connection()
    statements = _statements()
    head = c.execute(head_query, params).all()
    if not head:
        return None
    physician_id = head[0][15]
    reg_ids = [r[9] for r in head if r[9] is not None]
    inactive: dict[int, list[Inactivity]] = defaultdict(list)
    filings: list[FilingFact] = []
    if any(r[13] for r in head):
        for reg_id, status, on, until in c.execute(statements.inactivity, {"regs": reg_ids}):
            inactive[reg_id].append(Inactivity(status, on, until))
    if any(r[14] for r in head):
        filings = [FilingFact(*row) for row in c.execute(statements.filings, {"regs": reg_ids})]
    rows = c.execute(statements.agreements, {"physician": physician_id}).all()
    agreements: dict[int, tuple[tuple[Any, ...], list[Slot]]] = {}
    for row in rows:
        entry = agreements.setdefault(row[0], (tuple(row), []))
        if row[19] is not None:
            entry[1].append(Slot(row[19], row[20], row[21]))
    listed_places = {r[10] for r, _slots in agreements.values() if r[17]}
    mine, theirs = (
        listings_of(s, [physician_id] if head[0][6] else [], listed_places)
        if head[0][6] or listed_places
        else ({}, {})
    )
    facts = []
    for r, slots in agreements.values():
        institution = _institution_from(r[10:19], theirs)
        end = r[6] if r[6] is not None and r[6] < r[5] else r[5]
        facts.append(
            AgreementFact(
                r[0],
                r[1],
                institution,
                r[2],
                r[3],
                r[4],
                end,
                r[7] or 0.0,
                r[8],
                tuple(slots),
                r[9],
                terms_from_mask(r[22]),
            )
        )
    p = head[0]
    registrations = tuple(
        RegistrationFact(r[10], r[11], r[12], tuple(inactive.get(r[9], ())))
        for r in head
        if r[9] is not None
    )
    return PhysicianFact(
        physician_id, p[0], p[1], p[2], p[3], frozenset(p[4] or ()), p[5],
        mine.get(physician_id, ()), p[7], p[8], registrations, tuple(filings), tuple(facts),
        p[16],
    )  # fmt: skip


def institution_and_owner(
    s: Session, code: str, contract_no: str
) -> tuple[InstitutionFact | None, int | None]:
    """An institution's facts and the physician who holds ``contract_no`` (if anyone), in one
    query: the institution picked for a contract, and whether the number is taken."""
    params = {"code": code, "contract": contract_no}
    row = s.connection().execute(_statements().institution_and_owner, params).first()
    if row is None:
        return None, contract_owner(s, contract_no)
    r = tuple(row)
    listed = listings_of(s, (), [r[0]])[1] if r[7] else None
    return _institution_from(r[:9], listed), r[9]


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
    """Facts of many physicians, read in batches with a few SELECTs each (region sweep)."""
    id_query = select(Physician.id).order_by(Physician.id)
    ids = list(physician_ids) if physician_ids is not None else list(s.scalars(id_query))
    known = institutions if institutions is not None else {}
    for offset in range(0, len(ids), batch):
        chunk = ids[offset : offset + batch]
        yield from _facts_for(s, chunk, known)


def institution_facts(s: Session, ids: Iterable[int] | None = None) -> dict[int, InstitutionFact]:
    """Institution facts by id (all of them, or those in ``ids``), read with Core."""
    if ids is None:
        return institution_facts_where(s, None)
    wanted = set(ids)
    return institution_facts_where(s, Institution.id.in_(wanted)) if wanted else {}


def institution_facts_where(s: Session, condition: Any) -> dict[int, InstitutionFact]:
    query = select(*INSTITUTION_FACT_COLUMNS)
    if condition is not None:
        query = query.where(condition)
    rows = s.connection().execute(query).all()
    listed = [r[0] for r in rows if r[7]]
    found = listings_of(s, (), listed)[1] if listed else None
    return {r[0]: _institution_from(r, found) for r in rows}


def _facts_for(
    s: Session, ids: list[int], institutions: dict[int, InstitutionFact]
) -> Iterator[PhysicianFact]:
    people = s.execute(
        select(
            Physician.id,
            Physician.cert_no,
            Physician.name,
            Physician.level,
            Physician.category,
            Physician.scopes,
            Physician.title,
            PHYSICIAN_LISTED,
            Physician.practising_since,
            Physician.failed_assessment_on,
            Physician.profession,
        ).where(Physician.id.in_(ids))
    ).all()
    regs: dict[int, list[Any]] = defaultdict(list)
    reg_rows = s.execute(
        select(
            Registration.id,
            Registration.physician_id,
            Registration.region_code,
            Registration.main_institution_id,
            Registration.registered_on,
        ).where(Registration.physician_id.in_(ids))
    ).all()
    reg_ids = [r[0] for r in reg_rows]
    events: dict[int, list[Inactivity]] = defaultdict(list)
    filings: dict[int, list[FilingFact]] = defaultdict(list)
    if reg_ids:
        for reg_id, status, on, until in s.execute(
            select(
                RegistrationEvent.registration_id,
                RegistrationEvent.status,
                RegistrationEvent.on,
                RegistrationEvent.until,
            ).where(
                RegistrationEvent.registration_id.in_(reg_ids),
                RegistrationEvent.status.in_(("suspended", "cancelled")),
            )
        ):
            events[reg_id].append(Inactivity(status, on, until))
        owner = {r[0]: r[1] for r in reg_rows}
        for reg_id, inst, scope_, start, end, ended in s.execute(
            select(
                Filing.registration_id,
                Filing.institution_id,
                Filing.scope,
                Filing.valid_from,
                Filing.valid_to,
                Filing.ended_on,
            ).where(Filing.registration_id.in_(reg_ids))
        ):
            filings[owner[reg_id]].append(FilingFact(inst, scope_, start, end, ended))
    for reg_id, pid, region_code, main_id, registered_on in reg_rows:
        regs[pid].append(
            RegistrationFact(region_code, main_id, registered_on, tuple(events.get(reg_id, ())))
        )
    slots: dict[int, list[Slot]] = defaultdict(list)
    agreements_rows = s.execute(
        select(
            Agreement.id,
            Agreement.physician_id,
            Agreement.contract_no,
            Agreement.institution_id,
            Agreement.role,
            Agreement.department,
            Agreement.start,
            Agreement.end,
            Agreement.terminated_on,
            Agreement.weekly_hours,
            Agreement.consent,
            Agreement.status,
            missing_terms_mask(),
        ).where(Agreement.physician_id.in_(ids))
    ).all()
    for agreement_id, weekday, start_minute, end_minute in s.execute(
        select(
            WorkSession.agreement_id,
            WorkSession.weekday,
            WorkSession.start_minute,
            WorkSession.end_minute,
        )
        .where(WorkSession.physician_id.in_(ids))
        .order_by(WorkSession.id)
    ):
        slots[agreement_id].append(Slot(weekday, start_minute, end_minute))
    missing = {row[3] for row in agreements_rows} - institutions.keys()
    if missing:
        institutions.update(institution_facts(s, missing))
    agreements: dict[int, list[AgreementFact]] = defaultdict(list)
    for row in agreements_rows:
        aid, pid, no, inst, role, dept, start, end, terminated, hours, consent_, status, mask = row
        effective = terminated if terminated is not None and terminated < end else end
        agreements[pid].append(
            AgreementFact(
                aid,
                no,
                institutions[inst],
                role,
                dept,
                start,
                effective,
                hours or 0.0,
                consent_,
                tuple(slots.get(aid, ())),
                status,
                terms_from_mask(mask),
            )
        )
    listed = [person[0] for person in people if person[7]]
    listings = listings_of(s, listed)[0] if listed else {}
    for person in people:
        r: tuple[Any, ...] = tuple(person)
        pid = r[0]
        yield PhysicianFact(
            pid,
            r[1],
            r[2],
            r[3],
            r[4],
            frozenset(r[5] or ()),
            r[6],
            listings.get(pid, ()),
            r[8],
            r[9],
            tuple(regs.get(pid, ())),
            tuple(filings.get(pid, ())),
            tuple(agreements.get(pid, ())),
            r[10],
        )


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
