"""Reading import files into rows (读取导入文件): CSV, spreadsheets, JSON lines.

``read_table(path)`` finds the header row, maps it onto the canonical columns of SPEC §7 and
returns a :class:`Table` whose rows are *streamed*: a 100,000-row file is never held as a list
of dicts. Row numbers are the ones the spreadsheet shows (header = 1 when it is the first row;
a title row above it makes the header 2). For JSON lines the number is the line number.

* CSV: UTF-8 with BOM, UTF-8 or GB18030, detected by decoding the whole file strictly (in
  chunks); a file that is none of them is a :class:`FileProblem`, never a silent guess.
* .xlsx / .xlsm: python-calamine, the first sheet or the one named, after
  :func:`~multisite.importing.limits.check_xlsx`; a sheet whose XML passes ``STREAMED_SHEET``
  bytes is read row by row with openpyxl's read-only mode instead (calamine holds the whole
  sheet: ~1 GB for a million rows). Date cells become ``datetime.date``/
  ``datetime``; numbers stored as text stay text; 12.0 becomes "12". .xls, .xlsb and .ods are
  refused (save as .xlsx): their size cannot be checked before calamine reads them whole.
* .jsonl / .ndjson: one JSON object per line; a broken line is a row with a ``problem``.

Every reader keeps to :mod:`~multisite.importing.limits` (cell, line, columns, nesting).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import math
import posixpath
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from multisite.i18n import _, os_reason

from ..domain.text import ValueProblem, clean
from . import limits
from .columns import KINDS, column, header_key, map_headers, match_header, required_columns

HEADER_SEARCH_ROWS = 5
_CHUNK = 1 << 18
STREAMED_SHEET = 8 << 20  # bytes of a worksheet's XML from which it is read row by row

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")
# Read by calamine too, but whole and unchecked: no limit can be checked before reading them.
UNCHECKED_SUFFIXES = (".xls", ".xlsb", ".ods")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


class FileProblem(Exception):
    """The file itself is unusable (the CLI exits with code 2); ``message`` is one sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class Row:
    """One data row: its number as the spreadsheet shows it, the cells of known columns
    (canonical name → NFKC-trimmed value, ``None`` when empty), the original cells as text
    (for the error report), unknown columns' non-empty cells (header → text), and, for a
    line that could not be read at all (JSON lines), ``problem``."""

    number: int
    cells: dict[str, object]
    original: list[str]
    notes: dict[str, str] = field(default_factory=dict)
    problem: ValueProblem | None = None


class _Uncomputed:
    """A formula cell saved without its computed value (a file written by a program that does
    not compute formulas): the spreadsheet library reads it as an empty cell."""

    def __str__(self) -> str:
        return ""

    def __repr__(self) -> str:
        return "UNCOMPUTED"


UNCOMPUTED = _Uncomputed()
MAX_UNCOMPUTED = 10_000  # formula cells without a value listed one by one; past it, the file


def cell_text(value: object) -> str:
    """A raw cell as text for the report: dates ISO, 12.0 as 12, empty as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M") if not value.second else value.strftime("%H:%M:%S")
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def _cell(value: object) -> object:
    """A raw spreadsheet/JSON cell as a Row keeps it: text NFKC-trimmed, numbers as text,
    dates and booleans as they are, empty as None."""
    if type(value) is str:  # every cell of a CSV: the common case first
        return clean(value)
    if value is None or value is UNCOMPUTED:
        return None
    if isinstance(value, bool | dt.date):
        return value
    if isinstance(value, int | float | dt.time | dt.timedelta):
        return clean(cell_text(value))
    return clean(value if isinstance(value, str) else str(value))


def _long_cell(values: Sequence[object], headers: Sequence[str]) -> ValueProblem | None:
    """A problem for the first cell past ``MAX_CELL`` characters, if any."""
    for index, value in enumerate(values):
        if type(value) is str and len(value) > limits.MAX_CELL:
            where = headers[index] if index < len(headers) else str(index + 1)
            return ValueProblem(
                "",
                _(
                    "The cell under {column} is {length} characters long; at most {limit} are read."
                ).format(column=where, length=f"{len(value):,}", limit=f"{limits.MAX_CELL:,}"),
            )
    return None


def _uncomputed_cell(
    values: Sequence[object], headers: Sequence[str], names: dict[int, str]
) -> ValueProblem | None:
    """A problem for the first formula cell without a computed value, if any: read as blank
    it would have stored nothing, or a row without a value it has."""
    for index, value in enumerate(values):
        if value is UNCOMPUTED:
            where = headers[index] if index < len(headers) and headers[index] else str(index + 1)
            return ValueProblem(
                names.get(index, ""),
                _(
                    "The cell under {column} holds a formula without a computed value (the file "
                    "was saved by a program that does not compute formulas): open the file in a "
                    "spreadsheet program, save it again and import that."
                ).format(column=where),
            )
    return None


def _blank(values: Sequence[object]) -> bool:
    return all(_cell(v) is None for v in values)


class Table:
    """A header-mapped file whose rows are read as they are iterated (once)."""

    def __init__(
        self,
        path: Path,
        kind: str,
        header_row: int,
        headers: list[str],
        column_map: dict[str, int],
        unknown_columns: list[str],
        rows: Iterator[Row],
        *,
        sheet: str | None = None,
        encoding: str | None = None,
        closer: Callable[[], None] | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self.header_row = header_row
        self.headers = headers
        self.column_map = column_map
        self.unknown_columns = unknown_columns
        self.sheet = sheet
        self.encoding = encoding
        self._rows = rows
        self._closer = closer

    def __iter__(self) -> Iterator[Row]:
        return self._rows

    def close(self) -> None:
        close = getattr(self._rows, "close", None)
        if close is not None:
            close()
        if self._closer is not None:
            self._closer()
            self._closer = None

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# --------------------------------------------------------------------------- raw rows


def _detect_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(
            _(
                "{file} is UTF-16 text, which is neither UTF-8 nor GB18030: save it as "
                "“CSV UTF-8” and import it again."
            ).format(file=path.name)
        )
    # A BOM says UTF-8, but the whole file must still decode: never a silent guess.
    candidates = ("utf-8-sig",) if head.startswith(codecs.BOM_UTF8) else ("utf-8", "gb18030")
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileProblem(
        _(
            "{file} is neither UTF-8 nor GB18030 text: save it from Excel as “CSV UTF-8” "
            "and import it again."
        ).format(file=path.name)
    )


def _sniff_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, newline="") as handle:
        sample = handle.read(64 * 1024)
    lines = [line for line in sample.splitlines()[:HEADER_SEARCH_ROWS] if line.strip()]
    text = "\n".join(lines)
    if text.count(",") == 0 and text.count("\t") > 0:
        return "\t"
    return ","


def _bounded_lines(handle: TextIO, path: Path) -> Iterator[str]:
    """The lines of ``handle``; a line past ``MAX_LINE`` characters refuses the file."""
    number = 0
    while line := handle.readline(limits.MAX_LINE + 1):
        number += 1
        if len(line) > limits.MAX_LINE:
            raise FileProblem(
                _(
                    "{file}: line {line} is longer than {limit} characters; the file is not read."
                ).format(file=path.name, line=number, limit=f"{limits.MAX_LINE:,}")
            )
        yield line


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[object]]]:
    delimiter = _sniff_delimiter(path, encoding)
    csv.field_size_limit(limits.MAX_CELL)
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(_bounded_lines(handle, path), delimiter=delimiter)
        number = 0
        try:
            for record in reader:
                # A quoted cell may span lines; the spreadsheet numbers records, not lines.
                number += 1
                if len(record) > limits.MAX_COLUMNS:
                    raise FileProblem(
                        _(
                            "{file}: row {row} has {count} cells; at most {limit} columns are read."
                        ).format(
                            file=path.name,
                            row=number,
                            count=f"{len(record):,}",
                            limit=f"{limits.MAX_COLUMNS:,}",
                        )
                    )
                yield number, list(record)
        except UnicodeDecodeError:
            raise FileProblem(
                _(
                    "{file} is neither UTF-8 nor GB18030 text: save it from Excel as “CSV UTF-8” "
                    "and import it again."
                ).format(file=path.name)
            ) from None
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                raise FileProblem(
                    _(
                        "{file}: a cell near line {line} is longer than {limit} characters "
                        "(Excel's own limit for a cell); the file is not read."
                    ).format(file=path.name, line=reader.line_num, limit=f"{limits.MAX_CELL:,}")
                ) from None
            raise FileProblem(
                _("{file} is not a readable CSV file (near line {line}): {error}.").format(
                    file=path.name, line=reader.line_num, error=error
                )
            ) from None


def _largest_sheet(path: Path) -> int:
    """Bytes of the largest worksheet's XML, inflated (0 when the file is not a zip)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return max(
                (
                    m.file_size
                    for m in archive.infolist()
                    if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml")
                ),
                default=0,
            )
    except (zipfile.BadZipFile, OSError, ValueError):
        return 0


def _unreadable(path: Path, error: BaseException) -> FileProblem:
    return FileProblem(
        _("{file} is not a readable spreadsheet: {error}.").format(
            file=path.name, error=str(error).strip().rstrip(".") or type(error).__name__
        )
    )


def _check_sheet(
    path: Path, names: list[str], sheet: str | None, close: Callable[[], object]
) -> None:
    """One sentence (and the workbook closed) when the sheet asked for is not there, or the
    workbook has none."""
    if sheet is not None and sheet not in names:
        close()
        raise FileProblem(
            _("{file} has no sheet named “{sheet}”; its sheets are: {sheets}.").format(
                file=path.name, sheet=sheet, sheets="、".join(names)
            )
        )
    if not names:
        close()
        raise FileProblem(_("{file} has no sheets.").format(file=path.name))


def _streamed_sheet_rows(
    path: Path, sheet: str | None
) -> tuple[Iterator[tuple[int, list[object]]], str, Callable[[], None]]:
    """A large sheet read a row at a time (openpyxl's read-only mode parses the XML as it
    goes): calamine builds the whole sheet in memory, about 1 KB a row."""
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # zip, XML and openpyxl's own errors
        raise _unreadable(path, error) from None
    names = list(workbook.sheetnames)
    _check_sheet(path, names, sheet, workbook.close)
    data: Any = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    try:
        uncomputed = _uncomputed_formulas(path, str(data.title))
    except BaseException:
        workbook.close()
        raise

    def rows() -> Iterator[tuple[int, list[object]]]:
        # rows come from row 1 on, a missing row as an empty one: the offset is the number
        try:
            for offset, values in enumerate(data.iter_rows(values_only=True)):
                found = [_as_calamine(v) for v in values]
                yield offset + 1, _mark(found, uncomputed.get(offset + 1), 0)
        except FileProblem:
            raise
        except Exception as error:  # a broken part of the XML, met as the sheet is read
            raise _unreadable(path, error) from None

    return rows(), str(data.title), workbook.close


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an old .xls (and .doc …): not a zip


def _a_zip_archive(path: Path) -> None:
    """FileProblem unless ``path`` begins as a zip archive does (an .xlsx is one): a renamed
    .xls or CSV got the zip library's English ("invalid Zip archive: Could not find EOCD")."""
    with path.open("rb") as handle:
        head = handle.read(len(OLE2))
    if head.startswith(b"PK"):
        return
    if head == OLE2:
        raise FileProblem(
            _("{file} is an old Excel workbook (.xls) named .xlsx: save it as .xlsx in Excel "
              "and import that.").format(file=path.name)
        )  # fmt: skip
    raise FileProblem(
        _("{file} is not an .xlsx workbook (an .xlsx is a zip archive, this file is not one): "
          "was another file renamed .xlsx?").format(file=path.name)
    )  # fmt: skip


def _as_calamine(value: object) -> object:
    """A cell as calamine gives it: openpyxl gives a date cell as a datetime at midnight."""
    if type(value) is dt.datetime and value.time() == dt.time():
        return value.date()
    return value


def _spreadsheet_rows(
    path: Path, sheet: str | None
) -> tuple[Iterator[tuple[int, list[object]]], str, Callable[[], None]]:
    import python_calamine

    try:
        limits.check_xlsx(path)
    except limits.TooLarge as problem:
        raise FileProblem(problem.message) from None
    if _largest_sheet(path) > STREAMED_SHEET:
        return _streamed_sheet_rows(path, sheet)
    try:
        workbook = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises its own, zip and XML errors
        raise FileProblem(
            _("{file} is not a readable spreadsheet: {error}.").format(
                file=path.name, error=str(error).strip().rstrip(".") or type(error).__name__
            )
        ) from None
    names = list(workbook.sheet_names)
    _check_sheet(path, names, sheet, workbook.close)
    try:
        data = (
            workbook.get_sheet_by_name(sheet)
            if sheet is not None
            else workbook.get_sheet_by_index(0)
        )
    except Exception as error:
        workbook.close()
        raise FileProblem(
            _("{file} is not a readable spreadsheet: {error}.").format(
                file=path.name, error=str(error).strip().rstrip(".") or type(error).__name__
            )
        ) from None
    # iter_rows starts at the first row of the sheet's data range; find its number.
    end_row = data.end[0] if data.end else -1
    first = end_row + 1 - data.height if data.height else 0
    first_column = data.start[1] if data.start else 0
    try:
        uncomputed = _uncomputed_formulas(path, data.name)
    except BaseException:
        workbook.close()
        raise

    def rows() -> Iterator[tuple[int, list[object]]]:
        for offset, values in enumerate(data.iter_rows()):
            number = first + offset + 1
            yield number, _mark(list(values), uncomputed.get(number), first_column)

    return rows(), data.name, workbook.close


def _mark(values: list[object], columns: list[int] | None, first_column: int) -> list[object]:
    """``values`` with the cells of ``columns`` (1-based; the row's formula cells without a
    computed value) as :data:`UNCOMPUTED` where the library read them as empty."""
    for number in columns or ():
        index = number - 1 - first_column
        if 0 <= index < len(values) and values[index] in ("", None):
            values[index] = UNCOMPUTED
    return values


_FORMULA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_CELL_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _uncomputed_formulas(path: Path, sheet: str) -> dict[int, list[int]]:
    """Row → columns (1-based) of the sheet's formula cells saved without a computed value:
    a ``<f>`` with no ``<v>``, or an empty one where the cell is not a string (Excel and
    LibreOffice save a formula's empty text as ``t="str"`` and ``<v></v>``). The sheet's XML
    is searched for a formula first (a file of values, the common case, is not parsed); its
    size was bounded by ``limits.check_xlsx`` and expat refuses entity expansion bombs."""
    try:
        with zipfile.ZipFile(path) as archive:
            member = _sheet_member(archive, sheet)
            if member is None or not _has_formula(archive, member):
                return {}
            with archive.open(member) as part:
                return _scan_formulas(part, path)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ElementTree.ParseError):
        return {}  # the library reads (or refuses) the file as before


def _sheet_member(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The archive member of the worksheet named ``sheet`` (workbook.xml and its rels)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rid = next(
        (
            value
            for element in workbook.iter()
            if _local(element.tag) == "sheet" and element.get("name") == sheet
            for key, value in element.attrib.items()
            if _local(key) == "id"
        ),
        None,
    )
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in relations.iter() if r.get("Id") == rid), None)
    if rid is None or not target:
        return None
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")


def _has_formula(archive: zipfile.ZipFile, member: str) -> bool:
    with archive.open(member) as part:
        tail = b""
        while chunk := part.read(_CHUNK):
            if _FORMULA.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


def _scan_formulas(part: Any, path: Path) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    count, row, at = 0, 0, 0
    sheet_data: ElementTree.Element | None = None
    for event, element in ElementTree.iterparse(part, events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "sheetData":
                sheet_data = element
            elif tag == "row":
                row, at = int(element.get("r") or row + 1), 0
            elif tag == "c":
                ref = _CELL_REF.fullmatch(element.get("r") or "")
                if ref is None:
                    at += 1
                else:
                    letters, row = ref.group(1), int(ref.group(2))
                    at = 0
                    for letter in letters:
                        at = at * 26 + ord(letter) - 64
            continue
        if tag == "c":
            children = {_local(child.tag): child for child in element}
            value = children.get("v")
            if "f" in children and (
                value is None or (not value.text and element.get("t") != "str")
            ):
                count += 1
                if count > MAX_UNCOMPUTED:
                    raise FileProblem(
                        _(
                            "{file} holds more than {count} formulas without a computed value: "
                            "open it in a spreadsheet program, save it again and import that."
                        ).format(file=path.name, count=f"{MAX_UNCOMPUTED:,}")
                    )
                found.setdefault(row, []).append(at)
            element.clear()
        elif tag == "row":
            element.clear()
            if sheet_data is not None:
                sheet_data.clear()  # the rows read so far: memory stays bounded
    return found


# --------------------------------------------------------------------------- header


def _detect_kind(headers: Sequence[object]) -> tuple[str, int]:
    best, score = "", 0
    tie = False
    for kind in KINDS:
        mapped, _unknown = map_headers(kind, headers)
        count = len(mapped)
        if count > score:
            best, score, tie = kind, count, False
        elif count == score and count:
            tie = True
    return (best if not tie else ""), score


def _header_problem(path: Path, kind: str | None) -> FileProblem:
    if kind:
        wanted = "、".join(column(kind, name).display() for name in required_columns(kind))
        return FileProblem(
            _(
                "{file} has no header row in its first {rows} rows: expected columns such as "
                "{columns}."
            ).format(file=path.name, rows=HEADER_SEARCH_ROWS, columns=wanted)
        )
    return FileProblem(
        _(
            "{file} has no header row in its first {rows} rows naming institutions, "
            "physicians or contracts columns."
        ).format(file=path.name, rows=HEADER_SEARCH_ROWS)
    )


def _map(path: Path, kind: str, headers: list[str]) -> tuple[dict[str, int], list[int]]:
    mapped, unknown = map_headers(kind, headers)
    for name, indexes in mapped.items():
        if len(indexes) > 1:
            raise FileProblem(
                _("{file}: the columns {columns} all mean {column}; keep only one of them.").format(
                    file=path.name,
                    columns="、".join(f"“{headers[i]}”" for i in indexes),
                    column=column(kind, name).display(),
                )
            )
    by_key: dict[str, list[int]] = {}
    for index in unknown:
        by_key.setdefault(header_key(headers[index]), []).append(index)
    for indexes in by_key.values():
        if len(indexes) > 1:  # their cells would be kept as one note, the last one winning
            raise FileProblem(
                _(
                    "{file}: the column {column} appears {count} times; keep only one of them."
                ).format(file=path.name, column=f"“{headers[indexes[0]]}”", count=len(indexes))
            )
    missing = [name for name in required_columns(kind) if name not in mapped]
    if missing:
        raise FileProblem(
            _("{file} lacks the required columns {columns}.").format(
                file=path.name,
                columns="、".join(column(kind, name).display() for name in missing),
            )
        )
    return {name: indexes[0] for name, indexes in mapped.items()}, unknown


def _tabulate(
    path: Path,
    kind: str | None,
    raw: Iterator[tuple[int, list[object]]],
    **extra: object,
) -> Table:
    buffered: list[tuple[int, list[object]]] = []
    header: tuple[int, list[str]] | None = None
    seen = 0
    for number, values in raw:
        if _blank(values):
            buffered.append((number, values))
            continue
        seen += 1
        texts = [cell_text(_cell(v)) for v in values]
        if kind is None:
            found, score = _detect_kind(texts)
            if found and score >= 2:
                kind = found
        if kind is not None and len(map_headers(kind, texts)[0]) >= 2:
            header = (number, texts)
            buffered.clear()
            break
        if seen >= HEADER_SEARCH_ROWS:
            break
    if header is None:
        if not seen:
            raise FileProblem(_("{file} is empty.").format(file=path.name))
        raise _header_problem(path, kind)
    assert kind is not None
    header_row, headers = header
    column_map, unknown = _map(path, kind, headers)
    names = {index: name for name, index in column_map.items()}
    unknown_set = set(unknown)

    def note_key(index: int) -> str:
        if index in unknown_set:
            return headers[index]
        return _("column {number}").format(number=index + 1)

    def rows() -> Iterator[Row]:
        for number, values in raw:
            kept_values = [_cell(v) for v in values]
            if all(v is None for v in kept_values) and not any(v is UNCOMPUTED for v in values):
                continue
            cells: dict[str, object] = dict.fromkeys(column_map)
            notes: dict[str, str] = {}
            for index, kept in enumerate(kept_values):
                name = names.get(index)
                if name is not None:
                    cells[name] = kept
                elif kept is not None:
                    notes[note_key(index)] = cell_text(kept)
            original = [v if type(v) is str else cell_text(v) for v in values]
            problem = _long_cell(values, headers) or _uncomputed_cell(values, headers, names)
            yield Row(number, cells, original, notes, problem)

    return Table(
        path,
        kind,
        header_row,
        headers,
        column_map,
        [headers[i] for i in unknown],
        rows(),
        **extra,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- JSON lines


def _json_cell(value: object) -> object:
    if isinstance(value, list):
        return ";".join(cell_text(v) for v in value if v is not None)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _json_lines(handle: TextIO) -> Iterator[tuple[int, str | None]]:
    """(line number, stripped text) of the non-blank lines; ``None`` for a line past
    ``MAX_LINE`` characters, whose rest is skipped without being held."""
    number = 0
    while line := handle.readline(limits.MAX_LINE + 1):
        number += 1
        if len(line) > limits.MAX_LINE:
            while line and not line.endswith("\n"):
                line = handle.readline(limits.MAX_LINE)
            yield number, None
            continue
        text = line.strip()
        if text:
            yield number, text


def _depth(value: object, limit: int) -> int:
    """How deep ``value`` nests, counting at most to ``limit + 1``."""
    if limit < 0 or not isinstance(value, dict | list):
        return 0
    children = value.values() if isinstance(value, dict) else value
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object whose keys are all different (json.loads keeps the last of a repeated
    key silently)."""
    found = dict(pairs)
    if len(found) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _v in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _RepeatedKey(json.dumps(key, ensure_ascii=False))
    return found


class _RepeatedKey(ValueError):
    """A JSON object naming one key twice (the key as JSON text)."""


def _json_record(number: int, text: str | None) -> tuple[dict[str, object] | None, str | None]:
    """A line's JSON object, or the sentence saying why the line cannot be a row."""
    if text is None:
        return None, _("Line {line} is longer than {limit} characters.").format(
            line=number, limit=f"{limits.MAX_LINE:,}"
        )
    too_deep = False
    try:
        record = json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        record, too_deep = None, True
    except _RepeatedKey as error:
        return None, _("Line {line}: the key {key} appears twice.").format(
            line=number, key=error.args[0]
        )
    except json.JSONDecodeError as error:  # its reason is English: the place says enough
        return None, _(
            "Line {line} is not valid JSON (the error is at character {column})."
        ).format(line=number, column=error.pos + 1)
    except ValueError as error:
        return None, _("Line {line} is not valid JSON ({error}).").format(
            line=number, error=getattr(error, "msg", str(error))
        )
    if too_deep or _depth(record, limits.MAX_DEPTH) > limits.MAX_DEPTH:
        return None, _("Line {line} nests values more than {limit} deep.").format(
            line=number, limit=limits.MAX_DEPTH
        )
    if not isinstance(record, dict):
        return None, _("Line {line} is not a JSON object.").format(line=number)
    if len(record) > limits.MAX_COLUMNS:
        return None, _("Line {line} has {count} keys; at most {limit} columns are read.").format(
            line=number, count=f"{len(record):,}", limit=f"{limits.MAX_COLUMNS:,}"
        )
    return record, None


def _jsonl_table(path: Path, kind: str | None) -> Table:
    encoding = _detect_encoding(path)
    with path.open(encoding=encoding) as handle:
        first: dict[str, object] | None = None
        for number, text in _json_lines(handle):
            first, _problem = _json_record(number, text)
            if first is not None:
                break
    if first is None:
        raise FileProblem(_("{file} holds no JSON object on any line.").format(file=path.name))
    headers = [str(key) for key in first]
    if kind is None:
        found, _score = _detect_kind(headers)
        if not found:
            raise _header_problem(path, None)
        kind = found
    column_map, unknown = _map(path, kind, headers)
    unknown_columns = [headers[i] for i in unknown]
    chosen = kind

    def records() -> Iterator[Row]:
        cache: dict[str, str | None] = {}
        with path.open(encoding=encoding) as handle:
            for number, text in _json_lines(handle):
                record, message = _json_record(number, text)
                if record is None:
                    original = [text[:200] if text is not None else ""]
                    yield Row(number, {}, original, {}, ValueProblem("", message or ""))
                    continue
                cells: dict[str, object] = dict.fromkeys(column_map)
                notes: dict[str, str] = {}
                for key, value in record.items():
                    if key not in cache:
                        cache[key] = match_header(chosen, key)
                    name = cache[key]
                    kept = _cell(_json_cell(value))
                    if name is not None:
                        cells[name] = kept
                    else:
                        if key not in unknown_columns:
                            unknown_columns.append(key)
                        if kept is not None:
                            notes[key] = cell_text(kept)
                values = [_json_cell(v) for v in record.values()]
                yield Row(
                    number,
                    cells,
                    [cell_text(v) for v in values],
                    notes,
                    _long_cell(values, list(record)),
                )

    def rows() -> Iterator[Row]:
        try:
            yield from records()
        except UnicodeDecodeError:
            raise FileProblem(
                _(
                    "{file} is neither UTF-8 nor GB18030 text: save it from Excel as “CSV UTF-8” "
                    "and import it again."
                ).format(file=path.name)
            ) from None

    return Table(path, kind, 0, headers, column_map, unknown_columns, rows(), encoding=encoding)


# --------------------------------------------------------------------------- originals


def read_originals(
    path: str | Path, numbers: set[int], sheet: str | None = None
) -> dict[int, list[str]]:
    """The original cells (as the report shows them) of the rows numbered ``numbers``.

    A cheap second pass for the error report: raw cells, no header mapping or normalisation,
    so a large import need not keep every row's original cells in memory.
    """
    path = Path(path)
    found: dict[int, list[str]] = {}
    if not numbers:
        return found
    last = max(numbers)
    suffix = path.suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES:
        raw, _name, closer = _spreadsheet_rows(path, sheet)
    elif suffix in JSONL_SUFFIXES:
        with read_table(path, sheet) as table:
            return {row.number: row.original for row in table if row.number in numbers}
    else:
        raw, closer = _csv_rows(path, _detect_encoding(path)), None
    try:
        for number, values in raw:
            if number in numbers:
                found[number] = [cell_text(v) for v in values]
            if number >= last:
                break
    finally:
        if closer is not None:
            closer()
    return found


# --------------------------------------------------------------------------- entry point


def read_table(path: str | Path, sheet: str | None = None, *, kind: str | None = None) -> Table:
    """Open an import file and map its header.

    ``kind`` (``institutions``/``physicians``/``contracts``) selects the header vocabulary;
    without it the kind whose columns the header names most is taken. Raises
    :class:`FileProblem` when the file is missing, unreadable, of an unknown type, has no
    header row in its first five rows, or lacks a required column.
    """
    path = Path(path)
    if kind is not None and kind not in KINDS:
        raise FileProblem(
            _("Unknown import kind “{kind}”: use institutions, physicians or contracts.").format(
                kind=kind
            )
        )
    if not path.is_file():
        raise FileProblem(_("{file} does not exist or is not a file.").format(file=path))
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            encoding = _detect_encoding(path)
            return _tabulate(path, kind, _csv_rows(path, encoding), encoding=encoding)
        if suffix in SPREADSHEET_SUFFIXES:
            _a_zip_archive(path)
            raw, name, closer = _spreadsheet_rows(path, sheet)
            try:
                return _tabulate(path, kind, raw, sheet=name, closer=closer)
            except BaseException:
                closer()
                raise
        if suffix in JSONL_SUFFIXES:
            return _jsonl_table(path, kind)
        if suffix in UNCHECKED_SUFFIXES:
            raise FileProblem(
                _(
                    "{file}: {suffix} workbooks are not imported, because their size cannot be "
                    "checked before they are read; save it as .xlsx and import that."
                ).format(file=path.name, suffix=suffix)
            )
    except OSError as error:
        raise FileProblem(
            _("{file} cannot be read: {error}.").format(file=path.name, error=os_reason(error))
        ) from None
    raise FileProblem(
        _("{file} is not a file type that can be imported: use .csv, .xlsx or .jsonl.").format(
            file=path.name
        )
    )
