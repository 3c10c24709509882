"""Plain, immutable facts about one physician that the rules read.

Storage loads them (one physician for a write, the whole region in bulk for a sweep); the
rules and the validation base compute on them without touching the database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

from .inputs import TERMS
from .schedule import Pattern, Slot


@dataclass(frozen=True, slots=True)
class Listing:
    """A dated listing on the dishonesty list (失信/黑名单): from ``start`` to ``until``
    (inclusive; None: open)."""

    start: dt.date
    until: dt.date | None = None

    def first_day_within(self, start: dt.date, end: dt.date) -> dt.date | None:
        """The first day of ``[start, end]`` the listing covers, if any."""
        if self.start > end or (self.until is not None and self.until < start):
            return None
        return max(self.start, start)

    def days_within(self, start: dt.date, end: dt.date) -> int:
        """How many days of ``[start, end]`` the listing covers."""
        first = self.first_day_within(start, end)
        if first is None:
            return 0
        last = end if self.until is None else min(end, self.until)
        return (last - first).days + 1


@dataclass(frozen=True, slots=True)
class InstitutionFact:
    id: int
    code: str
    name: str
    kind: str
    county_code: str
    departments: frozenset[str] = frozenset()
    grassroots: bool = False
    listings: tuple[Listing, ...] = ()  # on the dishonesty list (失信/黑名单)
    beds: int = 0

    @property
    def listed(self) -> bool:
        """Listed at some time (the sweep's cheap test)."""
        return bool(self.listings)


@cache
def terms_from_mask(mask: int) -> tuple[str, ...]:
    """The terms whose bit is set in ``mask`` (bit i: ``inputs.TERMS[i]``, the contract terms
    seed 004 asks for, is empty)."""
    return tuple(term for i, term in enumerate(TERMS) if mask >> i & 1)


@dataclass(frozen=True, slots=True)
class AgreementFact:
    id: int | None
    contract_no: str
    institution: InstitutionFact
    role: str  # primary / additional
    department: str
    start: dt.date
    end: dt.date  # the effective end: termination moves it earlier
    weekly_hours: float
    consent: bool | None
    slots: tuple[Slot, ...]
    status: str = "active"
    missing_terms: tuple[str, ...] = ()  # of TERMS: tasks, liability, pay, insurance, employment

    @property
    def pattern(self) -> Pattern:
        return Pattern(self.contract_no, self.institution.id, self.slots, self.start, self.end)

    @property
    def scheduled_minutes(self) -> int:
        return sum(slot.duration for slot in self.slots)


@dataclass(frozen=True, slots=True)
class Inactivity:
    """A stretch in which a registration does not allow practice (suspended or cancelled)."""

    status: str
    start: dt.date
    until: dt.date | None  # inclusive; None = for good


@dataclass(frozen=True, slots=True)
class RegistrationFact:
    region_code: str
    main_institution_id: int
    registered_on: dt.date
    inactive: tuple[Inactivity, ...] = ()

    def first_gap(self, start: dt.date, end: dt.date) -> dt.date | None:
        """The first day in [start, end] this registration does not cover, if any."""
        if self.registered_on > start:
            return start
        gaps = [max(i.start, start) for i in self.inactive if _meets(i, start, end)]
        return min(gaps) if gaps else None

    def gaps(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
        """The stretches of [start, end] this registration does not cover (before it was
        registered, suspended, cancelled), in order, merged, each as (first, last) day."""
        stretches = []
        if self.registered_on > start:
            stretches.append((start, min(end, self.registered_on - dt.timedelta(days=1))))
        for i in self.inactive:
            if _meets(i, start, end):
                last = end if i.until is None else min(i.until, end)
                stretches.append((max(i.start, start), last))
        merged: list[tuple[dt.date, dt.date]] = []
        for first, last in sorted(stretches):
            if merged and first <= merged[-1][1] + dt.timedelta(days=1):
                merged[-1] = (merged[-1][0], max(merged[-1][1], last))
            else:
                merged.append((first, last))
        return merged

    def active_on(self, day: dt.date) -> bool:
        return self.first_gap(day, day) is None

    def status_on(self, day: dt.date) -> str:
        """``registered``, ``suspended`` or ``cancelled`` on ``day``: a suspension that has
        ended is history, not a status."""
        for stretch in self.inactive:
            if _meets(stretch, day, day):
                return stretch.status
        return "registered"


def _meets(stretch: Inactivity, start: dt.date, end: dt.date) -> bool:
    return stretch.start <= end and (stretch.until is None or stretch.until >= start)


@dataclass(frozen=True, slots=True)
class FilingFact:
    """备案 at an institution for a period; ``ended_on`` set when a decision (撤销) or the
    clerk ended it (a contract then does not renew it: the clerk does)."""

    institution_id: int
    scope: str
    valid_from: dt.date
    valid_to: dt.date
    ended_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class PhysicianFact:
    id: int
    cert_no: str
    name: str
    level: str
    category: str
    scopes: frozenset[str]
    title: str
    listings: tuple[Listing, ...] = ()  # on the dishonesty list (失信/黑名单)
    practising_since: dt.date | None = None
    failed_assessment_on: dt.date | None = None
    registrations: tuple[RegistrationFact, ...] = ()
    filings: tuple[FilingFact, ...] = ()
    agreements: tuple[AgreementFact, ...] = field(default=())
    profession: str = "physician"  # or nurse (护士): the rules that bind them differ

    @property
    def practice_start(self) -> dt.date | None:
        """When the physician's registered practice began: ``practising_since`` as recorded
        (执业起始日期), else the earliest registration on file (the latest it can have begun)."""
        if self.practising_since is not None:
            return self.practising_since
        return min((r.registered_on for r in self.registrations), default=None)

    def with_filings(self, filings: tuple[FilingFact, ...]) -> PhysicianFact:
        """These facts with ``filings`` instead (``dataclasses.replace`` without its
        generality: the write path's check makes these for every contract)."""
        return PhysicianFact(
            self.id, self.cert_no, self.name, self.level, self.category, self.scopes,
            self.title, self.listings, self.practising_since, self.failed_assessment_on,
            self.registrations, filings, self.agreements, self.profession,
        )  # fmt: skip

    def with_agreement(self, agreement: AgreementFact) -> PhysicianFact:
        """These facts as they would be after filing (or replacing) ``agreement``."""
        others = tuple(a for a in self.agreements if a.contract_no != agreement.contract_no)
        return PhysicianFact(
            self.id,
            self.cert_no,
            self.name,
            self.level,
            self.category,
            self.scopes,
            self.title,
            self.listings,
            self.practising_since,
            self.failed_assessment_on,
            self.registrations,
            self.filings,
            (*others, agreement),
            self.profession,
        )
