"""What saving an agreement does to its filing (备案): file it, extend it or renew it.

An additional institution is filed under the registration whose region holds it, for the
agreement's period. A follow-on contract or an extension is never a dead end: when the filing
is missing, too short or has lapsed, the save files, extends or renews it in the same
transaction (:func:`plan`), and the preview says so. A filing ended by a decision (撤销) or
by the clerk (``filing end``) is not renewed by a contract: the clerk renews it explicitly,
and until then PERIOD refuses the agreement.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .facts import AgreementFact, FilingFact, PhysicianFact, RegistrationFact
from .identifiers import region_contains

DAY = dt.timedelta(days=1)
FILE, EXTEND, RENEW = "file", "extend", "renew"
FILING = "FILING"  # the code of a batch row's note saying what its save did to the filing


@dataclass(frozen=True, slots=True)
class FilingPlan:
    """The filing a save will write: ``action`` is file (a new filing), extend (a filing in
    force made longer) or renew (a lapsed filing made valid again); ``before`` is the filing
    it changes (None for a new one)."""

    action: str
    institution_id: int
    institution_code: str
    institution_name: str
    region_code: str  # of the registration it is filed under
    scope: str
    valid_from: dt.date
    valid_to: dt.date
    contract_no: str
    before: FilingFact | None = None

    @property
    def fact(self) -> FilingFact:
        """The filing as it will be stored."""
        return FilingFact(self.institution_id, self.scope, self.valid_from, self.valid_to)


def state(valid_from: dt.date, valid_to: dt.date, ended_on: dt.date | None, day: dt.date) -> str:
    """A filing's state on ``day``: in force, not yet valid, lapsed (its validity has passed)
    or ended (by a decision or the clerk)."""
    if ended_on is not None and ended_on < day:
        return "ended"
    if day < valid_from:
        return "not yet valid"
    return "in force" if day <= valid_to else "lapsed"


def covered(filings: Iterable[FilingFact], start: dt.date, end: dt.date) -> bool:
    """Whether the filings' periods together cover every day of ``[start, end]`` (a filing
    ended and renewed from the next day leaves no gap)."""
    day = start
    for f in sorted(filings, key=lambda f: f.valid_from):
        if f.valid_from > day:
            return False
        if f.valid_to >= day:
            day = f.valid_to + DAY
        if day > end:
            return True
    return day > end


def latest(filings: list[FilingFact]) -> FilingFact | None:
    """The newest filing of one institution (the one a renewal or extension changes)."""
    return max(filings, key=lambda f: (f.valid_to, f.valid_from), default=None)


def plan(p: PhysicianFact, a: AgreementFact) -> FilingPlan | None:
    """The filing saving ``a`` needs, or None: a primary agreement (the main institution needs
    no filing), an institution outside every registered region (OUT_OF_REGION says so), a
    filing that already covers the period, or one ended by a decision (PERIOD says so)."""
    return _plan(p.registrations, p.filings, a)


def _plan(
    registrations: tuple[RegistrationFact, ...], filings: tuple[FilingFact, ...], a: AgreementFact
) -> FilingPlan | None:
    if a.role != "additional" or a.status == "draft" or a.start > a.end:
        return None
    county = a.institution.county_code
    registration = next((r for r in registrations if region_contains(r.region_code, county)), None)
    if registration is None:
        return None
    here = [f for f in filings if f.institution_id == a.institution.id]
    if covered(here, a.start, a.end):
        return None
    newest = latest(here)
    if newest is None:
        return FilingPlan(
            FILE, a.institution.id, a.institution.code, a.institution.name,
            registration.region_code, a.department, a.start, a.end, a.contract_no,
        )  # fmt: skip
    if newest.ended_on is not None:
        return None
    action = RENEW if newest.valid_to + DAY < a.start else EXTEND
    return FilingPlan(
        action, a.institution.id, a.institution.code, a.institution.name,
        registration.region_code, newest.scope, min(newest.valid_from, a.start),
        max(newest.valid_to, a.end), a.contract_no, newest,
    )  # fmt: skip


def with_plan(p: PhysicianFact, planned: FilingPlan | None) -> PhysicianFact:
    """``p`` with the planned filing in place of the one it changes."""
    if planned is None:
        return p
    kept = tuple(f for f in p.filings if f != planned.before)
    return p.with_filings((*kept, planned.fact))


def plan_all(
    p: PhysicianFact, agreements: list[AgreementFact]
) -> tuple[PhysicianFact, list[FilingPlan]]:
    """Plans for several agreements of one physician in order (a batch), each seeing the
    filings planned before it; one plan per institution (a later agreement at the same
    institution widens the earlier plan). Returns the facts with every plan in place."""
    plans: dict[int, FilingPlan] = {}
    filings = p.filings
    for a in agreements:
        planned = _plan(p.registrations, filings, a)
        if planned is None:
            continue
        filings = (*(f for f in filings if f != planned.before), planned.fact)  # (with_plan)
        earlier = plans.get(planned.institution_id)
        if earlier is not None:  # the stored filing it changes, and the first reason, stay
            planned = replace(earlier, valid_from=planned.valid_from, valid_to=planned.valid_to)
        plans[planned.institution_id] = planned
    if filings is not p.filings:  # the facts made once, not once a plan
        p = replace(p, filings=filings)
    return p, list(plans.values())
