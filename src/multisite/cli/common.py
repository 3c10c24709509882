"""What every command of the command line shares: the run's context (database, service,
output), argument types, exit codes and table printing."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from rich.table import Table
from rich.text import Text

from ..escaping import SafeConsole
from ..i18n import N_, _
from ..services import Registry
from ..storage import Database, database_url

EXIT_OK, EXIT_FOUND, EXIT_USAGE = 0, 1, 2
# Stored values shown to users, translated at display time.
VOCABULARY = (
    N_("registered"), N_("changed"), N_("suspended"), N_("cancelled"), N_("primary"),
    N_("additional"), N_("active"), N_("terminated"), N_("expired"), N_("draft"),
    N_("error"), N_("warning"),
    # units of a violation's measure
    N_("min"), N_("h"), N_("d"), N_("agreement"), N_("department"), N_("institution"),
    N_("institutions"), N_("listing"), N_("reasons"), N_("years"),
)  # fmt: skip


class UsageError(Exception):
    """Bad usage of the command line (exit code 2)."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def iso_date(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            _("{text} is not a date like 2026-01-05").format(text=text)
        ) from error
    if not 1900 <= day.year <= 2999:
        raise argparse.ArgumentTypeError(
            _("{text} is outside the years 1900 to 2999").format(text=text)
        )
    return day


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            _("{text} is not a whole number").format(text=text)
        ) from error
    if value < 0:
        raise argparse.ArgumentTypeError(_("{text} must not be negative").format(text=text))
    return value


Handler = Callable[[argparse.Namespace, "Context"], int]
COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        COMMANDS[name] = handler
        return handler

    return register


class Context:
    """The database, service and output of one command-line run."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.out = SafeConsole(highlight=False, width=None if sys.stdout.isatty() else 200)
        self._db: Database | None = None
        self._registry: Registry | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(database_url(self.args.db))
        return self._db

    @property
    def registry(self) -> Registry:
        """The service on a database whose schema is current."""
        if self._registry is None:
            self.db.require_current_schema()
            registry = Registry(self.db, self.args.clerk)
            registry.admit()  # a disabled clerk reads nothing either
            self._registry = registry
        return self._registry

    def err(self, message: str) -> None:
        """One sentence on stderr (a finding, not a failure of the command)."""
        from ..escaping import printable

        sys.stderr.write(printable(message.rstrip()) + "\n")

    def json(self, document: Any) -> None:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


def table(*columns: str, title: str | None = None) -> Table:
    t = Table(title=title, show_lines=False, header_style="bold", title_justify="left")
    for column in columns:
        t.add_column(column, overflow="fold")
    return t


def print_violations(ctx: Context, violations: list[dict[str, Any]], title: str | None) -> None:
    if not violations:
        ctx.out.print(_("No violations."))
        return
    t = table(
        _("code"),
        _("severity"),
        _("practitioner"),
        _("agreements"),
        _("first date"),
        _("measure"),
        _("message"),
        title=title,
    )
    for v in violations:
        style = "red" if v["severity"] == "error" else "yellow"
        t.add_row(
            Text(v["code"], style=style),
            _(v["severity"]),
            f"{_(v.get('profession', 'physician'))} {v['physician']}",  # 医师/护士
            ", ".join(v["agreements"]),
            v["first_date"],
            f"{v['measure']:g} {_(v['unit'])}",
            v["message"],
        )
    ctx.out.print(t)
