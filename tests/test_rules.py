"""Rules on every write and in the region sweep (DOMAIN.md §Rules), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from multisite.domain import rules
from multisite.services import RefusedError
from multisite.services.demo import generate
from multisite.storage import queries as q

from .factories import (
    CENTRE,
    CLINIC,
    DR_LI,
    DR_ZHANG,
    HOSPITAL,
    agreement,
    assert_patterns_match_sessions,
    build_region,
    primary,
)


@pytest.fixture
def region(registry):
    build_region(registry)
    primary(registry)  # Dr Zhang: MO-TH 08:00-12:00 at the hospital, 2025-2026
    return registry


def refused_codes(registry, data) -> list[str]:
    with pytest.raises(RefusedError) as refused:
        registry.save_agreement(data)
    return [v.code for v in refused.value.violations]


def test_overnight_friday_session_conflicts_with_saturday_morning_elsewhere(region):
    region.save_agreement(agreement("A-1", CLINIC, "FR 20:00-08:00", hours=12))
    with pytest.raises(RefusedError) as refused:
        region.save_agreement(agreement("A-2", CENTRE, "SA 07:30-11:30", department="内科"))
    overlap = next(v for v in refused.value.violations if v.code == "OVERLAP")
    assert overlap.measure == 30 and overlap.unit == "min"
    assert overlap.first_date == dt.date(2026, 1, 10)  # the first Saturday after 2026-01-05
    assert set(overlap.agreements) == {"A-1", "A-2"}
    assert region.summary()["agreements"] == 2  # nothing of A-2 stored


def test_sunday_night_into_monday_conflicts_with_monday_five_oclock(region):
    region.save_agreement(agreement("A-1", CLINIC, "SU 22:00-06:00", hours=8))
    codes = refused_codes(region, agreement("A-2", CENTRE, "MO 05:00-07:00"))
    assert "OVERLAP" in codes


def test_touching_sessions_at_one_institution_are_allowed(region):
    result = region.save_agreement(
        agreement("P-1", HOSPITAL, "MO-TH 08:00-12:00; MO 12:00-14:00", role="primary",
                  start=dt.date(2025, 1, 1), end=dt.date(2026, 12, 31))
    )  # fmt: skip
    assert result.outcome == "updated"


def test_touching_sessions_at_two_institutions_break_the_travel_gap(region):
    codes = refused_codes(region, agreement("A-1", CLINIC, "MO 12:00-14:00"))
    assert codes == ["TRAVEL_GAP"]


def test_weekdays_that_overlap_in_dates_that_do_not_are_allowed(region):
    region.save_agreement(
        agreement(
            "A-1", CLINIC, "FR 08:00-12:00", start=dt.date(2026, 1, 5), end=dt.date(2026, 3, 31)
        )
    )
    result = region.save_agreement(
        agreement(
            "A-2", CENTRE, "FR 08:00-12:00", start=dt.date(2026, 4, 1), end=dt.date(2026, 6, 30)
        )
    )
    assert result.outcome == "created"


def test_a_suspension_in_the_middle_of_an_agreement_is_reported_from_its_first_day(region):
    region.save_agreement(agreement("A-1", CLINIC, "FR 08:00-12:00", hours=4))
    region.suspend_registration(
        DR_ZHANG, dt.date(2026, 6, 1), dt.date(2026, 8, 31), "定期考核不合格"
    )
    found = [v for v in region.check(physician=DR_ZHANG) if v.code == "REGISTRATION"]
    assert {v.first_date for v in found} == {dt.date(2026, 6, 1)}
    assert {a for v in found for a in v.agreements} == {"P-1", "A-1"}
    with pytest.raises(RefusedError):
        region.save_agreement(agreement("A-2", CENTRE, "TU 14:00-16:00", start=dt.date(2026, 7, 1)))


def test_a_third_primary_attempt_is_refused(region):
    region.save_agreement(agreement("A-1", CLINIC, "FR 08:00-12:00", hours=4))
    for contract in ("P-2", "P-3"):
        codes = refused_codes(
            region, agreement(contract, HOSPITAL, "SA 08:00-10:00", role="primary")
        )
        assert "PRIMARY" in codes


def test_an_additional_agreement_needs_a_primary_one(registry):
    build_region(registry)
    assert "PRIMARY" in refused_codes(registry, agreement("A-1", CLINIC, "FR 08:00-12:00"))


def test_sixty_one_hours_a_week_break_the_weekly_limit(region):
    data = agreement("A-1", CLINIC, "MO-SA 13:00-20:30; TU 20:45-23:45", consent=True)
    codes = refused_codes(region, data)
    assert "WEEKLY_HOURS" in codes


def test_warnings_are_stored_with_the_agreement_and_do_not_block(region):
    result = region.save_agreement(
        agreement("A-1", CLINIC, "FR 08:00-12:00", consent=None, hours=8)
    )
    assert {v.code for v in result.warnings} == {"CONSENT", "CONTRACT_HOURS"}


def test_tightening_the_policy_reports_new_violations_without_changing_data(region):
    region.save_agreement(agreement("A-1", CLINIC, "FR 08:00-12:00", hours=4))
    assert [v for v in region.check() if v.severity == "error"] == []
    region.set_policy("330000", {"weekly_max_hours": 10, "max_institutions": 1})
    codes = {v.code for v in region.check()}
    assert {"WEEKLY_HOURS", "SITE_LIMIT"} <= codes
    assert region.summary()["agreements"] == 2


def test_a_travel_buffer_override_for_one_pair_of_institutions(region, database):
    from multisite.storage.models import Institution, TravelBuffer

    region.save_agreement(agreement("A-1", CLINIC, "MO 13:00-15:00", hours=2))  # 60 min after
    with database.write() as s:
        ids_ = {i.code: i.id for i in s.query(Institution)}
        s.add(TravelBuffer(institution_a=ids_[HOSPITAL], institution_b=ids_[CLINIC], minutes=90))
    region.forget_context()
    found = [v for v in region.check(physician=DR_ZHANG) if v.code == "TRAVEL_GAP"]
    assert found and found[0].measure == 60


def test_messages_come_in_chinese(region):
    from multisite import i18n

    i18n.set_language("zh")
    with pytest.raises(RefusedError) as refused:
        region.save_agreement(agreement("A-1", CLINIC, "MO 12:00-14:00"))
    assert "分钟" in refused.value.violations[0].message


@pytest.mark.parametrize("seed", [3, 11])
def test_the_region_sweep_finds_exactly_what_full_evaluation_finds(registry, seed):
    """The sweep skips physicians by sound shortcuts (the preconditions tested in the
    database, the schedule's on the weekly patterns) and evaluates only the rules at risk of
    those it flags; full evaluation of everyone is the oracle."""
    generate(registry, 250, seed, today=dt.date(2026, 11, 28))
    registry.suspend_registration(
        registry.check.__self__ and _some_cert(registry, 5), dt.date(2026, 3, 1),
        dt.date(2026, 5, 31), "处罚",
    )  # fmt: skip
    registry.set_policy(
        "330000",
        {"weekly_max_hours": 38, "standard_weekly_hours": 30, "daily_max_hours": 9,
         "min_rest_hours": 14, "travel_buffer_minutes": 120, "contract_hours_tolerance": 0.0},
    )  # fmt: skip
    swept = registry.check()
    ctx = registry.rule_context(province="330000")  # the demo region's province
    with registry.db.read() as s:
        oracle = [v for f in q.all_physician_facts(s) for v in rules.evaluate(f, ctx)]
    key = lambda v: (v.code, v.physician, v.agreements, v.first_date, v.measure)  # noqa: E731
    assert sorted(map(key, swept)) == sorted(map(key, oracle))
    assert len({v.code for v in swept}) >= 5
    assert_patterns_match_sessions(registry)


def _some_cert(registry, index: int) -> str:
    with registry.db.read() as s:
        from sqlalchemy import select

        from multisite.storage.models import Physician

        return s.scalars(select(Physician.cert_no).order_by(Physician.id).offset(index)).first()


def test_dr_li_has_no_violations_in_a_clean_region(region):
    primary(region, physician=DR_LI, contract="P-LI")
    assert region.check(physician=DR_LI) == []


def test_rule_context_reads_what_another_clerk_stored_a_moment_ago(region, database):
    from multisite.services import Registry

    assert region.rule_context().policy.weekly_max_hours == 60
    Registry(database, clerk="另一位").set_policy("330000", {"weekly_max_hours": 50})
    assert region.rule_context().policy.weekly_max_hours == 50  # nothing kept from before


def test_a_stored_policy_with_a_retired_setting_still_loads(region, database):
    from multisite.storage.models import Policy

    with database.write() as s:
        s.add(Policy(region_code="330000", version=1, values={"block_gap_hours": 3,
                                                             "min_rest_hours": 10},
                     created_by="旧版本"))  # fmt: skip
    assert region.policy("330000").min_rest_hours == 10
    region.set_policy("330000", {"weekly_max_hours": 55})
    assert region.policy("330000").weekly_max_hours == 55
