"""The rules of the registry (规则), one object per code, in the order of the rule table.

Every rule reads the plain facts of one physician (``facts.py``) and the region's policy,
and yields violations whose size is measured: minutes of overlap, hours over a limit, the
first day or week where it bites, the agreements and institutions involved. Each
:class:`Rule` also carries the cheap test the region sweep uses to skip a physician
(``clears``), the import column its violations are reported against, and a one-line
summary. A new rule is one ``Rule`` object in the module of its kind, listed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from ..facts import PhysicianFact
from .contract_rules import CONSENT, CONTRACT_HOURS, HOLIDAY_DATA, TERMS
from .core import (
    BOTH,
    ERROR,
    PHYSICIANS_ONLY,
    WARNING,
    Rule,
    RuleContext,
    SweepAgreement,
    Violation,
)
from .registration_rules import (
    CREDIT,
    ELIGIBILITY,
    OUT_OF_REGION,
    PERIOD,
    PRIMARY,
    REGISTRATION,
    SCOPE,
    SITE_LIMIT,
)
from .schedule_rules import (
    DAILY_HOURS,
    MIN_REST,
    OVERLAP,
    REST_DAY,
    STANDARD_HOURS,
    TRAVEL_GAP,
    WEEKLY_HOURS,
)

RULES: tuple[Rule, ...] = (
    OVERLAP,
    TRAVEL_GAP,
    WEEKLY_HOURS,
    STANDARD_HOURS,
    DAILY_HOURS,
    REST_DAY,
    MIN_REST,
    REGISTRATION,
    OUT_OF_REGION,
    SCOPE,
    PRIMARY,
    PERIOD,
    SITE_LIMIT,
    CREDIT,
    ELIGIBILITY,
    CONSENT,
    CONTRACT_HOURS,
    TERMS,
    HOLIDAY_DATA,
)

BY_CODE = {rule.code: rule for rule in RULES}

__all__ = [
    "BOTH",
    "BY_CODE",
    "ERROR",
    "PHYSICIANS_ONLY",
    "RULES",
    "WARNING",
    "Rule",
    "RuleContext",
    "SweepAgreement",
    "Violation",
    "applying_to",
    "column_of",
    "evaluate",
    "touching",
]


def evaluate(p: PhysicianFact, ctx: RuleContext, only: Sequence[Rule] = RULES) -> list[Violation]:
    """Every violation of every rule (or of the rules ``only``, which the region sweep
    narrows to those whose precondition does not clear) for one physician, errors first, then
    by date."""
    found = [v for rule in only if rule.applies_to(p) for v in rule.check(p, ctx)]
    found.sort(key=lambda v: (v.severity != ERROR, v.first_date, v.code))
    return found


@cache
def applying_to(profession: str) -> tuple[Rule, ...]:
    """The rules that bind a practitioner of ``profession`` (physician, nurse)."""
    return tuple(rule for rule in RULES if profession in rule.professions)


def touching(violations: Sequence[Violation], contract_no: str) -> list[Violation]:
    """The violations that involve one agreement (what a write of it would create)."""
    return [v for v in violations if contract_no in v.agreements]


def column_of(code: str) -> str:
    """The import column a violation of ``code`` is reported against ("" if none)."""
    rule = BY_CODE.get(code)
    return rule.column if rule is not None else ""
