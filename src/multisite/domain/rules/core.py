"""What every rule is made of: the violation it reports, the context it reads, and the
:class:`Rule` object that joins a code to its check, its sweep precondition and its column.

A rule's *sweep precondition* (``clears``) is the cheap, sound test the region sweep runs on
a physician's agreement rows (:class:`SweepAgreement`, no session rows read) before deciding
to load the physician in full: it returns True only when the rule certainly finds nothing.
The sweep's helpers (memoised scopes, pattern minutes, always-on schedule verdicts) reach it
through :class:`Shortcuts`, which ``domain.sweep.Sweeper`` implements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ..facts import AgreementFact, PhysicianFact
from ..policy import Policy

ERROR = "error"
WARNING = "warning"
BOTH = frozenset({"physician", "nurse"})  # the professions a rule applies to
PHYSICIANS_ONLY = frozenset({"physician"})


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    severity: str
    physician: str
    agreements: tuple[str, ...]
    institutions: tuple[str, ...]
    first_date: dt.date
    measure: float
    unit: str
    message: str
    profession: str = "physician"  # the practitioner's (nurse: 护士); ``physician`` is the cert

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "physician": self.physician,
            "profession": self.profession,
            "agreements": list(self.agreements),
            "institutions": list(self.institutions),
            "first_date": self.first_date.isoformat(),
            "measure": self.measure,
            "unit": self.unit,
            "message": self.message,
        }


@dataclass(frozen=True)
class RuleContext:
    """What the rules need besides one physician's facts."""

    policy: Policy
    travel_buffer: Callable[[Hashable, Hashable], int] | None = None
    unknown_holiday_years: Callable[[dt.date, dt.date], list[int]] = field(
        default=lambda _a, _b: []
    )

    def buffer(self, a: Hashable, b: Hashable) -> int:
        if self.travel_buffer is not None:
            return self.travel_buffer(a, b)
        return self.policy.travel_buffer_minutes


class SweepAgreement(NamedTuple):
    """One agreement as the region sweep reads it (``storage.sweep.agreement_rows``), with
    its physician's registration. Dates are ISO text (compared as text); ``end`` is the
    effective end (a termination moves it earlier); ``pattern`` is the stored canonical
    weekly pattern (``schedule.slots_text``); ``scopes`` the physician's scopes as stored
    (JSON text) or as a set (from facts): :meth:`Shortcuts.scopes` reads either."""

    physician_id: int
    institution_id: int
    role: str
    department: str
    start: str
    end: str
    weekly_hours: float
    consent: bool | None
    status: str
    pattern: str | None
    region: str
    main_institution_id: int
    registered_on: str
    scopes: str | frozenset[str] | None
    terms_missing: int = 0  # bits of the empty contract terms (0: all fixed)
    profession: str = "physician"  # a rule that does not bind the profession is not asked


class Site(NamedTuple):
    """What the sweep needs of an institution."""

    county_code: str
    departments: frozenset[str]
    listed: bool  # on the dishonesty list at some time


class Shortcuts(Protocol):
    """The sweep's memoised helpers a precondition may use (``domain.sweep.Sweeper``)."""

    policy: Policy
    buffer_pairs: set[tuple[int, int]]
    known_span: tuple[str, str]  # ISO dates bounding the years with holiday data

    @property
    def sites(self) -> Mapping[int, Site]: ...

    def scopes(self, stored: str | frozenset[str] | None) -> frozenset[str]: ...

    def minutes(self, pattern: str) -> int: ...

    def schedule_risks(self, live: Sequence[SweepAgreement]) -> frozenset[str]:
        """The schedule rule codes that may bite on the always-on union of ``live``."""
        ...


Check = Callable[[PhysicianFact, RuleContext], Iterator[Violation]]
Precondition = Callable[[Sequence[SweepAgreement], Shortcuts], bool]
"""``clears(live, shortcuts)``: True only when the rule cannot bite for a physician whose
live (non-draft) agreements are ``live``. The sweep calls it only for physicians with one
registration, never suspended or cancelled, never on the dishonesty list and with every
additional agreement inside its filing (``storage.sweep.always_full`` and
``domain.sweep.facts_always_full`` send the others to the full rules)."""


@dataclass(frozen=True)
class Rule:
    """One code of the rule table: what it checks, how the sweep skips it, where it is
    reported in an import (the column of the row), one line saying what it means, and the
    professions it applies to (the time rules, region, registration, primary, period, credit
    and consent bind nurses and physicians alike; categories and scopes and the 2014 gate are
    a physician's)."""

    code: str
    severity: str
    check: Check
    clears: Precondition
    column: str
    summary: str  # English source, marked with N_ (the README's rule table says the same)
    professions: frozenset[str] = BOTH

    def applies_to(self, p: PhysicianFact) -> bool:
        return p.profession in self.professions

    def __call__(self, p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
        if not self.applies_to(p):
            return iter(())
        return self.check(p, ctx)


def live_agreements(p: PhysicianFact) -> list[AgreementFact]:
    """The agreements that are filed (not drafts) and have a period."""
    return [a for a in p.agreements if a.status != "draft" and a.start <= a.end]


def by_contract(p: PhysicianFact) -> dict[Hashable, AgreementFact]:
    return {a.contract_no: a for a in p.agreements}


def involved(p: PhysicianFact, keys: Sequence[Hashable]) -> list[AgreementFact]:
    index = by_contract(p)
    return [index[k] for k in keys if k in index]


def violation(
    code: str,
    severity: str,
    p: PhysicianFact,
    agreements: Sequence[AgreementFact],
    first: dt.date,
    measure: float,
    unit: str,
    message: str,
) -> Violation:
    contracts = tuple(dict.fromkeys(a.contract_no for a in agreements))
    institutions = tuple(dict.fromkeys(a.institution.code for a in agreements))
    return Violation(
        code, severity, p.cert_no, contracts, institutions, first, round(measure, 2), unit, message,
        p.profession,
    )  # fmt: skip


def hours(minutes: float) -> float:
    return round(minutes / 60, 2)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def always(_live: Sequence[SweepAgreement], _shortcuts: Shortcuts) -> bool:
    """The precondition of a rule the sweep's physician-level test already covers."""
    return True
