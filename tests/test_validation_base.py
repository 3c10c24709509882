"""The validation base (医师基数): hand-computed cases per counting mode, impacts, the CLI,
and a brute-force recount of a demo region from the raw rows."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import random
from collections import defaultdict

import pytest
from sqlalchemy import select

from multisite.cli.main import main
from multisite.domain.vocabulary import TITLES
from multisite.services import PhysicianInput, Registry, ServiceError, demo
from multisite.services.validation_base import (
    impact_of_suspension,
    impact_of_termination,
    next_validation,
    staffing_defaults,
    validation_base,
)
from multisite.storage.models import (
    Agreement,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
    WorkSession,
)
from tests.factories import (
    CENTRE,
    CLINIC,
    DR_LI,
    DR_ZHANG,
    HOSPITAL,
    OUTSIDE,
    agreement,
    build_region,
    primary,
)

ON = dt.date(2026, 3, 2)  # a Monday
DR_WANG = "110330000000003"  # main institution: the clinic


def by_code(registry: Registry, on: dt.date = ON, **kw: object) -> dict:
    return {b.institution: b for b in validation_base(registry, on, **kw)}  # type: ignore[arg-type]


def two_sites(registry: Registry) -> None:
    """张伟: 40 h at the main hospital, 8 h at the clinic."""
    build_region(registry)
    registry.save_agreement(
        agreement(
            "P-1",
            HOSPITAL,
            "MO-FR 08:00-16:00",
            role="primary",
            start=dt.date(2025, 1, 1),
            end=dt.date(2026, 12, 31),
        )
    )
    registry.save_agreement(agreement("A-1", CLINIC, "SA 08:00-16:00"))


def share(base: object, cert: str) -> float:
    return next(c.share for c in base.contributors if c.physician == cert)  # type: ignore[attr-defined]


# --- counting modes ------------------------------------------------------------------------


def test_fte_counts_hours_over_the_standard_week_capped_at_one(registry: Registry) -> None:
    two_sites(registry)
    bases = by_code(registry)
    assert bases[HOSPITAL].counted == pytest.approx(1.0)
    assert bases[CLINIC].counted == pytest.approx(0.2)
    assert share(bases[CLINIC], DR_ZHANG) == pytest.approx(0.2)
    zhang = bases[CLINIC].contributors[0]
    assert (zhang.role, zhang.hours, zhang.name) == ("additional", 8.0, "张伟")
    assert bases[CLINIC].required == 1 and bases[CLINIC].status == "short"
    assert bases[CLINIC].shortfall == pytest.approx(0.8)


def test_headcount_counts_one_wherever_the_minimum_hours_are_scheduled(
    registry: Registry,
) -> None:
    two_sites(registry)
    registry.set_policy("330000", {"counting": "headcount"})
    bases = by_code(registry)
    assert (bases[HOSPITAL].counted, bases[CLINIC].counted) == (1.0, 1.0)
    assert bases[CLINIC].status == "meets"
    registry.set_policy("330000", {"min_weekly_hours": 9})
    assert by_code(registry)[CLINIC].counted == 0.0


def test_primary_only_counts_one_at_the_main_institution_only(registry: Registry) -> None:
    two_sites(registry)
    registry.set_policy("330000", {"counting": "primary_only"})
    bases = by_code(registry)
    assert (bases[HOSPITAL].counted, bases[CLINIC].counted) == (1.0, 0.0)
    assert share(bases[CLINIC], DR_ZHANG) == 0.0  # listed, counting nothing


def test_nothing_counts_before_an_agreement_starts(registry: Registry) -> None:
    two_sites(registry)
    bases = by_code(registry, on=dt.date(2026, 1, 4))
    assert bases[HOSPITAL].counted == pytest.approx(1.0)
    assert bases[CLINIC].counted == 0.0 and bases[CLINIC].contributors == []


# --- a contract ending, a suspension -------------------------------------------------------


def clinic_doctor(registry: Registry, end: dt.date) -> None:
    """王芳, whose only contract is a full week at the clinic ending on ``end``."""
    build_region(registry)
    registry.register_physician(
        PhysicianInput(
            DR_WANG,
            "王芳",
            "执业医师",
            "临床",
            ["内科"],
            "主治医师",
            "330000",
            CLINIC,
            dt.date(2015, 3, 1),
        )
    )
    registry.save_agreement(
        agreement(
            "P-W",
            CLINIC,
            "MO-FR 08:00-16:00",
            physician=DR_WANG,
            role="primary",
            start=dt.date(2025, 1, 1),
            end=end,
        )
    )


def test_contract_ending_next_month_counts_now_and_is_at_risk(registry: Registry) -> None:
    clinic_doctor(registry, end=dt.date(2026, 4, 15))
    now = by_code(registry)[CLINIC]
    assert now.counted == pytest.approx(1.0) and now.status == "meets"
    # the licence date is unknown: the validation is taken on 31 December of that year
    assert now.next_validation == dt.date(2026, 12, 31)
    assert len(now.at_risk) == 1
    risk = now.at_risk[0]
    assert (risk.reason, risk.contract_no, risk.physician) == ("agreement_ends", "P-W", DR_WANG)
    assert risk.ends_on == dt.date(2026, 4, 15) and risk.counted_after == 0.0
    assert by_code(registry, on=dt.date(2026, 4, 15))[CLINIC].counted == pytest.approx(1.0)
    after = by_code(registry, on=dt.date(2026, 4, 16))[CLINIC]
    assert after.counted == 0.0 and after.status == "short" and after.at_risk == []


def test_contract_ending_after_the_next_validation_is_no_risk(registry: Registry) -> None:
    clinic_doctor(registry, end=dt.date(2027, 6, 30))
    assert by_code(registry)[CLINIC].at_risk == []


def test_terminated_contract_counts_nothing_after_its_last_day(registry: Registry) -> None:
    clinic_doctor(registry, end=dt.date(2027, 6, 30))
    registry.terminate_agreement("P-W", dt.date(2026, 2, 27), "合同解除")
    assert by_code(registry)[CLINIC].counted == 0.0
    assert by_code(registry, on=dt.date(2026, 2, 27))[CLINIC].counted == pytest.approx(1.0)


def test_suspended_physician_counts_nothing_during_the_suspension(registry: Registry) -> None:
    two_sites(registry)
    registry.suspend_registration(DR_ZHANG, dt.date(2026, 3, 1), dt.date(2026, 5, 31), "考核不合格")
    during = by_code(registry)
    assert during[HOSPITAL].counted == 0.0 and during[CLINIC].counted == 0.0
    back = by_code(registry, on=dt.date(2026, 6, 1))
    assert back[HOSPITAL].counted == pytest.approx(1.0)
    assert back[CLINIC].counted == pytest.approx(0.2)


def test_future_suspension_through_the_validation_day_is_a_risk(registry: Registry) -> None:
    clinic_doctor(registry, end=dt.date(2027, 6, 30))
    registry.suspend_registration(DR_WANG, dt.date(2026, 9, 1), dt.date(2027, 2, 28), "处罚")
    base = by_code(registry)[CLINIC]
    assert base.counted == pytest.approx(1.0)
    assert [(r.reason, r.physician, r.ends_on, r.counted_after) for r in base.at_risk] == [
        ("registration_lapses", DR_WANG, dt.date(2026, 8, 31), 0.0)
    ]


def test_impact_of_suspension_before_and_after(registry: Registry) -> None:
    two_sites(registry)
    pairs = impact_of_suspension(registry, DR_ZHANG, dt.date(2026, 3, 2), dt.date(2026, 8, 31))
    assert {b.institution: (b.counted, a.counted) for b, a in pairs} == {
        HOSPITAL: (pytest.approx(1.0), 0.0),
        CLINIC: (pytest.approx(0.2), 0.0),
    }
    with pytest.raises(ServiceError, match="Unknown physician"):
        impact_of_suspension(registry, "999", ON, ON)


def test_without_a_contract_shows_the_effect_of_ending_it(registry: Registry) -> None:
    two_sites(registry)
    assert by_code(registry, without="A-1")[CLINIC].counted == 0.0
    assert by_code(registry, without="A-1")[HOSPITAL].counted == pytest.approx(1.0)
    [(before, after)] = impact_of_termination(registry, "A-1", ON)
    assert before.institution == after.institution == CLINIC
    assert (before.counted, after.counted) == (pytest.approx(0.2), 0.0)
    with pytest.raises(ServiceError, match="Unknown contract"):
        validation_base(registry, ON, without="NO-SUCH")


def test_unknown_institution_is_one_sentence(registry: Registry) -> None:
    build_region(registry)
    with pytest.raises(ServiceError, match=r"^Unknown institution NOPE\.$"):
        validation_base(registry, ON, institution="NOPE")


# --- required minimum and the next validation --------------------------------------------------


def test_required_minimum_by_kind_and_beds(registry: Registry) -> None:
    build_region(registry)
    bases = by_code(registry)
    hospital = staffing_defaults()["三级综合医院"]
    assert bases[HOSPITAL].required == pytest.approx(round(hospital.per_bed * 1200, 2))
    assert not bases[HOSPITAL].confirmed  # physicians per bed: an unconfirmed default
    assert bases[CLINIC].required == 1 and bases[CLINIC].confirmed


def test_next_validation_yearly_below_100_beds_three_yearly_from_100() -> None:
    licensed = dt.date(2020, 6, 15)
    assert next_validation(licensed, 50, dt.date(2026, 3, 2)) == dt.date(2026, 6, 15)
    assert next_validation(licensed, 50, dt.date(2026, 7, 1)) == dt.date(2027, 6, 15)
    assert next_validation(licensed, 150, dt.date(2026, 3, 2)) == dt.date(2026, 6, 15)
    assert next_validation(licensed, 150, dt.date(2026, 6, 16)) == dt.date(2029, 6, 15)
    assert next_validation(licensed, 150, dt.date(2024, 1, 1)) == dt.date(2026, 6, 15)
    assert next_validation(dt.date(2020, 2, 29), 10, dt.date(2026, 1, 1)) == dt.date(2026, 2, 28)
    assert next_validation(licensed, 10, dt.date(2026, 6, 15)) == dt.date(2026, 6, 15)
    assert next_validation(None, 500, dt.date(2026, 3, 2)) == dt.date(2026, 12, 31)


# --- the command line ----------------------------------------------------------------------


def test_cli_base_json_shape_and_exit_codes(
    registry: Registry, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    two_sites(registry)
    assert main(["--db", db_url, "base", "--on", "2026-03-02", "--json"]) == 0
    documents = json.loads(capsys.readouterr().out)
    assert isinstance(documents, list) and len(documents) == 4
    clinic = next(d for d in documents if d["institution"] == CLINIC)
    for key in ("kind", "required", "counted", "status", "next_validation", "title_short"):
        assert key in clinic
    assert clinic["status"] in ("meets", "short") and clinic["next_validation"] == "2026-12-31"
    # SPEC §6: the JSON lists the contributors with their share
    assert clinic["contributor_count"] == 1
    assert clinic["contributors"][0]["physician"] == DR_ZHANG
    assert clinic["contributors"][0]["share"] == pytest.approx(0.2)
    # the table (from the stored results) says the same
    assert main(["--db", db_url, "--lang", "en", "base", "--on", "2026-03-02"]) == 0
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if CLINIC in line)
    assert "0.2" in row and "short" in row and "2026-12-31" in row

    code = main(["--db", db_url, "base", "--institution", CLINIC, "--on", "2026-03-02"])
    assert code == 0 and "张伟" in capsys.readouterr().out

    assert main(["--db", db_url, "base", "--without", "A-1", "--on", "2026-03-02", "--json"]) == 0
    [doc] = json.loads(capsys.readouterr().out)
    assert (doc["institution"], doc["counted"], doc["before"]["counted"]) == (CLINIC, 0.0, 0.2)

    assert main(["--db", db_url, "base", "--institution", "NOPE"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "Unknown institution NOPE." and "\n" not in err
    assert main(["--db", db_url, "base", "--without", "NO-SUCH"]) == 2
    assert "Unknown contract NO-SUCH." in capsys.readouterr().err
    assert main(["--db", db_url, "base", "--on", "2026-02-30"]) == 2


# --- brute force: a demo region recounted from the raw rows ----------------------------------


def _minutes(weekday: int, start: int, end: int) -> int:
    """A session's length by calendar arithmetic: the end before the start is the next day."""
    day = dt.datetime(2026, 1, 5) + dt.timedelta(days=weekday)
    begins = day + dt.timedelta(minutes=start)
    ends = day + dt.timedelta(minutes=end)
    if ends <= begins:
        ends += dt.timedelta(days=1)
    return int((ends - begins).total_seconds() // 60)


def recount(registry: Registry, on: dt.date, mode: str) -> dict[int, float]:
    """Per institution id, the counted base from the raw rows, independently of multisite.services.validation_base."""
    with registry.db.read() as s:
        agreements = s.execute(
            select(
                Agreement.id,
                Agreement.physician_id,
                Agreement.institution_id,
                Agreement.role,
                Agreement.start,
                Agreement.end,
                Agreement.terminated_on,
            )
        ).all()
        sessions = s.execute(
            select(
                WorkSession.agreement_id,
                WorkSession.weekday,
                WorkSession.start_minute,
                WorkSession.end_minute,
            )
        ).all()
        events = s.execute(
            select(Registration.physician_id, RegistrationEvent).join(
                RegistrationEvent, RegistrationEvent.registration_id == Registration.id
            )
        ).all()
        people = {
            pid: (level, set(scopes), since)
            for pid, level, scopes, since in s.execute(
                select(Physician.id, Physician.level, Physician.scopes, Physician.practising_since)
            )
        }
        first = dict(
            s.execute(
                select(Registration.physician_id, Registration.registered_on).order_by(
                    Registration.registered_on.desc()
                )
            ).all()
        )
        kinds = dict(s.execute(select(Institution.id, Institution.kind)).all())

    def qualifies(pid: int, iid: int) -> bool:
        """医疗机构基本标准, written out again: GPs only at community centres and hospitals,
        执业医师 of five years (since the recorded start, else the registration) at a 诊所."""
        level, scopes, since = people[pid]
        if kinds[iid] in ("社区卫生服务中心", "社区医院"):
            return "全科医学" in scopes
        if kinds[iid] == "诊所":
            start = since or first.get(pid)
            return (
                level == "执业医师"
                and start is not None
                and start.replace(
                    year=start.year + 5, day=min(start.day, 28) if start.month == 2 else start.day
                )
                <= on
            )
        return True

    inactive = set()
    for pid, event in events:
        if event.status == "suspended" and event.on <= on <= event.until:
            inactive.add(pid)
        if event.status == "cancelled" and event.on <= on:
            inactive.add(pid)
    length: dict[int, int] = defaultdict(int)
    for aid, weekday, start, end in sessions:
        length[aid] += _minutes(weekday, start, end)
    minutes: dict[tuple[int, int], int] = defaultdict(int)
    primary: set[tuple[int, int]] = set()
    for aid, pid, iid, role, start, end, terminated in agreements:
        last = min(end, terminated) if terminated else end
        if pid in inactive or not start <= on <= last or not qualifies(pid, iid):
            continue
        minutes[(iid, pid)] += length[aid]
        if role == "primary":
            primary.add((iid, pid))
    counted: dict[int, float] = defaultdict(float)
    for key, total in minutes.items():
        if mode == "fte":
            counted[key[0]] += min(1.0, total / (40 * 60))
        elif mode == "headcount":
            counted[key[0]] += 1.0 if total >= 4 * 60 else 0.0
        else:
            counted[key[0]] += 1.0 if key in primary else 0.0
    return counted


def rank(title: str) -> int:
    return TITLES.index(title) if title in TITLES else -1


def test_demo_region_agrees_with_a_brute_force_recount(registry: Registry) -> None:
    today = dt.date(2026, 11, 28)
    built = demo.generate(registry, 300, seed=11, today=today)
    rng = random.Random(5)
    certs = [p["cert_no"] for p in built.physicians]
    for cert in rng.sample(certs, 8):
        start = today + dt.timedelta(days=rng.randint(-60, 60))
        registry.suspend_registration(cert, start, start + dt.timedelta(days=120), "处罚")
    for cert in rng.sample(certs, 3):
        registry.cancel_registration(cert, today + dt.timedelta(days=rng.randint(-30, 30)), "注销")
    for a in rng.sample(built.agreements, 15):
        with contextlib.suppress(ServiceError):  # a termination before the start is refused
            registry.terminate_agreement(
                a["contract_no"], today + dt.timedelta(days=rng.randint(-90, 90)), "解除"
            )
    codes = {i["id"]: i["code"] for i in built.institutions}
    for mode in ("fte", "headcount", "primary_only"):
        registry.set_policy("330000", {"counting": mode})
        for on in (today, today + dt.timedelta(days=45), dt.date(2025, 6, 1)):
            expected = recount(registry, on, mode)
            bases = {b.institution: b for b in validation_base(registry, on)}
            assert len(bases) == len(codes)
            for iid, code in codes.items():
                b = bases[code]
                assert b.counted == pytest.approx(expected.get(iid, 0.0), abs=1e-3), (code, on)
                titled = {
                    t: sum(1 for c in b.contributors if c.share > 0 and rank(c.title) >= rank(t))
                    for t in b.title_minimum
                }
                short = [t for t, n in b.title_minimum.items() if titled[t] < n]
                assert (dict(b.title_counts), list(b.title_short)) == (titled, short), code
                meets = b.counted + 1e-9 >= b.required and not short
                assert b.status == ("meets" if meets else "short")
                assert sum(c.share for c in b.contributors) == pytest.approx(b.counted, abs=1e-3)
            # the region-wide report (kept per institution between calls) says the same
            summary = {b.institution: b for b in validation_base(registry, on, detail=False)}
            for code, b in bases.items():
                s = summary[code]
                assert (s.counted, s.status, s.required, s.next_validation) == pytest.approx(
                    (b.counted, b.status, b.required, b.next_validation)
                ), code
                assert (s.contributor_count, s.risk_count, s.risk_from, list(s.title_short)) == (
                    len(b.contributors),
                    len(b.at_risk),
                    b.at_risk[0].ends_on + dt.timedelta(days=1) if b.at_risk else None,
                    list(b.title_short),
                ), code


# --- title minima, the editable staffing table and the counting policy ----------------------


def test_a_title_minimum_counts_only_physicians_counted_with_that_title_or_higher(
    registry: Registry,
) -> None:
    """社区卫生服务中心: ≥1 副主任医师 or higher among the physicians counted."""
    build_region(registry, gp=True)
    primary(registry)  # 张伟, 主治医师
    primary(registry, DR_LI, "P-2")  # 李娜, 副主任医师
    registry.save_agreement(agreement("C-Z", CENTRE, "SA 08:00-16:00"))
    centre = by_code(registry)[CENTRE]
    assert centre.title_minimum == {"副主任医师": 1}
    assert centre.title_counts == {"副主任医师": 0}
    assert list(centre.title_short) == ["副主任医师"] and centre.status == "short"

    registry.save_agreement(agreement("C-L", CENTRE, "SU 08:00-16:00", physician=DR_LI))
    centre = by_code(registry)[CENTRE]
    assert centre.title_counts == {"副主任医师": 1} and list(centre.title_short) == []
    summary = by_code(registry, detail=False)[CENTRE]
    assert list(summary.title_short) == [] and summary.contributor_count == 2

    # 李娜 is listed but counts nothing where only the main institution counts
    registry.set_policy("330000", {"counting": "primary_only"})
    centre = by_code(registry)[CENTRE]
    assert centre.title_counts == {"副主任医师": 0} and list(centre.title_short) == ["副主任医师"]
    assert list(by_code(registry, detail=False)[CENTRE].title_short) == ["副主任医师"]


def test_a_region_edits_the_staffing_table_and_the_report_follows(
    registry: Registry, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    build_region(registry, gp=True)
    primary(registry)
    registry.save_agreement(agreement("C-Z", CENTRE, "FR-SA 08:00-16:00"))
    assert by_code(registry, detail=False)[CENTRE].required == 6  # the shipped default

    assert main(["--db", db_url, "staffing", "set", "330100", "社区卫生服务中心", "--min", "0.4",
                 "--title", "副主任医师=0", "--source", "杭卫〔2026〕7号", "--confirmed"]) == 0  # fmt: skip
    capsys.readouterr()
    centre = by_code(registry, detail=False)[CENTRE]  # 滨江区 330108 is in the city 330100
    # 16 h a week = 0.4 of a standard week, now enough; no title minimum any more
    assert (centre.required, centre.title_minimum, centre.status) == (0.4, {}, "meets")
    assert centre.confirmed
    assert main(["--db", db_url, "staffing", "show", "--region", "330108", "--json"]) == 0
    rows = {r["kind"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["社区卫生服务中心"]["from"] == "330100"
    assert rows["诊所"]["from"] == "default"
    [entry] = [e for e in registry.audit_log() if e.entity == "staffing"]
    assert entry.after["min_physicians"] == 0.4 and entry.after["source"] == "杭卫〔2026〕7号"

    assert main(["--db", db_url, "staffing", "unset", "330100", "社区卫生服务中心"]) == 0
    assert by_code(registry, detail=False)[CENTRE].required == 6

    for bad in (
        ["staffing", "set", "330100", "火星医院", "--min", "1"],
        ["staffing", "set", "999999", "诊所", "--min", "1"],
        ["staffing", "set", "330100", "诊所", "--min", "-1"],
        ["staffing", "set", "330100", "诊所", "--title", "教授=1"],
        ["staffing", "unset", "330100", "诊所"],
        ["policy", "set", "330000", "counting=weird"],
        ["policy", "set", "330000", "nonsense"],
        ["staffing", "set", "330100", "诊所", "--min", "inf"],
        ["staffing", "set", "330100", "诊所", "--per-bed", "nan"],
        ["staffing", "set", "330100", "诊所"],  # nothing to set
        ["policy", "set", "330000", "standard_week_hours=NaN"],
        ["policy", "set", "330000", "travel_buffer_minutes=Infinity"],
        ["policy", "set", "330000", "standard_week_hours=0"],
        ["policy", "set", "330106", "counting=headcount"],  # policies are per province
        ["policy", "show", "--region", "zz"],
        ["base", "--on", "9999-12-31"],
        ["base", "--on", "0001-01-01"],
    ):
        capsys.readouterr()
        assert main(["--db", db_url, *bad]) == 2, bad
        err = capsys.readouterr().err.strip()
        assert err and "\n" not in err and "Traceback" not in err
    assert len([e for e in registry.audit_log() if e.entity == "staffing"]) == 2


def test_the_counting_policy_is_set_per_region_from_the_command_line(
    registry: Registry, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    two_sites(registry)
    assert by_code(registry, detail=False)[CLINIC].counted == pytest.approx(0.2)
    assert main(["--db", db_url, "policy", "set", "330000", "counting=headcount"]) == 0
    assert by_code(registry, detail=False)[CLINIC].counted == 1.0
    assert main(["--db", db_url, "policy", "set", "330000", "min_weekly_hours=9"]) == 0
    assert by_code(registry, detail=False)[CLINIC].counted == 0.0
    capsys.readouterr()
    assert main(["--db", db_url, "policy", "show", "--region", "330000", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["counting"], shown["min_weekly_hours"], shown["version"]) == ("headcount", 9, 2)


def test_losing_the_only_physician_of_a_required_title_is_a_risk(registry: Registry) -> None:
    build_region(registry, gp=True)
    primary(registry)
    primary(registry, DR_LI, "P-2")
    registry.set_staffing("330108", "社区卫生服务中心", min_physicians=0.2)  # keeps ≥1 副主任医师
    registry.save_agreement(agreement("C-Z", CENTRE, "SA 08:00-16:00"))
    registry.save_agreement(
        agreement("C-L", CENTRE, "SU 08:00-16:00", physician=DR_LI, end=dt.date(2026, 6, 30))
    )
    centre = by_code(registry)[CENTRE]
    assert (centre.status, centre.counted, centre.next_validation) == (
        "meets",
        pytest.approx(0.4),
        dt.date(2026, 12, 31),
    )
    [risk] = centre.at_risk  # the base stays ≥ 0.2, but no 副主任医师 is left
    assert (risk.contract_no, risk.physician, risk.ends_on) == ("C-L", DR_LI, dt.date(2026, 6, 30))
    assert risk.counted_after == pytest.approx(0.2)
    summary = by_code(registry, detail=False)[CENTRE]
    assert (summary.risk_count, summary.risk_from) == (1, dt.date(2026, 7, 1))


def test_a_contract_that_counts_nothing_is_no_risk(registry: Registry) -> None:
    build_region(registry)
    primary(registry)  # 张伟: 8 h at the clinic until June, under 9 h: he counts nothing
    registry.save_agreement(agreement("A-1", CLINIC, "SA 08:00-16:00", end=dt.date(2026, 6, 30)))
    registry.set_policy("330000", {"counting": "headcount", "min_weekly_hours": 9})
    clinic = by_code(registry)[CLINIC]
    assert clinic.status == "short" and clinic.counted == 0.0
    assert clinic.at_risk == []  # losing a share of nothing changes nothing


def recounts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The institutions the validation base recounts from the agreements, as they happen."""
    import multisite.services.validation_base as module

    recomputed: list[int] = []
    evaluate = module._evaluate

    def spy(registry_: Registry, on: dt.date, ids: list[int] | None, *a: object, **k: object):
        found = evaluate(registry_, on, ids, *a, **k)  # type: ignore[arg-type]
        recomputed.extend(e.id for e in found)  # (ids None: every institution)
        return found

    monkeypatch.setattr(module, "_evaluate", spy)
    return recomputed


def test_a_recount_leaves_the_garbage_collector_as_it_found_it(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recount pauses Python's cyclic collector (it walked the recount's objects for
    nothing); the collector is on again afterwards, even when the recount fails, and stays
    off for a caller who had switched it off."""
    import multisite.services.validation_base as module

    two_sites(registry)
    assert gc.isenabled()
    assert validation_base(registry, ON)
    assert gc.isenabled()

    def broken(*_args: object) -> None:
        raise RuntimeError("broken")

    with monkeypatch.context() as patch:
        patch.setattr(module, "_sites", broken)
        with pytest.raises(RuntimeError):
            validation_base(registry, ON)
    assert gc.isenabled()
    gc.disable()
    try:
        assert validation_base(registry, ON)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_results_counted_with_another_shipped_staffing_table_are_not_served(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multisite.services.validation_base as module

    two_sites(registry)
    validation_base(registry, ON, detail=False)  # stored
    recomputed = recounts(monkeypatch)
    validation_base(registry, ON, detail=False)
    assert recomputed == []  # served as stored
    monkeypatch.setattr(module, "defaults_digest", lambda: "upgraded")
    validation_base(registry, ON, detail=False)
    assert len(recomputed) == 4  # an upgrade of the table recounts everything once


def test_results_stored_by_an_older_computation_are_not_served(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multisite.services.validation_base as module

    two_sites(registry)
    validation_base(registry, ON, detail=False)  # stored
    recomputed = recounts(monkeypatch)
    validation_base(registry, ON, detail=False)
    assert recomputed == []  # served as stored
    monkeypatch.setattr(module, "COMPUTATION", module.COMPUTATION + 1)
    assert len(validation_base(registry, ON, detail=False)) == 4
    assert len(recomputed) == 4  # an upgrade recounts everything once


def test_a_province_sized_table_is_printed_as_plain_aligned_columns(
    registry: Registry,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import multisite.cli.validation_base as command

    two_sites(registry)
    monkeypatch.setattr(command, "BOXED", 2)  # 4 institutions: more than a drawn table takes
    assert main(["--db", db_url, "--lang", "zh", "base", "--on", "2026-03-02"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line[:18] in (HOSPITAL, CLINIC, CENTRE, OUTSIDE)]
    assert len(rows) == 4 and not any("│" in line for line in lines)
    clinic = next(row for row in rows if row.startswith(CLINIC))
    assert "西湖张氏内科诊所" in clinic and "不足" in clinic and "0.2" in clinic
    # columns line up in terminal cells (a CJK character is two): the date starts alike
    starts = {_cells(row[: row.index("2026-12-31")]) for row in rows if "2026-12-31" in row}
    assert len(starts) == 1


def _cells(text: str) -> int:
    return len(text) + sum(1 for ch in text if ch >= "\u2e80")
