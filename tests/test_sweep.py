"""The sweep's shortcut is sound: whenever it says "nothing can bite", the full rules agree.

Random physicians are drawn so that every rule fires now and then (hypothesis); the full
evaluation (``rules.evaluate``) is the oracle.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

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
from multisite.domain.sweep import Sweeper

INSTITUTIONS = [
    InstitutionFact(1, "A" * 18, "甲医院", "三级综合医院", "330106", frozenset({"内科", "外科"})),
    InstitutionFact(2, "B" * 18, "乙诊所", "诊所", "330108", frozenset({"内科"})),
    InstitutionFact(3, "C" * 18, "丙中心", "社区卫生服务中心", "330109", frozenset()),
    InstitutionFact(4, "D" * 18, "丁门诊", "综合门诊部", "320102", frozenset({"内科"})),
    InstitutionFact(
        5,
        "E" * 18,
        "戊诊所",
        "诊所",
        "330106",
        frozenset({"内科"}),
        listings=(Listing(dt.date(2025, 6, 1), dt.date(2025, 9, 30)),),  # 失信, for a while
    ),
]
BASE = dt.date(2025, 1, 6)

slots = st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 28)).map(
    lambda t: Slot(t[0], t[1] * 30, (t[1] * 30 + t[2] * 30) % 1440)
)
short_slots = st.tuples(st.integers(0, 6), st.integers(0, 47), st.integers(1, 10)).map(
    lambda t: Slot(t[0], t[1] * 30, (t[1] * 30 + t[2] * 30) % 1440)
)


@st.composite
def agreements(draw, index: int) -> AgreementFact:
    inst = draw(st.sampled_from(INSTITUTIONS))
    start = BASE + dt.timedelta(days=draw(st.integers(0, 400)))
    end = start + dt.timedelta(days=draw(st.integers(-3, 500)))
    chosen = tuple(draw(st.lists(slots, min_size=0, max_size=5)))
    minutes = sum(s.duration for s in chosen)
    hours = draw(st.sampled_from([0.0, round(minutes / 60, 2), round(minutes / 60 * 1.5, 2)]))
    return AgreementFact(
        index, f"C-{index}", inst, draw(st.sampled_from(["primary", "additional"])),
        draw(st.sampled_from(["内科", "外科", "儿科"])), start, end, hours,
        draw(st.sampled_from([True, None, False])), chosen,
        draw(st.sampled_from(["active", "active", "terminated", "draft"])),
        draw(st.sampled_from([(), (), ("pay",), ("tasks", "employment")])),
    )  # fmt: skip


@st.composite
def tidy_physicians(draw) -> PhysicianFact:
    """Mostly lawful physicians: one primary at the main hospital, further sites within it;
    only the schedules (and so the time rules) vary freely."""
    start = BASE + dt.timedelta(days=draw(st.integers(0, 60)))
    end = start + dt.timedelta(days=draw(st.integers(30, 500)))
    primary = AgreementFact(
        0, "P-0", INSTITUTIONS[0], "primary", "内科", start, end, 0.0, True,
        tuple(draw(st.lists(short_slots, min_size=1, max_size=4))),
    )  # fmt: skip
    extra = []
    shared = draw(st.booleans())  # additional agreements filed together share one period
    s_start = start + dt.timedelta(days=draw(st.integers(0, 20)))
    s_end = min(end, s_start + dt.timedelta(days=draw(st.integers(0, 200))))
    for i in range(draw(st.integers(0, 3))):
        a_start = s_start if shared else start + dt.timedelta(days=draw(st.integers(0, 20)))
        a_end = (
            s_end if shared else min(end, a_start + dt.timedelta(days=draw(st.integers(0, 200))))
        )
        extra.append(
            AgreementFact(
                i + 1,
                f"A-{i + 1}",
                INSTITUTIONS[1 + i % 2],
                "additional",
                "内科",
                a_start,
                a_end,
                0.0,
                True,
                tuple(draw(st.lists(short_slots, min_size=1, max_size=2))),
            )
        )
    reg = RegistrationFact("330000", 1, BASE - dt.timedelta(days=400))
    return PhysicianFact(
        1, "110330000000001", "张伟", "执业医师", "临床", frozenset({"内科"}), "主治医师",
        registrations=(reg,), agreements=(primary, *extra),
    )  # fmt: skip


@st.composite
def clustered_physicians(draw) -> PhysicianFact:
    """Several additional agreements filed together (one period) whose sessions sit close
    together on one day, beside a primary schedule: where minimum rest is hardest to judge."""
    start = BASE + dt.timedelta(days=draw(st.integers(0, 30)))
    end = start + dt.timedelta(days=draw(st.integers(60, 400)))
    primary = AgreementFact(
        0, "P-0", INSTITUTIONS[0], "primary", "内科", start, end, 0.0, True,
        tuple(draw(st.lists(short_slots, min_size=1, max_size=3))),
    )  # fmt: skip
    day = draw(st.integers(0, 6))
    minute = draw(st.integers(0, 40)) * 30
    a_start = start + dt.timedelta(days=draw(st.integers(0, 20)))
    a_end = min(end, a_start + dt.timedelta(days=draw(st.integers(7, 200))))
    extra = []
    for i in range(draw(st.integers(2, 5))):
        length = draw(st.integers(1, 4)) * 30
        if minute + length >= 1440:
            break
        slot = Slot(day, minute, minute + length)
        own_start = a_start if draw(st.integers(0, 4)) else a_start + dt.timedelta(days=7)
        extra.append(
            AgreementFact(
                i + 1,
                f"A-{i + 1}",
                INSTITUTIONS[1 + i % 2],
                "additional",
                "内科",
                own_start,
                a_end,
                0.0,
                True,
                (slot,),
            )
        )
        minute += length + draw(st.sampled_from([0, 30, 60, 120, 150, 180, 240, 300]))
    reg = RegistrationFact("330000", 1, BASE - dt.timedelta(days=400))
    return PhysicianFact(
        1, "110330000000001", "张伟", "执业医师", "临床", frozenset({"内科"}), "主治医师",
        registrations=(reg,), agreements=(primary, *extra),
    )  # fmt: skip


@st.composite
def physicians(draw) -> PhysicianFact:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(tidy_physicians())
    if kind == 1:
        return draw(clustered_physicians())
    count = draw(st.integers(1, 4))
    items = tuple(draw(agreements(i)) for i in range(count))
    inactive = draw(
        st.sampled_from(
            [
                (),
                (
                    Inactivity(
                        "suspended", BASE + dt.timedelta(days=90), BASE + dt.timedelta(days=120)
                    ),
                ),
            ]
        )
    )
    region = draw(st.sampled_from(["330000", "330000", "330106"]))
    reg = RegistrationFact(
        region,
        draw(st.sampled_from([1, 1, 2])),
        BASE - dt.timedelta(days=draw(st.integers(-30, 900))),
        inactive,
    )
    filings = tuple(
        FilingFact(
            a.institution.id,
            a.department,
            a.start + dt.timedelta(days=draw(st.integers(0, 2))),
            a.end,
        )
        for a in items
        if a.role == "additional" and draw(st.booleans())
    )
    return PhysicianFact(
        1, "110330000000001", "张伟", "执业医师", "临床",
        frozenset(draw(st.sampled_from([{"内科"}, {"内科", "外科"}]))),
        "主治医师", draw(st.sampled_from([(), (), (Listing(dt.date(2025, 8, 1)),)])), None, None,
        (reg,), filings, items,
    )  # fmt: skip


POLICY = defaults()
CTX = rules.RuleContext(POLICY)
SWEEPER = Sweeper(CTX, {}, set(), lambda year: 2004 <= year <= 2026)
# A strict region, so that SITE_LIMIT and ELIGIBILITY (off by default) bite too.
STRICT = dataclasses.replace(POLICY, max_institutions=2, eligibility_gate=True, min_rest_hours=10)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(physicians(), st.sampled_from([POLICY, STRICT]))
def test_a_physician_the_shortcut_clears_has_no_violation(p: PhysicianFact, policy):
    ctx = rules.RuleContext(policy, unknown_holiday_years=lambda a, b: [
        y for y in range(a.year, b.year + 1) if not 2004 <= y <= 2026
    ])  # fmt: skip
    clean = Sweeper(ctx, {}, set(), lambda year: 2004 <= year <= 2026).facts_clean(p)
    event(f"shortcut clears: {clean}")
    found = rules.evaluate(p, ctx)
    for code in sorted({v.code for v in found}):
        event(f"fires: {code}")
    if clean:
        assert found == []


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(physicians(), st.sampled_from([POLICY, STRICT]))
def test_a_rule_whose_precondition_clears_finds_nothing(p: PhysicianFact, policy):
    """Each precondition is sound on its own: the rules at risk find all there is, so the
    sweep and the write path evaluate only those."""
    ctx = rules.RuleContext(policy, unknown_holiday_years=lambda a, b: [
        y for y in range(a.year, b.year + 1) if not 2004 <= y <= 2026
    ])  # fmt: skip
    sweeper = Sweeper(ctx, {}, set(), lambda year: 2004 <= year <= 2026)
    at_risk = sweeper.rules_at_risk(p)
    for rule in at_risk:
        event(f"at risk: {rule.code}")
    assert rules.evaluate(p, ctx, at_risk) == rules.evaluate(p, ctx)
    assert (not at_risk) == sweeper.facts_clean(p)


def test_the_shortcut_clears_an_ordinary_physician():
    inst = INSTITUTIONS[0]
    week = tuple(Slot(d, 8 * 60, 17 * 60) for d in range(4))
    primary = AgreementFact(1, "P", inst, "primary", "内科", BASE, BASE + dt.timedelta(days=300),
                            36.0, True, week)  # fmt: skip
    extra = AgreementFact(2, "A", INSTITUTIONS[1], "additional", "内科", BASE,
                          BASE + dt.timedelta(days=100), 4.0, True, (Slot(5, 8 * 60, 12 * 60),))  # fmt: skip
    p = PhysicianFact(1, "1" * 15, "张伟", "执业医师", "临床", frozenset({"内科"}), "主治医师",
                      registrations=(RegistrationFact("330000", 1, BASE),),
                      agreements=(primary, extra))  # fmt: skip
    assert SWEEPER.facts_clean(p)
    late = AgreementFact(3, "B", INSTITUTIONS[2], "additional", "内科", BASE,
                         BASE + dt.timedelta(days=100), 2.0, True, (Slot(0, 17 * 60 + 10, 19 * 60),))  # fmt: skip
    crowded = PhysicianFact(1, "1" * 15, "张伟", "执业医师", "临床", frozenset({"内科"}), "主治医师",
                            registrations=(RegistrationFact("330000", 1, BASE),),
                            agreements=(primary, late))  # fmt: skip
    assert not SWEEPER.facts_clean(crowded)  # 10 minutes after the hospital: TRAVEL_GAP


def test_a_split_shift_at_two_sites_is_cleared_and_a_night_with_a_clinic_is_not():
    inst = INSTITUTIONS[0]
    days = tuple(Slot(d, 8 * 60, 12 * 60) for d in range(5))
    primary = AgreementFact(1, "P", inst, "primary", "内科", BASE, BASE + dt.timedelta(days=300),
                            20.0, True, days)  # fmt: skip
    evening = AgreementFact(2, "A", INSTITUTIONS[1], "additional", "内科", BASE,
                            BASE + dt.timedelta(days=100), 3.0, True, (Slot(0, 18 * 60, 21 * 60),))  # fmt: skip
    split = PhysicianFact(1, "1" * 15, "张伟", "执业医师", "临床", frozenset({"内科"}), "主治医师",
                          registrations=(RegistrationFact("330000", 1, BASE),),
                          agreements=(primary, evening))  # fmt: skip
    assert SWEEPER.facts_clean(split)
    night = AgreementFact(3, "N", INSTITUTIONS[1], "additional", "内科", BASE,
                          BASE + dt.timedelta(days=100), 12.0, True, (Slot(6, 20 * 60, 8 * 60),))  # fmt: skip
    clinic = AgreementFact(1, "P", inst, "primary", "内科", BASE, BASE + dt.timedelta(days=300),
                           3.0, True, (Slot(0, 14 * 60, 17 * 60),))  # fmt: skip
    tired = PhysicianFact(1, "1" * 15, "张伟", "执业医师", "临床", frozenset({"内科"}), "主治医师",
                          registrations=(RegistrationFact("330000", 1, BASE),),
                          agreements=(clinic, night))  # fmt: skip
    assert not SWEEPER.facts_clean(tired)
    assert [v.code for v in rules.evaluate(tired, CTX)] == ["MIN_REST"]
