"""``multisite import institutions|physicians|contracts FILE`` and ``import template KIND``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.text import Text

from ..escaping import printable
from ..i18n import _
from ..importing.columns import KINDS
from ..importing.readers import FileProblem
from ..importing.report import ReportProblem, ReportTarget, summary_lines
from ..importing.template import write_template
from ..services.imports import Progress, run_import
from .common import EXIT_FOUND, EXIT_OK, EXIT_USAGE, Context, Parser, command, table

SHOWN_PROBLEMS = 200


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "import",
        help=_("import institutions, physicians, contracts or credit listings from a spreadsheet"),
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", parser_class=Parser, required=True)
    for kind in KINDS:
        p = kinds.add_parser(kind, help=_("import {kind} from FILE").format(kind=kind))
        p.add_argument("file", metavar="FILE")
        modes = p.add_mutually_exclusive_group()
        modes.add_argument(
            "--dry-run", action="store_true", help=_("check every row, store nothing")
        )
        modes.add_argument(
            "--partial", action="store_true", help=_("store the good rows, report the others")
        )
        p.add_argument("--report", metavar="OUT.csv", help=_("write the row report as CSV"))
        p.add_argument("--sheet", metavar="NAME", help=_("the sheet of a workbook to read"))
    template = kinds.add_parser("template", help=_("write an empty workbook with the headers"))
    template.add_argument("what", choices=KINDS, metavar="|".join(KINDS))
    template.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")


@command("import")
def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    if args.kind == "template":
        path = write_template(args.what, args.output)
        ctx.out.print(_("Wrote the {kind} template to {path}.").format(kind=args.what, path=path))
        return EXIT_OK
    mode = "dry-run" if args.dry_run else "partial" if args.partial else "all"
    registry = ctx.registry
    try:  # before anything is stored: a report that cannot be written stops the import here
        target = ReportTarget(args.report) if args.report else None
    except ReportProblem as problem:
        sys.stderr.write(printable(problem.message) + "\n")
        return EXIT_USAGE
    try:
        with _progress() as tick:
            report = run_import(
                registry,
                args.kind,
                args.file,
                mode=mode,
                sheet=args.sheet,
                progress=tick,
                report_to=target,
            )
    except BaseException as error:
        if target is not None:
            target.discard()
        if not isinstance(error, FileProblem):
            raise
        sys.stderr.write(printable(error.message.rstrip()) + "\n")
        return EXIT_USAGE
    if report.problems:
        t = table(
            _("row"), _("column"), _("code"), _("severity"), _("message"), title=_("Row report")
        )
        for p in report.problems[:SHOWN_PROBLEMS]:
            style = "red" if p.severity == "error" else "yellow"
            t.add_row(str(p.row), p.column, Text(p.code, style=style), _(p.severity), p.message)
        ctx.out.print(t)
        if report.lines > SHOWN_PROBLEMS:
            ctx.out.print(
                _("… {more} more lines: see the --report file.").format(
                    more=report.lines - SHOWN_PROBLEMS
                )
            )
    for line in summary_lines(report):
        ctx.out.print(line)
    if target is not None:
        try:
            target.finish(report)  # written as the import went: closed and put in place
        except ReportProblem as problem:
            stored = (
                _("The rows above were stored.") if report.committed else _("Nothing was stored.")
            )
            sys.stderr.write(printable(f"{stored} {problem.message}") + "\n")
            return EXIT_USAGE
        ctx.out.print(_("Report written to {path}.").format(path=args.report))
    return EXIT_FOUND if report.rejected else EXIT_OK


@contextmanager
def _progress() -> Iterator[Progress | None]:
    """A rich progress bar on stderr when it is a terminal; nothing when piped."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    labels = {"read": _("reading rows"), "check": _("checking rules"), "write": _("storing")}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, Any] = {}

        def tick(phase: str, done: int, total: int | None) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(labels.get(phase, phase), total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield tick
