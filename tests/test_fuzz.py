"""Hostile input for every parser (SPEC §10): hypothesis-generated values, cells and file bytes.

Each parser may only answer with its own one-sentence error (``ValueProblem`` for a value,
``FileProblem`` for a file); any other exception is a traceback a clerk would see. The import
pipeline runs ``--dry-run`` on random cells and must leave the database untouched. Examples
tried per parser are counted in ``TRIED`` and printed (``pytest -s``).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import tempfile
from collections import Counter
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multisite.domain import identifiers as ids
from multisite.domain.schedule import Slot
from multisite.domain.sessions_text import parse_sessions
from multisite.importing.normalize import (
    ValueProblem,
    parse_bool,
    parse_date,
    parse_decimal_hours,
    parse_int,
    parse_list,
)
from multisite.importing.readers import FileProblem, read_table
from multisite.services.imports import run_import

from .factories import CLINIC, DR_ZHANG, build_region, primary

TRIED: Counter[str] = Counter()
FAST = settings(max_examples=300, deadline=None)
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

# Values a cell can hold after a reader: text (with the grammar's own vocabulary mixed in to
# reach deep branches), numbers, booleans, dates and nothing.
WORDS = ["MO", "TU-FR", "周一", "至", "每周", "08:00", "-", "–", "~", "24:00", "12:60", "，", "；",
         "、", " ", "次日", "2026-02-30", "2026年3月1日", "45000", "是", "否", "上午", "下午"]  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(WORDS), max_size=8).map("".join),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
)
CELL = st.one_of(
    TEXT,
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.none(),
)


def only_value_problems(parser, value, **kwargs):
    try:
        parser(value, **kwargs)
    except ValueProblem as problem:
        assert str(problem) and "\n" not in str(problem).strip()


@FAST
@given(CELL)
def test_sessions_grammar_never_raises_anything_but_a_value_problem(value):
    TRIED["parse_sessions"] += 1
    try:
        slots = parse_sessions(value)
    except ValueProblem:
        return
    assert all(isinstance(s, Slot) for s in slots)


@FAST
@given(CELL)
def test_dates_never_raise_anything_but_a_value_problem(value):
    TRIED["parse_date"] += 1
    with contextlib.suppress(ValueProblem):
        assert isinstance(parse_date(value, column="start"), dt.date)


@FAST
@given(CELL)
def test_numbers_booleans_and_lists_never_raise_anything_but_a_value_problem(value):
    TRIED["parse_int/bool/hours/list"] += 1
    only_value_problems(parse_int, value, column="beds", minimum=0, maximum=10_000)
    only_value_problems(parse_bool, value, column="consent")
    only_value_problems(parse_decimal_hours, value, column="hours")
    only_value_problems(parse_list, value)


@FAST
@given(st.text(max_size=40), st.text(max_size=40))
def test_identifier_checks_answer_true_or_false_for_any_text(a, b):
    TRIED["identifiers"] += 1
    for check in (
        ids.credit_code_shape_ok,
        ids.credit_code_checksum_ok,
        ids.id_number_ok,
        ids.cert_no_ok,
        ids.region_code_ok,
    ):
        assert check(a) in (True, False)
        assert check(ids.clean(a)) in (True, False)
    assert ids.region_contains(a, b) in (True, False)


def _read_all(path: Path, kind: str | None) -> None:
    try:
        with read_table(path, kind=kind) as table:
            for row in table:
                assert row is not None
    except FileProblem as problem:
        assert str(problem)


@SLOW
@given(
    st.binary(max_size=600),
    st.sampled_from([".csv", ".jsonl", ".xlsx", ".tsv"]),
    st.sampled_from([None, "contracts", "physicians"]),
)
def test_random_bytes_as_an_import_file_give_a_file_problem_or_rows(data, suffix, kind):
    TRIED["read_table(bytes)"] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        _read_all(path, kind)


HEADERS = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期", "终止日期",
           "排班", "约定周工时", "主要机构同意"]  # fmt: skip
ROWS = st.lists(st.lists(CELL, min_size=0, max_size=12), min_size=1, max_size=6)


def _write(path: Path, rows: list[list[object]]) -> None:
    if path.suffix == ".xlsx":
        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(HEADERS)
        for r in rows:
            try:
                sheet.append([c if not isinstance(c, float) or c == c else None for c in r])
            except Exception:  # openpyxl refuses control characters: not a file we could get
                sheet.append([ascii(c) for c in r])
        book.save(path)
    elif path.suffix == ".jsonl":
        lines = [json.dumps(dict(zip(HEADERS, r, strict=False)), default=str) for r in rows]
        path.write_text("\n".join(lines), encoding="utf-8")
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADERS)
        writer.writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogatepass")


@SLOW
@given(ROWS, st.sampled_from([".csv", ".jsonl", ".xlsx"]))
def test_random_cells_in_a_well_formed_file_are_read_without_a_traceback(rows, suffix):
    TRIED["read_table(cells)"] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"contracts{suffix}"
        try:
            _write(path, rows)
        except UnicodeEncodeError:
            return  # lone surrogates cannot be written to a file at all
        _read_all(path, "contracts")


def test_the_import_pipeline_on_random_cells_dry_run_changes_nothing(registry):
    build_region(registry)
    primary(registry)
    before = registry.summary()
    audit = len(registry.audit_log(limit=100_000))
    valid = ["C-1", DR_ZHANG, CLINIC, "其他", "内科", "2026-01-05", "2026-12-31", "SA 08:00-12:00",
             "4", "是"]  # fmt: skip

    @SLOW
    @given(ROWS, st.lists(st.integers(0, 9), max_size=10), st.sampled_from([".csv", ".xlsx"]))
    def one(rows, keep, suffix):
        TRIED["run_import(dry-run)"] += 1
        # Mix valid cells into random rows so that rows reach the rules, not only the parsers.
        mixed = [[valid[i] if i in keep else (r[i] if i < len(r) else "") for i in range(10)]
                 for r in rows]  # fmt: skip
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"contracts{suffix}"
            try:
                _write(path, mixed)
            except UnicodeEncodeError:
                return
            try:
                report = run_import(registry, "contracts", path, mode="dry-run")
            except FileProblem:
                return
            assert not report.committed

    one()
    assert registry.summary() == before
    assert len(registry.audit_log(limit=100_000)) == audit


def test_zz_report_examples_tried():
    print("\nfuzz examples tried: " + ", ".join(f"{k} {v}" for k, v in sorted(TRIED.items())))
