"""Which province's policy judges an agreement (policy per province, 规则参数按省).

A physician registered in two provinces (增加注册) has agreements under each registration; each
agreement is judged under the policy of the province of the registration it belongs to — the
registration whose region contains the institution — and, when no registration does (an
OUT_OF_REGION agreement), under the policy of the institution's province. A rule that reads
several agreements at once (a week's hours across sites) runs once under each province's
policy and reports, under that policy, what involves an agreement of that province.
"""

from __future__ import annotations

from collections.abc import Callable

from . import rules
from .facts import AgreementFact, PhysicianFact
from .identifiers import province_of, region_contains


def province_of_agreement(p: PhysicianFact, a: AgreementFact) -> str:
    """The province code (``NN0000``) whose policy judges ``a``."""
    county = a.institution.county_code
    for registration in p.registrations:
        if region_contains(registration.region_code, county):
            return province_of(registration.region_code)
    return province_of(county)


def provinces(p: PhysicianFact) -> dict[str, str]:
    """Contract number → the province judging it, for every agreement of ``p``."""
    return {a.contract_no: province_of_agreement(p, a) for a in p.agreements}


def evaluate(
    p: PhysicianFact,
    context_for: Callable[[str], rules.RuleContext],
    judged_by: dict[str, str] | None = None,
) -> list[rules.Violation]:
    """Every violation of ``p``, each agreement under its own province's policy.

    One province (almost every physician): ``rules.evaluate`` once. Several: once per province,
    keeping what involves an agreement of that province; a violation found the same under two
    policies (an overlap across the border) is reported once.
    """
    judged_by = provinces(p) if judged_by is None else judged_by
    distinct = sorted(set(judged_by.values()))
    if len(distinct) <= 1:
        return rules.evaluate(p, context_for(distinct[0] if distinct else ""))
    found: dict[tuple[object, ...], rules.Violation] = {}
    for province in distinct:
        for v in rules.evaluate(p, context_for(province)):
            if any(judged_by.get(c) == province for c in v.agreements):
                found.setdefault((v.code, v.agreements, v.first_date, v.measure), v)
    return sorted(found.values(), key=lambda v: (v.severity != rules.ERROR, v.first_date, v.code))
