"""From a file's rows to the service's inputs (导入行 → 录入数据): file → rows, nothing else.

Each data row of a :class:`~multisite.importing.readers.Table` becomes the typed input the
service takes (``InstitutionInput``, ``PhysicianInput``, ``AgreementInput``) or, when a cell
cannot be read, problems naming the row and the column. Checking identifiers, vocabularies,
keys and rules is the service's work (``multisite.services``), the same for a file as for a
clerk. Pure: no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..domain import identifiers as ids
from ..domain.inputs import (
    INVALID,
    KEEP,
    AgreementInput,
    InstitutionInput,
    ListingInput,
    PhysicianInput,
)
from ..domain.rules import ERROR
from ..domain.sessions_text import parse_sessions
from ..domain.text import ValueProblem, normalize_text
from ..domain.vocabulary import CATEGORIES, INSTITUTION_KINDS
from ..i18n import _
from .columns import ANY_TITLE_VALUES, LEVEL_VALUES, ROLE_VALUES, STATUS_VALUES, column
from .normalize import (
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal_hours,
    parse_int,
    parse_list,
)
from .readers import Row, Table, read_originals
from .report import ImportReport, Problem

PARSE_MEMO = 200_000
STATUSES = {"注册": "registered", "暂停": "suspended", "注销": "cancelled"}
TERM_COLUMNS = ("tasks", "liability", "pay", "insurance", "employment")

Tick = Callable[[str, int, int | None], None]


class Rows:
    """The problems of the rows of one file, handed to the report as the rows are done.

    Problems wait in ``pending`` until :meth:`flush` says which rows are done (a streamed
    import: every chunk of rows the service has checked); they then go to the report with the
    rows' original cells, which are kept only for the rows not yet done (``keep_originals``)
    or read in a second pass at the end."""

    def __init__(
        self,
        table: Table,
        report: ImportReport,
        *,
        keep_originals: bool = False,
        on_reject: Callable[[int], None] | None = None,
    ) -> None:
        self.table = table
        self.report = report
        self.keep_originals = keep_originals  # every row handed on keeps its cells till done
        self.on_reject = on_reject  # told of every row the reading rejects
        self.rejected: dict[int, list[Problem]] = {}  # rows not yet done
        self.any_rejected = False
        self.pending: list[Problem] = []
        self.originals: dict[int, list[str]] = {}
        # Cells repeat (dates, weekly patterns, yes/no): each distinct one is parsed once.
        self.parsed: dict[Any, tuple[bool, Any]] = {}

    def header(self, name: str) -> str:
        """How the file names column ``name`` (its own header, else ``name/中文名``)."""
        index = self.table.column_map.get(name)
        if index is not None and index < len(self.table.headers):
            return self.table.headers[index]
        try:
            return column(self.table.kind, name).display()
        except KeyError:
            return name

    def record(self, row: int, name: str, code: str, severity: str, message: str) -> None:
        """One problem of ``row`` in column ``name`` (canonical; empty for the whole row)."""
        problem = Problem(row, self.header(name) if name else "", code, severity, message)
        if severity == ERROR:
            self.rejected.setdefault(row, []).append(problem)
            self.any_rejected = True
            if self.on_reject is not None:
                self.on_reject(row)
        self.pending.append(problem)

    def reject(self, row: int, name: str, code: str, message: str) -> None:
        self.record(row, name, code, ERROR, message)

    def handed_on(self, row: Row) -> None:
        """``row`` goes on to the service: keep its cells for the report if asked to."""
        if self.keep_originals:
            self.originals[row.number] = row.original

    def flush(self, upto: int | None, path: Path, sheet: str | None = None) -> None:
        """Hand the problems of the rows up to ``upto`` (every row: None) to the report, in row
        order with their original cells (masked), and forget those rows."""
        if upto is None:
            due, self.pending = self.pending, []
        else:
            due = [p for p in self.pending if p.row <= upto]
            self.pending = [p for p in self.pending if p.row > upto]
        missing = {p.row for p in due} - self.originals.keys()
        if missing:
            self.originals.update(read_originals(path, missing, sheet))
        personal = self.table.column_map.get("id_number")
        redacted: dict[int, list[str]] = {}
        for p in due:
            if p.row not in redacted:
                redacted[p.row] = _redacted(self.originals.get(p.row, []), personal)
            p.original = redacted[p.row]
        due.sort(key=lambda p: (p.row, p.severity != ERROR))
        self.report.add(due)
        if upto is None:
            self.originals.clear()
            self.rejected.clear()
        else:
            for number in [n for n in self.originals if n <= upto]:
                del self.originals[number]
            for number in [n for n in self.rejected if n <= upto]:
                del self.rejected[number]

    def finish(self, path: Path, sheet: str | None) -> None:
        """Hand every problem still waiting to the report."""
        self.flush(None, path, sheet)


PERSONAL = "PERSONAL"
"""The code of a cell holding a national ID number outside the 身份证号 column."""


def _redacted(cells: list[str], personal: int | None) -> list[str]:
    """The original cells as the report may show them: a national ID number masked wherever
    it stands (330106********1231), the 身份证号 column's cell masked whatever it holds."""
    shown = [ids.mask_id_numbers(c) for c in cells]
    if personal is not None and personal < len(shown) and shown[personal]:
        value = shown[personal]
        shown[personal] = ids.id_masked(value) if len(value) > 10 else "*" * len(value)
    return shown


def _personal(rows: Rows, row: Row) -> bool:
    """Reject the row when a cell other than 身份证号 (a known column or a note) holds a valid
    national ID number: personal data is not kept as notes or text. The sentence names the
    column, never the number."""
    found = False
    for name, value in row.cells.items():
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if name != "id_number" and isinstance(value, str) and ids.holds_id_number(value):
            rows.reject(row.number, name, PERSONAL, _personal_message(rows.header(name)))
            found = True
    for header, value in row.notes.items():
        if ids.holds_id_number(value) or ids.holds_id_number(header):
            rows.reject(row.number, "", PERSONAL, _personal_message(header))
            found = True
    if found:
        rows.originals[row.number] = row.original
    return found


def _personal_message(column: str) -> str:
    if ids.holds_id_number(column):
        column = ids.mask_id_numbers(column)
    return _(
        "The column {column} holds a national ID number (身份证号): only the 身份证号 column of a "
        "physicians file may, and it is stored only as a keyed hash."
    ).format(column=column)


def _text(row: Row, name: str) -> str:
    value = row.cells.get(name)
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _named(row: Row, name: str) -> str | None:
    """A free-text cell kept verbatim; None when the file does not name it (blank or absent)."""
    return _text(row, name) or None


def _read(rows: Rows, row: Row, name: str, parse: Callable[..., Any], *args: Any) -> Any:
    """Parse one cell (``parse(value, *args, column=name)``); a problem rejects the row."""
    value = row.cells.get(name)
    # The extra arguments are module-level vocabularies, so their identity is their value.
    key: Any = (parse, name, value, *map(id, args))
    try:
        found = rows.parsed.get(key)
    except TypeError:  # an unhashable cell value: parse it every time
        found, key = None, None
    if found is None:
        try:
            result = parse(value, *args, column=name)
            found = (True, tuple(result) if isinstance(result, list) else result)
        except ValueProblem as problem:
            found = (False, problem.message)
        if key is not None and len(rows.parsed) < PARSE_MEMO:
            rows.parsed[key] = found
    ok, result = found
    if not ok:
        rows.reject(row.number, name, INVALID, result)
        return None
    return result


def _optional(rows: Rows, row: Row, name: str, parse: Callable[..., Any], *args: Any) -> Any:
    """A cell that may be blank (None), else parsed like :func:`_read`."""
    if row.cells.get(name) is None:
        return None
    return _read(rows, row, name, parse, *args)


def _parse_beds(value: object, *, column: str) -> int:
    return parse_int(value, column=column, minimum=0, maximum=100_000)


def _required(rows: Rows, row: Row, name: str) -> str:
    text = _text(row, name)
    if not text:
        rows.reject(
            row.number,
            name,
            INVALID,
            _("The column {column} is empty.").format(column=rows.header(name)),
        )
    return text


def _start(rows: Rows, row: Row) -> bool:
    """Count the row; False (and the problem recorded) when the reader could not read it."""
    rows.report.rows_read += 1
    if row.problem is not None:
        rows.reject(row.number, row.problem.column, INVALID, row.problem.message)
        rows.originals[row.number] = row.original
        return False
    return not _personal(rows, row)


def _clean(rows: Rows, row: Row, before: int) -> bool:
    """Whether reading the row's cells added no problem (else its cells are kept for the report)."""
    if len(rows.rejected.get(row.number, ())) > before:
        rows.originals[row.number] = row.original
        return False
    return True


def contract_rows(table: Table, rows: Rows, tick: Tick) -> Iterator[tuple[int, AgreementInput]]:
    """The contracts of ``table`` as they are read (a million-row file is never held)."""
    for row in table:
        if rows.report.rows_read % 2000 == 1999:
            tick("read", rows.report.rows_read + 1, None)
        if not _start(rows, row):
            continue
        number = row.number
        before = len(rows.rejected.get(number, ()))
        contract_no = _required(rows, row, "contract_no")
        cert = _required(rows, row, "physician")
        code = _required(rows, row, "institution")
        role = _read(rows, row, "role", parse_choice, ROLE_VALUES)
        department = _required(rows, row, "department")
        start = _read(rows, row, "start", parse_date)
        end = _read(rows, row, "end", parse_date)
        slots = _read(rows, row, "sessions", parse_sessions)
        if slots is not None and not slots:
            rows.reject(
                number,
                "sessions",
                INVALID,
                _("The column {column} is empty: an agreement needs its weekly sessions.").format(
                    column=rows.header("sessions")
                ),
            )
        hours = _optional(rows, row, "weekly_hours", parse_decimal_hours) or 0
        consent = _optional(rows, row, "consent", parse_bool)
        if not _clean(rows, row, before):
            continue
        data = AgreementInput(
            contract_no, cert, code, role, department, start, end, tuple(slots), float(hours),
            consent, notes=row.notes,
        )  # fmt: skip
        for term in TERM_COLUMNS:
            setattr(data, term, _named(row, term))
        rows.handed_on(row)
        yield number, data
    tick("read", rows.report.rows_read, rows.report.rows_read)


_KIND_VALUES: dict[str, tuple[str, ...]] = {kind: () for kind in INSTITUTION_KINDS}


def _parse_kind(value: object, *, column: str) -> str:
    """A shipped kind (any accepted spelling), else the name as written: a region may add
    kinds of its own, and the service checks the name against the county's vocabulary."""
    try:
        return parse_choice(value, _KIND_VALUES, column=column)
    except ValueProblem:
        if not isinstance(value, str) or not normalize_text(value).strip():
            raise
        return normalize_text(value).strip()


def institution_rows(table: Table, rows: Rows, tick: Tick) -> list[tuple[int, InstitutionInput]]:
    found: list[tuple[int, InstitutionInput]] = []
    for row in table:
        if not _start(rows, row):
            continue
        before = len(rows.rejected.get(row.number, ()))
        code = _required(rows, row, "code")
        name = _required(rows, row, "name")
        kind = _read(rows, row, "kind", _parse_kind)
        county = _required(rows, row, "region")
        beds = _optional(rows, row, "beds", _parse_beds) or 0
        grassroots = _optional(rows, row, "grassroots", parse_bool) or False
        licensed_on = _optional(rows, row, "licensed_on", parse_date)
        if not _clean(rows, row, before):
            continue
        data = InstitutionInput(
            code, name, kind, county, int(beds), parse_list(row.cells.get("departments")),
            bool(grassroots), _text(row, "address"), makeup_follows=KEEP, notes=row.notes,
            licensed_on=licensed_on,
        )  # fmt: skip
        found.append((row.number, data))
    return found


_CATEGORY_VALUES: dict[str, tuple[str, ...]] = {c: () for c in CATEGORIES}


class _Registration(NamedTuple):
    region: str
    main: str  # the main institution's code
    registered: dt.date
    status: str
    status_from: dt.date | None
    status_to: dt.date | None
    practising_since: dt.date | None


def _registration(rows: Rows, row: Row) -> _Registration:
    """A practitioner's registration cells, read (and their problems recorded) in file order;
    the same for physicians and nurses."""
    region = _required(rows, row, "region")
    main = _required(rows, row, "main_institution")
    registered = _read(rows, row, "registered", parse_date)
    status = _optional(rows, row, "status", parse_choice, STATUS_VALUES) or "注册"
    status_from = _optional(rows, row, "status_from", parse_date)
    status_to = _optional(rows, row, "status_to", parse_date)
    practising_since = _optional(rows, row, "practising_since", parse_date)
    return _Registration(
        region, main, registered, STATUSES[status], status_from, status_to,
        practising_since,
    )  # fmt: skip


def physician_rows(table: Table, rows: Rows, tick: Tick) -> Iterator[tuple[int, PhysicianInput]]:
    """The physicians of ``table`` as they are read (a million-row file is never held)."""
    for row in table:
        if not _start(rows, row):
            continue
        before = len(rows.rejected.get(row.number, ()))
        cert = _required(rows, row, "cert")
        name = _required(rows, row, "name")
        level = _read(rows, row, "level", parse_choice, LEVEL_VALUES)
        category = _read(rows, row, "category", parse_choice, _CATEGORY_VALUES)
        title = _read(rows, row, "title", parse_choice, ANY_TITLE_VALUES)
        reg = _registration(rows, row)
        if not _clean(rows, row, before):
            continue
        data = PhysicianInput(
            cert, name, level, category, parse_list(row.cells.get("scopes")), title, reg.region,
            reg.main, reg.registered, reg.status, practising_since=reg.practising_since,
            notes=row.notes, status_from=reg.status_from, status_to=reg.status_to,
            status_reason=_text(row, "status_reason"), id_number=_named(row, "id_number"),
        )  # fmt: skip
        rows.handed_on(row)
        yield row.number, data


def nurse_rows(table: Table, rows: Rows, tick: Tick) -> Iterator[tuple[int, PhysicianInput]]:
    """A nurses file (护士执业注册): the physicians' columns without level, category and scopes;
    a physician's category or scope on a nurse's row goes to the service, which rejects it.
    The rows as they are read."""
    for row in table:
        if not _start(rows, row):
            continue
        before = len(rows.rejected.get(row.number, ()))
        cert = _required(rows, row, "cert")
        name = _required(rows, row, "name")
        title = _read(rows, row, "title", parse_choice, ANY_TITLE_VALUES)
        reg = _registration(rows, row)
        if not _clean(rows, row, before):
            continue
        data = PhysicianInput(
            cert, name, "", _text(row, "category"), parse_list(row.cells.get("scopes")), title,
            reg.region, reg.main, reg.registered, reg.status,
            practising_since=reg.practising_since, notes=row.notes, status_from=reg.status_from,
            status_to=reg.status_to, status_reason=_text(row, "status_reason"),
            profession="nurse",
        )  # fmt: skip
        rows.handed_on(row)
        yield row.number, data


def listing_rows(table: Table, rows: Rows, tick: Tick) -> list[tuple[int, ListingInput]]:
    """A listing file (失信/黑名单): each row names a physician (执业证书编码) or an institution
    (机构代码), never both."""
    found: list[tuple[int, ListingInput]] = []
    for row in table:
        if not _start(rows, row):
            continue
        before = len(rows.rejected.get(row.number, ()))
        cert, code = _text(row, "cert"), _text(row, "institution")
        if bool(cert) == bool(code):
            rows.reject(
                row.number,
                "cert" if cert else "",
                INVALID,
                _(
                    "A listing row names a physician ({cert}) or an institution ({code}), one of them."
                ).format(cert=rows.header("cert"), code=rows.header("institution")),
            )
        start = _read(rows, row, "from", parse_date)
        until = _optional(rows, row, "to", parse_date)
        reason = _required(rows, row, "reason")
        authority = _required(rows, row, "authority")
        if not _clean(rows, row, before):
            continue
        subject, key = ("physician", cert) if cert else ("institution", code)
        data = ListingInput(subject, key, start, reason, authority, until, _text(row, "decision"))
        found.append((row.number, data))
    return found


ROW_PARSERS: dict[str, Callable[[Table, Rows, Tick], Iterable[Any]]] = {
    "contracts": contract_rows,
    "institutions": institution_rows,
    "physicians": physician_rows,
    "nurses": nurse_rows,
    "credit": listing_rows,
}
