"""Holiday calendar: chinese_calendar data, clerk-loaded years, and the import file parser."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from multisite import i18n
from multisite.domain.holidays import (
    HolidayCalendar,
    HolidayDay,
    HolidayFileProblem,
    parse_holiday_bytes,
    parse_holiday_file,
)

D = dt.date

# 2027 as a clerk would load it (invented for the tests; the package has no 2027 data).
LOADED_2027 = [
    HolidayDay(D(2027, 1, 1), "holiday", "元旦"),
    HolidayDay(D(2027, 10, 1), "holiday", "国庆节"),
    HolidayDay(D(2027, 10, 4), "holiday", "国庆节"),
    HolidayDay(D(2027, 10, 9), "workday", "国庆节"),
]


def test_package_holidays_weekdays_only() -> None:
    cal = HolidayCalendar()
    assert cal.is_holiday(D(2026, 10, 1))  # Thursday, National Day
    assert cal.is_holiday(D(2026, 10, 7))  # Wednesday, bridged
    assert cal.is_holiday(D(2026, 1, 2))  # Friday, bridged day (调休放假)
    assert not cal.is_holiday(D(2026, 10, 3))  # Saturday inside the period: weekend, left out
    assert not cal.is_holiday(D(2026, 10, 9))  # ordinary Friday
    assert not cal.is_holiday(D(2026, 10, 11))  # ordinary Sunday
    assert cal.is_holiday(dt.datetime(2026, 10, 1, 9, 0))  # datetimes are accepted


def test_package_makeup_days() -> None:
    cal = HolidayCalendar()
    assert cal.is_makeup_workday(D(2026, 10, 10))  # Saturday
    assert cal.is_makeup_workday(D(2026, 9, 20))  # Sunday
    assert not cal.is_makeup_workday(D(2026, 10, 17))  # ordinary Saturday
    assert not cal.is_makeup_workday(D(2026, 10, 9))  # a weekday is never a make-up day
    assert cal.makeup_days_between(D(2026, 9, 1), D(2026, 10, 31)) == [
        D(2026, 9, 20),
        D(2026, 10, 10),
    ]
    assert cal.name(D(2026, 10, 10)) == "National Day"
    assert cal.name(D(2026, 10, 9)) is None


def test_holidays_between_is_inclusive() -> None:
    cal = HolidayCalendar()
    assert cal.holidays_between(D(2026, 10, 1), D(2026, 10, 7)) == [
        D(2026, 10, 1),
        D(2026, 10, 2),
        D(2026, 10, 5),
        D(2026, 10, 6),
        D(2026, 10, 7),
    ]
    assert cal.holidays_between(D(2026, 10, 8), D(2026, 10, 1)) == []


def test_known_years_and_unknown_years_between() -> None:
    cal = HolidayCalendar()
    assert cal.known(2004) and cal.known(2026)
    assert not cal.known(2003) and not cal.known(2027)
    assert cal.unknown_years_between(D(2026, 3, 1), D(2028, 2, 1)) == [2027, 2028]
    assert cal.unknown_years_between(D(2026, 3, 1), D(2026, 12, 31)) == []
    # unknown years answer "no holiday", never raise
    assert not cal.is_holiday(D(2027, 1, 1))
    assert not cal.is_makeup_workday(D(2027, 10, 9))
    assert cal.holidays_between(D(2027, 1, 1), D(2027, 12, 31)) == []


def test_loaded_year_is_known_and_used() -> None:
    cal = HolidayCalendar(LOADED_2027)
    assert cal.known(2027) and cal.loaded_years == {2027}
    assert cal.unknown_years_between(D(2026, 3, 1), D(2027, 12, 31)) == []
    assert cal.holidays_between(D(2027, 1, 1), D(2027, 12, 31)) == [
        D(2027, 1, 1),
        D(2027, 10, 1),
        D(2027, 10, 4),
    ]
    assert cal.makeup_days_between(D(2027, 1, 1), D(2027, 12, 31)) == [D(2027, 10, 9)]
    assert cal.name(D(2027, 1, 1)) == "元旦"
    assert cal.is_holiday(D(2026, 10, 1))  # package years still answer


def test_loaded_year_overrides_package_year() -> None:
    cal = HolidayCalendar([HolidayDay(D(2026, 10, 2), "holiday", "国庆节")])
    assert not cal.is_holiday(D(2026, 10, 1))
    assert cal.is_holiday(D(2026, 10, 2))
    assert not cal.is_makeup_workday(D(2026, 10, 10))
    assert cal.is_holiday(D(2025, 10, 1))  # other years untouched


def test_loaded_duplicate_rejected() -> None:
    with pytest.raises(ValueError):
        HolidayCalendar(
            [HolidayDay(D(2027, 1, 1), "holiday", "a"), HolidayDay(D(2027, 1, 1), "workday", "b")]
        )


# -- import files ----------------------------------------------------------------------------

GOOD_CSV = """date,kind,name
2027-01-01,holiday,元旦
2027-10-01,放假,国庆节
2027-10-04,休息,国庆节

2027-10-09,补班,国庆节
2027-09-26,调休,国庆节
"""


def test_parse_csv_with_bom_and_chinese_kinds(tmp_path: Path) -> None:
    path = tmp_path / "2027.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_CSV.encode())
    days = parse_holiday_file(path)
    assert days == sorted(
        [
            HolidayDay(D(2027, 1, 1), "holiday", "元旦"),
            HolidayDay(D(2027, 10, 1), "holiday", "国庆节"),
            HolidayDay(D(2027, 10, 4), "holiday", "国庆节"),
            HolidayDay(D(2027, 10, 9), "workday", "国庆节"),
            HolidayDay(D(2027, 9, 26), "workday", "国庆节"),
        ]
    )
    cal = HolidayCalendar(days)
    assert cal.is_makeup_workday(D(2027, 9, 26))


def test_parse_csv_chinese_headers(tmp_path: Path) -> None:
    path = tmp_path / "2027.csv"
    path.write_text("日期,类型,名称\r\n2027/01/01,放假,元旦\r\n", encoding="utf-8")
    assert parse_holiday_file(path) == [HolidayDay(D(2027, 1, 1), "holiday", "元旦")]


def test_parse_json(tmp_path: Path) -> None:
    path = tmp_path / "2027.json"
    path.write_text(
        '[\n {"date": "2027-01-01", "kind": "holiday", "name": "元旦"},\n'
        ' {"date": "2027-10-09", "kind": "workday", "name": "国庆节"}\n]\n',
        encoding="utf-8",
    )
    assert parse_holiday_file(path) == [
        HolidayDay(D(2027, 1, 1), "holiday", "元旦"),
        HolidayDay(D(2027, 10, 9), "workday", "国庆节"),
    ]


def _csv_problem(body: str) -> HolidayFileProblem:
    with pytest.raises(HolidayFileProblem) as info:
        parse_holiday_bytes(body.encode("utf-8"), "h.csv", json_format=False)
    return info.value


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        ("date,kind,name\n2027-01-01,holiday,a\n2027-13-01,holiday,b\n", 3, "YYYY-MM-DD"),
        ("date,kind,name\n2027-W01-1,holiday,a\n", 2, "YYYY-MM-DD"),
        ("date,kind,name\n2027-01-01,vacation,a\n", 2, "is not one of holiday"),
        ("date,kind,name\n2027-10-08,workday,a\n", 2, "must be a Saturday or Sunday"),
        ("date,kind,name\n2027-10-01,holiday,a\n2027-10-01,holiday,a\n", 3, "already listed"),
        ("date,kind,name\n2027-10-09,workday,a\n2027-10-09,holiday,a\n", 3, "only once"),
        ("date,kind,name\n2027-10-01,holiday,a\n2028-01-01,holiday,b\n", 3, "exactly one year"),
        ("2027-10-01,holiday,a\n", 1, "first line must name the columns"),
    ],
)
def test_csv_problems_name_line_and_rule(body: str, line: int, fragment: str) -> None:
    problem = _csv_problem(body)
    assert problem.line == line
    assert f"line {line}:" in str(problem)
    assert fragment in str(problem)
    assert str(problem).replace("h.csv", "").count(".") == 1 and str(problem).endswith(
        "."
    )  # one sentence


def test_weekday_named_in_makeup_problem() -> None:
    assert "2027-10-08 is a Friday" in str(_csv_problem("date,kind\n2027-10-08,workday\n"))


def test_empty_file_and_not_utf8() -> None:
    assert "lists no days" in str(_csv_problem("date,kind,name\n"))
    with pytest.raises(HolidayFileProblem, match="line 2: the file is not UTF-8"):
        parse_holiday_bytes(
            "date,kind\n2027-01-01,放假\n".encode("gbk"), "h.csv", json_format=False
        )


def test_json_problems_have_lines() -> None:
    body = '[\n {"date": "2027-01-01", "kind": "holiday"},\n {"date": "2027-01-04", "kind": "x"}\n]'
    with pytest.raises(HolidayFileProblem, match="line 3: the kind 'x'"):
        parse_holiday_bytes(body.encode(), "h.json", json_format=True)
    with pytest.raises(HolidayFileProblem, match="line 2: the file must be a JSON list"):
        parse_holiday_bytes(b'[\n {"date": }\n]', "h.json", json_format=True)
    with pytest.raises(HolidayFileProblem, match="line 1: the file must be a JSON list"):
        parse_holiday_bytes(b'{"days": []}', "h.json", json_format=True)


def test_problems_translated_to_chinese() -> None:
    try:
        i18n.set_language("zh")
        message = str(_csv_problem("date,kind\n2027-10-08,workday\n"))
    finally:
        i18n.set_language("en")
    assert "第 2 行" in message and "星期五" in message


def test_agrees_with_package_api_every_day() -> None:
    import chinese_calendar

    cal = HolidayCalendar()
    d = D(2004, 1, 1)
    while d.year <= 2026:
        assert cal.is_holiday(d) == (d.weekday() < 5 and chinese_calendar.is_holiday(d)), d
        assert cal.is_makeup_workday(d) == (d.weekday() >= 5 and chinese_calendar.is_workday(d)), d
        d += dt.timedelta(days=1)
