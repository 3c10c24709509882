"""Agreements (合同/协议) and their weekly sessions; filing (备案) follows from them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.facts import AgreementFact, PhysicianFact
from ..domain.schedule import Slot, slots_text
from ..domain.vocabulary import ROLES
from ..i18n import _
from ..storage import queries as q
from ..storage.audit import snapshot
from ..storage.models import (
    Agreement,
    Filing,
    Institution,
    Physician,
    WorkSession,
    utcnow,
)
from .registry import (
    RefusedError,
    RegistryCore,
    ServiceError,
    WriteResult,
)


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


class Agreements(RegistryCore):
    # -- agreements --

    def _agreement_fact(
        self, s: Session, data: AgreementInput, *, lock: bool = False
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

    def _file_for(
        self, s: Session, phys: Physician, inst: Institution, fact: AgreementFact
    ) -> None:
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
