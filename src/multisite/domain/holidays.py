"""Statutory holidays and make-up workdays (法定节假日与调休).

Two sources, one answer:

* the ``chinese_calendar`` package (holidays and make-up workdays for the years it ships,
  2004–2026 at the time of writing; it raises ``NotImplementedError`` for any other year);
* years loaded by a clerk from the State Council notice (``multisite holidays import FILE``),
  given to :class:`HolidayCalendar` as :class:`HolidayDay` rows. A loaded year replaces the
  package's data for that whole year.

Definitions used everywhere in the product:

* **holiday** (:meth:`HolidayCalendar.is_holiday`): a Monday–Friday that is a day off — a
  statutory holiday or a bridged day (调休放假). Weekend days are deliberately *not*
  holidays, even inside a holiday period such as 10-01..10-07: a session that normally runs
  on a Saturday or Sunday is weekend service and is left alone.
* **make-up workday** (:meth:`HolidayCalendar.is_makeup_workday`): a Saturday or Sunday that
  is a working day (调休上班 / 补班).

A year is *known* when it was loaded or the package covers it. Unknown years have no
holidays and no make-up days; callers warn with :meth:`HolidayCalendar.unknown_years_between`.

This module is pure apart from :func:`parse_holiday_file`, which reads one file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from chinese_calendar import constants as _cc

from multisite.i18n import N_, _

HolidayKind = Literal["holiday", "workday"]

PACKAGE_FIRST_YEAR: int = min(_cc.holidays).year
PACKAGE_LAST_YEAR: int = max(_cc.holidays).year

_WEEKDAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)

#: Accepted spellings of ``kind`` in an import file (compared after strip/lower-casing).
#: 调休 is read as a make-up *workday*, as in the rest of the product (DOMAIN.md §Holidays).
KIND_ALIASES: dict[str, HolidayKind] = {
    "holiday": "holiday",
    "放假": "holiday",
    "休息": "holiday",
    "workday": "workday",
    "调休": "workday",
    "上班": "workday",
    "补班": "workday",
}

_DATE_RE = re.compile(r"\d{4}([-/])\d{2}\1\d{2}")

_COLUMN_ALIASES = {
    "date": "date",
    "日期": "date",
    "kind": "kind",
    "类型": "kind",
    "name": "name",
    "名称": "name",
}


@dataclass(frozen=True, order=True, slots=True)
class HolidayDay:
    """One day of a State Council notice: a day off (``holiday``) or a make-up ``workday``."""

    date: dt.date
    kind: HolidayKind
    name: str = ""


class HolidayFileProblem(ValueError):
    """A holiday import file breaks a rule; ``str()`` is one translated sentence."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class HolidayCalendar:
    """Holidays and make-up workdays from ``chinese_calendar`` overridden by loaded years."""

    def __init__(self, loaded: Iterable[HolidayDay] = ()) -> None:
        self._off: dict[dt.date, str] = {}
        self._work: dict[dt.date, str] = {}
        years: set[int] = set()
        for day in loaded:
            if day.kind not in ("holiday", "workday"):
                raise ValueError(f"unknown holiday kind {day.kind!r} for {day.date}")
            if day.date in self._off or day.date in self._work:
                raise ValueError(f"{day.date} is listed twice in the loaded holiday data")
            (self._off if day.kind == "holiday" else self._work)[day.date] = day.name
            years.add(day.date.year)
        self._loaded_years = frozenset(years)
        self._years: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}

    # -- years -----------------------------------------------------------------------------

    @property
    def loaded_years(self) -> frozenset[int]:
        return self._loaded_years

    def known(self, year: int) -> bool:
        """True when holiday data exists for ``year`` (loaded or shipped by the package)."""
        return year in self._loaded_years or PACKAGE_FIRST_YEAR <= year <= PACKAGE_LAST_YEAR

    def unknown_years_between(self, a: dt.date, b: dt.date) -> list[int]:
        """Years touched by ``a..b`` (inclusive) with no holiday data, ascending."""
        return [y for y in range(a.year, b.year + 1) if not self.known(y)] if a <= b else []

    # -- single days -----------------------------------------------------------------------

    def _year(self, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
        """(Monday–Friday days off, weekend make-up workdays) of ``year``, memoised."""
        cached = self._years.get(year)
        if cached is None:
            if year in self._loaded_years:
                off_src: Iterable[dt.date] = (d for d in self._off if d.year == year)
                work_src: Iterable[dt.date] = (d for d in self._work if d.year == year)
            elif self.known(year):
                # chinese_calendar.is_workday(d) == d in workdays or (Mon–Fri and d not in holidays)
                off_src = (d for d in _cc.holidays if d.year == year and d not in _cc.workdays)
                work_src = (d for d in _cc.workdays if d.year == year)
            else:
                off_src, work_src = (), ()
            cached = (
                frozenset(d for d in off_src if d.weekday() < 5),
                frozenset(d for d in work_src if d.weekday() >= 5),
            )
            self._years[year] = cached
        return cached

    def is_holiday(self, d: dt.date) -> bool:
        """A Monday–Friday that is off (statutory holiday or bridged day). Never a weekend."""
        if isinstance(d, dt.datetime):
            d = d.date()
        return d in self._year(d.year)[0]

    def is_makeup_workday(self, d: dt.date) -> bool:
        """A Saturday or Sunday that is a working day (调休上班)."""
        if isinstance(d, dt.datetime):
            d = d.date()
        return d in self._year(d.year)[1]

    def name(self, d: dt.date) -> str | None:
        """The holiday a holiday or make-up day belongs to, as recorded; else ``None``."""
        if not (self.is_holiday(d) or self.is_makeup_workday(d)):
            return None
        if d.year in self._loaded_years:
            return self._off.get(d, self._work.get(d, ""))
        return str(_cc.holidays.get(d, _cc.workdays.get(d, "")))

    # -- ranges ----------------------------------------------------------------------------

    def holidays_between(self, a: dt.date, b: dt.date) -> list[dt.date]:
        """Holidays (see :meth:`is_holiday`) in ``a..b``, both ends included, ascending."""
        return self._between(a, b, 0)

    def makeup_days_between(self, a: dt.date, b: dt.date) -> list[dt.date]:
        """Make-up workdays in ``a..b``, both ends included, ascending."""
        return self._between(a, b, 1)

    def _between(self, a: dt.date, b: dt.date, which: int) -> list[dt.date]:
        found: list[dt.date] = []
        for year in range(a.year, b.year + 1):
            found.extend(d for d in self._year(year)[which] if a <= d <= b)
        return sorted(found)


# -- import files ----------------------------------------------------------------------------


def parse_holiday_file(path: str | Path) -> list[HolidayDay]:
    """Read a clerk's holiday file: CSV (UTF-8, BOM allowed) or JSON (a list of objects).

    Columns/keys ``date`` (YYYY-MM-DD), ``kind`` (holiday/workday or 放假/休息 and
    调休/上班/补班) and ``name``; Chinese headers 日期/类型/名称 are accepted. One year per
    file; make-up workdays must be Saturdays or Sundays; no date may appear twice.
    Raises :class:`HolidayFileProblem` naming the line and the rule broken.
    """
    path = Path(path)
    raw = path.read_bytes()
    return parse_holiday_bytes(raw, path.name, json_format=path.suffix.lower() == ".json")


def parse_holiday_bytes(raw: bytes, source: str, *, json_format: bool) -> list[HolidayDay]:
    """:func:`parse_holiday_file` on bytes already read; ``source`` names the file."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise HolidayFileProblem(
            _(
                "{source}, line {line}: the file is not UTF-8; save it as UTF-8 and import again."
            ).format(source=source, line=line),
            line,
        ) from None
    rows = _json_rows(text, source) if json_format else _csv_rows(text, source)
    return _validate(rows, source)


_Row = tuple[int, dict[str, Any]]


def _csv_rows(text: str, source: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: dict[int, str] | None = None
    rows: list[_Row] = []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = {}
            for i, cell in enumerate(record):
                key = _COLUMN_ALIASES.get(cell.strip().lower())
                if key is not None and key not in header.values():
                    header[i] = key
            if "date" not in header.values() or "kind" not in header.values():
                raise HolidayFileProblem(
                    _(
                        "{source}, line {line}: the first line must name the columns date, "
                        "kind and name."
                    ).format(source=source, line=line),
                    line,
                )
            continue
        rows.append(
            (line, {key: record[i] if i < len(record) else "" for i, key in header.items()})
        )
    return rows


def _json_rows(text: str, source: str) -> list[_Row]:
    """Decode a top-level JSON array item by item so that each item keeps its line number."""
    decoder = json.JSONDecoder()

    def problem(pos: int) -> HolidayFileProblem:
        line = text.count("\n", 0, pos) + 1
        return HolidayFileProblem(
            _(
                "{source}, line {line}: the file must be a JSON list of objects with the keys "
                "date, kind and name."
            ).format(source=source, line=line),
            line,
        )

    pos = _skip_ws(text, 0)
    if not text.startswith("[", pos):
        raise problem(pos)
    pos = _skip_ws(text, pos + 1)
    rows: list[_Row] = []
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            try:
                item, end = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                raise problem(exc.pos) from None
            if not isinstance(item, dict):
                raise problem(pos)
            fields = {
                _COLUMN_ALIASES[str(k).strip().lower()]: v
                for k, v in item.items()
                if str(k).strip().lower() in _COLUMN_ALIASES
            }
            rows.append((text.count("\n", 0, pos) + 1, fields))
            pos = _skip_ws(text, end)
            if text.startswith(",", pos):
                pos = _skip_ws(text, pos + 1)
                continue
            if text.startswith("]", pos):
                pos += 1
                break
            raise problem(pos)
    if _skip_ws(text, pos) != len(text):
        raise problem(pos)
    return rows


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _validate(rows: list[_Row], source: str) -> list[HolidayDay]:
    if not rows:
        raise HolidayFileProblem(_("{source}: the file lists no days.").format(source=source), None)
    days: list[HolidayDay] = []
    seen: dict[dt.date, int] = {}
    year: tuple[int, int] | None = None  # (year, line where it was first seen)
    for line, fields in rows:
        where = {"source": source, "line": line}
        raw_date = str(fields.get("date") or "").strip()
        try:
            if not _DATE_RE.fullmatch(raw_date):
                raise ValueError(raw_date)
            date = dt.date(int(raw_date[:4]), int(raw_date[5:7]), int(raw_date[8:]))
        except ValueError:
            raise HolidayFileProblem(
                _(
                    "{source}, line {line}: the date {value!r} is not a date written as YYYY-MM-DD."
                ).format(value=raw_date, **where),
                line,
            ) from None
        raw_kind = str(fields.get("kind") or "").strip()
        kind = KIND_ALIASES.get(raw_kind.lower())
        if kind is None:
            raise HolidayFileProblem(
                _(
                    "{source}, line {line}: the kind {value!r} is not one of holiday, workday, "
                    "放假, 休息, 调休, 上班 or 补班."
                ).format(value=raw_kind, **where),
                line,
            )
        name = str(fields.get("name") or "").strip()
        if year is None:
            year = (date.year, line)
        elif date.year != year[0]:
            raise HolidayFileProblem(
                _(
                    "{source}, line {line}: {date} is in {year}, but line {first} is in "
                    "{first_year}; a file holds exactly one year."
                ).format(date=date, year=date.year, first=year[1], first_year=year[0], **where),
                line,
            )
        if date in seen:
            raise HolidayFileProblem(
                _(
                    "{source}, line {line}: {date} is already listed on line {first}; each day "
                    "may appear only once."
                ).format(date=date, first=seen[date], **where),
                line,
            )
        if kind == "workday" and date.weekday() < 5:
            raise HolidayFileProblem(
                _(
                    "{source}, line {line}: a make-up workday must be a Saturday or Sunday, but "
                    "{date} is a {weekday}."
                ).format(date=date, weekday=_(_WEEKDAY_NAMES[date.weekday()]), **where),
                line,
            )
        seen[date] = line
        days.append(HolidayDay(date, kind, name))
    return sorted(days)
