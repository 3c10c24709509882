"""Exports of stored schedules, cross-checked against the schedule algebra.

Every body is parsed by ``icalendar`` + ``recurring-ical-events``; its occurrences in a
window must equal :func:`multisite.domain.schedule.occurrences` of the physician's stored patterns,
minus the Monday–Friday days off and plus the make-up days (调休) the institution's policy
adds — holidays taken straight from ``chinese_calendar``, not from ``multisite.domain.holidays``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import icalendar
import pytest
import recurring_ical_events

from multisite import cli
from multisite.domain.facts import AgreementFact
from multisite.domain.schedule import occurrences
from multisite.services import InstitutionInput, Registry
from multisite.services.calendars import Calendars
from multisite.storage.models import AuditEntry, FeedToken
from tests.factories import (
    CLINIC,
    DR_LI,
    DR_ZHANG,
    HOSPITAL,
    agreement,
    build_region,
    primary,
)

D = dt.date
SH = ZoneInfo("Asia/Shanghai")
FRIDAY = 4
NATIONAL_DAY = (D(2026, 9, 7), D(2026, 9, 7) + dt.timedelta(weeks=12))  # 09-20 Sun, 10-10 Sat
SPRING_FESTIVAL = (D(2026, 2, 2), D(2026, 2, 2) + dt.timedelta(weeks=12))  # 02-14, 02-28 Sat

Occ = tuple[str, dt.datetime, dt.datetime]


# --- the region under test ---------------------------------------------------------------------


def set_makeup_policy(registry: Registry, follows: int | None) -> None:
    """The clinic works make-up days (调休) on its schedule of weekday ``follows``."""
    registry.file_institution(
        InstitutionInput(
            CLINIC,
            "西湖张氏内科诊所",
            "诊所",
            "330106",
            0,
            ["内科"],
            True,
            address="某路1号",
            makeup_follows=follows,
        )
    )


def zhang_schedule(registry: Registry) -> None:
    """张伟: hospital Monday–Thursday mornings; the clinic Tuesday evening and Friday night."""
    build_region(registry)
    primary(registry)
    registry.save_agreement(agreement("A-1", CLINIC, "TU 18:00-21:00; FR 20:00-08:00"))
    set_makeup_policy(registry, FRIDAY)


# --- the two sides ----------------------------------------------------------------------------


def day_off(d: dt.date) -> bool:
    return d.weekday() < 5 and not chinese_calendar.is_workday(d)


def makeup_day(d: dt.date) -> bool:
    return d.weekday() >= 5 and chinese_calendar.is_workday(d)


def algebra(
    agreements: Iterable[AgreementFact], a: dt.date, b: dt.date, follows: Mapping[str, int | None]
) -> list[Occ]:
    """The schedule algebra's expansion of ``[a, b)`` minus days off plus make-up days."""
    agreements = list(agreements)
    found = [
        (str(o.key), o.start, o.end)
        for o in occurrences([ag.pattern for ag in agreements], a, b - dt.timedelta(days=1))
        if not day_off(o.start.date())
    ]
    d = a
    while d < b:
        if makeup_day(d):
            for ag in agreements:
                weekday = follows.get(ag.institution.code)
                if weekday is None or weekday == d.weekday() or not ag.start <= d <= ag.end:
                    continue
                for slot in ag.slots:
                    if slot.weekday == weekday:
                        start = dt.datetime.combine(d, dt.time()) + dt.timedelta(minutes=slot.start)
                        found.append(
                            (ag.contract_no, start, start + dt.timedelta(minutes=slot.duration))
                        )
        d += dt.timedelta(days=1)
    return sorted(found)


def check_wire_format(body: bytes) -> None:
    assert not body.startswith(b"\xef\xbb\xbf")
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")


def parse(body: bytes) -> icalendar.Calendar:
    check_wire_format(body)
    cal = icalendar.Calendar.from_ical(body)
    assert cal.name == "VCALENDAR"
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    return cal


def contract_of(event: icalendar.cal.Component) -> str:
    match = re.search(r"合同号：(\S+)", str(event["DESCRIPTION"]))
    assert match, event["DESCRIPTION"]
    return match.group(1)


def parsed(body: bytes, a: dt.date, b: dt.date) -> list[Occ]:
    """Occurrences starting in ``[a, b)`` as an independent client expands them."""
    lo = dt.datetime.combine(a - dt.timedelta(days=1), dt.time(), SH)
    hi = dt.datetime.combine(b, dt.time(), SH)
    out = []
    for event in recurring_ical_events.of(parse(body)).between(lo, hi):
        start = event.decoded("DTSTART").astimezone(SH).replace(tzinfo=None)
        end = event.decoded("DTEND").astimezone(SH).replace(tzinfo=None)
        if a <= start.date() < b:
            out.append((contract_of(event), start, end))
    return sorted(out)


def assert_matches_algebra(
    registry: Registry, body: bytes, certs: Iterable[str], follows: Mapping[str, int | None]
) -> None:
    agreements = [ag for cert in certs for ag in registry.physician_facts(cert).agreements]
    for a, b in (NATIONAL_DAY, SPRING_FESTIVAL):
        assert parsed(body, a, b) == algebra(agreements, a, b, follows)


def events(body: bytes) -> dict[str, Any]:
    return {str(e["UID"]): e for e in parse(body).walk("VEVENT")}


def unfolded(body: bytes) -> list[str]:
    return body.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")


def local(y: int, m: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi)


# --- tests ------------------------------------------------------------------------------------


def test_physician_export_equals_schedule_algebra_over_twelve_weeks_and_holidays(
    registry: Registry,
) -> None:
    zhang_schedule(registry)
    body = Calendars(registry).physician_calendar(DR_ZHANG).body
    assert_matches_algebra(registry, body, [DR_ZHANG], {CLINIC: FRIDAY})
    got = parsed(body, *NATIONAL_DAY)
    # a statutory holiday: Thursday 2026-10-01 has no hospital morning, Friday 10-02 no night
    assert ("P-1", local(2026, 10, 1, 8), local(2026, 10, 1, 12)) not in got
    assert not [o for o in got if o[1].date() == D(2026, 10, 2)]
    assert ("P-1", local(2026, 9, 24, 8), local(2026, 9, 24, 12)) in got
    # the overnight Friday session ends on Saturday morning
    assert ("A-1", local(2026, 9, 11, 20), local(2026, 9, 12, 8)) in got
    # make-up Saturday 2026-10-10 follows the clinic's Friday schedule; the hospital has no policy
    assert [o for o in got if o[1].date() == D(2026, 10, 10)] == [
        ("A-1", local(2026, 10, 10, 20), local(2026, 10, 11, 8))
    ]
    lines = unfolded(body)
    assert "EXDATE;TZID=Asia/Shanghai:20261001T080000" in lines
    assert "RDATE;TZID=Asia/Shanghai:20261010T200000" in lines


def test_event_properties_come_from_stored_data(registry: Registry) -> None:
    zhang_schedule(registry)
    body = Calendars(registry).physician_calendar(DR_ZHANG).body
    found = events(body)
    assert set(found) == {
        "ag1-s0-0800@multisite",
        "ag1-s1-0800@multisite",
        "ag1-s2-0800@multisite",
        "ag1-s3-0800@multisite",
        "ag2-s1-1800@multisite",
        "ag2-s4-2000@multisite",
    }
    night = found["ag2-s4-2000@multisite"]
    assert str(night["SUMMARY"]) == "出诊 · 西湖张氏内科诊所 · 内科"
    assert str(night["LOCATION"]) == "西湖张氏内科诊所，某路1号"
    assert str(night["DESCRIPTION"]) == "科室：内科\n合同号：A-1"
    assert int(night["SEQUENCE"]) == 0
    cal = parse(body)
    assert str(cal["X-WR-CALNAME"]) == str(cal["NAME"]) == "张伟的出诊排班"
    assert str(cal["X-PUBLISHED-TTL"]) and cal["REFRESH-INTERVAL"]
    for uid in found:  # no tokens, no certificate numbers, no names
        assert DR_ZHANG not in uid and "张" not in uid


def test_unchanged_schedule_exports_byte_identical_through_the_cli(
    registry: Registry, db_url: str, tmp_path: Path
) -> None:
    zhang_schedule(registry)
    first = Calendars(registry).physician_calendar(DR_ZHANG)
    out = tmp_path / "zhang.ics"
    assert cli.main(["--db", db_url, "ical", "physician", DR_ZHANG, "-o", str(out)]) == 0
    assert out.read_bytes() == first.body
    again = Calendars(registry).physician_calendar(DR_ZHANG)
    assert again.body == first.body and again.etag == first.etag


def test_edited_session_keeps_uid_and_raises_sequence(registry: Registry) -> None:
    zhang_schedule(registry)
    calendars = Calendars(registry)
    before = calendars.physician_calendar(DR_ZHANG)
    registry.save_agreement(agreement("A-1", CLINIC, "TU 18:00-21:30; FR 20:00-08:00"))
    after = calendars.physician_calendar(DR_ZHANG)
    assert after.etag != before.etag
    old, new = events(before.body), events(after.body)
    assert set(old) == set(new)
    uid = "ag2-s1-1800@multisite"
    assert int(new[uid]["SEQUENCE"]) > int(old[uid]["SEQUENCE"])
    assert new[uid].decoded("DTEND").hour == 21 and new[uid].decoded("DTEND").minute == 30
    assert new[uid].decoded("LAST-MODIFIED") >= old[uid].decoded("LAST-MODIFIED")
    assert_matches_algebra(registry, after.body, [DR_ZHANG], {CLINIC: FRIDAY})


def test_terminated_agreement_ends_its_series(registry: Registry) -> None:
    zhang_schedule(registry)
    calendars = Calendars(registry)
    before = events(calendars.physician_calendar(DR_ZHANG).body)
    registry.terminate_agreement("A-1", D(2026, 10, 15), "诊所停业")
    body = calendars.physician_calendar(DR_ZHANG).body
    after = events(body)
    uid = "ag2-s4-2000@multisite"
    assert before[uid]["RRULE"]["UNTIL"][0] > after[uid]["RRULE"]["UNTIL"][0]
    assert after[uid]["RRULE"]["UNTIL"][0] == dt.datetime(2026, 10, 9, 12, 0, tzinfo=dt.UTC)
    assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])
    assert_matches_algebra(registry, body, [DR_ZHANG], {CLINIC: FRIDAY})
    assert not [
        o for o in parsed(body, *NATIONAL_DAY) if o[0] == "A-1" and o[1] > local(2026, 10, 16, 0)
    ]


def test_physician_without_agreements_gets_a_valid_empty_calendar(registry: Registry) -> None:
    zhang_schedule(registry)
    body = Calendars(registry).physician_calendar(DR_LI).body
    cal = parse(body)
    assert cal.walk("VEVENT") == []
    assert str(cal["X-WR-CALNAME"]) == "李娜的出诊排班"
    assert parsed(body, *NATIONAL_DAY) == []


def test_institution_export_holds_every_physician_there_and_no_one_else(
    registry: Registry,
) -> None:
    zhang_schedule(registry)
    primary(registry, physician=DR_LI, contract="P-2", sessions="FR 08:00-12:00")
    hospital = Calendars(registry).institution_calendar(HOSPITAL).body
    agreements = [
        ag
        for cert in (DR_ZHANG, DR_LI)
        for ag in registry.physician_facts(cert).agreements
        if ag.institution.code == HOSPITAL
    ]
    for a, b in (NATIONAL_DAY, SPRING_FESTIVAL):
        assert parsed(hospital, a, b) == algebra(agreements, a, b, {})
    summaries = {str(e["SUMMARY"]) for e in parse(hospital).walk("VEVENT")}
    assert summaries == {"张伟 · 内科出诊", "李娜 · 内科出诊"}
    zhang = Calendars(registry).physician_calendar(DR_ZHANG).body
    assert "P-2" not in {contract_of(e) for e in parse(zhang).walk("VEVENT")}


def test_long_chinese_institution_name_is_folded_without_splitting_characters(
    registry: Registry,
) -> None:
    zhang_schedule(registry)
    long_name = ("浙江省杭州市西湖区某某街道社区卫生服务中心附属内科诊所，" * 5)[:128]
    registry.file_institution(
        InstitutionInput(
            CLINIC, long_name, "诊所", "330106", 0, ["内科"], True, address="某路1号；二楼\\三室"
        )
    )
    body = Calendars(registry).physician_calendar(DR_ZHANG).body
    check_wire_format(body)
    night = events(body)["ag2-s4-2000@multisite"]
    assert str(night["SUMMARY"]) == f"出诊 · {long_name} · 内科"
    assert str(night["LOCATION"]) == f"{long_name}，某路1号；二楼\\三室"
    assert_matches_algebra(registry, body, [DR_ZHANG], {CLINIC: None})


def test_year_without_holiday_data_exports_plain_then_holidays_import_adds_exdates(
    registry: Registry, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_region(registry)
    registry.save_agreement(
        agreement(
            "P-27",
            HOSPITAL,
            "FR 08:00-12:00",
            physician=DR_LI,
            role="primary",
            start=D(2027, 1, 1),
            end=D(2027, 12, 31),
        )
    )
    calendars = Calendars(registry)
    plain = calendars.physician_calendar(DR_LI)
    assert plain.unknown_years == (2027,)
    assert "EXDATE" not in plain.body.decode()
    assert cli.main(["--db", db_url, "ical", "physician", DR_LI]) == 0
    assert "2027" in capsys.readouterr().err

    notice = tmp_path / "2027.csv"
    notice.write_text(
        "日期,类型,名称\n2027-10-01,放假,国庆节\n2027-10-09,补班,国庆节\n", encoding="utf-8"
    )
    assert cli.main(["--db", db_url, "holidays", "import", str(notice)]) == 0
    assert "2027" in capsys.readouterr().out
    loaded = calendars.physician_calendar(DR_LI)
    assert loaded.unknown_years == ()
    assert "EXDATE;TZID=Asia/Shanghai:20271001T080000" in unfolded(loaded.body)
    with registry.db.read() as s:
        audit = s.query(AuditEntry).filter_by(entity="holiday_year", entity_key="2027").one()
    assert audit.after == {
        "days": [["2027-10-01", "holiday", "国庆节"], ["2027-10-09", "workday", "国庆节"]]
    }

    bad = tmp_path / "bad.csv"
    bad.write_text("日期,类型\n2027-10-05,补班\n", encoding="utf-8")
    assert cli.main(["--db", db_url, "holidays", "import", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "line 2" in err and len(err.splitlines()) == 1


def test_feed_issue_prints_https_then_webcal_and_stores_only_a_hash(
    registry: Registry,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    zhang_schedule(registry)
    monkeypatch.delenv("MULTISITE_FEED_BASE_URL", raising=False)
    assert cli.main(["--db", db_url, "feed", "issue", DR_ZHANG]) == 0
    first, second = capsys.readouterr().out.splitlines()[:2]
    match = re.fullmatch(r"https://localhost:8000/feeds/([A-Za-z0-9_-]{43})\.ics", first)
    assert match, first
    token = match.group(1)
    assert second == f"webcal://localhost:8000/feeds/{token}.ics"

    monkeypatch.setenv("MULTISITE_FEED_BASE_URL", "https://cal.example.org/wjw/")
    assert cli.main(["--db", db_url, "feed", "issue", "--institution", HOSPITAL]) == 0
    assert capsys.readouterr().out.startswith("https://cal.example.org/wjw/feeds/")
    assert cli.main(["--db", db_url, "feed", "issue", DR_ZHANG, "--base-url", "http://x.cn"]) == 0
    assert capsys.readouterr().out.startswith("http://x.cn/feeds/")

    with registry.db.read() as s:
        rows = s.query(FeedToken).order_by(FeedToken.id).all()
        issued = s.query(AuditEntry).filter_by(entity="feed_token", action="issue").count()
    assert len(rows) == 3 and issued == 3
    assert all(token not in r.token_hash and len(r.token_hash) == 64 for r in rows)
    assert rows[1].physician_id is None and rows[1].institution_id is not None

    assert cli.main(["--db", db_url, "feed", "revoke", DR_ZHANG]) == 0
    assert "2" in capsys.readouterr().out
    with registry.db.read() as s:
        assert [r.revoked_at is not None for r in s.query(FeedToken).order_by(FeedToken.id)] == [
            True,
            False,
            True,
        ]
        assert s.query(AuditEntry).filter_by(entity="feed_token", action="revoke").count() == 1

    assert cli.main(["--db", db_url, "feed", "issue"]) == 2
    assert cli.main(["--db", db_url, "feed", "issue", "999999999999999"]) == 2
    assert cli.main(["--db", db_url, "feed", "issue", DR_ZHANG, "--base-url", "ftp://x"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 3


def test_feed_issue_says_when_no_base_url_is_configured_and_which_urls_stay_valid(
    registry: Registry,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    zhang_schedule(registry)
    monkeypatch.delenv("MULTISITE_FEED_BASE_URL", raising=False)
    assert cli.main(["--db", db_url, "feed", "issue", DR_ZHANG]) == 0
    err = capsys.readouterr().err
    assert "No public base URL is configured" in err and "stay valid" not in err

    # a second URL: the first stays valid, and the clerk is told so
    assert cli.main(["--db", db_url, "feed", "issue", DR_ZHANG, "--base-url", "https://c.cn"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("https://c.cn/feeds/")
    assert "1 URL(s) issued before stay valid" in err and "No public base URL" not in err

    # --replace revokes both earlier URLs in the same write
    assert cli.main(["--db", db_url, "feed", "issue", DR_ZHANG, "--replace"]) == 0
    assert "Revoked 2 URL(s)" in capsys.readouterr().err
    with registry.db.read() as s:
        live = s.query(FeedToken).filter(FeedToken.revoked_at.is_(None)).count()
        revoked = s.query(AuditEntry).filter_by(entity="feed_token", action="revoke").count()
    assert (live, revoked) == (1, 1)
