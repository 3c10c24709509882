"""What an import file may hold, checked before it is read (导入文件的上限).

python-calamine reads a worksheet into one dense block from its first to its last used cell
(one cell at XFD1048576 asks for 512 GiB and aborts the process), after inflating the zip
members whole. So an .xlsx is checked first, streaming and with bounded memory:

* every zip member's declared size, and the inflated bytes as they come (a member that
  inflates past its declared size or past ``MAX_RATIO`` times its compressed size is a zip
  bomb, whatever its header says), and all members together within ``MAX_UNCOMPRESSED``;
* the position of every cell of every worksheet (the ``r`` attributes, or the count of cells
  in a row without them): the block calamine would build stays within ``MAX_COLUMNS``,
  ``MAX_ROWS`` and ``MAX_CELLS``. The ``<dimension>`` a file declares is not trusted either way.

CSV and JSON lines are read a line at a time: a line past ``MAX_LINE`` characters, a CSV
cell past ``MAX_CELL`` or a row past ``MAX_COLUMNS`` refuses the file (a CSV cannot be
resynchronised after a broken cell); a JSON line past ``MAX_LINE``, nested deeper than
``MAX_DEPTH`` or holding a value past ``MAX_CELL`` rejects that row only. A spreadsheet cell
past ``MAX_CELL`` rejects its row.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from multisite.i18n import _

MAX_CELL = 32_767  # characters: Excel's own limit for a cell
MAX_COLUMNS = 1_000
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_CELLS = 25_000_000  # rows × columns of the block calamine builds (~40 bytes a cell)
MAX_LINE = 1 << 20  # characters of a CSV or JSON line
MAX_DEPTH = 16  # nesting of a JSON line's values
MAX_UNCOMPRESSED = 1 << 30  # bytes of an .xlsx's members, inflated
MAX_RATIO = 250  # inflated ÷ compressed bytes of one member, past its first RATIO_GRACE bytes
RATIO_GRACE = 16 << 20
_CHUNK = 1 << 20


class TooLarge(Exception):
    """A limit is passed; ``message`` is one sentence for the clerk."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


# A row or cell start tag (any namespace prefix) and its r="…" attribute.
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_REF = re.compile(rb"""\br\s*=\s*["']([A-Z]{0,3})(\d{1,7})["']""")


class _SheetScan:
    """The extent of the cells of one worksheet's XML, fed in chunks."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.row = 0
        self.column = 0
        self.last_row = 0
        self.last_column = 0
        self.first_row = MAX_ROWS + 1
        self.first_column = MAX_COLUMNS + 1
        self.tail = b""

    def feed(self, data: bytes, final: bool = False) -> None:
        buffer = self.tail + data
        cut = len(buffer) if final else buffer.rfind(b"<")
        if cut < 0:
            cut = 0
        for found in _TAG.finditer(buffer, 0, cut):
            ref = _REF.search(found.group(2))
            if found.group(1) == b"row":
                self.row = int(ref.group(2)) if ref else self.row + 1
                self.column = 0
                continue
            if ref is not None and ref.group(1):
                self.column = _column_number(ref.group(1))
                self.row = int(ref.group(2))
            else:
                self.column += 1
            self._extend()
        self.tail = buffer[cut:]
        if len(self.tail) > 65536:  # one start tag longer than 64 KiB: not a worksheet
            raise TooLarge(
                _("{file} is not a readable spreadsheet: a tag is longer than 64 KiB.").format(
                    file=self.file
                )
            )

    def _extend(self) -> None:
        row, column = max(self.row, 1), max(self.column, 1)
        self.last_row, self.last_column = max(self.last_row, row), max(self.last_column, column)
        self.first_row, self.first_column = min(self.first_row, row), min(self.first_column, column)
        rows = self.last_row - self.first_row + 1
        columns = self.last_column - self.first_column + 1
        if self.last_column > MAX_COLUMNS or self.last_row > MAX_ROWS or rows * columns > MAX_CELLS:
            raise TooLarge(
                _(
                    "{file} has a cell at row {row}, column {column}: a sheet is read from its "
                    "first to its last cell, and at most {columns} columns, {rows} rows and "
                    "{cells} cells are read. Delete what lies outside the table and save again."
                ).format(
                    file=self.file,
                    row=f"{row:,}",
                    column=f"{column:,}",
                    columns=f"{MAX_COLUMNS:,}",
                    rows=f"{MAX_ROWS:,}",
                    cells=f"{MAX_CELLS:,}",
                )
            )


def check_xlsx(path: Path) -> None:
    """Raise :class:`TooLarge` when reading the workbook would pass a limit (see the module
    docstring); a file that is not a zip is left for calamine to refuse."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    declared = sum(m.file_size for m in members)
    if declared > MAX_UNCOMPRESSED:
        raise _bomb(path, declared)
    inflated = 0
    with path.open("rb") as handle:
        for member in members:
            sheet = member.filename.startswith("xl/worksheets/") and member.filename.endswith(
                ".xml"
            )
            inflated += _inflate(handle, member, path, inflated, sheet)


def _inflate(
    handle: BinaryIO, member: zipfile.ZipInfo, path: Path, before: int, sheet: bool
) -> int:
    """Inflate one member from its raw bytes, as any zip reader would (not trusting its
    declared size): its size, checked as it grows, and its cells if it is a worksheet."""
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return 0  # calamine refuses other methods in one sentence
    handle.seek(member.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        return 0  # a broken archive: calamine refuses it in one sentence
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(member.header_offset + 30 + name_length + extra_length)
    inflater = zlib.decompressobj(-15) if member.compress_type == zipfile.ZIP_DEFLATED else None
    scan = _SheetScan(path.name) if sheet else None
    remaining, size = member.compress_size, 0
    try:
        while remaining > 0 and (inflater is None or not inflater.eof):
            raw = handle.read(min(_CHUNK, remaining))
            if not raw:
                break
            remaining -= len(raw)
            while raw:
                if inflater is None:
                    chunk, raw = raw, b""
                else:
                    chunk = inflater.decompress(raw, _CHUNK)
                    raw = inflater.unconsumed_tail
                size += len(chunk)
                if size > member.file_size:
                    raise TooLarge(
                        _(
                            "{file} is not a readable spreadsheet: a part inflates past the "
                            "{size} bytes its header declares."
                        ).format(file=path.name, size=f"{member.file_size:,}")
                    )
                if before + size > MAX_UNCOMPRESSED or (
                    size > RATIO_GRACE and size > MAX_RATIO * max(member.compress_size, 1)
                ):
                    raise _bomb(path, before + size)
                if scan is not None:
                    scan.feed(chunk)
    except zlib.error:
        return size  # broken: calamine refuses it in one sentence
    if scan is not None:
        scan.feed(b"", final=True)
    return size


def _bomb(path: Path, size: int) -> TooLarge:
    return TooLarge(
        _(
            "{file} inflates to more than {size} MB (at most {limit} MB, and at most {ratio} "
            "times its compressed size, are read): it is not a spreadsheet to import."
        ).format(
            file=path.name,
            size=f"{size >> 20:,}",
            limit=f"{MAX_UNCOMPRESSED >> 20:,}",
            ratio=MAX_RATIO,
        )
    )
