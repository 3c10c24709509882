"""Import a batch file: choose the file, read the dry-run report, then commit or cancel."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Header, Input, Label, Select, Static

from multisite.escaping import markup, plain
from multisite.i18n import _
from multisite.importing.readers import FileProblem
from multisite.services import ServiceError

from ..forms import FormProblem
from ..session import registry

KINDS = ("contracts", "physicians", "institutions")


def load_module() -> Any | None:
    try:
        return importlib.import_module("multisite.services.imports")
    except ImportError:
        return None


def counts_text(report: Any) -> str:
    """Rows read, created, updated, unchanged, rejected (``ImportReport``)."""
    parts = [
        (_("read"), "rows_read"),
        (_("new"), "created"),
        (_("changed"), "updated"),
        (_("unchanged"), "unchanged"),
        (_("rejected"), "rejected"),
    ]
    return " · ".join(f"{label} {getattr(report, attr, 0)}" for label, attr in parts)


class ImportScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", _("Back")),
        Binding("ctrl+r", "dry_run", _("Dry run"), priority=True),
        Binding("ctrl+s", "commit", _("Commit"), priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.checked: tuple[str, str, bool] | None = None  # what the last dry run read
        self.report: Any = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="field"):
            yield Label(_("File"), classes="field-label")
            yield Input(placeholder=_("path of a .csv, .xlsx or .jsonl file"), id="path")
        with Horizontal(classes="field"):
            yield Label(_("Kind"), classes="field-label")
            yield Select(
                [(_(k), k) for k in KINDS], value="contracts", allow_blank=False, id="kind"
            )
            yield Checkbox(_("store the good rows (partial)"), id="partial")
        yield Static(
            _("Ctrl+R: dry run (stores nothing) · Ctrl+S: commit after a dry run"),
            id="import-status",
        )
        table: DataTable[str] = DataTable(id="problems", cursor_type="row")
        table.add_columns(_("row"), _("column"), _("code"), _("severity"), _("message"))
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def _read(self) -> tuple[str, str, bool]:
        text = self.query_one("#path", Input).value.strip()
        if not text:
            raise FormProblem("path", _("Enter the path of the file to import."))
        path = Path(text).expanduser()
        if not path.is_file():
            raise FormProblem("path", _("There is no file {path}.").format(path=path))
        kind = str(self.query_one("#kind", Select).value)
        return (str(path), kind, self.query_one("#partial", Checkbox).value)

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
        if load_module() is None:
            self._status(_("The import module is not installed yet."))
            return
        self.busy = True
        self._status(_("Reading {path}…").format(path=path))
        self.run_import(path, kind, partial, mode)

    @work(thread=True, exclusive=True, group="import")
    def run_import(self, path: str, kind: str, partial: bool, mode: str) -> None:
        module = load_module()
        assert module is not None
        try:
            report = module.run_import(registry(self), kind, path, mode=mode, progress=None)
        except (FileProblem, ServiceError, OSError, ValueError) as error:
            self.app.call_from_thread(self._failed, str(error))
            return
        self.app.call_from_thread(self._done, (path, kind, partial), mode, report)

    def _failed(self, message: str) -> None:
        self.busy = False
        self._status(_("Import failed: {reason}").format(reason=message))

    def _done(self, read: tuple[str, str, bool], mode: str, report: Any) -> None:
        self.busy = False
        self.report = report
        problems = list(getattr(report, "problems", []))
        table = self.query_one("#problems", DataTable)
        table.clear()
        for p in problems[:1000]:
            table.add_row(str(p.row), markup(p.column), p.code, _(p.severity), markup(p.message))
        summary = counts_text(report)
        if mode == "dry-run":
            self.checked = read
            self._status(
                _("Dry run: {summary} · {n} problems · Ctrl+S commits, Esc cancels").format(
                    summary=summary, n=len(problems)
                )
            )
        else:
            self.checked = None
            self._status(
                _("Committed: {summary} · {n} problems").format(summary=summary, n=len(problems))
            )
