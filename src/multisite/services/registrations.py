"""A physician's registrations (执业注册), one per region: suspend (暂停), cancel (注销), reinstate.

A physician registered in a second province (增加注册) holds two registrations, each with its own
main institution. A suspension, cancellation or reinstatement names the registration by its
region, or, without a region, acts on every registration it applies to. The rules
(REGISTRATION) and the validation base read the same dated history, so ``check``, ``base`` and
the TUI agree afterwards.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.text import FREE_TEXT
from ..domain.vocabulary import NURSE
from ..i18n import _
from ..storage import queries as q
from ..storage.models import Physician, Registration, RegistrationEvent, utcnow
from .physicians import Physicians, physician_status
from .registry import ServiceError, stored_texts

DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RegistrationChange:
    """What a suspension, cancellation or reinstatement did: the regions it acted on and the
    violations of the physician's agreements it leaves (REGISTRATION errors for contracts in
    force while the registration is not)."""

    cert: str
    action: str  # suspend / cancel / reinstate
    regions: tuple[str, ...]
    violations: tuple[rules.Violation, ...]


class Registrations(Physicians):
    def suspend_registration(
        self, cert: str, start: dt.date, until: dt.date, reason: str, *, region: str | None = None
    ) -> RegistrationChange:
        """暂停: the registration in ``region`` (every registration without it) allows no
        practice from ``start`` to ``until`` (inclusive)."""
        if until < start:
            raise ServiceError(
                _("The suspension ends on {until}, before it starts on {start}.").format(
                    until=until.isoformat(), start=start.isoformat()
                )
            )
        if not reason.strip():
            raise ServiceError(_("A suspension needs a reason."))
        _reason_ok(reason)
        return self._record(cert, region, "suspend", "suspended", start, until, reason.strip())

    def cancel_registration(
        self, cert: str, on: dt.date, reason: str, *, region: str | None = None
    ) -> RegistrationChange:
        """注销: the registration in ``region`` (every registration without it) allows no
        practice from ``on`` for good."""
        if not reason.strip():
            raise ServiceError(_("A cancellation needs a reason."))
        _reason_ok(reason)
        return self._record(cert, region, "cancel", "cancelled", on, None, reason.strip())

    def reinstate_registration(
        self, cert: str, on: dt.date, *, region: str | None = None, reason: str = ""
    ) -> RegistrationChange:
        """The suspension in force on ``on`` ends the day before: the physician practises
        again from ``on``, under the registration in ``region`` or every suspended one."""
        _reason_ok(reason)
        with self.db.write() as s:
            phys = self._physician(s, cert, lock=True)
            chosen = self._chosen(s, phys, region)
            acted: list[str] = []
            for reg in chosen:
                suspension = next(
                    (
                        e
                        for e in reg.events
                        if e.status == "suspended"
                        and e.on <= on
                        and (e.until is None or on <= e.until)
                    ),
                    None,
                )
                if suspension is None:
                    continue
                if suspension.on == on:
                    raise ServiceError(
                        _(
                            "The suspension of {cert} in {region} begins on {on}: a "
                            "reinstatement must come after it begins."
                        ).format(cert=phys.cert_no, region=reg.region_code, on=on.isoformat())
                    )
                before = {"region": reg.region_code, "status": reg.status,
                          "until": suspension.until.isoformat() if suspension.until else None}  # fmt: skip
                suspension.until = on - DAY
                s.add(
                    RegistrationEvent(
                        registration_id=reg.id, status="reinstated", on=on, reason=reason.strip()
                    )
                )
                reg.status = "registered"
                after = {"region": reg.region_code, "status": "registered", "from": on.isoformat(),
                         "suspended_until": suspension.until.isoformat()}  # fmt: skip
                self._audit(
                    s, "reinstate", "registration", phys.cert_no, before, after,
                    physician=phys.cert_no,
                )  # fmt: skip
                acted.append(reg.region_code)
            if not acted:
                raise ServiceError(_not_suspended(phys, chosen, on))
            return self._finish(s, phys, "reinstate", acted)

    # -- shared --

    def _physician(self, s: Session, cert: str, *, lock: bool = False) -> Physician:
        phys = q.physician_by_cert(s, ids.clean(cert), lock=lock)
        if phys is None:
            raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
        if lock:
            self._guard(s, "registration", phys.cert_no, physician=phys.cert_no)
        return phys

    def _chosen(self, s: Session, phys: Physician, region: str | None) -> list[Registration]:
        """The registration in ``region`` (its exact code, or the one in that province), or
        every registration when ``region`` is None."""
        regs = q.registrations_of(s, phys.id)
        if not regs:
            raise ServiceError(_("Physician {cert} has no registration.").format(cert=phys.cert_no))
        if region is None:
            return regs
        code = ids.clean(region)
        found = [r for r in regs if r.region_code == code] or [
            r for r in regs if code.endswith("0000") and ids.province_of(r.region_code) == code
        ]
        if not found:
            raise ServiceError(
                _(
                    "Physician {cert} has no registration in region {region} (registered in {regions})."
                ).format(
                    cert=phys.cert_no, region=region, regions=", ".join(r.region_code for r in regs)
                )
            )
        return found

    def _record(
        self,
        cert: str,
        region: str | None,
        action: str,
        status: str,
        start: dt.date,
        until: dt.date | None,
        reason: str,
    ) -> RegistrationChange:
        """Add a suspension (with ``until``) or a cancellation to the chosen registrations (a
        named one must not be cancelled; without a region, the cancelled ones are left)."""
        with self.db.write() as s:
            phys = self._physician(s, cert, lock=True)
            chosen = self._chosen(s, phys, region)
            open_ = [r for r in chosen if not _cancelled(r)]
            if not open_ or (region is not None and len(open_) < len(chosen)):
                raise ServiceError(
                    _("The registration of {cert} is cancelled.").format(cert=phys.cert_no)
                )
            for reg in open_:
                self._add_status(s, phys, reg, status, start, until, reason)
            return self._finish(s, phys, action, [r.region_code for r in open_])

    def _finish(
        self, s: Session, phys: Physician, action: str, regions: list[str]
    ) -> RegistrationChange:
        """The change, with the REGISTRATION violations it leaves on file."""
        s.flush()
        phys.status = physician_status([r.status for r in q.registrations_of(s, phys.id)])
        phys.updated_at = utcnow()
        s.flush()
        found = [
            v for v in self.evaluate_fully(q.physician_fact(s, phys)) if v.code == "REGISTRATION"
        ]
        return RegistrationChange(phys.cert_no, action, tuple(regions), tuple(found))


def _reason_ok(reason: str) -> None:
    stored_texts(("reason", FREE_TEXT, _("The reason"), reason, "free_text"))


def _cancelled(reg: Registration) -> bool:
    return reg.status == "cancelled" or any(e.status == "cancelled" for e in reg.events)


def _not_suspended(phys: Physician, chosen: list[Registration], on: dt.date) -> str:
    """Why there is nothing to reinstate, naming the practitioner as what they are (a nurse
    is not a physician) and a cancellation as one: 注销 is for good, not a suspension."""
    nurse = phys.profession == NURSE
    if any(_cancelled(r) for r in chosen):
        message = (
            _("The registration of nurse {cert} is cancelled (注销): it cannot be reinstated.")
            if nurse
            else _(
                "The registration of physician {cert} is cancelled (注销): it cannot be reinstated."
            )
        )
        return message.format(cert=phys.cert_no)
    message = (
        _("Nurse {cert} is not suspended on {on}: there is nothing to reinstate.")
        if nurse
        else _("Physician {cert} is not suspended on {on}: there is nothing to reinstate.")
    )
    return message.format(cert=phys.cert_no, on=on.isoformat())
