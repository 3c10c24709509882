"""Readers that check before they read: crafted files that used to abort the process, take
gigabytes or minutes, or throw away a whole --partial import, now cost one sentence (exit 2)
or one rejected row, in bounded memory.

The crafted-size files are read in a child process whose address space is capped
(``hostile_files.AS_LIMIT``): before these checks they aborted (SIGABRT, "memory allocation of
549755813888 bytes failed"), took 12.5 GB, or ran 285 s into a MemoryError; under the cap a
regression fails here instead of exhausting the machine. Seconds and peak memory are printed
(``pytest -s``); the only bounds asserted are the cap and the exit code.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from multisite.importing import limits
from multisite.importing.readers import FileProblem, read_table
from multisite.services import Registry
from multisite.services.imports import run_import
from multisite.storage import Database, upgrade
from multisite.storage.models import Agreement

from . import hostile_files as hf
from .office import CONTRACT_HEADERS, DOCTORS, contract, open_office, write_jsonl


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    db = Database(url)
    upgrade(db.engine)
    db.dispose()
    return url


def _one_sentence(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and "internal error" not in text
    return lines[0]


def test_a_workbook_with_one_cell_at_xfd1048576_is_refused_in_one_sentence(tmp_path, sqlite_url):
    path = hf.far_cell_xlsx(tmp_path / "合同.xlsx", 1_048_576, 16_384)
    done = hf.import_capped(sqlite_url, "contracts", path)
    print(f"\nXFD1048576: exit {done.code} in {done.seconds:.2f} s, peak {done.peak_mb:.0f} MB")
    assert done.code == 2
    sentence = _one_sentence(done.stderr)
    assert "row 1,048,576, column 16,384" in sentence and "1,000 columns" in sentence


HEADER = ",".join(CONTRACT_HEADERS) + "\n"
# Each crafted file, and what the one sentence must say.
CRAFTED = {
    "row 200,000 column 2,000.xlsx": (
        lambda p: hf.far_cell_xlsx(p, 200_000, 2_000),
        "column 2,000",
    ),
    "4 MB zip bomb.xlsx": (lambda p: hf.xlsx(p, hf.bomb_member(4 << 20)), "inflates to more than"),
    "4 MB zip bomb, lying header.xlsx": (
        lambda p: hf.xlsx(p, hf.bomb_member(4 << 20), {"xl/worksheets/sheet1.xml": 50_000}),
        "inflates past the 50,000 bytes its header declares",
    ),
    "100 MB cell.csv": (
        lambda p: p.write_text(HEADER + '"' + "x" * (100 << 20) + '",1\n'),
        "longer than 1,048,576 characters",  # the line limit comes first
    ),
    "200 KB cell.csv": (
        lambda p: p.write_text(HEADER + '"' + "x\n" * 100_000 + '",1\n'),
        "longer than 32,767 characters",
    ),
    "5,000 columns.csv": (
        lambda p: p.write_text(HEADER + "a," * 5_000 + "\n"),
        "5,001 cells",
    ),
    "legacy.xls": (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 600), "save it as .xlsx"),
    "workbook.ods": (lambda p: p.write_bytes(b"PK\x03\x04" + b"\0" * 600), "save it as .xlsx"),
}

READ_ALL = """
import json, resource, sys, time
from multisite.importing.readers import FileProblem, read_table
for path in sys.argv[1:]:
    started = time.perf_counter()
    try:
        with read_table(path, kind="contracts") as table:
            rows = sum(1 for _ in table)
        outcome = f"{rows} rows"
    except FileProblem as problem:
        outcome = problem.message
    print(json.dumps([path, outcome, time.perf_counter() - started]), flush=True)
print(json.dumps(["peak", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0]))
"""


def test_crafted_files_cost_one_sentence_in_bounded_memory(tmp_path):
    paths = []
    for name, (make, _expected) in CRAFTED.items():
        path = tmp_path / name
        make(path)
        paths.append(str(path))

    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (hf.AS_LIMIT, hf.AS_LIMIT))

    done = subprocess.run(
        [sys.executable, "-c", READ_ALL, *paths],
        capture_output=True, text=True, preexec_fn=cap, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    results = [json.loads(line) for line in done.stdout.splitlines()]
    peak = results.pop()[1]
    print(f"\ncrafted files, one process capped at {hf.AS_LIMIT >> 30} GiB, peak {peak:.0f} MB:")
    for (_path, outcome, seconds), (name, (_make, expected)) in zip(
        results, CRAFTED.items(), strict=True
    ):
        print(f"  {name}: {seconds:.2f} s: {outcome}")
        assert expected in outcome, (name, outcome)
        assert "\n" not in outcome


# --- JSON lines: a bad line is a rejected row, the rest is read --------------------------------


def test_a_json_line_nested_100000_deep_rejects_its_row_and_partial_stores_the_rest(
    registry: Registry, tmp_path
):
    open_office(registry, tmp_path)
    path = write_jsonl(
        tmp_path / "合同.jsonl",
        [
            contract("GX-1", DOCTORS[0]),
            "[" * 100_000 + "]" * 100_000,
            '{"合同编号": ' + "[" * 5_000 + "1" + "]" * 5_000 + "}",
            json.dumps(contract("GX-9", DOCTORS[1], 工作任务="x" * 2_000_000), ensure_ascii=False),
            json.dumps(contract("GX-8", DOCTORS[1], 工作任务="x" * 40_000), ensure_ascii=False),
            contract("GX-2", DOCTORS[1]),
        ],
    )
    report = run_import(registry, "contracts", path, mode="partial")
    assert report.committed and report.created == 2
    rejected = {p.row: p.message for p in report.problems if p.severity == "error"}
    assert sorted(rejected) == [2, 3, 4, 5]
    assert "nests values more than 16 deep" in rejected[2] and "16 deep" in rejected[3]
    assert "longer than 1,048,576 characters" in rejected[4]
    assert "40,000 characters long" in rejected[5]
    with registry.db.read() as s:
        stored = s.scalars(select(Agreement.contract_no).order_by(Agreement.contract_no)).all()
    assert stored == ["GX-1", "GX-2"]


# --- hypothesis: the checks against an independent oracle -------------------------------------


def _extent(cells: list[tuple[int, int]]) -> tuple[int, int, int]:
    """What calamine would allocate: the block from the first to the last used cell."""
    rows = [r for r, _c in cells]
    columns = [c for _r, c in cells]
    return max(rows), max(columns), (max(rows) - min(rows) + 1) * (max(columns) - min(columns) + 1)


POSITIONS = st.tuples(
    st.integers(1, 1_048_576) | st.integers(1, 300), st.integers(1, 16_384) | st.integers(1, 30)
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(POSITIONS, min_size=1, max_size=6), st.booleans())
@example([(1_048_576, 16_384)], True)
@example([(200_000, 2_000)], True)
@example([(1, 1_000), (25_000, 1)], False)
@example([(1, 138), (181_297, 2)], False)
def test_the_workbook_check_refuses_exactly_the_blocks_past_the_limits(
    tmp_path_factory, cells, refs
):
    path = tmp_path_factory.mktemp("x") / "cells.xlsx"
    if refs:
        sheet = hf.sheet_xml([(r, c, "v") for r, c in cells])
    else:  # no r="…": positions come from counting rows and cells
        last_row, body = 0, b""
        for r in sorted({r for r, _c in cells})[:3]:
            width = max(c for rr, c in cells if rr == r)
            body += b"<row>" * (r - last_row) + hf.cell_xml(r, 1, "v", with_ref=False) * width
            body += b"</row>"
            last_row = r
        cells = [  # each row's cells run from column 1 to its widest
            (r, c)
            for r in sorted({r for r, _c in cells})[:3]
            for c in (1, max(c for rr, c in cells if rr == r))
        ]
        sheet = hf.SHEET_HEAD + body + hf.SHEET_TAIL
    hf.xlsx(path, sheet)
    last_row, last_column, block = _extent([(r, c) for r, c in cells])
    too_big = (
        last_column > limits.MAX_COLUMNS or last_row > limits.MAX_ROWS or block > limits.MAX_CELLS
    )
    try:
        limits.check_xlsx(path)
    except limits.TooLarge as problem:
        assert too_big, problem.message
        return
    assert not too_big
    if block <= 100_000:  # small enough to read here: the check and calamine agree
        try:
            with read_table(path) as table:
                list(table)
        except FileProblem as problem:
            assert "\n" not in problem.message


DEPTHS = st.integers(0, 200_000)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.one_of(DEPTHS.map(lambda n: "[" * n + "]" * n),
                          DEPTHS.map(lambda n: '{"a":' * n + "1" + "}" * n),
                          st.text(max_size=50), st.integers(0, 3_000_000).map(lambda n: "x" * n)),
                max_size=5))  # fmt: skip
def test_json_lines_of_any_depth_or_length_are_rows_or_rejected_rows(tmp_path_factory, lines):
    path = write_jsonl(
        tmp_path_factory.mktemp("j") / "c.jsonl", [contract("A", DOCTORS[0]), *lines]
    )
    with read_table(path, kind="contracts") as table:
        rows = list(table)
    assert rows[0].problem is None
    for row in rows[1:]:
        assert row.problem is None or "\n" not in row.problem.message
        assert sum(len(cell) for cell in row.original) <= 2 * limits.MAX_LINE


def test_a_header_may_not_name_an_unknown_column_twice(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(",".join([*CONTRACT_HEADERS, "备注", "备注"]) + "\n", encoding="utf-8")
    with pytest.raises(FileProblem, match="备注"):
        read_table(path, kind="contracts")
    path = write_jsonl(
        tmp_path / "dup.jsonl",
        [contract("A", DOCTORS[0]), '{"合同编号": "B", "合同编号": "C", "执业证书编码": "1"}'],
    )
    with read_table(path, kind="contracts") as table:
        first, second = list(table)
    assert first.problem is None
    assert second.problem is not None and "appears twice" in second.problem.message
