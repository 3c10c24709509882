"""The region-wide validation base summary served from ``base_cache``: after every kind of
write (through the service, or by hand-written SQL) and on later dates, the summary equals
the computation from the raw rows; an unchanged institution is not recomputed; a result
computed from data that changed meanwhile is never stored. Both backends."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import multisite.services.validation_base
from multisite.services import InstitutionInput, PhysicianInput, Registry, ServiceError, demo
from multisite.services.imports import run_import
from multisite.services.validation_base import report_json, validation_base
from multisite.storage import Database
from multisite.storage import validation_base as store
from multisite.storage.models import BaseCache
from tests.factories import (
    CENTRE,
    CLINIC,
    DR_LI,
    DR_ZHANG,
    HOSPITAL,
    ID_NUMBER,
    OUTSIDE,
    agreement,
    build_region,
    primary,
)
from tests.offices import PROVINCE, make_office
from tests.test_validation_base import ON, clinic_doctor, two_sites

DAY = dt.timedelta(days=1)

# what the summary carries (contributor and risk lists are left out, their sizes kept)
FIELDS = (
    "institution",
    "name",
    "kind",
    "beds",
    "required",
    "title_minimum",
    "counted",
    "shortfall",
    "status",
    "next_validation",
    "confirmed",
    "counting",
    "contributor_count",
    "risk_count",
    "risk_from",
    "title_short",
)

Row = dict[str, Any]


def _row(base: multisite.services.validation_base.InstitutionBase, *, detail: bool) -> Row:
    row = {f: getattr(base, f) for f in FIELDS}
    row["title_minimum"] = dict(base.title_minimum)
    row["title_short"] = tuple(base.title_short)
    if detail:  # the sizes of the lists the detailed result really holds
        row["contributor_count"] = len(base.contributors)
        row["risk_count"] = len(base.at_risk)
    return row


def fresh_summary(registry: Registry, on: dt.date = ON) -> dict[str, Row]:
    """The summary on ``on``, checked field by field against the uncached computation from
    the raw rows; by institution code."""
    summary = [_row(b, detail=False) for b in validation_base(registry, on, detail=False)]
    detailed = validation_base(registry, on)
    expected = [_row(b, detail=True) for b in detailed]
    # `base --json` for every institution: stored documents, the same as computed afresh
    assert json.loads(report_json(registry, on)) == [b.as_json() for b in detailed], on
    codes = [r["institution"] for r in summary]
    assert codes == [r["institution"] for r in expected], on
    assert codes == sorted(codes), on
    for got, want in zip(summary, expected, strict=True):
        assert got == want, (on.isoformat(), want["institution"])
    return dict(zip(codes, summary, strict=True))


def changed(before: dict[str, Row], after: dict[str, Row]) -> set[str]:
    """The institutions whose summary row differs."""
    return {code for code in before.keys() | after.keys() if before.get(code) != after.get(code)}


def institution_id(registry: Registry, code: str) -> int:
    with registry.db.read() as s:
        found = store.institution_id(s, code)
    assert found is not None, code
    return found


def zhang(title: str) -> PhysicianInput:
    """张伟 as build_region registers him, with another title."""
    return PhysicianInput(
        DR_ZHANG,
        "张伟",
        "执业医师",
        "临床",
        ["内科", "全科医学"],
        title,
        "330000",
        HOSPITAL,
        dt.date(2015, 3, 1),
        id_number=ID_NUMBER,
    )


def execute(registry: Registry, sql: str, **params: Any) -> int:
    """A hand-written statement in one write transaction, bypassing the service."""
    statement = sa.text(sql).bindparams(
        *(
            sa.bindparam(k, v, type_=sa.Date()) if isinstance(v, dt.date) else sa.bindparam(k, v)
            for k, v in params.items()
        )
    )
    with registry.db.write() as s:
        return s.execute(statement).rowcount


# --- 1. writes through the service ---------------------------------------------------------


def test_a_new_agreement_is_counted_at_once(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    primary(registry, physician=DR_LI, contract="P-2")
    after = fresh_summary(registry)
    assert changed(before, after) == {HOSPITAL}
    assert after[HOSPITAL]["counted"] == pytest.approx(1.4)
    registry.save_agreement(agreement("A-2", CLINIC, "FR 08:00-16:00", physician=DR_LI))
    again = fresh_summary(registry)
    assert changed(after, again) == {CLINIC}
    assert again[CLINIC]["counted"] == pytest.approx(0.4)
    assert again[CLINIC]["contributor_count"] == 2


def test_an_agreement_starting_later_counts_from_its_first_day(registry: Registry) -> None:
    two_sites(registry)
    primary(registry, physician=DR_LI, contract="P-2")
    registry.save_agreement(
        agreement("A-2", CLINIC, "FR 08:00-16:00", physician=DR_LI, start=ON + 7 * DAY)
    )
    assert fresh_summary(registry)[CLINIC]["counted"] == pytest.approx(0.2)
    # no write in between: the row stored on ON must not hold on the agreement's first day
    assert fresh_summary(registry, ON + 7 * DAY)[CLINIC]["counted"] == pytest.approx(0.4)


def test_a_terminated_agreement_is_a_risk_then_stops_counting(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    registry.terminate_agreement("A-1", ON + 10 * DAY, "合同解除")
    after = fresh_summary(registry)
    assert changed(before, after) == {CLINIC}
    assert after[CLINIC]["counted"] == pytest.approx(0.2)
    assert (after[CLINIC]["risk_count"], after[CLINIC]["risk_from"]) == (1, ON + 11 * DAY)
    # the row stored on ON expires after the agreement's last day, with no write in between
    later = fresh_summary(registry, ON + 11 * DAY)
    assert later[CLINIC]["counted"] == 0.0 and later[CLINIC]["contributor_count"] == 0
    registry.terminate_agreement("P-1", ON - DAY, "合同解除")
    ended = fresh_summary(registry)
    assert changed(after, ended) == {HOSPITAL}
    assert ended[HOSPITAL]["counted"] == 0.0


def test_the_summary_expires_after_an_agreement_s_last_day(registry: Registry) -> None:
    clinic_doctor(registry, end=ON + 20 * DAY)
    assert fresh_summary(registry)[CLINIC]["counted"] == pytest.approx(1.0)
    assert fresh_summary(registry, ON + 20 * DAY)[CLINIC]["counted"] == pytest.approx(1.0)
    last = fresh_summary(registry, ON + 21 * DAY)[CLINIC]
    assert (last["counted"], last["status"]) == (0.0, "short")


def test_a_suspension_now_counts_nothing_until_it_ends(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    registry.suspend_registration(DR_ZHANG, ON - DAY, ON + 30 * DAY, "考核不合格")
    during = fresh_summary(registry)
    assert changed(before, during) == {HOSPITAL, CLINIC}
    assert during[HOSPITAL]["counted"] == during[CLINIC]["counted"] == 0.0
    # the rows stored on ON hold through the suspension's last day only
    back = fresh_summary(registry, ON + 31 * DAY)
    assert back[HOSPITAL]["counted"] == pytest.approx(1.0)
    assert back[CLINIC]["counted"] == pytest.approx(0.2)


def test_a_future_suspension_is_a_risk_then_counts_nothing(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    registry.suspend_registration(DR_ZHANG, ON + 14 * DAY, dt.date(2027, 1, 31), "处罚")
    after = fresh_summary(registry)
    assert changed(before, after) == {HOSPITAL, CLINIC}
    assert after[HOSPITAL]["counted"] == pytest.approx(1.0)
    assert after[HOSPITAL]["risk_from"] == ON + 14 * DAY
    lapsed = fresh_summary(registry, ON + 14 * DAY)
    assert lapsed[HOSPITAL]["counted"] == lapsed[CLINIC]["counted"] == 0.0


def test_a_cancellation_is_counted_from_its_day(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    registry.cancel_registration(DR_ZHANG, ON + 5 * DAY, "注销")
    after = fresh_summary(registry)
    assert changed(before, after) == {HOSPITAL, CLINIC}
    assert after[CLINIC]["risk_from"] == ON + 5 * DAY
    gone = fresh_summary(registry, ON + 5 * DAY)
    assert gone[HOSPITAL]["counted"] == gone[CLINIC]["counted"] == 0.0
    registry.cancel_registration(DR_LI, ON - DAY, "注销")  # no agreements: nothing changes
    assert fresh_summary(registry, ON + 5 * DAY) == gone


def test_institution_kind_beds_and_name_changes(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    registry.file_institution(
        InstitutionInput(
            CLINIC, "西湖张氏门诊部", "综合门诊部", "330106", 0, ["内科"], True, address="某路1号"
        )
    )
    after = fresh_summary(registry)
    assert changed(before, after) == {CLINIC}
    clinic = after[CLINIC]
    assert (clinic["name"], clinic["kind"], clinic["required"]) == (
        "西湖张氏门诊部",
        "综合门诊部",
        5,
    )
    assert clinic["title_short"] == ("副主任医师",)
    registry.file_institution(
        InstitutionInput(
            HOSPITAL,
            "浙江省第一人民医院",
            "三级综合医院",
            "330106",
            600,
            ["内科", "外科", "儿科"],
            False,
            address="某路1号",
        )
    )
    smaller = fresh_summary(registry)
    assert changed(after, smaller) == {HOSPITAL}
    assert (smaller[HOSPITAL]["beds"], smaller[HOSPITAL]["required"]) == (600, 180)


def test_an_institution_filed_after_the_summary_is_in_the_next_one(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    code = CLINIC[:-2] + "9" + CLINIC[-1]
    registry.file_institution(InstitutionInput(code, "新诊所", "诊所", "330106"))
    after = fresh_summary(registry)
    assert changed(before, after) == {code}
    assert (after[code]["counted"], after[code]["status"]) == (0.0, "short")


def test_a_physician_s_title_changes_the_title_minimum(registry: Registry) -> None:
    build_region(registry, gp=True)
    primary(registry)
    registry.save_agreement(agreement("A-C", CENTRE, "FR 08:00-12:00"))
    before = fresh_summary(registry)
    assert before[CENTRE]["title_short"] == ("副主任医师",)  # 张伟 is a 主治医师
    registry.register_physician(zhang("主任医师"))
    after = fresh_summary(registry)
    assert changed(before, after) == {CENTRE}
    assert after[CENTRE]["title_short"] == ()
    registry.register_physician(zhang("住院医师"))
    assert fresh_summary(registry)[CENTRE]["title_short"] == ("副主任医师",)


def test_a_new_policy_version_changes_the_counting_mode(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    registry.set_policy("330000", {"counting": "headcount"})
    headcount = fresh_summary(registry)
    # Zhejiang's policy; 江苏 (OUTSIDE) keeps the defaults
    assert changed(before, headcount) == {HOSPITAL, CLINIC, CENTRE}
    assert headcount[CLINIC]["counted"] == 1.0 and headcount[CLINIC]["counting"] == "headcount"
    assert headcount[OUTSIDE]["counting"] == "fte"
    registry.set_policy("330000", {"min_weekly_hours": 9})
    assert fresh_summary(registry)[CLINIC]["counted"] == 0.0
    registry.set_policy("330000", {"counting": "primary_only"})
    only = fresh_summary(registry)
    assert (only[HOSPITAL]["counted"], only[CLINIC]["counted"]) == (1.0, 0.0)
    registry.set_policy("330000", {"counting": "fte", "standard_week_hours": 20})
    assert fresh_summary(registry)[CLINIC]["counted"] == pytest.approx(0.4)


def test_staffing_table_edits(registry: Registry) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    registry.set_staffing("330000", "诊所", min_physicians=2, title_minimum={"主治医师": 1})
    province = fresh_summary(registry)
    assert changed(before, province) == {CLINIC}
    assert (province[CLINIC]["required"], province[CLINIC]["confirmed"]) == (2, False)
    assert province[CLINIC]["title_short"] == ()  # 张伟, a 主治医师, counts there
    registry.set_staffing("330106", "诊所", min_physicians=3, confirmed=True)
    county = fresh_summary(registry)
    assert (county[CLINIC]["required"], county[CLINIC]["confirmed"]) == (3, True)
    registry.set_staffing("330106", "诊所", title_minimum={"副主任医师": 1})
    assert fresh_summary(registry)[CLINIC]["title_short"] == ("副主任医师",)
    registry.clear_staffing("330106", "诊所")
    assert fresh_summary(registry) == province
    registry.clear_staffing("330000", "诊所")
    assert fresh_summary(registry) == before


# --- 2. writes that bypass the service ----------------------------------------------------


def test_hand_written_sql_on_agreements_is_seen(registry: Registry, database: Database) -> None:
    two_sites(registry)
    before = fresh_summary(registry)
    sql = "UPDATE agreement SET weekly_minutes = 960 WHERE contract_no = 'A-1'"
    assert execute(registry, sql) == 1
    doubled = fresh_summary(registry)
    assert changed(before, doubled) == {CLINIC}
    assert doubled[CLINIC]["counted"] == pytest.approx(0.4)
    statement = sa.text("UPDATE agreement SET terminated_on = :d WHERE contract_no = 'A-1'")
    statement = statement.bindparams(sa.bindparam("d", ON - DAY, type_=sa.Date()))
    with database.engine.begin() as connection:  # another connection than the registry's
        assert connection.execute(statement).rowcount == 1
    ended = fresh_summary(registry)
    assert changed(doubled, ended) == {CLINIC}
    assert ended[CLINIC]["counted"] == 0.0
    assert execute(registry, "DELETE FROM work_session") > 0  # not what the base reads
    assert execute(registry, "DELETE FROM agreement WHERE contract_no = 'P-1'") == 1
    assert fresh_summary(registry)[HOSPITAL]["counted"] == 0.0


def test_hand_written_sql_on_other_tables_is_seen(registry: Registry) -> None:
    build_region(registry, gp=True)
    primary(registry)
    registry.save_agreement(agreement("A-C", CENTRE, "FR 08:00-12:00"))
    before = fresh_summary(registry)
    sql = "UPDATE institution SET licensed_on = :d WHERE code = :code"
    assert execute(registry, sql, d=dt.date(2020, 6, 15), code=CENTRE) == 1
    licensed = fresh_summary(registry)
    assert changed(before, licensed) == {CENTRE}
    assert licensed[CENTRE]["next_validation"] == dt.date(2026, 6, 15)
    # after the validation day the next one is a year later, with no write in between
    assert fresh_summary(registry, dt.date(2026, 6, 16))[CENTRE]["next_validation"] == dt.date(
        2027, 6, 15
    )
    execute(registry, "UPDATE physician SET title = '主任医师' WHERE cert_no = :c", c=DR_ZHANG)
    assert fresh_summary(registry)[CENTRE]["title_short"] == ()
    # who counts toward a 社区卫生服务中心: a general practitioner (全科医学 among the scopes)
    counted = fresh_summary(registry)[CENTRE]["counted"]
    assert counted > 0
    execute(registry, """UPDATE physician SET scopes = '["内科"]' WHERE cert_no = :c""", c=DR_ZHANG)
    assert fresh_summary(registry)[CENTRE]["counted"] == 0.0
    execute(registry, """UPDATE physician SET scopes = '["内科", "全科医学"]' WHERE cert_no = :c""",
            c=DR_ZHANG)  # fmt: skip
    assert fresh_summary(registry)[CENTRE]["counted"] == counted
    sql = (
        "UPDATE registration_event SET status = 'suspended', until = :u WHERE registration_id IN "
        "(SELECT r.id FROM registration r JOIN physician p ON p.id = r.physician_id "
        "WHERE p.cert_no = :c)"
    )
    execute(registry, sql, u=ON + 5 * DAY, c=DR_ZHANG)
    suspended = fresh_summary(registry)
    assert suspended[HOSPITAL]["counted"] == suspended[CENTRE]["counted"] == 0.0
    registry.set_staffing("330000", "社区卫生服务中心", min_physicians=6)
    fresh_summary(registry)
    execute(registry, "UPDATE staffing_minimum SET min_physicians = 2, title_minimum = '{}'")
    assert fresh_summary(registry)[CENTRE]["required"] == 2


# --- 3. served from the cache, recomputed only where written ---------------------------------


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("recomputed instead of served from base_cache")


def test_a_second_summary_is_served_from_the_cache(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_sites(registry)
    first = fresh_summary(registry)

    def summary(on: dt.date) -> dict[str, Row]:
        return {
            b.institution: _row(b, detail=False)
            for b in validation_base(registry, on, detail=False)
        }

    with monkeypatch.context() as patch:
        patch.setattr(multisite.services.validation_base, "_evaluate", _refuse)
        again = summary(ON)
        # nothing on record changes before the agreements end: a later date is served too
        later = summary(ON + 30 * DAY)
    assert again == first
    assert later == {
        b.institution: _row(b, detail=True) for b in validation_base(registry, ON + 30 * DAY)
    }


def _record(monkeypatch: pytest.MonkeyPatch) -> list[list[int] | None]:
    """Wrap ``_evaluate`` to record the institutions it is asked to compute."""
    calls: list[list[int] | None] = []
    evaluate = multisite.services.validation_base._evaluate

    def recording(registry: Registry, on: dt.date, institution_ids: Any, *a: Any, **k: Any) -> Any:
        calls.append(None if institution_ids is None else sorted(institution_ids))
        return evaluate(registry, on, institution_ids, *a, **k)

    monkeypatch.setattr(multisite.services.validation_base, "_evaluate", recording)
    return calls


def test_a_write_recomputes_only_the_institutions_it_touches(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    two_sites(registry)
    hospital, clinic = institution_id(registry, HOSPITAL), institution_id(registry, CLINIC)
    fresh_summary(registry)

    def recomputed() -> list[list[int] | None]:
        with monkeypatch.context() as patch:
            calls = _record(patch)
            validation_base(registry, ON, detail=False)
        fresh_summary(registry)  # and what was served is right
        return calls

    assert recomputed() == []
    registry.terminate_agreement("A-1", ON + 10 * DAY, "合同解除")
    assert recomputed() == [[clinic]]
    assert recomputed() == []
    registry.save_agreement(agreement("A-2", CENTRE, "TH 18:00-20:00"))
    centre = institution_id(registry, CENTRE)
    assert recomputed() == [[centre]]
    registry.suspend_registration(DR_ZHANG, ON + 14 * DAY, ON + 20 * DAY, "处罚")
    assert recomputed() == [sorted([hospital, clinic, centre])]


# --- 4. a result computed from data that changed meanwhile -----------------------------------


def cache_row(registry: Registry, institution: int) -> tuple[Any, ...]:
    """(valid_from, valid_until, counted) of the institution's stored row."""
    with registry.db.read() as s:
        row = s.execute(
            sa.select(BaseCache.valid_from, BaseCache.valid_until, BaseCache.counted).where(
                BaseCache.institution_id == institution
            )
        ).one()
    return tuple(row)


def marks_of(registry: Registry, institution: int) -> int:
    with registry.db.read() as s:
        return len([i for _m, i in store.stale_marks(s).pairs if i == institution])


def test_a_result_older_than_the_data_is_not_served(registry: Registry) -> None:
    two_sites(registry)
    clinic = institution_id(registry, CLINIC)
    fresh_summary(registry)
    assert marks_of(registry, clinic) == 0
    with registry.db.read() as s:
        read = store.stale_marks(s)  # what a report reads before the data
    computed = multisite.services.validation_base._evaluate(
        registry, ON, [clinic], contributors=False
    )
    assert computed[0].base.counted == pytest.approx(0.2)
    registry.terminate_agreement("A-1", ON - DAY, "合同解除")  # a trigger marks the clinic
    assert marks_of(registry, clinic) == 1
    with registry.db.write() as s:  # the older result is stored, answering only what it read
        rows = multisite.services.validation_base.cache_rows(computed, ON)
        assert store.save_cache(s, rows, read.answered_by({clinic}, covered_all=True)) == 1
    assert cache_row(registry, clinic)[2] == pytest.approx(0.2)
    assert marks_of(registry, clinic) == 1  # the mark written meanwhile stays
    summary = fresh_summary(registry)
    assert summary[CLINIC]["counted"] == 0.0  # so the report recounts
    assert marks_of(registry, clinic) == 0 and cache_row(registry, clinic)[2] == 0.0


def test_a_change_to_the_staffing_table_marks_every_institution(registry: Registry) -> None:
    two_sites(registry)
    fresh_summary(registry)
    registry.set_staffing("330000", "诊所", min_physicians=0.1)
    with registry.db.read() as s:
        assert store.stale_marks(s).everything
    summary = fresh_summary(registry)
    assert summary[CLINIC]["status"] == "meets"
    with registry.db.read() as s:
        assert store.stale_marks(s).pairs == []


def test_save_cache_counts_the_rows_it_stores(registry: Registry) -> None:
    two_sites(registry)
    centre = institution_id(registry, CENTRE)
    computed = multisite.services.validation_base._evaluate(
        registry, ON, [centre], contributors=False
    )
    with registry.db.write() as s:
        assert (
            store.save_cache(s, multisite.services.validation_base.cache_rows(computed, ON), [])
            == 1
        )
    with registry.db.write() as s:  # stored again over the first
        assert (
            store.save_cache(s, multisite.services.validation_base.cache_rows(computed, ON), [])
            == 1
        )
    assert cache_row(registry, centre) == (ON, dt.date(2026, 12, 31), 0.0)


# --- hand-written writes on what the triggers watch ------------------------------------------


def test_losses_on_one_day_are_risks_together_whatever_their_contract_numbers(
    registry: Registry,
) -> None:
    last = dt.date(2026, 6, 30)
    clinic_doctor(registry, end=last)  # 王芳 at the clinic: P-W, a full week
    primary(registry)
    registry.save_agreement(agreement("A-1", CLINIC, "SA 08:00-16:00", end=last))
    # both end on 30 June: from 1 July the clinic has nothing, and both took a share
    assert fresh_summary(registry)[CLINIC]["risk_count"] == 2
    execute(registry, "UPDATE agreement SET contract_no = 'Q-1' WHERE contract_no = 'A-1'")
    assert fresh_summary(registry)[CLINIC]["risk_count"] == 2
    [clinic] = validation_base(registry, ON, institution=CLINIC)
    assert sorted(r.contract_no or "" for r in clinic.at_risk) == ["P-W", "Q-1"]


def test_an_institution_deleted_by_hand_leaves_the_summary(registry: Registry) -> None:
    build_region(registry)
    fresh_summary(registry)
    assert execute(registry, "DELETE FROM institution WHERE code = :c", c=OUTSIDE) == 1
    code = CLINIC[:-2] + "9" + CLINIC[-1]
    registry.file_institution(InstitutionInput(code, "新诊所", "诊所", "330106"))
    summary = fresh_summary(registry)
    assert OUTSIDE not in summary and code in summary


# --- 5. a demo region under random writes ---------------------------------------------------


def test_demo_region_summary_agrees_under_random_writes(registry: Registry) -> None:
    today = dt.date(2026, 11, 28)
    built = demo.generate(registry, 200, seed=11, today=today)  # 26 institutions of 12 kinds
    rng = random.Random(7)
    certs = [p["cert_no"] for p in built.physicians]
    contracts = [a["contract_no"] for a in built.agreements]
    kinds = sorted({i["kind"] for i in built.institutions})
    titles = ["住院医师", "主治医师", "副主任医师", "主任医师"]

    def day() -> dt.date:
        return today + dt.timedelta(days=rng.randint(-90, 120))

    def suspend() -> None:
        start = day()
        registry.suspend_registration(
            rng.choice(certs), start, start + rng.randint(0, 150) * DAY, "处罚"
        )

    def cancel() -> None:
        registry.cancel_registration(rng.choice(certs), day(), "注销")

    def terminate() -> None:
        registry.terminate_agreement(rng.choice(contracts), day(), "解除")

    def beds() -> None:
        i = rng.choice(built.institutions)
        fields = ("code", "name", "kind", "county_code", "departments", "grassroots", "address")
        i["beds"] = rng.choice([0, 20, 99, 100, 250, 800])
        registry.file_institution(InstitutionInput(beds=i["beds"], **{k: i[k] for k in fields}))

    def minutes() -> None:
        sql = "UPDATE agreement SET weekly_minutes = :m WHERE contract_no = :c"
        execute(registry, sql, m=rng.randint(0, 3000), c=rng.choice(contracts))

    def title() -> None:
        sql = "UPDATE physician SET title = :t WHERE cert_no = :c"
        execute(registry, sql, t=rng.choice(titles), c=rng.choice(certs))

    def licensed() -> None:
        sql = "UPDATE institution SET licensed_on = :d WHERE code = :c"
        when = dt.date(rng.randint(2000, 2026), rng.randint(1, 12), rng.randint(1, 28))
        execute(registry, sql, d=when, c=rng.choice(built.institutions)["code"])

    def policy() -> None:
        registry.set_policy(
            "330000",
            {
                "counting": rng.choice(["fte", "headcount", "primary_only"]),
                "min_weekly_hours": rng.choice([2, 4, 8]),
            },
        )

    def staffing() -> None:
        kind = rng.choice(kinds)
        region = rng.choice(["330000", rng.choice(built.institutions)["county_code"]])
        if rng.random() < 0.25:
            registry.clear_staffing(region, kind)  # refused where the region has no row
            return
        registry.set_staffing(
            region,
            kind,
            min_physicians=rng.randint(0, 4),
            per_bed=rng.choice([0, 0.1]),
            title_minimum=rng.choice([{}, {"主治医师": 1}, {"主任医师": 1}]),
            confirmed=rng.random() < 0.5,
        )

    writes = [suspend, cancel, terminate, beds, minutes, title, licensed, policy, staffing]
    dates = [today, today + 45 * DAY]
    for on in dates:
        fresh_summary(registry, on)
    for _ in range(40):
        write = rng.choice(writes)
        with contextlib.suppress(ServiceError):  # a write the rules refuse
            write()
        for on in dates:
            fresh_summary(registry, on)
    # forward and back over a year with no write in between: rows expire and are replaced
    walk = [today + dt.timedelta(days=d) for d in range(-60, 330, 20)]
    for on in walk + walk[::-1]:
        fresh_summary(registry, on)


# --- 6. the stored results never hold a clerk up --------------------------------------------


def test_a_registration_given_to_another_physician_by_hand_marks_both(registry: Registry) -> None:
    two_sites(registry)
    fresh_summary(registry)
    hospital, clinic = (institution_id(registry, c) for c in (HOSPITAL, CLINIC))
    # (a real move would break the one-registration-per-province rule: the trigger is what
    # matters, and it fires on any write of the column)
    execute(registry, "UPDATE registration SET physician_id = physician_id")
    assert marks_of(registry, hospital) >= 1 and marks_of(registry, clinic) >= 1
    fresh_summary(registry)
    assert (marks_of(registry, hospital), marks_of(registry, clinic)) == (0, 0)


def test_two_writers_at_one_institution_do_not_wait_on_each_other(registry: Registry) -> None:
    two_sites(registry)
    fresh_summary(registry)  # every institution has its stored row
    clinic = institution_id(registry, CLINIC)
    touch_agreement = (
        "UPDATE agreement SET weekly_minutes = weekly_minutes WHERE contract_no = 'A-1'"
    )
    touch_institution = "UPDATE institution SET beds = beds WHERE id = :id"
    if registry.db.dialect == "sqlite":  # one writer at a time anyway: each leaves its mark
        execute(registry, touch_agreement)
        execute(registry, touch_institution, id=clinic)
    else:  # triggers only insert marks: no row both writers must lock
        with registry.db.engine.connect() as first, registry.db.engine.connect() as second:
            first.execute(sa.text(touch_agreement))  # marks the clinic, not committed
            second.execute(sa.text("SET lock_timeout = '2s'"))
            second.execute(sa.text(touch_institution), {"id": clinic})  # must not wait
            second.commit()
            first.commit()
    assert marks_of(registry, clinic) == 2
    assert fresh_summary(registry)[CLINIC]["counted"] == pytest.approx(0.2)


def test_a_report_does_not_wait_for_a_long_write_to_keep_its_results(
    registry: Registry,
) -> None:
    two_sites(registry)
    expected = fresh_summary(registry)
    execute(registry, "UPDATE agreement SET weekly_minutes = weekly_minutes")  # all stale
    other = Database(registry.db.url)
    try:
        with other.write() as s:  # a clerk's (or an import's) open write transaction
            s.execute(sa.text("UPDATE institution SET beds = beds WHERE code = :c"), {"c": OUTSIDE})
            started = dt.datetime.now()
            assert fresh_summary(registry) == expected  # computed, not kept
            assert (dt.datetime.now() - started).total_seconds() < 10
    finally:
        other.dispose()
    if registry.db.dialect == "sqlite":  # one writer at a time: the results were not kept
        assert marks_of(registry, institution_id(registry, CLINIC)) >= 1
    # (PostgreSQL kept them: the open transaction held nothing the report writes)


def test_a_cold_report_of_more_institutions_than_a_statement_takes(registry: Registry) -> None:
    """A province recounted cold asks for every institution (133,333 in the million-physician
    region: more bind parameters than PostgreSQL takes, 65,535). The ids go to the database as
    one bound array: the report is the same, and only the rows of the ids asked for are read."""
    two_sites(registry)
    first = fresh_summary(registry)
    execute(registry, "UPDATE base_cache SET valid_until = NULL")  # every result stale
    assert fresh_summary(registry) == first
    hospital, clinic = institution_id(registry, HOSPITAL), institution_id(registry, CLINIC)
    nobody = list(range(10**7, 10**7 + 70_000))  # ids of nothing: more than a statement takes
    with registry.db.read() as s:
        asked = [hospital, clinic, *nobody]
        assert {i.code for i in store.institutions(s, asked)} == {HOSPITAL, CLINIC}
        found = store.contributions(s, ON, asked)
        assert found and {row[0] for row in found} <= {hospital, clinic}
        assert {row[0] for row in store.contributions(s, ON, [hospital])} == {hospital}
        assert set(store.next_starts(s, asked, ON - 365 * DAY)) <= {hospital, clinic}
        practitioners = {row[1] for row in found}
        assert set(store.physicians(s, [*practitioners, *nobody])) == practitioners


@pytest.mark.parametrize("counting", ["fte", "headcount", "primary_only"])
def test_an_office_fed_region_counts_the_same_cold_warm_and_in_detail(
    registry: Registry, tmp_path: Path, counting: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A region fed by its offices' files (tests/offices.py: every kind, 注册/暂停/注销,
    contracts starting and ending through the year): on days before, during and after the
    suspensions, the cancellation and the contracts' ends, the report recounted cold (every
    stored result stale) equals the detailed computation, its `base --json`, and the report
    served warm from the stored results.

    Then the count the database sums (the agreements stay there) equals the count from the
    agreement rows, field by field, for every institution (GP-only kinds, 诊所 with five
    years of practice, 执业助理医师, title minima, two contracts at one institution,
    terminations, drafts): with the losses' walk switched off, every institution without a
    suspension or cancellation on record is counted by the database alone (the risks of an
    institution meeting its minimum aside: those are the walk's; short already, its risks
    are counted by the database too, and equal). The database counts the institutions in
    three parts at once (threads, a transaction each), whatever the machine's processors."""
    office = make_office()
    paths = office.write(tmp_path)
    for kind, what in (("institutions", "institutions"), ("physicians", "physicians"),
                       ("contracts", "contracts"), ("contracts_more", "contracts")):  # fmt: skip
        run_import(registry, what, paths[kind], mode="partial")
    registry.set_policy(PROVINCE, {"counting": counting})
    for on in (dt.date(2026, 1, 5), dt.date(2026, 4, 1), dt.date(2026, 6, 30), dt.date(2026, 9, 1)):
        execute(registry, "UPDATE base_cache SET valid_until = NULL")  # cold: nothing holds
        cold = fresh_summary(registry, on)  # checked against the detailed computation
        assert any(row["contributor_count"] for row in cold.values()), on
        with registry.db.read() as s:
            held, missing = store.report_rows(
                s, on, multisite.services.validation_base._policy_keys(s), store.stale_marks(s)
            )
        assert missing == [] and len(held) == len(cold), on  # every result was kept
        assert fresh_summary(registry, on) == cold, on  # warm: read from the stored results
    # the suspensions and cancellations are the walk's: gone here, so the database counts
    execute(registry, "DELETE FROM registration_event WHERE status <> 'registered'")
    module = multisite.services.validation_base
    monkeypatch.setattr(module, "_safe", lambda _count, _standard, _on: True)
    monkeypatch.setattr(module, "PARTS", 3)  # counted in three parts at once, whatever the machine
    walked: list[int] = []
    walk = module._evaluate_all

    def recording(inputs: Any, *args: Any, **kwargs: Any) -> Any:
        walked.extend(i.id for i in inputs.institutions)
        return walk(inputs, *args, **kwargs)

    monkeypatch.setattr(module, "_evaluate_all", recording)
    by_database = 0
    for on in (dt.date(2026, 1, 5), dt.date(2026, 4, 1), dt.date(2026, 6, 30), dt.date(2026, 9, 1)):
        walked.clear()
        summed = module._evaluate_counts(registry, on, None)
        by_walk = set(walked)
        rows = module._evaluate_rows(registry, on, None, contributors=False)
        assert [e.id for e in summed] == [e.id for e in rows]
        for got, want in zip(summed, rows, strict=True):
            if got.id in by_walk:
                continue
            by_database += 1
            assert (got.until, got.policy_key, got.county) == (
                want.until, want.policy_key, want.county,
            ), (on, want.base.institution)  # fmt: skip
            expected = dataclasses.replace(want.base, at_risk=[])  # (the table lists none)
            if want.base.status == "meets":  # its risks are the walk's, switched off here
                expected = dataclasses.replace(expected, risk_count=0, risk_from=None)
            assert got.base == expected, (on, got.base.institution)
    assert by_database >= 20  # the database counted a good part of them
