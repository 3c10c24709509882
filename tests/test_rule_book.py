"""The rule book: every rule is one object with its sweep precondition, its import column,
its Chinese messages and its row in the README's rule table; each fires on facts built here
(pure: no database), and the sweep's shortcut never clears a physician it fires on."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from multisite import i18n
from multisite.domain import rules
from multisite.domain.facts import (
    AgreementFact,
    FilingFact,
    Inactivity,
    InstitutionFact,
    Listing,
    PhysicianFact,
    RegistrationFact,
)
from multisite.domain.policy import defaults
from multisite.domain.schedule import Slot
from multisite.domain.sessions_text import parse_sessions
from multisite.domain.sweep import Sweeper
from multisite.importing.columns import VOCABULARIES

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = dt.date(2026, 3, 2), dt.date(2026, 12, 31)
HOSPITAL = InstitutionFact(1, "H" * 18, "南宁市第一人民医院", "三级综合医院", "450102",
                           frozenset({"内科", "外科", "全科医学"}), beds=800)  # fmt: skip
CLINIC = InstitutionFact(2, "C" * 18, "青秀区内科诊所", "诊所", "450103", frozenset({"内科"}))
OUTSIDE = InstitutionFact(3, "O" * 18, "成都市门诊部", "综合门诊部", "510104", frozenset({"内科"}))


def agreement(no: str, inst: InstitutionFact, sessions: str, role: str = "additional",
              **changes) -> AgreementFact:  # fmt: skip
    slots = tuple(parse_sessions(sessions)) if sessions else ()
    hours = round(sum(s.duration for s in slots) / 60, 2)
    fact = AgreementFact(None, no, inst, role, "内科", START, END, hours, True, slots)
    return dataclasses.replace(fact, **changes)


def physician(*agreements: AgreementFact, **changes) -> PhysicianFact:
    fact = PhysicianFact(
        1, "145000000000001", "韦小宝", "执业医师", "临床", frozenset({"内科"}), "主治医师",
        registrations=(RegistrationFact("450000", HOSPITAL.id, dt.date(2015, 1, 1)),),
        agreements=(agreement("P-1", HOSPITAL, "MO-FR 08:00-12:00", role="primary"), *agreements),
    )  # fmt: skip
    return dataclasses.replace(fact, **changes)


DUTY_NIGHT = "SU 19:00-06:00"  # with the primary from Monday 08:00: a 17 h duty period
EXAMPLES: dict[str, Callable[[], PhysicianFact]] = {
    "OVERLAP": lambda: physician(agreement("A-1", CLINIC, "MO 11:00-13:00")),
    "TRAVEL_GAP": lambda: physician(agreement("A-1", CLINIC, "MO 12:10-14:00")),
    "WEEKLY_HOURS": lambda: physician(
        agreement("A-1", CLINIC, "MO-FR 13:00-21:00; SA-SU 08:00-20:00")
    ),
    "STANDARD_HOURS": lambda: physician(agreement("A-1", CLINIC, "MO-FR 14:00-19:00")),
    "DAILY_HOURS": lambda: physician(agreement("A-1", CLINIC, "MO 13:00-21:00")),
    "REST_DAY": lambda: physician(agreement("A-1", CLINIC, "SA 08:00-12:00; SU 08:00-12:00")),
    "MIN_REST": lambda: physician(agreement("A-1", CLINIC, DUTY_NIGHT)),
    "REGISTRATION": lambda: physician(
        registrations=(
            RegistrationFact(
                "450000",
                HOSPITAL.id,
                dt.date(2015, 1, 1),
                (Inactivity("suspended", dt.date(2026, 6, 1), dt.date(2026, 8, 31)),),
            ),
        )
    ),
    "OUT_OF_REGION": lambda: physician(agreement("A-1", OUTSIDE, "SA 08:00-12:00")),
    "SCOPE": lambda: physician(agreement("A-1", CLINIC, "SA 08:00-12:00", department="外科")),
    "PRIMARY": lambda: physician(agreement("A-1", CLINIC, "SA 08:00-12:00", role="primary")),
    "PERIOD": lambda: physician(
        agreement("A-1", CLINIC, "SA 08:00-12:00"),
        filings=(FilingFact(CLINIC.id, "内科", START, dt.date(2026, 6, 30)),),
    ),
    "SITE_LIMIT": lambda: physician(agreement("A-1", CLINIC, "SA 08:00-12:00")),
    "CREDIT": lambda: physician(listings=(Listing(dt.date(2026, 6, 1)),)),
    "ELIGIBILITY": lambda: physician(agreement("A-1", CLINIC, "SA 08:00-12:00"), title="住院医师"),
    "CONSENT": lambda: physician(agreement("A-1", CLINIC, "SA 08:00-12:00", consent=None)),
    "CONTRACT_HOURS": lambda: physician(
        agreement("A-1", CLINIC, "SA 08:00-12:00", weekly_hours=8.0)
    ),
    "TERMS": lambda: physician(
        agreement("A-1", CLINIC, "SA 08:00-12:00", missing_terms=("pay", "employment"))
    ),
    "HOLIDAY_DATA": lambda: physician(
        agreement("A-1", CLINIC, "SA 08:00-12:00", end=dt.date(2031, 6, 30))
    ),
}
POLICY = dataclasses.replace(defaults(), max_institutions=1, eligibility_gate=True)


def known_year(year: int) -> bool:
    return 2004 <= year <= 2026


def context() -> rules.RuleContext:
    return rules.RuleContext(
        POLICY,
        unknown_holiday_years=lambda a, b: [
            y for y in range(a.year, b.year + 1) if not known_year(y)
        ],
    )


def test_every_rule_has_an_example_here():
    assert sorted(EXAMPLES) == sorted(rule.code for rule in rules.RULES)


def test_every_rule_is_one_complete_object():
    columns = {column.name for column in VOCABULARIES["contracts"]}
    for rule in rules.RULES:
        assert rule.severity in (rules.ERROR, rules.WARNING), rule.code
        assert callable(rule.check) and callable(rule.clears), rule.code
        assert rule.column in columns, (rule.code, rule.column)
        assert rule.summary, rule.code
    assert len({rule.code for rule in rules.RULES}) == len(rules.RULES)
    assert rules.column_of("MIN_REST") == "sessions" and rules.column_of("NOT_A_RULE") == ""


def test_every_rule_object_defined_is_listed_in_rules():
    defined = {
        value.code
        for module in (
            rules.schedule_rules,
            rules.registration_rules,
            rules.contract_rules,
        )
        for value in vars(module).values()
        if isinstance(value, rules.Rule)
    }
    assert defined == {rule.code for rule in rules.RULES}


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_the_rule_fires_on_its_example_and_the_sweep_does_not_clear_it(code: str):
    facts = EXAMPLES[code]()
    rule = rules.BY_CODE[code]
    found = list(rule.check(facts, context()))
    assert found and {v.code for v in found} == {code}
    assert all(v.severity == rule.severity for v in found)
    sweeper = Sweeper(context(), {}, set(), known_year)
    assert not sweeper.facts_clean(facts)


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_the_rule_speaks_chinese(code: str):
    facts = EXAMPLES[code]()
    rule = rules.BY_CODE[code]
    english = [v.message for v in rule.check(facts, context())]
    i18n.set_language("zh")
    try:
        chinese = [v.message for v in rule.check(facts, context())]
        summary = i18n._(rule.summary)
    finally:
        i18n.set_language("en")
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for en, zh in zip(english, chinese, strict=True):
        assert zh != en and cjk.search(zh), (code, zh)
    assert summary != rule.summary and cjk.search(summary), (code, summary)


def readme_rule_table() -> dict[str, str]:
    """The rows of the README's rule table: code → severity column."""
    text = README.read_text("utf-8")
    section = text[text.index("### The rules") :]
    rows = re.findall(r"^\| `([A-Z_]+)` \| (\w[^|]*?) \|", section, flags=re.M)
    return dict(rows)


def test_every_rule_has_its_row_in_the_readme_rule_table():
    table = readme_rule_table()
    assert sorted(table) == sorted(rule.code for rule in rules.RULES)
    for rule in rules.RULES:
        assert table[rule.code].startswith(rule.severity), rule.code


def test_a_split_shift_raises_nothing_at_one_site_or_across_two():
    split = "MO-FR 08:00-12:00; MO-FR 18:00-21:00"
    one_site = physician(agreements=(agreement("P-1", HOSPITAL, split, role="primary"),))
    two_sites = physician(agreement("A-1", CLINIC, "MO-FR 18:00-21:00"))
    for facts in (one_site, two_sites):
        assert [v.code for v in rules.evaluate(facts, rules.RuleContext(defaults()))] == []


def test_a_night_shift_and_a_clinic_at_14_are_one_22_hour_duty_period():
    night = agreement("A-1", CLINIC, "SU 20:00-08:00")
    clinic = agreement("P-1", HOSPITAL, "MO 14:00-18:00", role="primary")
    facts = physician(agreements=(clinic, night))
    (found,) = [
        v for v in rules.evaluate(facts, rules.RuleContext(defaults())) if v.code == "MIN_REST"
    ]
    assert (found.code, found.measure, found.unit) == ("MIN_REST", 22.0, "h")
    assert found.first_date == dt.date(2026, 3, 8)  # the first Sunday night
    assert set(found.agreements) == {"A-1", "P-1"}
    rested = dataclasses.replace(defaults(), min_rest_hours=5)  # 6 h gap ends the period
    assert "MIN_REST" not in {v.code for v in rules.evaluate(facts, rules.RuleContext(rested))}


def test_slots_are_plain_weekly_slots():
    assert parse_sessions("SU 20:00-08:00") == [Slot(6, 20 * 60, 8 * 60)]
