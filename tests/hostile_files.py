"""Crafted import files: workbooks with far-away cells, zip bombs (honest and lying headers),
and a runner that imports one in a separate process under an address-space cap, so a
regression fails a test instead of taking the machine's memory."""

from __future__ import annotations

import os
import resource
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    b'"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    b'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/></Relationships>'
)
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"


def column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_xml(row: int, column: int, text: str, *, with_ref: bool = True) -> bytes:
    ref = f' r="{column_letters(column)}{row}"' if with_ref else ""
    return f'<c{ref} t="inlineStr"><is><t>{escape(text)}</t></is></c>'.encode()


def sheet_xml(cells: Iterable[tuple[int, int, str]], dimension: str | None = None) -> bytes:
    """A worksheet with ``(row, column, text)`` cells (1-based), rows in order."""
    rows: dict[int, list[bytes]] = {}
    for row, column, text in sorted(cells):
        rows.setdefault(row, []).append(cell_xml(row, column, text))
    body = b"".join(b'<row r="%d">' % r + b"".join(cs) + b"</row>" for r, cs in rows.items())
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    return SHEET_HEAD.replace(b"<sheetData>", dim + b"<sheetData>") + body + SHEET_TAIL


@dataclass
class Member:
    name: str
    data: bytes  # as stored (deflated unless method 0)
    size: int  # inflated size
    crc: int
    method: int = 8


def deflated(name: str, content: bytes) -> Member:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    data = compressor.compress(content) + compressor.flush()
    return Member(name, data, len(content), zlib.crc32(content))


def write_zip(path: Path, members: list[Member], lie_sizes: dict[str, int] | None = None) -> None:
    """A zip archive written by hand, so a member's declared size can lie."""
    lie_sizes = lie_sizes or {}
    out = bytearray()
    central = bytearray()
    for m in members:
        name = m.name.encode()
        size = lie_sizes.get(m.name, m.size)
        offset = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, m.method, 0, 0x21, m.crc, len(m.data), size,
            len(name), 0,
        ) + name + m.data  # fmt: skip
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, m.method, 0, 0x21, m.crc, len(m.data),
            size, len(name), 0, 0, 0, 0, 0, offset,
        ) + name  # fmt: skip
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(out), 0
    )
    path.write_bytes(bytes(out + central + end))


def xlsx(path: Path, sheet: bytes | Member, lie_sizes: dict[str, int] | None = None) -> Path:
    members = [
        deflated("[Content_Types].xml", CONTENT_TYPES),
        deflated("_rels/.rels", ROOT_RELS),
        deflated("xl/workbook.xml", WORKBOOK),
        deflated("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        sheet if isinstance(sheet, Member) else deflated("xl/worksheets/sheet1.xml", sheet),
    ]
    write_zip(path, members, lie_sizes)
    return path


CONTRACT_HEADER = [(1, 1, "合同编号"), (1, 2, "执业证书编码"), (1, 3, "机构代码")]


def far_cell_xlsx(path: Path, row: int, column: int) -> Path:
    """A contracts header and one more cell far away (the issue's XFD1048576 case)."""
    return xlsx(path, sheet_xml([*CONTRACT_HEADER, (row, column, "x")]))


def bomb_member(compressed_bytes: int) -> Member:
    """A worksheet whose one cell inflates ~1000-fold: a run of "A", deflated with a full
    flush after each MiB so that block's compressed bytes can simply be repeated. Its CRC is
    not computed (4 GB of it): no reader that refuses the bomb gets that far."""
    head = SHEET_HEAD + b'<row><c t="inlineStr"><is><t>'
    tail = b"</t></is></c></row>" + SHEET_TAIL
    block = b"A" * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    one = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = max(1, compressed_bytes // len(one))
    end = compressor.compress(tail) + compressor.flush()
    size = len(head) + count * len(block) + len(tail)
    return Member("xl/worksheets/sheet1.xml", start + one * count + end, size, 0)


# --- running an import under a memory cap ---------------------------------------------------------

AS_LIMIT = 2 << 30  # bytes of address space for the importing process


@dataclass
class Outcome:
    code: int  # exit code; negative: killed by that signal
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def import_capped(db_url: str, kind: str, path: Path, *args: str, timeout: float = 120) -> Outcome:
    """``multisite import KIND PATH ARGS`` in a child process with at most ``AS_LIMIT`` bytes
    of address space: an allocation beyond it fails in the child (a MemoryError, or an abort
    for a Rust allocation), never on the machine. ``peak_mb`` is the child's own peak RSS."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))

    env = {**os.environ, "MULTISITE_CLERK": "hostile", "LANG": "C.UTF-8"}
    env.pop("MULTISITE_DEBUG", None)
    command = [sys.executable, "-m", "multisite.cli", "--db", db_url, "--lang", "en", "import",
               kind, str(path), *args]  # fmt: skip
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, preexec_fn=cap)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                _pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.01)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    return Outcome(child.returncode, stdout, stderr, seconds, usage.ru_maxrss / 1024)
