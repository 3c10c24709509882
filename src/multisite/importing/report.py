"""The import report (导入报告): the stdout summary and the CSV a clerk fixes and re-sends.

The CSV is UTF-8 with a BOM (Excel opens it as Unicode) with the columns of SPEC §6:
``row, column, code, severity, message`` and then the original cells of the row, under the
file's own headers, so the row can be corrected beside its error.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..domain.rules import ERROR, WARNING
from ..escaping import spreadsheet_cell
from ..i18n import _, os_reason

REPORT_COLUMNS = ("row", "column", "code", "severity", "message")
KEPT = 10_000
"""Problems an :class:`ImportReport` keeps in memory for the screen (the CLI shows 200, the
TUI 1,000); all of them go to the ``--report`` file as they are found."""


@dataclass
class Problem:
    """One line of the report: a rejected row's error, or a warning on a row."""

    row: int
    column: str
    code: str
    severity: str
    message: str
    original: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    kind: str
    path: str
    mode: str
    headers: list[str] = field(default_factory=list)
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    committed: bool = False
    problems: list[Problem] = field(default_factory=list)  # the first KEPT of them
    unknown_columns: list[str] = field(default_factory=list)
    lines: int = 0  # problems in all (report lines)
    rejected_codes: Counter[str] = field(default_factory=Counter)  # rejected rows per code
    warning_codes: Counter[str] = field(default_factory=Counter)
    sink: ReportTarget | None = field(default=None, repr=False, compare=False)

    def add(self, problems: Sequence[Problem]) -> None:
        """Problems of rows that are done (in row order, no row split over two calls): counted,
        written to the report file at once, and kept for the screen up to ``KEPT``."""
        errors = {(p.row, p.code) for p in problems if p.severity == ERROR}
        self.rejected_codes.update(code for _row, code in errors)
        self.rejected += len({row for row, _code in errors})
        self.warning_codes.update(p.code for p in problems if p.severity == WARNING)
        self.lines += len(problems)
        room = KEPT - len(self.problems)
        if room > 0:
            self.problems.extend(problems[:room])
        if self.sink is not None:
            self.sink.write_problems(problems)

    @property
    def stored(self) -> int:
        """Rows written to the database (0 unless the transaction was committed)."""
        return self.created + self.updated if self.committed else 0

    @property
    def accepted(self) -> int:
        return self.created + self.updated

    def rejected_by_code(self) -> dict[str, int]:
        """Rejected rows per code (a row counts once per code it breaks)."""
        return dict(sorted(self.rejected_codes.items()))

    def warnings_by_code(self) -> dict[str, int]:
        return dict(sorted(self.warning_codes.items()))

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0


class ReportProblem(Exception):
    """The report cannot be written where asked; ``message`` is one sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReportTarget:
    """Where ``--report`` goes, checked before the import runs (so a wrong path never costs an
    import that is already stored): the folder exists and takes a new file, and the path is
    not a folder or a device. The report is written to a temporary file in that folder as the
    import goes (:meth:`begin`, :meth:`write_problems`: a million-row file's problems are not
    held) and renamed into place by :meth:`finish`: a failed write never leaves a partial or
    empty report."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        folder = self.path.parent
        if self.path.is_dir() or (self.path.exists() and not self.path.is_file()):
            raise ReportProblem(
                _("The report {path} would replace something that is not a file.").format(
                    path=self.path
                )
            )
        if not folder.is_dir():
            raise ReportProblem(
                _("The folder {folder} of the report does not exist.").format(folder=folder)
            )
        try:
            fd, temporary = tempfile.mkstemp(prefix=".report-", suffix=".csv", dir=folder)
        except OSError as error:
            raise ReportProblem(
                _("The report cannot be written to {folder}: {reason}.").format(
                    folder=folder, reason=os_reason(error)
                )
            ) from None
        os.close(fd)
        self.temporary: Path | None = Path(temporary)
        self._handle: TextIO | None = None
        self._writer: Any = None
        self._failed: OSError | None = None  # the first write that failed (a full disk)

    def begin(self, headers: Sequence[str]) -> None:
        """Open the temporary file and write the header line (the file's own headers after
        the report's columns)."""
        assert self.temporary is not None, "a report target is written once"
        try:
            self._handle = self.temporary.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle)
            self._row([*REPORT_COLUMNS, *headers])
        except OSError as error:
            self._fail(error)

    def write_problems(self, problems: Sequence[Problem]) -> None:
        """Append one line per problem; after a failed write the rest is not written (the
        import goes on, and :meth:`finish` says the report could not be written)."""
        if self._writer is None:
            return
        try:
            for p in problems:
                self._row([p.row, p.column, p.code, p.severity, p.message, *p.original])
        except OSError as error:
            self._fail(error)

    def finish(self, report: ImportReport) -> None:
        """Write the closing note (the unknown columns), close and rename the report into
        place; ReportProblem if any write failed (nothing is left behind then)."""
        try:
            if self._writer is not None and report.unknown_columns:
                self._row(
                    [
                        "",
                        "、".join(report.unknown_columns),
                        "NOTE",
                        "note",
                        _("Unknown columns, kept as notes: {columns}.").format(
                            columns="、".join(report.unknown_columns)
                        ),
                    ]
                )
            if self._handle is not None:
                handle, self._handle, self._writer = self._handle, None, None
                handle.close()
            if self._failed is None and self.temporary is not None:
                os.replace(self.temporary, self.path)
                self.temporary = None
        except OSError as error:
            self._fail(error)
        finally:
            self.discard()
        if self._failed is not None:
            raise ReportProblem(
                _("The report could not be written to {path}: {reason}.").format(
                    path=self.path, reason=os_reason(self._failed)
                )
            )

    def write(self, report: ImportReport) -> None:
        """Write a finished report at once and rename it into place; ReportProblem if that
        fails."""
        self.begin(report.headers)
        self.write_problems(report.problems)
        self.finish(report)

    def discard(self) -> None:
        """Remove the temporary file (the report is not written)."""
        if self._handle is not None:
            handle, self._handle, self._writer = self._handle, None, None
            try:
                handle.close()
            except OSError as error:
                self._failed = self._failed or error
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)
            self.temporary = None

    def _row(self, cells: list[object]) -> None:
        self._writer.writerow([spreadsheet_cell(cell) for cell in cells])

    def _fail(self, error: OSError) -> None:
        self._failed = self._failed or error
        if self._handle is not None:
            handle, self._handle, self._writer = self._handle, None, None
            with contextlib.suppress(OSError):  # the first failure is the one to tell
                handle.close()


def write_report_csv(report: ImportReport, path: str | Path) -> None:
    """Write one line per problem (errors and warnings), then the unknown columns as notes.

    Every cell a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR first) is
    neutralised: a report is opened in Excel, and the cells come from the imported file."""
    ReportTarget(path).write(report)


def summary_lines(report: ImportReport) -> list[str]:
    """The summary of a run, one sentence a line."""
    if report.committed:
        sentence = _(
            "Rows read: {read}; stored: {stored} (created {created}, updated {updated}); "
            "unchanged: {unchanged}; rejected: {rejected}."
        )
    else:
        sentence = _(
            "Rows read: {read}; good rows: {stored} (would create {created}, update "
            "{updated}); unchanged: {unchanged}; rejected: {rejected}."
        )
    lines = [
        sentence.format(
            read=report.rows_read,
            stored=report.created + report.updated,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=report.rejected,
        )
    ]
    if report.mode == "dry-run":
        lines.append(_("Dry run: nothing was stored."))
    elif not report.committed and report.rejected:
        lines.append(
            _(
                "Nothing was stored: a rejected row rejects the whole file. Fix the rows, or "
                "use --partial to store the good rows."
            )
        )
    by_code = report.rejected_by_code()
    if by_code:
        lines.append(
            _("Rejected rows per code: {codes}.").format(
                codes=", ".join(f"{code} {n}" for code, n in by_code.items())
            )
        )
    warnings = report.warnings_by_code()
    if warnings:
        lines.append(
            _("Warnings per code: {codes}.").format(
                codes=", ".join(f"{code} {n}" for code, n in warnings.items())
            )
        )
    if report.unknown_columns:
        lines.append(
            _("Unknown columns, kept as notes: {columns}.").format(
                columns="、".join(report.unknown_columns)
            )
        )
    return lines
