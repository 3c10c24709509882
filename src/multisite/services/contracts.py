"""One contract (合同/协议) as a clerk reads it: the seven items seed 004 asks every contract to
fix (执业期限、时间安排、工作任务、医疗责任、薪酬、相关保险 and the 人事（劳动）关系), its filing (备案),
its state on a day and what the rules say of it now."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from ..domain import rules
from ..domain.inputs import TERMS
from ..i18n import N_, _
from ..storage import queries as q
from ..storage.models import Agreement
from . import Registry, ServiceError
from .filings import FilingView

# How a contract stands on a day (by date, never by the stored flag alone).
STATES = (N_("active"), N_("not yet started"), N_("terminated"), N_("ended"))


def agreement_terms(a: Agreement) -> dict[str, str]:
    """The free-text terms stored with an agreement, by name (``TERMS``), verbatim."""
    return {term: getattr(a, term) or "" for term in TERMS}


def state_on(start: dt.date, end: dt.date, terminated: bool, day: dt.date) -> str:
    """active, not yet started, terminated (its last day, moved by a termination, has passed)
    or ended."""
    if day < start:
        return "not yet started"
    if day <= end:
        return "active"
    return "terminated" if terminated else "ended"


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """The seven items: the period (执业期限) and time arrangement (时间安排) are the contract's
    dates and sessions; the other five are free text kept as the contract states them."""

    start: dt.date
    end: dt.date
    sessions: tuple[str, ...]
    tasks: str  # 工作任务
    liability: str  # 医疗责任
    pay: str  # 薪酬
    insurance: str  # 相关保险
    employment: str  # 人事（劳动）关系

    @property
    def missing(self) -> tuple[str, ...]:
        """The free-text terms the contract leaves empty (what TERMS warns about)."""
        return tuple(t for t in TERMS if not getattr(self, t).strip())

    def as_json(self) -> dict[str, Any]:
        return {
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat()},
            "schedule": list(self.sessions),
            **{term: getattr(self, term) for term in TERMS},
        }


@dataclass(frozen=True, slots=True)
class ContractView:
    contract_no: str
    physician_cert: str
    physician_name: str
    institution_code: str
    institution_name: str
    role: str  # primary / additional
    department: str
    start: dt.date
    end: dt.date  # the last day it runs (a termination moves it earlier)
    contracted_end: dt.date
    terminated_on: dt.date | None
    termination_reason: str
    status: str  # as stored: active / terminated
    weekly_hours: float
    scheduled_hours: float
    consent: bool | None
    terms: ContractTerms
    filing: FilingView | None  # the filing at its institution (additional agreements)
    violations: tuple[rules.Violation, ...]
    revision: int

    def state_on(self, day: dt.date) -> str:
        return state_on(self.start, self.end, self.terminated_on is not None, day)

    def as_json(self, today: dt.date | None = None) -> dict[str, Any]:
        day = today or dt.date.today()
        return {
            "contract_no": self.contract_no,
            "physician": {"cert": self.physician_cert, "name": self.physician_name},
            "institution": {"code": self.institution_code, "name": self.institution_name},
            "role": self.role,
            "department": self.department,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "contracted_end": self.contracted_end.isoformat(),
            "terminated_on": self.terminated_on.isoformat() if self.terminated_on else None,
            "termination_reason": self.termination_reason,
            "status": self.status,
            "state": self.state_on(day),
            "weekly_hours": self.weekly_hours,
            "scheduled_hours": self.scheduled_hours,
            "consent": self.consent,
            "terms": self.terms.as_json(),
            "filing": self.filing.as_json(day) if self.filing else None,
            "violations": [v.as_json() for v in self.violations],
            "revision": self.revision,
        }


def contract_view(registry: Registry, contract_no: str) -> ContractView:
    """A contract with its terms, its filing and the violations that involve it now."""
    with registry.db.read() as s:
        a = q.agreement_by_contract(s, contract_no.strip())
        if a is None:
            raise ServiceError(_("Unknown contract {contract}.").format(contract=contract_no))
        facts = q.physician_fact(s, a.physician)
        slots = [q.slot_of(x) for x in a.sessions]
        terms = ContractTerms(
            a.start, a.effective_end, tuple(map(str, slots)), **agreement_terms(a)
        )
        view = ContractView(
            a.contract_no, a.physician.cert_no, a.physician.name, a.institution.code,
            a.institution.name, a.role, a.department, a.start, a.effective_end, a.end,
            a.terminated_on, str((a.notes or {}).get("termination_reason", "")), a.status,
            a.weekly_hours, round(sum(x.duration for x in slots) / 60, 2), a.consent, terms,
            None, (), a.revision,
        )  # fmt: skip
    filing = None
    if view.role == "additional":
        here = [
            f for f in registry.filings(view.physician_cert)
            if f.institution_code == view.institution_code
        ]  # fmt: skip
        filing = max(here, key=lambda f: (f.valid_to, f.id), default=None)
    violations = rules.touching(registry.evaluate_fully(facts), view.contract_no)
    return replace(view, filing=filing, violations=tuple(violations))
