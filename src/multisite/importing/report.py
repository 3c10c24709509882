"""The import report (导入报告): the stdout summary and the CSV a clerk fixes and re-sends.

The CSV is UTF-8 with a BOM (Excel opens it as Unicode) with the columns of SPEC §6:
``row, column, code, severity, message`` and then the original cells of the row, under the
file's own headers, so the row can be corrected beside its error.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from ..i18n import _

if TYPE_CHECKING:
    from .load import ImportReport

REPORT_COLUMNS = ("row", "column", "code", "severity", "message")


def write_report_csv(report: ImportReport, path: str | Path) -> None:
    """Write one line per problem (errors and warnings), then the unknown columns as notes."""
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*REPORT_COLUMNS, *report.headers])
        for p in report.problems:
            writer.writerow([p.row, p.column, p.code, p.severity, p.message, *p.original])
        if report.unknown_columns:
            writer.writerow(
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
