"""The parsing layer of batch import (SPEC §7): files real offices send, and the parsers."""

from __future__ import annotations

import csv
import datetime as dt
import json
import tracemalloc
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from multisite import i18n
from multisite.domain.schedule import Slot
from multisite.importing import (
    FileProblem,
    ValueProblem,
    format_sessions,
    parse_bool,
    parse_date,
    parse_decimal_hours,
    parse_int,
    parse_list,
    parse_sessions,
    read_table,
)
from multisite.importing.columns import ROLE_VALUES, match_header
from multisite.importing.normalize import parse_choice

ZH_HEADERS = [
    "合同编号",
    "执业证书编码",
    "机构代码",
    "执业类型",
    "科室",
    "起始日期",
    "终止日期",
    "排班",
    "约定周工时",
    "主要机构同意",
]
EN_HEADERS = [
    "contract_no",
    "physician",
    "institution",
    "role",
    "department",
    "start",
    "end",
    "sessions",
    "weekly_hours",
    "consent",
]
ROW = [
    "HT-2026-0001",
    "110440100012345",
    "12440000455858747X",
    "其他",
    "内科",
    "2026/1/5",
    "2026年12月31日",
    "周一 08:00-12:00；周三 14:00-17:30",
    "7.5",
    "是",
]


def write_csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


# --------------------------------------------------------------------------- files


def test_gb18030_csv_with_chinese_headers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "合同.csv", [ZH_HEADERS, ROW], "gb18030")
    with read_table(path, kind="contracts") as table:
        assert table.encoding == "gb18030"
        assert table.column_map["sessions"] == 7
        rows = list(table)
    assert [r.number for r in rows] == [2]
    row = rows[0]
    assert row.cells["role"] == "其他"
    assert parse_sessions(row.cells["sessions"]) == [Slot(0, 480, 720), Slot(2, 840, 1050)]
    assert parse_date(row.cells["end"]) == dt.date(2026, 12, 31)
    assert row.original == ROW


def test_utf8_bom_csv_and_kind_detection(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [EN_HEADERS, ROW], "utf-8-sig")
    table = read_table(path)
    assert table.kind == "contracts"
    assert table.encoding == "utf-8-sig"
    assert table.headers[0] == "contract_no"  # the BOM is not part of the first header
    assert next(iter(table)).cells["contract_no"] == "HT-2026-0001"


def test_plain_utf8_csv_headers_in_any_order_and_spelling(tmp_path: Path) -> None:
    headers = ["Weekly Hours", "CONTRACT NO", *EN_HEADERS[1:8]]
    headers = [headers[0], headers[1], *headers[2:]]
    values = ["7.5", "HT-1", *ROW[1:8]]
    path = write_csv(tmp_path / "c.csv", [headers, values], "utf-8")
    table = read_table(path, kind="contracts")
    assert table.encoding == "utf-8"
    row = next(iter(table))
    assert row.cells["contract_no"] == "HT-1"
    assert parse_decimal_hours(row.cells["weekly_hours"]) == Decimal("7.5")


def test_neither_utf8_nor_gb18030_is_one_file_problem(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(",".join(EN_HEADERS).encode() + b"\nHT-1,caf\xe9\xff\x80,x\n")
    with pytest.raises(FileProblem) as caught:
        read_table(path, kind="contracts")
    message = str(caught.value)
    assert "latin.csv" in message and "UTF-8" in message and "GB18030" in message
    assert "\n" not in message


def test_bom_file_with_bad_bytes_later_is_a_file_problem(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ",".join(EN_HEADERS).encode() + b"\nx\xff\xfe,y\n")
    with pytest.raises(FileProblem, match="bom"):
        list(read_table(path, kind="contracts"))
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + b'{"contract_no": "1", "sessions": "x"}\n{"a": "\xff"}\n')
    with pytest.raises(FileProblem, match="bom"):
        list(read_table(jsonl))


def test_utf16_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(",".join(EN_HEADERS).encode("utf-16"))
    with pytest.raises(FileProblem, match="UTF-16"):
        read_table(path, kind="contracts")


def test_xlsx_dates_text_numbers_title_row_and_trailing_blanks(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "合同"
    sheet.append(["2026年度多机构执业合同备案表"])  # the merged title, merge removed
    sheet.append([*ZH_HEADERS, "备注"])
    sheet.append(
        [
            "HT-1",
            "011044010001234",  # a number stored as text: the leading zero stays
            "12440000455858747X",
            "主要",
            "内科",
            dt.date(2026, 1, 5),
            dt.datetime(2026, 12, 31, 0, 0),
            "MO-FR 08:00-12:00",
            40,  # a real number: becomes "40"
            "否",
            "急诊轮转",
        ]
    )
    sheet.append(
        ["HT-2", "110440100012345", "X", "其他", "外科", 46027, "2026-06-30", "SA 8:00-12:00"]
    )
    for _ in range(3):
        sheet.append([None] * 10)
    sheet.cell(row=9, column=2, value="")  # a trailing row Excel keeps as "used"
    path = tmp_path / "合同.xlsx"
    workbook.save(path)

    table = read_table(path, kind="contracts")
    assert table.sheet == "合同"
    assert table.header_row == 2
    assert table.unknown_columns == ["备注"]
    rows = list(table)
    assert [r.number for r in rows] == [3, 4]
    first, second = rows
    assert first.cells["physician"] == "011044010001234"
    assert first.cells["start"] == dt.date(2026, 1, 5)
    assert parse_date(first.cells["end"]) == dt.date(2026, 12, 31)
    assert first.cells["weekly_hours"] == "40"
    assert first.notes == {"备注": "急诊轮转"}
    assert parse_bool(first.cells["consent"]) is False
    assert len(parse_sessions(first.cells["sessions"])) == 5
    assert parse_date(second.cells["start"]) == dt.date(2026, 1, 5)  # Excel serial number
    assert second.cells["consent"] is None


def test_sheet_by_name_and_missing_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.append(["说明"])
    other = workbook.create_sheet("data")
    other.append(EN_HEADERS)
    other.append(ROW)
    path = tmp_path / "two.xlsx"
    workbook.save(path)
    assert [r.number for r in read_table(path, "data", kind="contracts")] == [2]
    with pytest.raises(FileProblem, match="nope"):
        read_table(path, "nope", kind="contracts")
    with pytest.raises(FileProblem):  # the first sheet holds no header
        read_table(path, kind="contracts")


def test_full_width_cells_and_headers(tmp_path: Path) -> None:
    headers = ["合同编号", "执业证书编码", "机构代码", "执业类型", "科室", "起始日期（年月日）"]
    headers += ["终止日期", "排班", "约定周工时（小时）"]
    values = ["ＨＴ－００１", "１１０４４０１０００１２３４５", "１２４４", "其他", "内科"]
    values += ["２０２６／１／５", "２０２６年１２月３１日", "周一　０８：００－１２：００", "４"]
    path = write_csv(tmp_path / "fw.csv", [headers, values], "gb18030")
    table = read_table(path, kind="contracts")
    assert "weekly_hours" in table.column_map and "start" in table.column_map
    row = next(iter(table))
    assert row.cells["contract_no"] == "HT-001"
    assert row.cells["physician"] == "110440100012345"
    assert parse_date(row.cells["start"]) == dt.date(2026, 1, 5)
    assert parse_sessions(row.cells["sessions"]) == [Slot(0, 480, 720)]
    assert parse_int(row.cells["weekly_hours"]) == 4


def test_title_row_in_csv_and_trailing_empty_rows(tmp_path: Path) -> None:
    blank = [""] * len(EN_HEADERS)
    rows = [["机构合同导入", *[""] * 9], ZH_HEADERS, ROW, blank, ROW, blank, blank]
    path = write_csv(tmp_path / "t.csv", rows, "utf-8-sig")
    table = read_table(path, kind="contracts")
    assert table.header_row == 2
    assert [r.number for r in table] == [3, 5]  # row 4 is empty but keeps its number


def test_unknown_and_unnamed_columns_are_notes(tmp_path: Path) -> None:
    rows = [[*EN_HEADERS, "经办人", ""], [*ROW, "张三", "extra"]]
    table = read_table(write_csv(tmp_path / "n.csv", rows, "utf-8"), kind="contracts")
    assert table.unknown_columns == ["经办人"]
    row = next(iter(table))
    assert row.notes == {"经办人": "张三", "column 12": "extra"}
    assert "经办人" not in row.cells


def test_missing_required_and_duplicate_columns(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [EN_HEADERS[:4], ROW[:4]], "utf-8")
    with pytest.raises(FileProblem, match="sessions/排班"):
        read_table(path, kind="contracts")
    path = write_csv(tmp_path / "d.csv", [[*EN_HEADERS, "合同编号"], [*ROW, "x"]], "utf-8")
    with pytest.raises(FileProblem, match="合同编号"):
        read_table(path, kind="contracts")


def test_no_header_empty_and_unknown_type(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "h.csv", [["a", "b"]] * 7, "utf-8")
    with pytest.raises(FileProblem, match="header"):
        read_table(path, kind="contracts")
    (tmp_path / "e.csv").write_bytes(b"\n\n")
    with pytest.raises(FileProblem, match="empty"):
        read_table(tmp_path / "e.csv")
    (tmp_path / "x.pdf").write_bytes(b"%PDF")
    with pytest.raises(FileProblem, match=r"x\.pdf"):
        read_table(tmp_path / "x.pdf")
    with pytest.raises(FileProblem):
        read_table(tmp_path / "missing.csv")
    (tmp_path / "bad.xlsx").write_bytes(b"not a zip")
    with pytest.raises(FileProblem, match=r"bad\.xlsx"):
        read_table(tmp_path / "bad.xlsx")


def test_jsonl_with_a_broken_line(tmp_path: Path) -> None:
    good = dict(zip(EN_HEADERS, ROW, strict=True))
    lines = [
        json.dumps(good, ensure_ascii=False),
        '{"contract_no": "HT-2", "sessions": ',
        "",
        json.dumps({**good, "contract_no": "HT-3", "区县": "天河", "departments": ["内科"]}),
        "[1, 2]",
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path, kind="contracts")
    rows = list(table)
    assert [r.number for r in rows] == [1, 2, 4, 5]
    assert rows[0].problem is None and rows[0].cells["contract_no"] == "HT-2026-0001"
    assert rows[1].problem is not None and "2" in rows[1].problem.message
    assert rows[2].notes["区县"] == "天河"
    assert "区县" in table.unknown_columns
    assert rows[3].problem is not None


def test_big_csv_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ZH_HEADERS)
        while handle.tell() < 10_000_000:
            batch = [[f"HT-{count + i:07d}", *ROW[1:]] for i in range(5000)]
            writer.writerows(batch)
            count += len(batch)
    size = path.stat().st_size
    assert size >= 10_000_000
    # Trace allocations while opening the file and reading its first rows: a reader that
    # loads every row (eagerly or at the first row) shows here. The rest is only counted,
    # untraced, to keep the test fast.
    tracemalloc.start()
    try:
        table = read_table(path, kind="contracts")
        rows = iter(table)
        seen = 0
        for _row in rows:
            seen += 1
            if seen == 10_000:
                break
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    last = ""
    for row in rows:
        seen += 1
        last = str(row.cells["contract_no"])
    assert seen == count and last == f"HT-{count - 1:07d}"
    assert peak < size / 4, f"peak {peak} bytes for a {size} byte file: rows are held in memory"


# --------------------------------------------------------------------------- parsers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MO 08:00-12:00; WE 14:00-17:30", [Slot(0, 480, 720), Slot(2, 840, 1050)]),
        ("周一 08:00-12:00；周三 14:00-17:30", [Slot(0, 480, 720), Slot(2, 840, 1050)]),
        ("星期五 20:00-08:00", [Slot(4, 1200, 480)]),
        ("FR 20:00-08:00", [Slot(4, 1200, 480)]),
        ("礼拜天 8:00~12:00", [Slot(6, 480, 720)]),
        ("週六 08:00至12:00", [Slot(5, 480, 720)]),
        ("Monday 08:00–12:00, tue 13:00—14:00", [Slot(0, 480, 720), Slot(1, 780, 840)]),
        ("ＭＯ　０８：００－１２：００", [Slot(0, 480, 720)]),
        ("SU 20:00-24:00", [Slot(6, 1200, 0)]),
        ("MO,WE 08:00-12:00", [Slot(0, 480, 720), Slot(2, 480, 720)]),
        ("周一、周三 08:00-12:00", [Slot(0, 480, 720), Slot(2, 480, 720)]),
        ("周一、三 08:00-12:00", [Slot(0, 480, 720), Slot(2, 480, 720)]),
        ("MO-WE 08:00-12:00", [Slot(d, 480, 720) for d in range(3)]),
        ("周一至周三 08:00-12:00", [Slot(d, 480, 720) for d in range(3)]),
        ("SA-MO 08:00-09:00", [Slot(5, 480, 540), Slot(6, 480, 540), Slot(0, 480, 540)]),
        ("MO 08:00-12:00 14:00-17:00", [Slot(0, 480, 720), Slot(0, 840, 1020)]),
        ("周五 20:00-次日08:00", [Slot(4, 1200, 480)]),
        ("", []),
        (None, []),
    ],
)
def test_sessions_grammar(text: str | None, expected: list[Slot]) -> None:
    assert parse_sessions(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("MO", "no time"),
        ("08:00-12:00", "no weekday"),
        ("XY 08:00-12:00", "“XY” is not a weekday"),
        ("MO 8-12", "“8-12” was not understood"),
        ("MO 25:00-26:00", "25:00"),
        ("MO 08:00-08:00", "same time"),
        ("MO 24:00-02:00", "24:00"),
        ("MO 08:00-12:00; WE", "no time"),
        ("MO- 08:00-12:00", "not finished"),
    ],
)
def test_sessions_errors_say_what_was_expected(text: str, fragment: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_sessions(text)
    assert fragment in caught.value.message
    assert "MO 08:00-12:00" in caught.value.message
    assert caught.value.column == "sessions"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05", dt.date(2026, 1, 5)),
        ("2026/1/5", dt.date(2026, 1, 5)),
        ("2026.1.5", dt.date(2026, 1, 5)),
        ("2026年1月5日", dt.date(2026, 1, 5)),
        ("20260105", dt.date(2026, 1, 5)),
        ("2026/1/5 0:00", dt.date(2026, 1, 5)),
        ("２０２６－０１－０５", dt.date(2026, 1, 5)),
        (46027, dt.date(2026, 1, 5)),
        (46027.75, dt.date(2026, 1, 5)),
        (20260105, dt.date(2026, 1, 5)),
        (dt.datetime(2026, 1, 5, 9, 0), dt.date(2026, 1, 5)),
        (dt.date(2026, 1, 5), dt.date(2026, 1, 5)),
    ],
)
def test_dates(value: object, expected: dt.date) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["5/1/2026", "2026-02-30", "明天", "", None, True, -3, 1e12])
def test_bad_dates(value: object) -> None:
    with pytest.raises(ValueProblem):
        parse_date(value, column="start")


def test_bools_numbers_lists_choices() -> None:
    for word in ("是", "YES", "y", "true", "1", "同意", "已同意", "Ｙ"):
        assert parse_bool(word) is True
    for word in ("否", "no", "N", "false", "0", "未同意", "不同意"):
        assert parse_bool(word) is False
    with pytest.raises(ValueProblem, match="是 or 否"):
        parse_bool("maybe")
    assert parse_int("１，２００") == 1200
    assert parse_int(12.0) == 12
    with pytest.raises(ValueProblem):
        parse_int("12.5")
    with pytest.raises(ValueProblem, match="out of range"):
        parse_int("5", minimum=6)
    assert parse_decimal_hours("12.5小时") == Decimal("12.5")
    assert parse_decimal_hours("7:30") == Decimal("7.5")
    with pytest.raises(ValueProblem, match="168"):
        parse_decimal_hours("200")
    assert parse_list("内科;外科；儿科,眼耳鼻咽喉科，全科医学、急救医学") == [
        "内科",
        "外科",
        "儿科",
        "眼耳鼻咽喉科",
        "全科医学",
        "急救医学",
    ]
    assert parse_list("医学检验、病理；内科") == ["医学检验、病理", "内科"]
    assert parse_choice("其它", ROLE_VALUES) == "additional"
    assert parse_choice("Primary", ROLE_VALUES) == "primary"
    with pytest.raises(ValueProblem):
        parse_choice("兼职", ROLE_VALUES)
    assert match_header("institutions", "机构代码（统一社会信用代码）") == "code"


def test_messages_are_translated_to_chinese() -> None:
    i18n.set_language("zh")
    try:
        with pytest.raises(ValueProblem) as caught:
            parse_sessions("XY 08:00-12:00")
        assert "星期" in caught.value.message or "周" in caught.value.message
        assert "is not" not in caught.value.message
    finally:
        i18n.set_language("en")


# --------------------------------------------------------------------------- properties

ANY_CELL = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="MOTUWEFRSAH周一二三四五六日星期至~-–:：;；,、 0123456789次日", max_size=40),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
    st.dates(),
)


@settings(max_examples=400, deadline=None)
@given(ANY_CELL)
def test_sessions_never_raise_anything_else(value: object) -> None:
    try:
        slots = parse_sessions(value)
    except ValueProblem as problem:
        assert problem.message and "\n" not in problem.message
    else:
        assert all(isinstance(s, Slot) and s.start != s.end for s in slots)


@settings(max_examples=400, deadline=None)
@given(ANY_CELL)
def test_dates_never_raise_anything_else(value: object) -> None:
    try:
        parsed = parse_date(value)
    except ValueProblem as problem:
        assert problem.message
    else:
        assert isinstance(parsed, dt.date) and not isinstance(parsed, dt.datetime)


@st.composite
def slots(draw: st.DrawFn) -> Slot:
    start = draw(st.integers(0, 24 * 60 - 1))
    end = draw(st.integers(0, 24 * 60 - 1).filter(lambda e: e != start))
    return Slot(draw(st.integers(0, 6)), start, end)


EN_NAMES = [
    ("MO", "Mon", "Monday"),
    ("TU", "Tue", "Tuesday"),
    ("WE", "Wed", "Wednesday"),
    ("TH", "Thu", "Thursday"),
    ("FR", "Fri", "Friday"),
    ("SA", "Sat", "Saturday"),
    ("SU", "Sun", "Sunday"),
]
ZH_DAYS = "一二三四五六日"


def full_width(text: str, mask: list[bool]) -> str:
    out = []
    for char, wide in zip(text, mask + [False] * len(text), strict=False):
        if wide and "!" <= char <= "~":
            out.append(chr(ord(char) + 0xFEE0))
        elif wide and char == " ":
            out.append("\u3000")
        else:
            out.append(char)
    return "".join(out)


@settings(max_examples=300, deadline=None)
@given(st.lists(slots(), min_size=1, max_size=6), st.data())
def test_sessions_round_trip(expected: list[Slot], data: st.DataObject) -> None:
    parts = []
    for slot in expected:
        if data.draw(st.booleans(), "chinese"):
            prefix = data.draw(st.sampled_from(["周", "星期", "礼拜", "週"]))
            day = prefix + ZH_DAYS[slot.weekday]
            dash = data.draw(st.sampled_from(["-", "~", "至", "–", "—", "－"]))
        else:
            day = data.draw(st.sampled_from(EN_NAMES[slot.weekday]))
            day = data.draw(st.sampled_from([day, day.upper(), day.lower()]))
            dash = data.draw(st.sampled_from(["-", "~", "–"]))
        pad = data.draw(st.booleans(), "pad")
        start = f"{slot.start // 60:02d}" if pad else str(slot.start // 60)
        start += f":{slot.start % 60:02d}"
        if slot.end == 0 and data.draw(st.booleans(), "24:00"):
            end = "24:00"
        else:
            end = f"{slot.end // 60:02d}:{slot.end % 60:02d}"
        space = data.draw(st.sampled_from([" ", "", "  "]))
        parts.append(f"{day}{space}{start}{dash}{end}")
    separator = data.draw(st.sampled_from(["; ", "；", ";", "\n", ", ", "，"]))
    text = separator.join(parts)
    mask = data.draw(st.lists(st.booleans(), max_size=len(text)))
    assert parse_sessions(full_width(text, mask)) == expected
    assert parse_sessions(format_sessions(expected, chinese=data.draw(st.booleans()))) == expected


@settings(max_examples=300, deadline=None)
@given(st.dates(dt.date(1901, 1, 1), dt.date(2199, 12, 31)), st.data())
def test_dates_round_trip(expected: dt.date, data: st.DataObject) -> None:
    y, m, d = expected.year, expected.month, expected.day
    forms = [
        expected.isoformat(),
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        f"{y}年{m}月{d}日",
        f"{y}{m:02d}{d:02d}",
        (expected - dt.date(1899, 12, 30)).days,
    ]
    value = data.draw(st.sampled_from(forms))
    if isinstance(value, str):
        value = full_width(value, data.draw(st.lists(st.booleans(), max_size=len(value))))
    assert parse_date(value) == expected
