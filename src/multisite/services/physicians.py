"""Physicians and their registrations (医师执业注册): register, change, suspend, cancel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.vocabulary import CATEGORIES, LEVELS, SCOPES, TITLES
from ..i18n import _
from ..storage import queries as q
from ..storage.audit import snapshot
from ..storage.models import (
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
    utcnow,
)
from .registry import (
    RefusedError,
    RegistryCore,
    ServiceError,
    WriteResult,
    initials,
    require_region_code,
)


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


class Physicians(RegistryCore):
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

    def _change_main(
        self, s: Session, phys: Physician, region: str, main: Institution, on: dt.date
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

    def _check_existing_agreements(self, s: Session, phys: Physician) -> None:
        """After changing a physician's facts, their agreements must still be free of errors."""
        facts = q.physician_fact(s, phys)
        errors = [
            v for v in rules.evaluate(facts, self.rule_context()) if v.severity == rules.ERROR
        ]
        if errors:
            raise RefusedError(errors)

    def _registration(self, s: Session, cert: str) -> tuple[Physician, Registration]:
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
