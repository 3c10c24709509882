"""The service layer: every read and write of the CLI, the TUI, import and the feed.

Each write is one transaction that checks its input, runs the rules (``rules.py``) on the
physician as the write would leave them, refuses the write when it would create an error,
and records an audit row (clerk, time, entity, before, after) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import getpass
import multiprocessing
import os
import threading
import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy.exc import IntegrityError

from . import identifiers as ids
from . import rules
from .facts import AgreementFact, PhysicianFact
from .holidays import HolidayCalendar, HolidayDay
from .i18n import _
from .models import (
    Agreement,
    AuditEntry,
    Filing,
    Institution,
    Physician,
    Policy,
    Region,
    Registration,
    RegistrationEvent,
    StaffingMinimum,
    WorkSession,
    utcnow,
)
from .policy import Policy as PolicyValues
from .policy import defaults
from .schedule import Slot, slots_text
from .staffing import StaffingError, check_values, staffing_source, staffing_table
from .storage import Database
from .storage import queries as q
from .storage import sweep as sweep_queries
from .sweep import Sweeper, candidates
from .sweep import evaluate as evaluate_quickly
from .vocabulary import CATEGORIES, INSTITUTION_KINDS, LEVELS, ROLES, SCOPES, TITLES


class ServiceError(Exception):
    """Bad input or an impossible request: one sentence naming the field and the rule."""


class RefusedError(ServiceError):
    """The write would create rule errors; nothing was stored."""

    def __init__(self, violations: Sequence[rules.Violation]) -> None:
        self.violations = list(violations)
        errors = [v for v in violations if v.severity == rules.ERROR]
        super().__init__(
            _("Refused: {code}: {message}").format(code=errors[0].code, message=errors[0].message)
        )


CONTEXT_TTL = 30.0


def require_region_code(code: str) -> None:
    """A GB/T 2260 six-digit code, or one sentence saying it is not."""
    if not ids.region_code_ok(code):
        raise ServiceError(
            _("Region code {code} is not a six-digit GB/T 2260 code.").format(code=code)
        )


def clerk_name(explicit: str | None = None) -> str:
    """``--clerk`` first, then ``MULTISITE_CLERK``, then the OS user."""
    if explicit:
        return explicit
    env = os.environ.get("MULTISITE_CLERK")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no user name on this system
        return "unknown"


def initials(name: str) -> str:
    """Pinyin initials of a Chinese name (张伟 → zw), for search."""
    # Imported here: pypinyin's dictionaries take ~55 MB, which only name writers need.
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()


# --- inputs ------------------------------------------------------------------------------------


@dataclass
class InstitutionInput:
    code: str
    name: str
    kind: str
    county_code: str
    beds: int = 0
    departments: Sequence[str] = ()
    grassroots: bool = False
    address: str = ""
    dishonest: bool = False
    makeup_follows: int | None = None
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class PhysicianInput:
    cert_no: str
    name: str
    level: str
    category: str
    scopes: Sequence[str]
    title: str
    region_code: str
    main_institution: str  # credit code
    registered_on: dt.date
    status: str = "registered"
    id_number: str | None = None
    practising_since: dt.date | None = None
    dishonest: bool = False
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass
class AgreementInput:
    contract_no: str
    physician: str  # certificate number
    institution: str  # credit code
    role: str
    department: str
    start: dt.date
    end: dt.date
    slots: Sequence[Slot]
    weekly_hours: float = 0.0
    consent: bool | None = None
    liability: str = ""
    pay: str = ""
    insurance: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResult:
    outcome: str  # created / updated / unchanged
    key: str
    warnings: list[rules.Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- snapshots for the audit -------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


SKIP_IN_AUDIT = {"id_digest", "updated_at", "warnings"}


def snapshot(entity: Any) -> dict[str, Any]:
    data = {
        column.key: _plain(getattr(entity, column.key))
        for column in entity.__table__.columns
        if column.key not in SKIP_IN_AUDIT
    }
    if isinstance(entity, Agreement):
        data["sessions"] = [str(q.slot_of(x)) for x in entity.sessions]
    return data


# --- the service -------------------------------------------------------------------------------


class Registry:
    """The registry of one regional health commission."""

    def __init__(self, db: Database, clerk: str | None = None) -> None:
        self.db = db
        self.clerk = clerk_name(clerk)
        self._context: tuple[float, rules.RuleContext] | None = None
        self._quick: Sweeper | None = None

    # -- shared helpers --

    def _audit(
        self,
        s: Any,
        action: str,
        entity: str,
        key: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        *,
        physician: str | None = None,
        institution: str | None = None,
    ) -> None:
        s.add(
            AuditEntry(
                at=utcnow(),
                clerk=self.clerk,
                action=action,
                entity=entity,
                entity_key=key,
                physician_cert=physician,
                institution_code=institution,
                before=before,
                after=after,
            )
        )

    def policy(self, region_code: str | None = None) -> PolicyValues:
        """The policy in force: defaults with the newest stored version applied."""
        with self.db.read() as s:
            if region_code:  # a region's own, else the defaults (never another region's)
                row = q.policy_rows(s, region_code)[-1:]
            else:  # the registry's newest, as the region-wide rules apply it
                row = [r] if (r := q.latest_policy(s)) else []
            if not row:
                return defaults()
            return dataclass_replace_version(defaults().with_values(row[0].values), row[0].version)

    @cached_property
    def _buffers(self) -> dict[tuple[int, int], int]:
        with self.db.read() as s:
            return q.travel_buffers(s)

    def holiday_calendar(self) -> HolidayCalendar:
        with self.db.read() as s:
            loaded = [HolidayDay(d.day, d.kind, d.name) for d in q.holiday_days(s)]  # type: ignore[arg-type]
        return HolidayCalendar(loaded)

    def rule_context(
        self, policy: PolicyValues | None = None, calendar: HolidayCalendar | None = None
    ) -> rules.RuleContext:
        """Policy, travel buffers and holiday data for the rules.

        Without arguments the context is cached for ``CONTEXT_TTL`` seconds (a long-running
        TUI sees another clerk's policy change within that time; this registry's own policy
        and holiday writes drop the cache at once).
        """
        now = time.monotonic()
        if policy is None and calendar is None and self._context is not None:
            made, cached = self._context
            if now - made < CONTEXT_TTL:
                return cached
        policy = policy or self.policy()
        buffers = self._buffers
        calendar = calendar or self.holiday_calendar()

        def buffer(a: Hashable, b: Hashable) -> int:
            return buffers.get((a, b), policy.travel_buffer_minutes)  # type: ignore[arg-type]

        context = rules.RuleContext(policy, buffer, calendar.unknown_years_between)
        self._context = (now, context)
        self._quick = Sweeper(context, {}, set(buffers), calendar.known)
        return context

    def evaluate(self, facts: PhysicianFact) -> list[rules.Violation]:
        """Every violation of ``facts`` under the policy in force (``rules.evaluate``, with the
        sweep's sound shortcut: facts that provably break nothing are not evaluated)."""
        context = self.rule_context()
        quick = self._quick
        if quick is None or quick.ctx is not context:
            return rules.evaluate(facts, context)
        return evaluate_quickly(facts, quick)

    def forget_context(self) -> None:
        """Drop cached policy, buffers and holidays (after writing any of them)."""
        self._context = None
        self.__dict__.pop("_buffers", None)

    # -- regions and policy --

    def ensure_region(self, code: str, name: str, level: str) -> None:
        require_region_code(code)
        with self.db.write() as s:
            if q.region(s, code) is None:
                s.add(Region(code=code, name=name, level=level))
                self._audit(s, "create", "region", code, None, {"name": name, "level": level})

    def set_policy(self, region_code: str, values: dict[str, Any]) -> PolicyValues:
        """Store a new policy version for a region (only the changed values are kept)."""
        with self.db.write() as s:
            if q.region(s, region_code) is None:
                raise ServiceError(_("Unknown region {code}.").format(code=region_code))
            rows = q.policy_rows(s, region_code)
            merged = dict(rows[-1].values) if rows else {}
            merged.update(values)
            checked = defaults().with_values(merged)
            version = (rows[-1].version if rows else 0) + 1
            s.add(
                Policy(
                    region_code=region_code, version=version, values=merged, created_by=self.clerk
                )
            )
            self._audit(
                s, "update", "policy", region_code, rows[-1].values if rows else None, merged
            )
        self.forget_context()
        return dataclass_replace_version(checked, version)

    # -- the minimum-staffing table (医疗机构基本标准) --

    def region_known(self, code: str) -> bool:
        """A stored region, or a city with a stored county under it."""
        with self.db.read() as s:
            return q.region_known(s, code)

    def staffing(self, region_code: str | None = None) -> list[StaffingMinimum]:
        """The stored rows (a region's replacements for the shipped defaults)."""
        with self.db.read() as s:
            return q.staffing_rows(s, region_code)

    def set_staffing(
        self,
        region_code: str,
        kind: str,
        *,
        min_physicians: float | None = None,
        per_bed: float | None = None,
        title_minimum: dict[str, int] | None = None,
        confirmed: bool | None = None,
        source: str | None = None,
    ) -> StaffingMinimum:
        """Store a region's minimum for an institution kind; values not given keep the row's,
        or for a new row the values that applied there so far (a wider region's or the
        shipped default)."""
        if kind not in INSTITUTION_KINDS:
            raise ServiceError(
                _("Institution kind {kind} is not one of {kinds}.").format(
                    kind=kind, kinds="、".join(INSTITUTION_KINDS)
                )
            )
        given = (min_physicians, per_bed, title_minimum, confirmed, source)
        if all(value is None for value in given):
            raise ServiceError(
                _("Give at least one staffing value to set (a minimum, per bed, a title).")
            )
        try:
            check_values(min_physicians, per_bed, title_minimum)
        except StaffingError as error:
            raise ServiceError(str(error)) from None
        with self.db.write() as s:
            if not q.region_known(s, region_code):
                raise ServiceError(_("Unknown region {code}.").format(code=region_code))
            if q.region(s, region_code) is None:  # a city above stored counties: file it
                s.add(Region(code=region_code, name=region_code, level="city"))
                s.flush()
                self._audit(s, "create", "region", region_code, None, {"level": "city"})
            row = q.staffing_row(s, region_code, kind)
            before = _staffing_dict(row) if row else None
            if row is None:
                stored = staffing_table(q.staffing_rows(s))
                start, _origin = staffing_source(kind, region_code, stored)
                row = StaffingMinimum(
                    region_code=region_code,
                    kind=kind,
                    min_physicians=start.min_physicians if start else 0,
                    per_bed=start.per_bed if start else 0,
                    title_minimum=dict(start.title_minimum) if start else {},
                    confirmed=start.confirmed if start else False,
                    source=start.source if start else "",
                )
                s.add(row)
            if (min_physicians, per_bed, title_minimum) != (None, None, None) and (
                confirmed is None and source is None
            ):  # new values without a word on them: not what the source said any more
                row.confirmed = False
            if min_physicians is not None:
                row.min_physicians = float(min_physicians)
            if per_bed is not None:
                row.per_bed = float(per_bed)
            if title_minimum is not None:
                row.title_minimum = {t: n for t, n in title_minimum.items() if n > 0}
            if confirmed is not None:
                row.confirmed = confirmed
            if source is not None:
                row.source = source
            after = _staffing_dict(row)
            self._audit(s, "update", "staffing", f"{region_code}/{kind}", before, after)
            s.flush()
            return row

    def clear_staffing(self, region_code: str, kind: str) -> None:
        """Drop a region's row for a kind: the next wider region's, or the default, applies."""
        with self.db.write() as s:
            row = q.staffing_row(s, region_code, kind)
            if row is None:
                raise ServiceError(
                    _("Region {code} has no staffing row of its own for {kind}.").format(
                        code=region_code, kind=kind
                    )
                )
            self._audit(s, "delete", "staffing", f"{region_code}/{kind}", _staffing_dict(row), None)
            s.delete(row)

    # -- institutions --

    def file_institution(self, data: InstitutionInput) -> WriteResult:
        code = ids.clean(data.code)
        if not ids.credit_code_shape_ok(code):
            raise ServiceError(
                _("Institution code {code} is not an 18-character 统一社会信用代码.").format(
                    code=data.code
                )
            )
        notes = []
        if not ids.credit_code_checksum_ok(code):
            notes.append(
                _(
                    "Institution code {code} fails the GB 32100 check character (kept, please verify)."
                ).format(code=code)
            )
        if data.kind not in INSTITUTION_KINDS:
            raise ServiceError(
                _("Institution kind {kind} is not one of {kinds}.").format(
                    kind=data.kind, kinds="、".join(INSTITUTION_KINDS)
                )
            )
        require_region_code(data.county_code)
        if data.beds < 0:
            raise ServiceError(_("Beds must be a number ≥ 0."))
        values = {
            "name": data.name.strip(),
            "kind": data.kind,
            "county_code": data.county_code,
            "beds": int(data.beds),
            "departments": list(dict.fromkeys(data.departments)),
            "grassroots": bool(data.grassroots),
            "address": data.address.strip(),
            "dishonest": bool(data.dishonest),
            "makeup_follows": data.makeup_follows,
        }
        if not values["name"]:
            raise ServiceError(_("The institution name is empty."))
        with self.db.write() as s:
            self._ensure_county(s, data.county_code)
            existing = q.institution_by_code(s, code)
            if existing is None:
                inst = Institution(code=code, notes=dict(data.notes), **values)
                s.add(inst)
                s.flush()
                self._audit(
                    s, "create", "institution", code, None, snapshot(inst), institution=code
                )
                return WriteResult("created", code, notes=notes)
            before = snapshot(existing)
            changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
            if not changed:
                return WriteResult("unchanged", code, notes=notes)
            for k, v in changed.items():
                setattr(existing, k, v)
            existing.updated_at = utcnow()
            s.flush()
            self._audit(
                s, "update", "institution", code, before, snapshot(existing), institution=code
            )
            return WriteResult("updated", code, notes=notes)

    def _ensure_county(self, s: Any, county: str) -> None:
        """Known counties are stored as regions; a new code is filed with its province."""
        province = ids.province_of(county)
        for code, level in ((province, "province"), (county, "county")):
            if q.region(s, code) is None:
                s.add(Region(code=code, name=code, level=level if code != province else "province"))
                s.flush()
                self._audit(s, "create", "region", code, None, {"level": level})

    # -- physicians and registrations --

    def register_physician(self, data: PhysicianInput) -> WriteResult:
        cert = ids.clean(data.cert_no)
        if not ids.cert_no_ok(cert):
            raise ServiceError(
                _("Certificate number {cert} is not 15 digits (医师执业证书编码).").format(
                    cert=data.cert_no
                )
            )
        self._check_physician_fields(data)
        digest = None
        if data.id_number:
            number = ids.clean(data.id_number)
            if not ids.id_number_ok(number):
                raise ServiceError(_("The national ID number fails its GB 11643 check character."))
            digest = ids.id_digest(number)
        values = {
            "name": data.name.strip(),
            "initials": initials(data.name),
            "level": data.level,
            "category": data.category,
            "scopes": list(dict.fromkeys(data.scopes)),
            "title": data.title,
            "dishonest": bool(data.dishonest),
            "practising_since": data.practising_since,
        }
        with self.db.write() as s:
            main = q.institution_by_code(s, ids.clean(data.main_institution))
            if main is None:
                raise ServiceError(
                    _("Unknown main institution {code}: file the institution first.").format(
                        code=data.main_institution
                    )
                )
            if not ids.region_contains(data.region_code, main.county_code):
                raise ServiceError(
                    _("Main institution {name} ({county}) lies outside region {region}.").format(
                        name=main.name, county=main.county_code, region=data.region_code
                    )
                )
            self._ensure_region_code(s, data.region_code)
            existing = q.physician_by_cert(s, cert, lock=True)
            if existing is None:
                phys = Physician(cert_no=cert, id_digest=digest, notes=dict(data.notes), **values)
                s.add(phys)
                s.flush()
                reg = Registration(
                    physician_id=phys.id,
                    region_code=data.region_code,
                    main_institution_id=main.id,
                    registered_on=data.registered_on,
                    status="registered",
                )
                s.add(reg)
                s.flush()
                s.add(
                    RegistrationEvent(
                        registration_id=reg.id, status="registered", on=data.registered_on
                    )
                )
                after = snapshot(phys) | {"region": data.region_code, "main_institution": main.code}
                self._audit(
                    s,
                    "create",
                    "physician",
                    cert,
                    None,
                    after,
                    physician=cert,
                    institution=main.code,
                )
                return WriteResult("created", cert)
            before = snapshot(existing)
            changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
            if digest and existing.id_digest != digest:
                changed["id_digest"] = digest
            reg_changed = self._change_main(s, existing, data.region_code, main, data.registered_on)
            if not changed and not reg_changed:
                return WriteResult("unchanged", cert)
            for k, v in changed.items():
                setattr(existing, k, v)
            existing.updated_at = utcnow()
            s.flush()
            self._check_existing_agreements(s, existing)
            self._audit(s, "update", "physician", cert, before, snapshot(existing), physician=cert)
            return WriteResult("updated", cert)

    def _ensure_region_code(self, s: Any, code: str) -> None:
        if q.region(s, code) is None:
            level = "province" if code.endswith("0000") else "county"
            s.add(Region(code=code, name=code, level=level))
            s.flush()
            self._audit(s, "create", "region", code, None, {"level": level})

    def _change_main(
        self, s: Any, phys: Physician, region: str, main: Institution, on: dt.date
    ) -> bool:
        regs = q.registrations_of(s, phys.id)
        reg = next((r for r in regs if r.region_code == region), None)
        if reg is None:
            if any(r.region_code[:2] == region[:2] for r in regs):
                raise ServiceError(_("The physician is already registered in this province."))
            if phys.level == "执业助理医师" and regs:
                raise ServiceError(_("An 执业助理医师 may hold only one registration region."))
            reg = Registration(
                physician_id=phys.id,
                region_code=region,
                main_institution_id=main.id,
                registered_on=on,
                status="registered",
            )
            s.add(reg)
            s.flush()
            s.add(RegistrationEvent(registration_id=reg.id, status="registered", on=on))
            return True
        if reg.main_institution_id == main.id:
            return False
        reg.main_institution_id = main.id
        s.add(RegistrationEvent(registration_id=reg.id, status="changed", on=on, reason=main.code))
        return True

    def _check_physician_fields(self, data: PhysicianInput) -> None:
        if not data.name.strip():
            raise ServiceError(_("The physician's name is empty."))
        if data.level not in LEVELS:
            raise ServiceError(
                _("Level {value} is not 执业医师 or 执业助理医师.").format(value=data.level)
            )
        if data.category not in CATEGORIES:
            raise ServiceError(
                _("Category {value} is not one of {allowed}.").format(
                    value=data.category, allowed="、".join(CATEGORIES)
                )
            )
        allowed = SCOPES[data.category]
        for scope in data.scopes:
            if scope not in allowed:
                raise ServiceError(
                    _("Scope {scope} does not belong to category {category}.").format(
                        scope=scope, category=data.category
                    )
                )
        if not data.scopes:
            raise ServiceError(_("A physician needs at least one scope (执业范围)."))
        if data.title not in TITLES:
            raise ServiceError(
                _("Title {value} is not one of {allowed}.").format(
                    value=data.title, allowed="、".join(TITLES)
                )
            )
        require_region_code(data.region_code)
        province = data.region_code.endswith("0000")
        if data.level == "执业医师" and not province:
            raise ServiceError(
                _("An 执业医师 registers for a province: use a code ending in 0000.")
            )
        if data.level == "执业助理医师" and data.region_code.endswith("00"):
            raise ServiceError(_("An 执业助理医师 registers for a county: use a county code."))

    def _check_existing_agreements(self, s: Any, phys: Physician) -> None:
        """After changing a physician's facts, their agreements must still be free of errors."""
        facts = q.physician_fact(s, phys)
        errors = [
            v for v in rules.evaluate(facts, self.rule_context()) if v.severity == rules.ERROR
        ]
        if errors:
            raise RefusedError(errors)

    def _registration(self, s: Any, cert: str) -> tuple[Physician, Registration]:
        phys = q.physician_by_cert(s, ids.clean(cert), lock=True)
        if phys is None:
            raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
        regs = q.registrations_of(s, phys.id)
        if not regs:
            raise ServiceError(_("Physician {cert} has no registration.").format(cert=cert))
        return phys, regs[0]

    def suspend_registration(
        self, cert: str, start: dt.date, until: dt.date, reason: str
    ) -> WriteResult:
        """暂停: the registration allows no practice from ``start`` to ``until`` (inclusive)."""
        if until < start:
            raise ServiceError(
                _("The suspension ends on {until}, before it starts on {start}.").format(
                    until=until.isoformat(), start=start.isoformat()
                )
            )
        if not reason.strip():
            raise ServiceError(_("A suspension needs a reason."))
        return self._stop_practice(cert, "suspended", "suspend", start, until, reason)

    def cancel_registration(self, cert: str, on: dt.date, reason: str) -> WriteResult:
        """注销: the registration allows no practice from ``on`` for good."""
        if not reason.strip():
            raise ServiceError(_("A cancellation needs a reason."))
        return self._stop_practice(cert, "cancelled", "cancel", on, None, reason)

    def _stop_practice(
        self,
        cert: str,
        status: str,
        action: str,
        start: dt.date,
        until: dt.date | None,
        reason: str,
    ) -> WriteResult:
        """Record a suspension (with ``until``) or a cancellation of the registration."""
        with self.db.write() as s:
            phys, reg = self._registration(s, cert)
            if reg.status == "cancelled":
                raise ServiceError(_("The registration of {cert} is cancelled.").format(cert=cert))
            before = {"status": reg.status}
            s.add(
                RegistrationEvent(
                    registration_id=reg.id, status=status, on=start, until=until, reason=reason
                )
            )
            reg.status = status
            phys.status = status
            after = {"status": status, "from": start.isoformat(), "reason": reason}
            if until is not None:
                after["until"] = until.isoformat()
            self._audit(
                s, action, "registration", phys.cert_no, before, after, physician=phys.cert_no
            )
            return WriteResult("updated", phys.cert_no)

    # -- agreements --

    def _agreement_fact(
        self, s: Any, data: AgreementInput, *, lock: bool = False
    ) -> tuple[PhysicianFact, AgreementFact]:
        """Check an agreement's fields; returns the physician's facts (read after taking the
        physician's lock when ``lock``) and the agreement's facts."""
        contract = data.contract_no.strip()
        if not contract:
            raise ServiceError(_("The contract number is empty."))
        cert = ids.clean(data.physician)
        if lock and q.lock_physician_by_cert(s, cert) is None:
            raise ServiceError(_("Unknown physician {cert}.").format(cert=data.physician))
        physician = q.physician_fact_by_cert(s, cert)
        if physician is None:
            raise ServiceError(_("Unknown physician {cert}.").format(cert=data.physician))
        institution, owner = q.institution_and_owner(s, ids.clean(data.institution), contract)
        if institution is None:
            raise ServiceError(_("Unknown institution {code}.").format(code=data.institution))
        if data.role not in ROLES:
            raise ServiceError(
                _("Role {role} is not primary or additional.").format(role=data.role)
            )
        if data.start > data.end:
            raise ServiceError(
                _("The agreement starts on {start}, after it ends on {end} (PERIOD).").format(
                    start=data.start.isoformat(), end=data.end.isoformat()
                )
            )
        if data.weekly_hours < 0 or data.weekly_hours > 168:
            raise ServiceError(_("Contracted weekly hours must lie between 0 and 168."))
        fact = AgreementFact(
            None, contract, institution, data.role, data.department.strip(), data.start,
            data.end, float(data.weekly_hours), data.consent, tuple(data.slots),
        )  # fmt: skip
        if owner is not None and owner != physician.id:
            raise ServiceError(
                _("Contract {contract} belongs to another physician.").format(contract=contract)
            )
        return physician, fact

    def preview_agreement(self, data: AgreementInput) -> list[rules.Violation]:
        """The violations filing ``data`` would create, without storing anything."""
        with self.db.read() as s:
            facts, fact = self._agreement_fact(s, data)
            after = facts.with_agreement(fact)
            return rules.touching(self.evaluate(after), fact.contract_no)

    def save_agreement(self, data: AgreementInput) -> WriteResult:
        """File a new agreement or change a stored one (``contract_no`` is the key)."""
        try:
            return self._save_agreement(data)
        except IntegrityError as error:
            # Only a race gets here: another clerk committed the same new contract number
            # between our check and our insert, or (PostgreSQL) the exclusion guard of
            # revision 0004 caught a double booking the rules did not see.
            raise ServiceError(
                _(
                    "Contract {contract} could not be stored: another clerk changed the same "
                    "data at the same moment; nothing was stored, try again."
                ).format(contract=data.contract_no.strip())
            ) from error

    def _save_agreement(self, data: AgreementInput) -> WriteResult:
        with self.db.write() as s:
            before_facts, fact = self._agreement_fact(s, data, lock=True)
            physician_id = before_facts.id
            phys = s.get(Physician, physician_id)
            inst = s.get(Institution, fact.institution.id)
            assert phys is not None and inst is not None
            existing = q.agreement_by_contract(s, fact.contract_no)
            if existing is not None and existing.physician_id != physician_id:
                # Re-checked under the lock: another clerk may have filed this number for
                # another physician after _agreement_fact looked.
                raise ServiceError(
                    _("Contract {contract} belongs to another physician.").format(
                        contract=fact.contract_no
                    )
                )
            if existing is not None and existing.status == "terminated":
                raise ServiceError(
                    _("Contract {contract} is terminated and cannot be changed.").format(
                        contract=fact.contract_no
                    )
                )
            after = before_facts.with_agreement(fact)
            found = rules.touching(self.evaluate(after), fact.contract_no)
            errors = [v for v in found if v.severity == rules.ERROR]
            if errors:
                raise RefusedError(errors)
            warnings = [v for v in found if v.severity == rules.WARNING]
            values = {
                "institution_id": inst.id,
                "role": fact.role,
                "department": fact.department,
                "start": fact.start,
                "end": fact.end,
                "weekly_hours": fact.weekly_hours,
                "consent": fact.consent,
                "liability": data.liability,
                "pay": data.pay,
                "insurance": data.insurance,
                "pattern": slots_text(fact.slots),
                "weekly_minutes": fact.scheduled_minutes,
            }
            stored_warnings = [v.as_json() for v in warnings]
            if existing is None:
                agreement = Agreement(
                    contract_no=fact.contract_no,
                    physician_id=phys.id,
                    status="active",
                    warnings=stored_warnings,
                    notes=dict(data.notes),
                    **values,
                )
                agreement.sessions = self._sessions(phys.id, inst.id, fact, revision=0)
                s.add(agreement)
                s.flush()
                self._file_for(s, phys, inst, fact)
                self._audit(
                    s,
                    "create",
                    "agreement",
                    fact.contract_no,
                    None,
                    snapshot(agreement),
                    physician=phys.cert_no,
                    institution=inst.code,
                )
                return WriteResult("created", fact.contract_no, warnings)
            before = snapshot(existing)
            slots_now = tuple(q.slot_of(x) for x in existing.sessions)
            changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
            if not changed and slots_now == fact.slots:
                return WriteResult("unchanged", fact.contract_no, warnings)
            for k, v in changed.items():
                setattr(existing, k, v)
            existing.revision += 1
            existing.warnings = stored_warnings
            existing.updated_at = utcnow()
            existing.sessions = self._sessions(phys.id, inst.id, fact, revision=existing.revision)
            s.flush()
            self._file_for(s, phys, inst, fact)
            self._audit(
                s,
                "update",
                "agreement",
                fact.contract_no,
                before,
                snapshot(existing),
                physician=phys.cert_no,
                institution=inst.code,
            )
            return WriteResult("updated", fact.contract_no, warnings)

    @staticmethod
    def _sessions(
        physician_id: int, institution_id: int, fact: AgreementFact, revision: int
    ) -> list[WorkSession]:
        return [
            WorkSession(
                physician_id=physician_id,
                institution_id=institution_id,
                weekday=slot.weekday,
                start_minute=slot.start,
                end_minute=slot.end,
                start_date=fact.start,
                end_date=fact.end,
                revision=revision,
            )
            for slot in fact.slots
        ]

    def _file_for(self, s: Any, phys: Physician, inst: Institution, fact: AgreementFact) -> None:
        """备案: an additional institution is filed under the registration for the period."""
        if fact.role != "additional":
            return
        regs = q.registrations_of(s, phys.id)
        reg = next((r for r in regs if ids.region_contains(r.region_code, inst.county_code)), None)
        if reg is None:
            return
        for filing in reg.filings:
            if filing.institution_id == inst.id:
                if filing.valid_from > fact.start or filing.valid_to < fact.end:
                    filing.valid_from = min(filing.valid_from, fact.start)
                    filing.valid_to = max(filing.valid_to, fact.end)
                return
        s.add(
            Filing(
                registration_id=reg.id,
                institution_id=inst.id,
                scope=fact.department,
                valid_from=fact.start,
                valid_to=fact.end,
            )
        )

    def terminate_agreement(self, contract_no: str, on: dt.date, reason: str) -> WriteResult:
        """End an agreement on ``on`` (its last day); its series ends there in every export."""
        with self.db.write() as s:
            # Lock the physician before reading the agreement, so two clerks terminating or
            # changing it at once are serialised on PostgreSQL (READ COMMITTED) too.
            owner = q.contract_owner(s, contract_no.strip())
            if owner is not None:
                q.lock_physician(s, owner)
            agreement = q.agreement_by_contract(s, contract_no.strip())
            if agreement is None:
                raise ServiceError(_("Unknown contract {contract}.").format(contract=contract_no))
            if agreement.status == "terminated":
                raise ServiceError(
                    _("Contract {contract} is already terminated.").format(contract=contract_no)
                )
            if on < agreement.start - dt.timedelta(days=1):
                raise ServiceError(
                    _("Termination date {on} is before the agreement starts on {start}.").format(
                        on=on.isoformat(), start=agreement.start.isoformat()
                    )
                )
            before = snapshot(agreement)
            agreement.status = "terminated"
            agreement.terminated_on = min(on, agreement.end)
            agreement.notes = {**(agreement.notes or {}), "termination_reason": reason}
            agreement.revision += 1
            agreement.updated_at = utcnow()
            for x in agreement.sessions:
                x.end_date = agreement.effective_end
                x.revision = agreement.revision
            s.flush()
            self._audit(
                s,
                "terminate",
                "agreement",
                agreement.contract_no,
                before,
                snapshot(agreement),
                physician=agreement.physician.cert_no,
                institution=agreement.institution.code,
            )
            return WriteResult("updated", agreement.contract_no)

    # -- reads --

    def physician_facts(self, cert: str) -> PhysicianFact:
        with self.db.read() as s:
            phys = q.physician_by_cert(s, ids.clean(cert))
            if phys is None:
                raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
            return q.physician_fact(s, phys)

    def check(
        self, physician: str | None = None, institution: str | None = None
    ) -> list[rules.Violation]:
        """Sweep the region (or one physician / one institution's physicians) for violations."""
        calendar = self.holiday_calendar()
        ctx = self.rule_context(calendar=calendar)
        with self.db.read() as s:
            selected: Iterable[int]
            if physician:
                phys = q.physician_by_cert(s, ids.clean(physician))
                if phys is None:
                    raise ServiceError(_("Unknown physician {cert}.").format(cert=physician))
                selected = [phys.id]
            elif institution:
                inst = q.institution_by_code(s, ids.clean(institution))
                if inst is None:
                    raise ServiceError(_("Unknown institution {code}.").format(code=institution))
                selected = q.physician_ids_at(s, inst.id)
            else:
                sweeper = Sweeper(ctx, sweep_queries.sites(s), set(self._buffers), calendar.known)
                selected = sweep_candidates(self.db, s, sweeper, sweep_queries.always_full(s))
            found: list[rules.Violation] = []
            for facts in q.all_physician_facts(s, selected):
                found.extend(rules.evaluate(facts, ctx))
            if institution:
                code = ids.clean(institution)
                found = [v for v in found if code in v.institutions or not v.institutions]
            return found

    def summary(self) -> dict[str, int]:
        with self.db.read() as s:
            return q.counts(s)

    def audit_log(self, **filters: Any) -> list[AuditEntry]:
        with self.db.read() as s:
            return q.audit_entries(s, **filters)


def _staffing_dict(row: StaffingMinimum) -> dict[str, Any]:
    return {
        "region": row.region_code,
        "kind": row.kind,
        "min_physicians": row.min_physicians,
        "per_bed": row.per_bed,
        "title_minimum": dict(row.title_minimum or {}),
        "confirmed": bool(row.confirmed),
        "source": row.source or "",
    }


PARALLEL_SWEEP = 50_000  # agreements from which the sweep's two halves run in two processes


def sweep_candidates(db: Database, s: Any, sweeper: Sweeper, always: set[int]) -> list[int]:
    """The physicians the region sweep must evaluate in full.

    From ``PARALLEL_SWEEP`` agreements on (and where ``fork`` exists), the physicians are split
    in two by id and a forked process reads and tests the upper half on its own connection
    while this one does the lower half: the sweep is CPU-bound Python, and a province's
    server has more than one core. Each half sees its own consistent snapshot.
    """
    low, high, count = sweep_queries.physician_span(s)
    if count < PARALLEL_SWEEP or not hasattr(os, "fork") or threading.active_count() > 1:
        # (forking a process that runs other threads, such as the TUI's, is not safe)
        return candidates(sweep_queries.agreement_rows(s), sweeper, always)
    middle = (low + high) // 2
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_sweep_half, args=(db.url, sweeper, middle + 1, high, sender), daemon=True
    )
    worker.start()
    sender.close()
    lower = candidates(sweep_queries.agreement_rows(s, low, middle), sweeper, always)
    try:
        upper = receiver.recv()
    except EOFError:  # the worker died: do its half here
        upper = None
    worker.join()
    if not isinstance(upper, list):
        upper = candidates(sweep_queries.agreement_rows(s, middle + 1, high), sweeper, always)
    return sorted(set(lower) | set(upper) | always)


def _sweep_half(url: str, sweeper: Sweeper, first: int, last: int, sender: Any) -> None:
    """The forked half of :func:`sweep_candidates`, on a connection of its own."""
    try:
        db = Database(url)
        with db.read() as s:
            sender.send(candidates(sweep_queries.agreement_rows(s, first, last), sweeper, set()))
        db.dispose()
    except Exception as error:  # reported to the parent, which then does this half itself
        sender.send(repr(error))
    finally:
        sender.close()


def dataclass_replace_version(policy: PolicyValues, version: int) -> PolicyValues:
    from dataclasses import replace

    return replace(policy, version=version)
