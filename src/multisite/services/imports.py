"""Batch import (批量导入): a file's rows through the service's batch writes, and the report.

``run_import`` streams a file through the reading layer (``multisite.importing``: readers,
columns, cell parsers, rows → inputs) and hands the rows it could read to the service's batch
entry point for the kind (``save_institutions``, ``save_physicians``, ``save_agreements``,
``save_listings``),
which checks them as it checks a clerk's write, runs the rules across the batch and against
what is stored, and stores the accepted rows in ONE transaction, so a crash or a kill leaves
the database as it was:

* ``all`` (default): one rejected row stores nothing;
* ``partial``: the good rows are stored, the others reported;
* ``dry-run``: nothing is stored, everything is reported.

Keys: contract number, certificate number, credit code. A row equal to what is stored is
``unchanged`` and writes nothing; a changed row updates the entity with an audit row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..i18n import _
from ..importing.readers import read_table
from ..importing.report import ImportReport, Problem, ReportTarget, write_report_csv
from ..importing.rows import ROW_PARSERS, Rows
from . import Registry
from .registry import BatchResult, Commit, ConcurrentWriteError, Progress, ServiceError, no_progress

MODES = ("all", "partial", "dry-run")
# read, checked and written a chunk at a time, the report written as they go (the other kinds'
# files — institutions, credit listings — are a few thousand rows, read whole)
STREAMED = ("contracts", "physicians", "nurses")


def run_import(
    registry: Registry,
    kind: str,
    path: str | Path,
    *,
    mode: str = "all",
    sheet: str | None = None,
    progress: Progress | None = None,
    report_to: ReportTarget | None = None,
) -> ImportReport:
    """Check and (unless ``dry-run``) store the rows of one file; see the module docstring.

    A contracts, physicians or nurses file is streamed: its rows are read, checked and written a chunk
    at a time in one transaction, and each chunk's problems go to the report (to
    ``report_to``'s file as they are found; the caller finishes it with
    ``report_to.finish(report)``). Nothing but the rows' keys (contract numbers; certificates
    and national IDs' hashes) is held to the end, whatever the file's size.

    Raises :class:`~multisite.importing.readers.FileProblem` when the file itself is unusable.
    """
    if mode not in MODES:
        raise ValueError(f"unknown import mode {mode!r}: use one of {', '.join(MODES)}")
    path = Path(path)
    tick = progress or no_progress
    report = ImportReport(kind, str(path), mode, sink=report_to)
    result = BatchResult()
    with read_table(path, sheet, kind=kind) as table:
        report.headers = list(table.headers)
        if report_to is not None:
            report_to.begin(report.headers)
        streamed = kind in STREAMED
        rows = Rows(
            table, report, keep_originals=streamed,
            on_reject=lambda _row: setattr(result, "refused", True),
        )  # fmt: skip
        items = ROW_PARSERS[kind](table, rows, tick)
        commit: Commit = "partial" if mode == "partial" else "all"
        if streamed:  # the service learns of rows the reading rejects as it reads them
            if mode == "dry-run":
                commit = "none"
            save = _streamed(registry, kind, rows, path, sheet, result)
        else:
            items = list(items)
            if mode == "dry-run" or (mode == "all" and rows.any_rejected):
                commit = "none"  # every row is still checked and reported
            save = _save(registry, kind)
        try:
            result = save(_drained(items) if isinstance(items, list) else iter(items), commit, tick)
        except ConcurrentWriteError as error:
            raise ServiceError(
                _(
                    "The import was not stored: another clerk stored some of the same contracts, "
                    "physicians or institutions at the same moment. Run the import again."
                )
            ) from error
        for issue in result.drain():
            rows.record(issue.row, issue.field, issue.code, issue.severity, issue.message)
        report.created, report.updated = result.created, result.updated
        report.unchanged, report.committed = result.unchanged, result.committed
        report.unknown_columns = list(table.unknown_columns)
    rows.finish(path, sheet)
    return report


def _streamed(
    registry: Registry, kind: str, rows: Rows, path: Path, sheet: str | None, result: BatchResult
) -> Callable[[Iterator[Any], Commit, Progress], BatchResult]:
    """The batch entry point of a streamed kind: each chunk's issues go to the report."""

    def flush(done: BatchResult, upto: int | None) -> None:
        for issue in done.drain():
            rows.record(issue.row, issue.field, issue.code, issue.severity, issue.message)
        if upto is not None:
            rows.flush(upto, path, sheet)

    if kind != "contracts":  # physicians or nurses
        return lambda items, commit, _tick: registry.save_physicians(
            items, commit=commit, result=result, flush=flush
        )
    return lambda items, commit, tick: registry.save_agreements(
        items, commit=commit, progress=tick, result=result, flush=flush
    )


def _drained(items: list[Any]) -> Iterator[Any]:
    """The items in order, each let go of as it is taken (a large file's rows are not held
    twice while the service checks them)."""
    items.reverse()
    while items:
        yield items.pop()


def _save(
    registry: Registry, kind: str
) -> Callable[[Iterator[Any], Commit, Progress], BatchResult]:
    """The service's batch entry point for ``kind``."""
    if kind == "contracts":
        return lambda items, commit, tick: registry.save_agreements(
            items, commit=commit, progress=tick
        )
    if kind == "institutions":
        return lambda items, commit, _tick: registry.save_institutions(items, commit=commit)
    if kind == "credit":
        return lambda items, commit, _tick: registry.save_listings(items, commit=commit)
    return lambda items, commit, _tick: registry.save_physicians(items, commit=commit)


__all__ = ["MODES", "ImportReport", "Problem", "Progress", "run_import", "write_report_csv"]
