"""The ``multisite`` command line (SPEC §6). Every command goes through the service layer.

Exit codes: 0 success / nothing found; 1 violations found (``check``) or rows rejected
(``import``); 2 bad usage or bad input. Errors are one sentence on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import pkgutil
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from . import i18n
from .i18n import N_, _
from .policy import PolicyError
from .service import Registry, ServiceError
from .storage import Database, StorageError, database_url, upgrade

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
        self.out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
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
            self._registry = Registry(self.db, self.args.clerk)
        return self._registry

    def json(self, document: Any) -> None:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n")

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


def build_parser() -> Parser:
    parser = Parser(prog="multisite", description=_("Regional registry of multi-site physicians."))
    parser.add_argument(
        "--db", help=_("SQLAlchemy database URL (default: the embedded SQLite file)")
    )
    parser.add_argument("--clerk", help=_("the clerk's name written to the audit log"))
    parser.add_argument("--lang", choices=("zh", "en"), help=_("language of messages"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    sub.add_parser("init", help=_("create or upgrade the schema"))
    demo = sub.add_parser("demo", help=_("fill an empty database with a synthetic region"))
    demo.add_argument("--physicians", type=positive_int, default=2000)
    demo.add_argument("--seed", type=int, default=1)

    nouns = (
        ("physician", "cert", _("show a physician")),
        ("institution", "code", _("show an institution")),
    )
    for noun, key, help_text in nouns:
        group = sub.add_parser(noun, help=help_text)
        verbs = group.add_subparsers(
            dest="verb", metavar="VERB", parser_class=Parser, required=True
        )
        show = verbs.add_parser("show")
        show.add_argument(key)
        show.add_argument("--json", action="store_true")

    check = sub.add_parser("check", help=_("sweep the region for rule violations"))
    check.add_argument("--physician")
    check.add_argument("--institution")
    check.add_argument("--json", action="store_true")

    summary = sub.add_parser("summary", help=_("counts of the registry"))
    summary.add_argument("--json", action="store_true")
    for module in command_modules():
        module.register(sub)
    return parser


def command_modules() -> list[Any]:
    """The modules of ``multisite.commands``, each adding its own subcommands."""
    from . import commands

    names = sorted(info.name for info in pkgutil.iter_modules(commands.__path__))
    return [importlib.import_module(f"{commands.__name__}.{name}") for name in names]


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _peek_lang(argv)
    try:
        i18n.set_language(lang)
    except ValueError:
        i18n.set_language("en")
    context: Context | None = None
    try:
        args = build_parser().parse_args(argv)
        if not args.command:
            build_parser().print_help()
            return EXIT_USAGE
        context = Context(args)
        handler = COMMANDS[args.command]
        return handler(args, context)
    except UsageError as error:
        return _fail(_("Bad usage: {problem}.").format(problem=str(error).rstrip(".")))
    except (ServiceError, StorageError, PolicyError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail(_("Interrupted; nothing of the unfinished operation was stored."))
    except OSError as error:
        return _fail(
            _("{file}: {reason}.").format(file=error.filename or "", reason=error.strerror)
        )
    except Exception as error:  # the last guard: one sentence, never a traceback
        if os.environ.get("MULTISITE_DEBUG"):
            raise
        return _fail(
            _(
                "Unexpected internal error ({kind}: {detail}); nothing was stored. Set "
                "MULTISITE_DEBUG=1 to see details."
            ).format(kind=type(error).__name__, detail=error)
        )
    finally:
        if context is not None:
            context.close()


def _peek_lang(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


def _fail(message: str) -> int:
    sys.stderr.write(message.rstrip() + "\n")
    return EXIT_USAGE


def table(*columns: str, title: str | None = None) -> Table:
    t = Table(title=title, show_lines=False, header_style="bold", title_justify="left")
    for column in columns:
        t.add_column(column, overflow="fold")
    return t


# --- commands ----------------------------------------------------------------------------------


@command("init")
def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    before, after = upgrade(ctx.db.engine)
    if before == after:
        ctx.out.print(_("The schema is up to date (revision {rev}).").format(rev=after))
    elif before is None:
        ctx.out.print(_("Created the schema (revision {rev}).").format(rev=after))
    else:
        ctx.out.print(_("Upgraded the schema from {old} to {new}.").format(old=before, new=after))
    return EXIT_OK


@command("demo")
def cmd_demo(args: argparse.Namespace, ctx: Context) -> int:
    from .demo import generate

    upgrade(ctx.db.engine)
    registry = ctx.registry
    generate(registry, physicians=args.physicians, seed=args.seed, progress=sys.stderr.isatty())
    print_summary(ctx, registry.summary())
    return EXIT_OK


@command("summary")
def cmd_summary(args: argparse.Namespace, ctx: Context) -> int:
    counts = ctx.registry.summary()
    if args.json:
        ctx.json(counts)
    else:
        print_summary(ctx, counts)
    return EXIT_OK


def print_summary(ctx: Context, counts: dict[str, int]) -> None:
    labels = {
        "regions": _("regions"),
        "institutions": _("institutions"),
        "physicians": _("physicians"),
        "multi_site_physicians": _("multi-site physicians"),
        "agreements": _("agreements"),
        "sessions": _("weekly sessions"),
        "audit_entries": _("audit entries"),
    }
    t = table(_("item"), _("count"), title=_("Registry summary"))
    for key, label in labels.items():
        t.add_row(label, f"{counts.get(key, 0):,}")
    ctx.out.print(t)


@command("physician")
def cmd_physician(args: argparse.Namespace, ctx: Context) -> int:
    from .views import physician_view

    view = physician_view(ctx.registry, args.cert)
    if args.json:
        ctx.json(view)
        return EXIT_OK
    p = view
    ctx.out.print(
        f"[bold]{p['name']}[/]  {p['cert']}  {p['level']} · {p['category']} · "
        f"{'、'.join(p['scopes'])} · {p['title']}  ({_('status')}: {_(p['status'])})"
    )
    regs = table(
        _("region"), _("main institution"), _("registered"), _("history"), title=_("Registrations")
    )
    for r in p["registrations"]:
        history = "; ".join(
            f"{_(e['status'])} {e['on']}"
            + (f"–{e['until']}" if e.get("until") else "")
            + (f" ({e['reason']})" if e.get("reason") else "")
            for e in r["history"]
        )
        regs.add_row(
            r["region"],
            f"{r['main_institution']['name']} ({r['main_institution']['code']})",
            r["registered_on"],
            history,
        )
    ctx.out.print(regs)
    if p["filings"]:
        filings = table(
            _("institution"), _("scope"), _("valid from"), _("valid to"), title=_("Filings")
        )
        for f in p["filings"]:
            filings.add_row(
                f"{f['institution']['name']} ({f['institution']['code']})",
                f["scope"],
                f["valid_from"],
                f["valid_to"],
            )
        ctx.out.print(filings)
    agreements = table(
        _("contract"),
        _("institution"),
        _("role"),
        _("department"),
        _("period"),
        _("h/week"),
        _("sessions"),
        _("status"),
        title=_("Agreements"),
    )
    for a in p["agreements"]:
        agreements.add_row(
            a["contract_no"],
            a["institution"]["name"],
            _(a["role"]),
            a["department"],
            f"{a['start']} – {a['end']}",
            f"{a['scheduled_hours']:g}/{a['weekly_hours']:g}",
            "; ".join(a["sessions"]),
            _(a["status"]),
        )
    ctx.out.print(agreements)
    if p.get("grassroots_hours"):
        g = table(
            _("year"), _("hours at grassroots institutions"), title=_("Grassroots experience")
        )
        for year, hours in p["grassroots_hours"].items():
            g.add_row(str(year), f"{hours:g}")
        ctx.out.print(g)
    print_violations(ctx, p["violations"], title=_("Violations and warnings"))
    return EXIT_OK


@command("institution")
def cmd_institution(args: argparse.Namespace, ctx: Context) -> int:
    from .views import institution_view

    view = institution_view(ctx.registry, args.code)
    if args.json:
        ctx.json(view)
        return EXIT_OK
    i = view
    ctx.out.print(
        f"[bold]{i['name']}[/]  {i['code']}  {i['kind']} · {_('beds')} {i['beds']} · "
        f"{i['county_code']}" + (f" · {_('grassroots')}" if i["grassroots"] else "")
    )
    ctx.out.print(f"{_('address')}: {i['address'] or '-'}")
    ctx.out.print(f"{_('departments')}: {'、'.join(i['departments']) or '-'}")
    t = table(
        _("contract"),
        _("physician"),
        _("certificate"),
        _("role"),
        _("department"),
        _("period"),
        _("h/week"),
        _("status"),
        title=_("Agreements at this institution"),
    )
    for a in i["agreements"]:
        t.add_row(
            a["contract_no"],
            a["physician"]["name"],
            a["physician"]["cert"],
            _(a["role"]),
            a["department"],
            f"{a['start']} – {a['end']}",
            f"{a['scheduled_hours']:g}",
            _(a["status"]),
        )
    ctx.out.print(t)
    ctx.out.print(
        _("Physicians registered here as main institution: {n}").format(n=i["main_registered"])
    )
    return EXIT_OK


def print_violations(ctx: Context, violations: list[dict[str, Any]], title: str) -> None:
    if not violations:
        ctx.out.print(_("No violations."))
        return
    t = table(
        _("code"),
        _("severity"),
        _("physician"),
        _("agreements"),
        _("first date"),
        _("measure"),
        _("message"),
        title=title,
    )
    for v in violations:
        style = "red" if v["severity"] == "error" else "yellow"
        t.add_row(
            f"[{style}]{v['code']}[/]",
            _(v["severity"]),
            v["physician"],
            ", ".join(v["agreements"]),
            v["first_date"],
            f"{v['measure']:g} {_(v['unit'])}",
            v["message"],
        )
    ctx.out.print(t)


@command("check")
def cmd_check(args: argparse.Namespace, ctx: Context) -> int:
    found = ctx.registry.check(physician=args.physician, institution=args.institution)
    documents = [v.as_json() for v in found]
    if args.json:
        ctx.json(documents)
    else:
        print_violations(ctx, documents, title=_("Violations"))
        errors = sum(1 for v in found if v.severity == "error")
        ctx.out.print(
            _("{errors} errors, {warnings} warnings.").format(
                errors=errors, warnings=len(found) - errors
            )
        )
    return EXIT_FOUND if found else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    # ``python -m multisite.cli``: run the imported module's main, whose COMMANDS the plugins
    # of multisite.commands fill (this __main__ copy would know only the built-in commands).
    from multisite.cli import main as package_main

    raise SystemExit(package_main())
