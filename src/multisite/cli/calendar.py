"""Calendar commands: ``ical``, ``feed issue|revoke``, ``serve`` and ``holidays import``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..domain.holidays import HolidayFileProblem, parse_holiday_file
from ..domain.vocabulary import PROFESSIONS
from ..i18n import _
from ..services import ServiceError
from ..services.calendars import ENV_BASE_URL, Calendars, Export
from .common import EXIT_OK, Context, Parser, command, positive_int


def register(sub: Any) -> None:
    ical = sub.add_parser("ical", help=_("export a schedule as an iCalendar file"))
    kinds = ical.add_subparsers(dest="kind", metavar="KIND", parser_class=Parser, required=True)
    for kind, key, label in (
        ("physician", "cert", _("certificate number")),
        ("nurse", "cert", _("the nurse's certificate number (护士执业证书编号)")),
        ("institution", "code", _("institution code (统一社会信用代码)")),
    ):
        one = kinds.add_parser(kind)
        one.add_argument(key, help=label)
        one.add_argument("-o", "--output", metavar="FILE", help=_("write here, not to stdout"))

    feed = sub.add_parser("feed", help=_("issue or revoke a calendar subscription URL"))
    verbs = feed.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    for verb in ("issue", "revoke"):
        one = verbs.add_parser(verb)
        one.add_argument("cert", nargs="?", help=_("the physician's or nurse's certificate number"))
        one.add_argument("--institution", metavar="CODE", help=_("an institution's own feed"))
        if verb == "issue":
            one.add_argument(
                "--due",
                action="store_true",
                help=_("with --institution: its due items (VTODO) for its HR office"),
            )
            one.add_argument(
                "--base-url",
                help=_("public base URL of the feed server (default: $MULTISITE_FEED_BASE_URL)"),
            )
            one.add_argument(
                "--replace",
                action="store_true",
                help=_("revoke the URLs issued before (without it they stay valid)"),
            )

    serve = sub.add_parser("serve", help=_("run the calendar feed server"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=positive_int, default=8000)
    serve.add_argument(
        "--recheck",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help=_("how long a cached feed is served before the database is checked again"),
    )
    serve.add_argument(
        "--max-connections",
        type=positive_int,
        default=4096,
        metavar="N",
        help=_("open connections at most (lowered to fit the limit on open files)"),
    )
    serve.add_argument(
        "--head-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help=_("how long a client may take to send a request's line and headers"),
    )

    serve.add_argument(
        "--public",
        action="store_true",
        help=_("serve the public pages too: search, physicians, institutions, listings"),
    )

    holidays = sub.add_parser("holidays", help=_("load holiday data"))
    hverbs = holidays.add_subparsers(
        dest="verb", metavar="VERB", parser_class=Parser, required=True
    )
    load = hverbs.add_parser("import", help=_("a year of holidays and make-up workdays"))
    load.add_argument("file")


def _owner(args: argparse.Namespace) -> tuple[str | None, str | None]:
    if (args.cert is None) == (args.institution is None):
        raise ServiceError(_("Name exactly one of a physician (CERT) or --institution CODE."))
    return args.cert, args.institution


@command("ical")
def cmd_ical(args: argparse.Namespace, ctx: Context) -> int:
    calendars = Calendars(ctx.registry)
    if args.kind in PROFESSIONS:
        ctx.registry.require_profession(args.cert, args.kind)
    export: Export = (
        calendars.physician_calendar(args.cert)
        if args.kind in PROFESSIONS
        else calendars.institution_calendar(args.code)
    )
    if args.output:
        Path(args.output).write_bytes(export.body)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(export.body)
        sys.stdout.buffer.flush()
    if export.unknown_years:
        sys.stderr.write(
            _(
                "Warning: no holiday data for {years}; those years are exported without "
                "holidays (load them with `multisite holidays import FILE`)."
            ).format(years=", ".join(str(y) for y in export.unknown_years))
            + "\n"
        )
    return EXIT_OK


@command("feed")
def cmd_feed(args: argparse.Namespace, ctx: Context) -> int:
    cert, institution = _owner(args)
    calendars = Calendars(ctx.registry)
    if args.verb == "issue":
        replace = bool(args.replace)
        live = calendars.live_feeds(cert, institution)
        if live and not replace and sys.stdin.isatty() and sys.stderr.isatty():
            sys.stderr.write(
                _("{n} earlier URL(s) of this feed are valid. Revoke them? [y/N] ").format(n=live)
            )
            sys.stderr.flush()
            replace = sys.stdin.readline().strip().lower() in ("y", "yes", "是")
        issued = calendars.issue_feed(
            cert, institution, args.base_url, due=args.due, replace=replace
        )
        # Plain writes: the first line must be the https URL exactly, never wrapped.
        sys.stdout.write(issued.https_url + "\n" + issued.webcal_url + "\n")
        sys.stdout.flush()
        notes = [_("Keep this URL secret: anyone who has it can read the schedule.")]
        if not issued.configured:
            notes.append(
                _(
                    "No public base URL is configured (--base-url or {env}): {url} is a "
                    "placeholder. `multisite serve` speaks plain http on 127.0.0.1:8000; put an "
                    "https reverse proxy in front of it and set {env} to its address (README)."
                ).format(env=ENV_BASE_URL, url=issued.https_url.split("/feeds/", 1)[0])
            )
        if issued.still_valid:
            notes.append(
                _(
                    "The {n} URL(s) issued before stay valid too; `feed issue --replace` or "
                    "`feed revoke` ends them."
                ).format(n=issued.still_valid)
            )
        if issued.replaced:
            notes.append(_("Revoked {n} URL(s) issued before.").format(n=issued.replaced))
        sys.stderr.write("\n".join(notes) + "\n")
        return EXIT_OK
    result = calendars.revoke_feeds(cert, institution)
    count = int(result.notes[0]) if result.notes else 0
    ctx.out.print(
        _("Revoked {count} subscription(s) of {key}.").format(count=count, key=result.key)
    )
    return EXIT_OK


@command("serve")
def cmd_serve(args: argparse.Namespace, ctx: Context) -> int:
    from ..feed import serve
    from ..public import public_routes

    if args.recheck < 0:
        raise ServiceError(_("--recheck must not be negative."))
    if not 0 < args.head_timeout <= 3600 or args.max_connections < 1:
        raise ServiceError(
            _("--head-timeout must be between 0 and 3600 seconds and --max-connections at least 1.")
        )
    serve(
        ctx.registry,
        args.host,
        args.port,
        recheck_seconds=args.recheck,
        max_connections=args.max_connections,
        head_timeout=args.head_timeout,
        extra_routes=public_routes(ctx.registry) if args.public else (),
    )
    return EXIT_OK


@command("holidays")
def cmd_holidays(args: argparse.Namespace, ctx: Context) -> int:
    try:
        days = parse_holiday_file(args.file)
    except HolidayFileProblem as problem:
        raise ServiceError(str(problem)) from None
    result = Calendars(ctx.registry).import_holidays(days)
    ctx.out.print(
        _(
            "Loaded {year}: {holidays} holidays and {workdays} make-up workdays "
            "({replaced} days loaded before were replaced)."
        ).format(
            year=result.year,
            holidays=result.holidays,
            workdays=result.workdays,
            replaced=result.replaced,
        )
    )
    return EXIT_OK
