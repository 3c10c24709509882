"""The registry's tables as typed SQLAlchemy 2 models.

Aggregates: the regions; an institution (医疗机构); a physician (医师) with registrations
(注册), their dated status history and filings (备案) with theirs; the credit register
(失信/黑名单 listings, 不良执业行为记分); agreements (合同/协议) with their weekly
sessions (排班); the per-region policy (规则参数); holidays; feed tokens; the audit log.
The schema itself changes only through Alembic revisions in ``db/``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: every stored time is UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


# --- regions and institutions -------------------------------------------------------------


class Region(Base):
    """执业地点 / 行政区划: a GB/T 2260 six-digit code. Province = first two digits."""

    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(8))  # province / city / county


class Institution(Base):
    """医疗机构, keyed by its 统一社会信用代码."""

    __tablename__ = "institution"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    beds: Mapped[int] = mapped_column(Integer, default=0)
    departments: Mapped[list[str]] = mapped_column(default=list)
    grassroots: Mapped[bool] = mapped_column(Boolean, default=False)
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    address: Mapped[str] = mapped_column(String(256), default="")
    makeup_follows: Mapped[int | None] = mapped_column(SmallInteger, default=None)  # 调休 policy
    licensed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


REPORT_INDEX = (
    *("code", "valid_from", "valid_until", "policy_key", "name", "kind", "beds", "county_code"),
    *("required", "counted", "contributors", "next_validation", "risk_count", "risk_from"),
    "title_short",
    *("nurse_required", "nurse_counted"),
)


class BaseCache(Base):
    """Derived data: the last validation base (医师基数) computed for an institution.

    A row holds for the dates ``[valid_from, valid_until]`` (nothing on record changes it in
    between) unless ``base_stale`` marks it: triggers (revision 0005) add a mark whenever
    anything it depends on is written. Not registry data: no audit rows.
    """

    __tablename__ = "base_cache"
    institution_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("institution.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    valid_from: Mapped[dt.date | None] = mapped_column(Date, default=None)
    valid_until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    policy_key: Mapped[str | None] = mapped_column(String(64), default=None)
    # the institution's columns the report shows, copied so the report reads one table
    code: Mapped[str | None] = mapped_column(String(18), default=None)
    name: Mapped[str | None] = mapped_column(String(128), default=None)
    kind: Mapped[str | None] = mapped_column(String(16), default=None)
    beds: Mapped[int | None] = mapped_column(Integer, default=None)
    county_code: Mapped[str | None] = mapped_column(String(6), default=None)
    required: Mapped[float | None] = mapped_column(Float, default=None)
    counted: Mapped[float | None] = mapped_column(Float, default=None)
    contributors: Mapped[int | None] = mapped_column(Integer, default=None)
    next_validation: Mapped[dt.date | None] = mapped_column(Date, default=None)
    risk_count: Mapped[int | None] = mapped_column(Integer, default=None)
    risk_from: Mapped[dt.date | None] = mapped_column(Date, default=None)
    title_short: Mapped[str | None] = mapped_column(String(64), default=None)
    nurse_required: Mapped[float | None] = mapped_column(Float, default=None)
    nurse_counted: Mapped[float | None] = mapped_column(Float, default=None)
    # the JSON document as `base --json` prints it, UTF-8, LZ4-compressed by the client (its
    # size first: :func:`multisite.storage.validation_base.pack`); PostgreSQL stores it
    # as it is (STORAGE EXTERNAL, revision 0015): nothing to decompress on the server
    packed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    __table_args__ = (
        # the report reads this index alone, in code order: all its columns are here
        Index("ix_base_cache_report", *REPORT_INDEX),
    )


class BaseStale(Base):
    """A mark written by a trigger: the institution's stored base (all, when None) is stale."""

    __tablename__ = "base_stale"
    id: Mapped[int] = mapped_column(primary_key=True)
    institution_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)


class SweepCache(Base):
    """Derived data: a physician the whole-region sweep flagged for the full rules under the
    fingerprint in ``sweep_key``; a physician absent here was cleared. ``sweep_stale`` marks
    (triggers, revision 0014) say whose verdict is stale. Not registry data: no audit rows."""

    __tablename__ = "sweep_cache"
    physician_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("physician.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )


class SweepKey(Base):
    """The one row saying what the verdicts in ``sweep_cache`` were reached under."""

    __tablename__ = "sweep_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(64))


class SweepStale(Base):
    """A mark written by a trigger: the physician's verdict in ``sweep_cache`` is stale."""

    __tablename__ = "sweep_stale"
    id: Mapped[int] = mapped_column(primary_key=True)
    physician_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)


class TravelBuffer(Base):
    """A travel buffer between two institutions overriding the region's default."""

    __tablename__ = "travel_buffer"
    institution_a: Mapped[int] = mapped_column(ForeignKey("institution.id"), primary_key=True)
    institution_b: Mapped[int] = mapped_column(ForeignKey("institution.id"), primary_key=True)
    minutes: Mapped[int] = mapped_column(Integer)


class StaffingMinimum(Base):
    """医疗机构基本标准: the minimum physicians for an institution kind, per region (editable)."""

    __tablename__ = "staffing_minimum"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    kind: Mapped[str] = mapped_column(String(16))
    min_physicians: Mapped[float] = mapped_column(Float, default=0)
    per_bed: Mapped[float] = mapped_column(Float, default=0)
    title_minimum: Mapped[dict[str, Any]] = mapped_column(default=dict)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(Text, default="")
    # the kind's nurse minimum: max(min_nurses, nurses_per_physician × physicians counted)
    min_nurses: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    nurses_per_physician: Mapped[float] = mapped_column(Float, default=0, server_default="0")
    nurse_confirmed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    nurse_source: Mapped[str] = mapped_column(Text, default="", server_default="")
    __table_args__ = (UniqueConstraint("region_code", "kind"),)


class VocabularyChange(Base):
    """A region's change to an editable vocabulary (词表): a value added to or removed from
    ``scopes.<category>`` or ``kinds``. Append-only; applied in order over the shipped lists."""

    __tablename__ = "vocabulary_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), ForeignKey("region.code"), index=True)
    list: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(32))
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


# --- physicians, registrations, filings ------------------------------------------------------


class Physician(Base):
    """A practitioner: 医师, keyed by the 15-digit 执业证书编码, or 护士 (``profession`` nurse),
    keyed by the 12-digit 护士执业证书编号 (no category or scopes; ``level`` 注册护士). The
    national ID is only kept as a keyed hash."""

    __tablename__ = "physician"
    id: Mapped[int] = mapped_column(primary_key=True)
    cert_no: Mapped[str] = mapped_column(String(15), unique=True)
    profession: Mapped[str] = mapped_column(
        String(12), default="physician", server_default="physician"
    )
    name: Mapped[str] = mapped_column(String(64))
    initials: Mapped[str] = mapped_column(String(32), index=True)  # pinyin initials for search
    level: Mapped[str] = mapped_column(String(16))  # 执业医师 / 执业助理医师
    category: Mapped[str] = mapped_column(String(8))  # 临床 / 中医 / 口腔 / 公共卫生
    scopes: Mapped[list[str]] = mapped_column(default=list)
    title: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="registered")
    id_digest: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    # the national ID as shown (330106********1231): first six and last four characters only
    id_masked: Mapped[str | None] = mapped_column(String(18), default=None)
    practising_since: Mapped[dt.date | None] = mapped_column(Date, default=None)
    failed_assessment_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    registrations: Mapped[list[Registration]] = relationship(
        back_populates="physician", order_by="Registration.id"
    )
    agreements: Mapped[list[Agreement]] = relationship(
        back_populates="physician", order_by="Agreement.id"
    )
    __table_args__ = (
        # the public search by name prefix: a range on SQLite (code-point order), LIKE 'p%' on
        # PostgreSQL, whose text_pattern_ops index serves it whatever the database's collation
        Index("ix_physician_name", "name", postgresql_ops={"name": "text_pattern_ops"}),
    )


class Registration(Base):
    """执业注册: physician × region with its main institution (主要执业机构)."""

    __tablename__ = "registration"
    id: Mapped[int] = mapped_column(primary_key=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"), index=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    main_institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    registered_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="registered")

    physician: Mapped[Physician] = relationship(back_populates="registrations")
    events: Mapped[list[RegistrationEvent]] = relationship(
        back_populates="registration", order_by="RegistrationEvent.id"
    )
    filings: Mapped[list[Filing]] = relationship(order_by="Filing.id")
    __table_args__ = (UniqueConstraint("physician_id", "region_code"),)


class RegistrationEvent(Base):
    """One dated step of a registration's history: registered, changed, suspended, cancelled.

    A suspension has ``until`` (inclusive); a cancellation holds from ``on`` for good.
    """

    __tablename__ = "registration_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    on: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="events")


class Filing(Base):
    """备案 of a further institution under a registration: one period of validity, with scope,
    the authority that accepted it, its date and number, and its history (``FilingEvent``).

    Filed, then extended or renewed in place while it is not ended; ``ended_on`` (a decision,
    撤销, or the practice there ending) closes it for good: a renewal after that is a new row.
    """

    __tablename__ = "filing"
    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    scope: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(Text, default="", server_default="")
    filed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    number: Mapped[str] = mapped_column(String(64), default="", server_default="")
    ended_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    end_reason: Mapped[str] = mapped_column(Text, default="", server_default="")

    events: Mapped[list[FilingEvent]] = relationship(
        back_populates="filing", order_by="FilingEvent.id", cascade="all, delete-orphan"
    )


class FilingEvent(Base):
    """One step of a filing's history: filed, extended, renewed, ended — with the validity it
    left, who accepted it and, when a contract's save did it, that contract."""

    __tablename__ = "filing_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("filing.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(12))  # filed / extended / renewed / ended
    on: Mapped[dt.date] = mapped_column(Date)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(Text, default="")
    number: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    contract_no: Mapped[str | None] = mapped_column(String(64), default=None)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    filing: Mapped[Filing] = relationship(back_populates="events")


# --- the credit register (诚信/黑名单) --------------------------------------------------------


class CreditListing(Base):
    """失信/黑名单: a dated listing of a physician or an institution (exactly one of the two),
    from ``start`` to ``until`` (inclusive; None: open), with the reason, the deciding
    authority and its decision number. CREDIT applies to the days it covers, nothing before."""

    __tablename__ = "credit_listing"
    id: Mapped[int] = mapped_column(primary_key=True)
    physician_id: Mapped[int | None] = mapped_column(
        ForeignKey("physician.id"), index=True, default=None
    )
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institution.id"), index=True, default=None
    )
    start: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date, default=None)
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (
        CheckConstraint(
            "(physician_id IS NULL) <> (institution_id IS NULL)", name="ck_credit_listing_subject"
        ),
    )


class CreditPoints(Base):
    """不良执业行为记分: points recorded against a physician on a day, with the reason and the
    authority. Shown beside the listings; no rule reads them."""

    __tablename__ = "credit_points"
    id: Mapped[int] = mapped_column(primary_key=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"), index=True)
    on: Mapped[dt.date] = mapped_column(Date)
    points: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    authority: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(64), default="")
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# --- agreements and their weekly sessions ---------------------------------------------------


class Agreement(Base):
    """合同/协议 between a physician and an institution: period, hours, sessions, terms."""

    __tablename__ = "agreement"
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(64), unique=True)
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"), index=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    role: Mapped[str] = mapped_column(String(12))  # primary / additional
    department: Mapped[str] = mapped_column(String(32))
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)
    weekly_hours: Mapped[float] = mapped_column(Float, default=0)
    consent: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # The terms seed 004 names (工作任务、医疗责任、薪酬、相关保险、人事关系), verbatim.
    tasks: Mapped[str] = mapped_column(Text, default="", server_default="")
    liability: Mapped[str] = mapped_column(Text, default="")
    pay: Mapped[str] = mapped_column(Text, default="")
    insurance: Mapped[str] = mapped_column(Text, default="")
    employment: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(12), default="active")
    terminated_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    # The sessions as canonical text (schedule.slots_text), kept in step with work_session
    # by every writer so the region sweep compares patterns without reading session rows.
    pattern: Mapped[str | None] = mapped_column(Text, default=None)
    # Sum of the sessions' minutes, kept with the pattern (validation base without sessions).
    weekly_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    physician: Mapped[Physician] = relationship(back_populates="agreements")
    institution: Mapped[Institution] = relationship()
    __table_args__ = (
        Index(
            "ix_agreement_in_force",
            *("institution_id", "physician_id", "start", "end", "terminated_on"),
            *("weekly_minutes", "role", "status"),
        ),
    )
    sessions: Mapped[list[WorkSession]] = relationship(
        back_populates="agreement", order_by="WorkSession.id", cascade="all, delete-orphan"
    )

    @property
    def effective_end(self) -> dt.date:
        """The last day the agreement is in force (termination moves it earlier)."""
        if self.terminated_on is not None and self.terminated_on < self.end:
            return self.terminated_on
        return self.end


class WorkSession(Base):
    """排班: one weekly slot of an agreement (end ≤ start means it ends the next day).

    ``physician_id``, ``start_date`` and ``end_date`` repeat the agreement's values so that the
    region sweep and the PostgreSQL exclusion guard read sessions without a join.
    """

    __tablename__ = "work_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreement.id", ondelete="CASCADE"))
    physician_id: Mapped[int] = mapped_column(ForeignKey("physician.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"))
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    revision: Mapped[int] = mapped_column(Integer, default=0)

    agreement: Mapped[Agreement] = relationship(back_populates="sessions")
    __table_args__ = (
        Index("ix_work_session_physician", "physician_id"),
        Index("ix_work_session_agreement", "agreement_id"),
    )


# --- policy, holidays, feeds, audit ----------------------------------------------------------


class Policy(Base):
    """The rule limits of one region, versioned: the newest version is in force."""

    __tablename__ = "policy"
    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    version: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    __table_args__ = (UniqueConstraint("region_code", "version"),)


class HolidayDay(Base):
    """A clerk-loaded statutory holiday or make-up workday (调休) for a year the package lacks."""

    __tablename__ = "holiday_day"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # holiday / workday
    name: Mapped[str] = mapped_column(String(32), default="")


class FeedToken(Base):
    """A calendar subscription: only the SHA-256 of the secret token is stored."""

    __tablename__ = "feed_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    physician_id: Mapped[int | None] = mapped_column(ForeignKey("physician.id"), default=None)
    institution_id: Mapped[int | None] = mapped_column(ForeignKey("institution.id"), default=None)
    # schedule: the sessions (VEVENT); due: an institution's due items (VTODO)
    kind: Mapped[str] = mapped_column(String(12), default="schedule", server_default="schedule")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)


# --- random inspections (双随机) --------------------------------------------------------------


class Inspector(Base):
    """An inspector on the list the commission keeps (执法检查人员名录); disabled, never
    deleted (past draws name them)."""

    __tablename__ = "inspector"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(128))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("region_code", "name", "unit"),)


class InspectionDraw(Base):
    """One random draw (双随机抽取): its seed, region (None: the whole registry), sizes, who
    drew and when."""

    __tablename__ = "inspection_draw"
    id: Mapped[int] = mapped_column(primary_key=True)
    seed: Mapped[str] = mapped_column(String(32))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), default=None)
    institutions: Mapped[int] = mapped_column(Integer)
    inspectors: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    drawn_by: Mapped[str] = mapped_column(String(64))


class Inspection(Base):
    """An institution drawn, the inspectors drawn for it, and the result once recorded."""

    __tablename__ = "inspection"
    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("inspection_draw.id"))
    institution_id: Mapped[int] = mapped_column(ForeignKey("institution.id"), index=True)
    inspector_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    inspected_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    outcome: Mapped[str | None] = mapped_column(String(16), default=None)
    findings: Mapped[str] = mapped_column(Text, default="", server_default="")
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    recorded_by: Mapped[str | None] = mapped_column(String(64), default=None)
    __table_args__ = (UniqueConstraint("draw_id", "institution_id"),)


class AuditEntry(Base):
    """Who changed what, when, with the entity's state before and after.

    Append-only and hash-chained (revision 0011): ``chain`` is the SHA-256 of the previous
    row's ``chain`` and this row's canonical content (``storage.audit.chain_hash``); ids are
    given in chain order under the lock of ``audit_head``. ``clerk`` is the clerk the write
    acted as, ``principal`` who authenticated (the OS user or the PostgreSQL role) when an
    admin acted as another clerk.
    """

    __tablename__ = "audit_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    clerk: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_key: Mapped[str] = mapped_column(String(64), index=True)
    physician_cert: Mapped[str | None] = mapped_column(String(15), index=True, default=None)
    institution_code: Mapped[str | None] = mapped_column(String(18), index=True, default=None)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    principal: Mapped[str | None] = mapped_column(String(64), default=None)
    chain: Mapped[str | None] = mapped_column(String(64), default=None)


class AuditHead(Base):
    """The audit chain's end: the last row's id and hash (one row, ``id`` 1). Every append
    locks it, so chain appends are serialised inside the writing transactions; ``audit
    verify`` compares it with the last row (rows cut off the end are caught)."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")


class Clerk(Base):
    """A clerk (登记窗口) of the registry: the name they authenticate as (the OS user on SQLite,
    the database role on PostgreSQL), their region (a province, city or county code; None: the
    whole registry) and role: ``clerk`` writes physicians and institutions of the region,
    ``supervisor`` reads everything and runs reports, ``admin`` also edits policy, staffing,
    vocabularies and clerks."""

    __tablename__ = "clerk"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(6), default=None)
    role: Mapped[str] = mapped_column(String(12))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64), default="")
