"""Import a batch file: pick it in a directory tree, read the dry-run report, then commit.

The result line says exactly what was stored: an all-or-nothing import with a rejected row
stores nothing and says so; a partial one says how many rows it stored and rejected.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, DirectoryTree, Header, Select, Static

from multisite.escaping import markup, plain
from multisite.i18n import N_, _
from multisite.importing.readers import FileProblem
from multisite.services import ServiceError
from multisite.services.imports import ImportReport, run_import

from ..forms import FormProblem
from ..session import registry
from ..widgets.footer import ClerkFooter
from ..widgets.tick import TickBox

KINDS = ("contracts", "physicians", "institutions", "credit")
KIND_LABELS = {
    "contracts": N_("contracts"),
    "physicians": N_("physicians"),
    "institutions": N_("institutions"),
    "credit": N_("credit listings"),
}
SUFFIXES = (".csv", ".xlsx", ".xlsm", ".jsonl", ".ndjson", ".txt", ".tsv")


def outcome_sentence(report: ImportReport) -> str:
    """What the import did, in one sentence that never claims more than was stored."""
    numbers = {
        "read": report.rows_read,
        "new": report.created,
        "changed": report.updated,
        "same": report.unchanged,
        "rejected": report.rejected,
    }
    if report.mode == "dry-run":
        text = _(
            "Dry run, nothing stored: {read} rows read; would store {new} new and {changed} "
            "changed, {same} unchanged; {rejected} rejected."
        ).format(**numbers)
        if report.rejected:
            text += " " + _("All-or-nothing would store nothing; partial stores the good rows.")
        return text
    if not report.committed or not report.stored:
        if report.rejected:
            return _(
                "Nothing stored: {rejected} of {read} rows rejected and the import is "
                "all-or-nothing. Fix the rows or tick partial."
            ).format(**numbers)
        return _("Nothing stored: {same} of {read} rows are unchanged.").format(**numbers)
    if report.mode == "partial":
        return _(
            "Stored {stored} rows ({new} new, {changed} changed), rejected {rejected}, "
            "{same} unchanged."
        ).format(stored=report.stored, **numbers)
    return _("Stored {stored} rows ({new} new, {changed} changed), {same} unchanged.").format(
        stored=report.stored, **numbers
    )


class ImportFiles(DirectoryTree):
    """Folders and the files an import reads."""

    def filter_paths(self, paths: object) -> list[Path]:
        return [
            p
            for p in paths  # type: ignore[attr-defined]
            if not p.name.startswith(".") and (p.is_dir() or p.suffix.lower() in SUFFIXES)
        ]


class ImportScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", N_("Back")),
        Binding("ctrl+r", "dry_run", N_("Dry run"), priority=True),
        Binding("ctrl+s", "commit", N_("Commit"), priority=True),
    ]

    def __init__(self, folder: str | Path | None = None) -> None:
        super().__init__()
        self.folder = Path(folder) if folder else Path.cwd()
        self.path: Path | None = None
        self.checked: tuple[str, str, bool] | None = None  # what the last dry run read
        self.report: ImportReport | None = None
        self.outcome = ""
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="import-top"):
            yield ImportFiles(self.folder, id="import-tree")
            with Vertical(id="import-options"):
                yield Static(_("File: none picked"), id="import-file", markup=False)
                yield Select(
                    [(_(KIND_LABELS[k]), k) for k in KINDS],
                    value="contracts",
                    allow_blank=False,
                    id="kind",
                    compact=True,
                )
                yield TickBox(_("partial: store good rows"), id="partial", compact=True)
                yield Static(
                    _("Enter picks a file · Ctrl+R dry run · Ctrl+S commit"), classes="hint"
                )
        yield Static(_("Pick a .csv, .xlsx or .jsonl file in the tree."), id="import-status")
        table: DataTable[str] = DataTable(id="problems", cursor_type="row")
        table.add_columns(_("row"), _("column"), _("code"), _("severity"), _("message"))
        yield table
        yield ClerkFooter()

    def on_mount(self) -> None:
        self.query_one("#import-tree", DirectoryTree).focus()

    @on(DirectoryTree.FileSelected, "#import-tree")
    def _picked(self, event: DirectoryTree.FileSelected) -> None:
        self.pick(event.path)

    def pick(self, path: Path) -> None:
        self.path = path
        self.query_one("#import-file", Static).update(_("File: {name}").format(name=path.name))
        name = path.name.lower()
        for kind in KINDS:
            if kind[:-1] in name or kind in name:
                self.query_one("#kind", Select).value = kind
                break
        self._status(_("Ctrl+R runs the dry run of {name}.").format(name=path.name))

    def _read(self) -> tuple[str, str, bool]:
        if self.path is None:
            raise FormProblem("import-tree", _("File: pick one in the tree first."))
        if not self.path.is_file():
            raise FormProblem("import-tree", _("There is no file {path}.").format(path=self.path))
        kind = str(self.query_one("#kind", Select).value)
        return (str(self.path), kind, self.query_one("#partial", Checkbox).value)

    def _status(self, text: str) -> None:
        self.query_one("#import-status", Static).update(plain(text))

    def action_dry_run(self) -> None:
        self._start("dry-run")

    def action_commit(self) -> None:
        try:
            current = self._read()
        except FormProblem as problem:
            self._status(str(problem))
            return
        if self.checked != current:
            self._status(_("Run the dry run of this file first (Ctrl+R), then commit."))
            return
        self._start("partial" if current[2] else "all")

    def _start(self, mode: str) -> None:
        if self.busy:
            return
        try:
            path, kind, partial = self._read()
        except FormProblem as problem:
            self._status(str(problem))
            return
        self.busy = True
        self._status(_("Reading {path}…").format(path=path))
        self.run_import(path, kind, partial, mode)

    @work(thread=True, exclusive=True, group="import")
    def run_import(self, path: str, kind: str, partial: bool, mode: str) -> None:
        try:
            report = run_import(registry(self), kind, path, mode=mode, progress=None)
        except (FileProblem, ServiceError, OSError, ValueError) as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._done, (path, kind, partial), mode, report)

    def _failed(self, message: str) -> None:
        self.busy = False
        self._status(_("Import failed, nothing stored: {reason}").format(reason=message))

    def _done(self, read: tuple[str, str, bool], mode: str, report: ImportReport) -> None:
        self.busy = False
        self.report = report
        table = self.query_one("#problems", DataTable)
        table.clear()
        for p in report.problems[:1000]:
            table.add_row(str(p.row), markup(p.column), p.code, _(p.severity), markup(p.message))
        self.outcome = outcome_sentence(report)
        if mode == "dry-run":
            self.checked = read
            self._status(self.outcome + " " + _("Ctrl+S commits."))
        else:
            self.checked = None
            self._status(self.outcome)
