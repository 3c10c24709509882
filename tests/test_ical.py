"""iCalendar export: every body is read back by an independent parser.

``icalendar`` + ``recurring-ical-events`` expand what we wrote; the expectation is computed
here day by day from ``chinese_calendar`` (or the loaded test data) without touching
``multisite.domain.holidays`` or ``multisite.ical``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from zoneinfo import ZoneInfo

import chinese_calendar
import icalendar
import recurring_ical_events
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multisite.domain.holidays import HolidayCalendar, HolidayDay
from multisite.domain.schedule import Slot
from multisite.ical import SessionSeries, etag_for, render_calendar

D = dt.date
SH = ZoneInfo("Asia/Shanghai")
STAMP = dt.datetime(2026, 8, 1, 2, 30, tzinfo=dt.UTC)
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

LOADED_2027 = [
    HolidayDay(D(2027, 1, 1), "holiday", "元旦"),
    HolidayDay(D(2027, 10, 1), "holiday", "国庆节"),
    HolidayDay(D(2027, 10, 4), "holiday", "国庆节"),
    HolidayDay(D(2027, 10, 5), "holiday", "国庆节"),
    HolidayDay(D(2027, 10, 9), "workday", "国庆节"),
]


def series(
    weekday: int,
    start: str,
    end: str,
    first: dt.date,
    last: dt.date,
    *,
    uid: str | None = None,
    sequence: int = 0,
    follows: int | None = None,
    summary: str = "门诊 · 某某医院 内科",
) -> SessionSeries:
    def minutes(hhmm: str) -> int:
        h, m = hhmm.split(":")
        return int(h) * 60 + int(m)

    return SessionSeries(
        uid=uid or f"ag-1-s-{weekday}-{start}@multisite",
        slot=Slot(weekday, minutes(start), minutes(end)),
        first_date=first,
        last_date=last,
        sequence=sequence,
        last_modified=STAMP,
        summary=summary,
        location="某某医院, 北京市东城区某某路1号",
        description="内科; 合同号 HT-2026-001",
        makeup_follows=follows,
    )


# -- the independent side --------------------------------------------------------------------


def expected_days(loaded: Iterable[HolidayDay] = ()) -> tuple[set[dt.date], set[dt.date]]:
    """(weekday days off, weekend make-up days) straight from chinese_calendar + loaded rows."""
    loaded = list(loaded)
    loaded_years = {h.date.year for h in loaded}
    off = {h.date for h in loaded if h.kind == "holiday" and h.date.weekday() < 5}
    work = {h.date for h in loaded if h.kind == "workday"}
    d = D(2004, 1, 1)
    while d.year <= 2026:
        if d.year not in loaded_years:
            if d.weekday() < 5 and not chinese_calendar.is_workday(d):
                off.add(d)
            if d.weekday() >= 5 and chinese_calendar.is_workday(d):
                work.add(d)
        d += dt.timedelta(days=1)
    return off, work


PACKAGE_OFF, PACKAGE_WORK = expected_days()

Occurrence = tuple[str, dt.datetime, dt.datetime]


def expected(
    items: Sequence[SessionSeries],
    a: dt.date,
    b: dt.date,
    off: set[dt.date] = PACKAGE_OFF,
    work: set[dt.date] = PACKAGE_WORK,
) -> list[Occurrence]:
    """Occurrences overlapping [a, b) in Shanghai time, computed day by day."""
    lo = dt.datetime.combine(a, dt.time(), SH)
    hi = dt.datetime.combine(b, dt.time(), SH)
    out: list[Occurrence] = []
    for s in items:
        d = s.first_date
        while d <= s.last_date:
            regular = d.weekday() == s.slot.weekday and d not in off
            makeup = s.makeup_follows == s.slot.weekday and d in work
            if regular or makeup:
                start = dt.datetime.combine(d, dt.time(), SH) + dt.timedelta(minutes=s.slot.start)
                length = (s.slot.end - s.slot.start) % (24 * 60) or 24 * 60
                end = start + dt.timedelta(minutes=length)
                if start < hi and end > lo:
                    out.append((s.uid, start, end))
            d += dt.timedelta(days=1)
    return sorted(out)


def check_format(body: bytes) -> None:
    """Wire-level rules: no BOM, CRLF only, ≤75 octets and valid UTF-8 per physical line."""
    assert not body.startswith(b"\xef\xbb\xbf")
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # raises if a fold split a character


def unfold(body: bytes) -> list[str]:
    return body.replace(b"\r\n ", b"").decode("utf-8").split("\r\n")[:-1]


def parse(body: bytes) -> icalendar.Calendar:
    check_format(body)
    cal = icalendar.Calendar.from_ical(body)
    assert cal.name == "VCALENDAR"
    for prop, value in [
        ("VERSION", "2.0"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
        ("X-WR-TIMEZONE", "Asia/Shanghai"),
    ]:
        assert str(cal[prop]) == value
    assert cal["PRODID"] and cal["NAME"] and cal["X-WR-CALNAME"]
    timezones = cal.walk("VTIMEZONE")
    assert [str(tz["TZID"]) for tz in timezones] == ["Asia/Shanghai"]
    lines = unfold(body)
    for line in lines:
        if line.startswith(("DTSTART;", "DTEND;", "EXDATE", "RDATE")):
            assert line.split(":")[0].endswith(";TZID=Asia/Shanghai"), line
    return cal


def occurrences(body: bytes, a: dt.date, b: dt.date) -> list[Occurrence]:
    cal = parse(body)
    out = []
    lo = dt.datetime.combine(a, dt.time(), SH)
    hi = dt.datetime.combine(b, dt.time(), SH)
    for event in recurring_ical_events.of(cal).between(lo, hi):
        start = event.decoded("DTSTART").astimezone(SH)
        end = event.decoded("DTEND").astimezone(SH)
        out.append((str(event["UID"]), start, end))
    return sorted(out)


def render(items: Sequence[SessionSeries], cal: HolidayCalendar | None = None) -> bytes:
    return render_calendar("张医生的排班", items, cal or HolidayCalendar())


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=SH)


# -- windows ---------------------------------------------------------------------------------


def week_of_every_day(first: dt.date, last: dt.date, follows: int | None = None) -> list:
    return [
        series(MON, "08:00", "12:00", first, last, follows=follows),
        series(TUE, "13:30", "17:00", first, last, follows=follows),
        series(WED, "08:00", "11:30", first, last, follows=follows),
        series(THU, "18:00", "21:00", first, last, follows=follows),
        series(FRI, "20:00", "08:00", first, last, follows=follows),  # overnight
        series(SAT, "09:00", "12:00", first, last, follows=follows),
        series(SUN, "22:00", "06:30", first, last, follows=follows),  # overnight into Monday
    ]


def test_twelve_weeks_across_national_day() -> None:
    items = week_of_every_day(D(2026, 9, 1), D(2026, 12, 31))
    a, b = D(2026, 9, 21), D(2026, 9, 21) + dt.timedelta(weeks=12)
    got = occurrences(render(items), a, b)
    assert got == expected(items, a, b)
    starts = {o[1].date() for o in got}
    assert not starts & {D(2026, 10, d) for d in (1, 2, 5, 6, 7)}
    assert {D(2026, 10, 3), D(2026, 10, 4)} <= starts  # weekend sessions stay
    assert len(got) == 7 * 12 - 5


def test_spring_festival_week_with_makeup_policy() -> None:
    for follows in (None, MON, FRI):
        items = week_of_every_day(D(2026, 1, 5), D(2026, 6, 30), follows=follows)
        a, b = D(2026, 2, 2), D(2026, 2, 2) + dt.timedelta(weeks=12)
        assert occurrences(render(items), a, b) == expected(items, a, b)


# -- named cases -----------------------------------------------------------------------------


def test_200_character_chinese_summary_folds_and_unfolds() -> None:
    text = ("门诊·某某市第一人民医院心血管内科专家号，" * 10)[:200]
    assert len(text) == 200
    s = series(MON, "08:00", "12:00", D(2026, 3, 2), D(2026, 5, 25), summary=text)
    body = render([s])
    check_format(body)
    assert body.count(b"\r\n ") >= 8  # 200 CJK characters = 600 octets: folded many times
    summary_lines = [line for line in unfold(body) if line.startswith("SUMMARY:")]
    assert summary_lines == ["SUMMARY:" + text.replace(",", "\\,")]
    event = parse(body).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == text
    a, b = D(2026, 3, 2), D(2026, 5, 25)
    assert occurrences(body, a, b) == expected([s], a, b)


def test_overnight_session_ends_next_day() -> None:
    s = series(FRI, "20:00", "08:00", D(2026, 3, 1), D(2026, 4, 30))
    body = render([s])
    lines = unfold(body)
    assert "DTSTART;TZID=Asia/Shanghai:20260306T200000" in lines
    assert "DTEND;TZID=Asia/Shanghai:20260307T080000" in lines
    a, b = D(2026, 3, 1), D(2026, 5, 2)
    got = occurrences(body, a, b)
    assert got == expected([s], a, b)
    assert got[0][1:] == (local(2026, 3, 6, 20), local(2026, 3, 7, 8))
    # the last occurrence starts on the last Friday <= last_date and still ends next morning
    assert got[-1][1:] == (local(2026, 4, 24, 20), local(2026, 4, 25, 8))


def test_session_on_statutory_holiday_is_excluded() -> None:
    s = series(THU, "08:00", "12:00", D(2026, 9, 1), D(2026, 10, 31))
    body = render([s])
    lines = unfold(body)
    assert "EXDATE;TZID=Asia/Shanghai:20261001T080000" in lines
    assert sum(line.startswith("EXDATE") for line in lines) == 1
    got = occurrences(body, D(2026, 9, 28), D(2026, 10, 12))
    assert [o[1] for o in got] == [local(2026, 10, 8, 8)]


def test_until_is_utc_start_of_last_occurrence() -> None:
    s = series(TUE, "07:30", "11:00", D(2026, 3, 4), D(2026, 6, 1))  # last Tuesday 05-26
    lines = unfold(render([s]))
    assert "DTSTART;TZID=Asia/Shanghai:20260310T073000" in lines
    assert "RRULE:FREQ=WEEKLY;UNTIL=20260525T233000Z" in lines


def test_makeup_saturday_policy_none() -> None:
    items = [
        series(MON, "08:00", "12:00", D(2026, 9, 1), D(2026, 11, 30)),
        series(SAT, "09:00", "12:00", D(2026, 9, 1), D(2026, 11, 30)),
    ]
    body = render(items)
    assert not any(line.startswith("RDATE") for line in unfold(body))
    a, b = D(2026, 9, 28), D(2026, 9, 28) + dt.timedelta(weeks=12)
    got = occurrences(body, a, b)
    assert got == expected(items, a, b)
    mondays = [o[1].date() for o in got if o[0] == items[0].uid]
    assert D(2026, 10, 10) not in mondays  # make-up Saturday: no Monday session
    assert D(2026, 10, 5) not in mondays  # Monday inside National Day
    saturdays = [o[1].date() for o in got if o[0] == items[1].uid]
    assert D(2026, 10, 10) in saturdays  # the regular Saturday session is untouched


def test_makeup_saturday_follows_monday() -> None:
    items = [
        series(MON, "08:00", "12:00", D(2026, 9, 1), D(2026, 11, 30), follows=MON),
        series(TUE, "08:00", "12:00", D(2026, 9, 1), D(2026, 11, 30), follows=MON),
    ]
    body = render(items)
    lines = unfold(body)
    assert "RDATE;TZID=Asia/Shanghai:20261010T080000" in lines
    assert "RDATE;TZID=Asia/Shanghai:20260920T080000" in lines  # Sunday make-up day too
    assert sum(line.startswith("RDATE") for line in lines) == 2  # only on the Monday series
    a, b = D(2026, 9, 28), D(2026, 9, 28) + dt.timedelta(weeks=12)
    got = occurrences(body, a, b)
    assert got == expected(items, a, b)
    assert (items[0].uid, local(2026, 10, 10, 8), local(2026, 10, 10, 12)) in got
    assert not any(o[1].date() == D(2026, 10, 10) for o in got if o[0] == items[1].uid)


def test_only_makeup_occurrences_still_export() -> None:
    # agreement from Saturday 10-10 to Sunday 10-11: no Monday in range, one make-up day
    s = series(MON, "08:00", "12:00", D(2026, 10, 10), D(2026, 10, 11), follows=MON)
    body = render([s])
    assert not any(line.startswith("RRULE") for line in unfold(body))
    got = occurrences(body, D(2026, 10, 1), D(2026, 10, 31))
    assert got == [(s.uid, local(2026, 10, 10, 8), local(2026, 10, 10, 12))]


def test_series_without_any_occurrence_is_left_out() -> None:
    terminated = series(WED, "08:00", "12:00", D(2026, 3, 2), D(2026, 3, 3))  # Mon..Tue
    body = render([terminated])
    assert parse(body).walk("VEVENT") == []


def test_empty_calendar_is_valid() -> None:
    body = render([])
    cal = parse(body)
    assert cal.walk("VEVENT") == []
    assert occurrences(body, D(2026, 1, 1), D(2026, 12, 31)) == []
    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n")


TEXT_UNESCAPE = {"\\": "\\", ";": ";", ",": ",", "n": "\n", "N": "\n"}


def test_calendar_properties() -> None:
    body = render_calendar("排班, 张医生", [], HolidayCalendar(), refresh_minutes=30)
    cal = parse(body)
    # icalendar keeps these (RFC 7986 / X-) as raw TEXT: unescape them as a client would
    for prop in ("X-WR-CALNAME", "NAME"):
        raw = cal[prop].to_ical().decode()
        assert re.sub(r"\\([\\;,nN])", lambda m: TEXT_UNESCAPE[m[1]], raw) == "排班, 张医生"
    lines = unfold(body)
    assert "NAME:排班\\, 张医生" in lines
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT30M" in lines
    assert "X-PUBLISHED-TTL:PT30M" in lines
    assert "TZOFFSETTO:+0800" in lines


def test_edited_series_same_uid_higher_sequence() -> None:
    before = series(MON, "08:00", "12:00", D(2026, 3, 2), D(2026, 6, 29), uid="ag-7-s-3@multisite")
    after = replace(
        before,
        slot=Slot(MON, 9 * 60, 12 * 60),
        sequence=1,
        last_modified=STAMP + dt.timedelta(days=3),
    )
    b1, b2 = render([before]), render([after])
    assert b1 != b2 and etag_for(b1) != etag_for(b2)
    e1, e2 = parse(b1).walk("VEVENT")[0], parse(b2).walk("VEVENT")[0]
    assert str(e1["UID"]) == str(e2["UID"]) == "ag-7-s-3@multisite"
    assert int(e2["SEQUENCE"]) > int(e1["SEQUENCE"])
    assert e2.decoded("DTSTAMP") > e1.decoded("DTSTAMP")
    assert e2.decoded("LAST-MODIFIED") == e2.decoded("DTSTAMP")
    a, b = D(2026, 3, 2), D(2026, 6, 30)
    assert occurrences(b2, a, b) == expected([after], a, b)


def test_terminated_agreement_moves_until() -> None:
    full = series(WED, "08:00", "12:00", D(2026, 3, 2), D(2026, 12, 31), uid="ag-9-s-1@multisite")
    ended = replace(full, last_date=D(2026, 4, 20), sequence=1, last_modified=STAMP)
    a, b = D(2026, 3, 2), D(2026, 12, 31)
    assert occurrences(render([ended]), a, b) == expected([ended], a, b)
    assert occurrences(render([ended]), a, b)[-1][1] == local(2026, 4, 15, 8)


def test_identical_input_is_byte_identical_and_order_independent() -> None:
    items = week_of_every_day(D(2026, 9, 1), D(2026, 12, 31), follows=MON)
    b1 = render(items)
    b2 = render(list(reversed(items)))
    assert b1 == b2
    assert etag_for(b1) == etag_for(b2)
    assert re.fullmatch(r'"[0-9a-f]{64}"', etag_for(b1))
    assert b"\xef\xbb\xbf" not in b1


def test_escaping_round_trips() -> None:
    nasty = 'a,b;c\\d\ne\r\nf "quoted" 内科，门诊；\\n literal'
    s = replace(
        series(MON, "08:00", "12:00", D(2026, 3, 2), D(2026, 4, 27)),
        summary=nasty,
        location="某医院; 地址: 北京, 东城区\\2号",
        description="科室: 内科\n合同号: HT-1,2;3",
    )
    body = render([s])
    lines = unfold(body)
    assert 'SUMMARY:a\\,b\\;c\\\\d\\ne\\nf "quoted" 内科，门诊；\\\\n literal' in lines
    event = parse(body).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == nasty.replace("\r\n", "\n")
    assert str(event["LOCATION"]) == s.location
    assert str(event["DESCRIPTION"]) == s.description
    # a long escaped value never folds between a backslash and the character it escapes
    long = replace(s, summary=",;\\" * 60)
    body = render([long])
    for physical in body.split(b"\r\n"):
        assert not re.search(rb"(?<!\\)(\\\\)*\\$", physical), physical
    assert str(parse(body).walk("VEVENT")[0]["SUMMARY"]) == ",;\\" * 60


def test_year_without_holiday_data_then_loaded() -> None:
    s = series(FRI, "08:00", "12:00", D(2026, 9, 1), D(2027, 12, 31))
    plain = HolidayCalendar()
    assert plain.unknown_years_between(s.first_date, s.last_date) == [2027]
    body = render([s], plain)
    exdates = [line for line in unfold(body) if line.startswith("EXDATE")]
    assert exdates == [  # 2026 only: Mid-autumn and National Day Fridays
        "EXDATE;TZID=Asia/Shanghai:20260925T080000",
        "EXDATE;TZID=Asia/Shanghai:20261002T080000",
    ]
    a, b = D(2026, 12, 21), D(2027, 1, 11)
    assert local(2027, 1, 1, 8) in [o[1] for o in occurrences(body, a, b)]

    loaded = HolidayCalendar(LOADED_2027)
    assert loaded.unknown_years_between(s.first_date, s.last_date) == []
    body = render([s], loaded)
    exdates = [line for line in unfold(body) if line.startswith("EXDATE")]
    assert exdates == [
        "EXDATE;TZID=Asia/Shanghai:20260925T080000",
        "EXDATE;TZID=Asia/Shanghai:20261002T080000",
        "EXDATE;TZID=Asia/Shanghai:20270101T080000",
        "EXDATE;TZID=Asia/Shanghai:20271001T080000",
    ]
    off, work = expected_days(LOADED_2027)
    for a in (D(2026, 12, 14), D(2027, 9, 13)):
        b = a + dt.timedelta(weeks=12)
        assert occurrences(body, a, b) == expected([s], a, b, off, work)


def test_loaded_makeup_day_follows_policy() -> None:
    s = series(MON, "14:00", "17:00", D(2027, 9, 1), D(2027, 10, 31), follows=MON)
    body = render([s], HolidayCalendar(LOADED_2027))
    off, work = expected_days(LOADED_2027)
    a, b = D(2027, 9, 1), D(2027, 11, 1)
    got = occurrences(body, a, b)
    assert got == expected([s], a, b, off, work)
    assert local(2027, 10, 9, 14) in [o[1] for o in got]
    assert local(2027, 10, 4, 14) not in [o[1] for o in got]


# -- property --------------------------------------------------------------------------------

slots = (
    st.tuples(st.integers(0, 6), st.integers(0, 24 * 60 - 1), st.integers(0, 24 * 60 - 1))
    .filter(lambda t: t[1] != t[2])
    .map(lambda t: Slot(*t))
)


@st.composite
def series_lists(draw: st.DrawFn) -> list[SessionSeries]:
    n = draw(st.integers(0, 3))
    out = []
    for i in range(n):
        slot = draw(slots)
        first = draw(st.dates(D(2025, 1, 1), D(2027, 6, 30)))
        last = first + dt.timedelta(days=draw(st.integers(0, 240)))
        follows = draw(st.one_of(st.none(), st.integers(0, 6), st.just(slot.weekday)))
        out.append(
            SessionSeries(
                uid=f"ag-{i}-s-{i}@multisite",
                slot=slot,
                first_date=first,
                last_date=last,
                sequence=draw(st.integers(0, 5)),
                last_modified=STAMP,
                summary=draw(st.text(max_size=30)),
                location="医院",
                description="内科",
                makeup_follows=follows,
            )
        )
    return out


LOADED_OFF, LOADED_WORK = expected_days(LOADED_2027)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=series_lists(), with_2027=st.booleans())
def test_property_parsed_occurrences_equal_independent_expansion(
    items: list[SessionSeries], with_2027: bool
) -> None:
    cal = HolidayCalendar(LOADED_2027 if with_2027 else ())
    off, work = (LOADED_OFF, LOADED_WORK) if with_2027 else (PACKAGE_OFF, PACKAGE_WORK)
    body = render_calendar("x", items, cal)
    a, b = D(2024, 12, 1), D(2028, 3, 1)
    assert occurrences(body, a, b) == expected(items, a, b, off, work)
    assert render_calendar("x", list(reversed(items)), cal) == body
