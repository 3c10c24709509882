"""The rules on the agreement itself: consent of the main institution, contracted hours, the
contract terms, and holiday data for the years a schedule runs into."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from ...i18n import N_, _
from ..facts import PhysicianFact
from .core import (
    WARNING,
    Rule,
    RuleContext,
    Shortcuts,
    SweepAgreement,
    Violation,
    live_agreements,
    violation,
)


def consent(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """CONSENT: an additional agreement with no consent or notice of the main institution."""
    for a in live_agreements(p):
        if a.role == "additional" and not a.consent:
            yield violation(
                "CONSENT",
                WARNING,
                p,
                [a],
                a.start,
                1,
                "agreement",
                _("{contract} records no consent or notice of the main institution.").format(
                    contract=a.contract_no
                ),
            )


def contract_hours(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """CONTRACT_HOURS: scheduled weekly hours differ from the contracted hours by > 10 %."""
    tolerance = ctx.policy.contract_hours_tolerance
    for a in live_agreements(p):
        if a.weekly_hours <= 0:
            continue
        scheduled = a.scheduled_minutes / 60
        if abs(scheduled - a.weekly_hours) > tolerance * a.weekly_hours + 1e-9:
            yield violation(
                "CONTRACT_HOURS",
                WARNING,
                p,
                [a],
                a.start,
                round(scheduled - a.weekly_hours, 2),
                "h",
                _("{contract} schedules {scheduled} hours a week but contracts {hours}.").format(
                    contract=a.contract_no, scheduled=round(scheduled, 2), hours=a.weekly_hours
                ),
            )


def holiday_data(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """HOLIDAY_DATA: a schedule runs into a year with no holiday calendar."""
    for a in live_agreements(p):
        if not a.slots:
            continue
        years = ctx.unknown_holiday_years(a.start, a.end)
        if years:
            first = max(a.start, dt.date(years[0], 1, 1))
            yield violation(
                "HOLIDAY_DATA",
                WARNING,
                p,
                [a],
                first,
                len(years),
                "years",
                _("{contract} runs into {years}, for which no holiday calendar is loaded.").format(
                    contract=a.contract_no, years=", ".join(map(str, years))
                ),
            )


TERM_LABELS = {
    "tasks": N_("tasks (工作任务)"),
    "liability": N_("medical liability (医疗责任)"),
    "pay": N_("pay (薪酬)"),
    "insurance": N_("insurance (相关保险)"),
    "employment": N_("the employment relation (人事关系)"),
}


def terms(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """TERMS: an active agreement that does not fix its tasks, liability, pay, insurance or
    the employment relation (the terms seed 004 asks every agreement to fix)."""
    for a in live_agreements(p):
        if a.status == "active" and a.missing_terms:
            yield violation(
                "TERMS",
                WARNING,
                p,
                [a],
                a.start,
                len(a.missing_terms),
                "terms",
                _("{contract} does not fix {terms}.").format(
                    contract=a.contract_no,
                    terms="、".join(_(TERM_LABELS[t]) for t in a.missing_terms),
                ),
            )


# --- sweep preconditions ----------------------------------------------------------------------


def consented(rows: Sequence[SweepAgreement], _s: Shortcuts) -> bool:
    for r in rows:
        if not r.consent and r.role != "primary":
            return False
    return True


def hours_as_contracted(rows: Sequence[SweepAgreement], s: Shortcuts) -> bool:
    tolerance = s.policy.contract_hours_tolerance
    for r in rows:
        contracted = r.weekly_hours
        if contracted > 0 and r.pattern is not None:
            scheduled = s.minutes(r.pattern) / 60
            if abs(scheduled - contracted) > tolerance * contracted + 1e-9:
                return False
    return True


def within_known_years(rows: Sequence[SweepAgreement], s: Shortcuts) -> bool:
    first, last = s.known_span
    for r in rows:
        if r.start < first or r.end > last:
            return False
    return True


def terms_fixed(rows: Sequence[SweepAgreement], _s: Shortcuts) -> bool:
    for r in rows:
        if r.terms_missing and r.status == "active":
            return False
    return True


CONSENT = Rule(
    "CONSENT",
    WARNING,
    consent,
    consented,
    "consent",
    N_("an additional agreement with no recorded consent or notice to the main institution"),
)
CONTRACT_HOURS = Rule(
    "CONTRACT_HOURS",
    WARNING,
    contract_hours,
    hours_as_contracted,
    "weekly_hours",
    N_("scheduled weekly hours differ from the contracted hours by more than the tolerance"),
)
HOLIDAY_DATA = Rule(
    "HOLIDAY_DATA",
    WARNING,
    holiday_data,
    within_known_years,
    "end",
    N_("a schedule runs into a year with no holiday calendar"),
)
TERMS = Rule(
    "TERMS",
    WARNING,
    terms,
    terms_fixed,
    "tasks",
    N_("an active agreement lacking tasks, liability, pay, insurance or the employment relation"),
)
