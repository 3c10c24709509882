"""``multisite filing …``: a physician's filings (备案) — show, renew, end."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ..i18n import _
from ..services import FilingChange
from .common import EXIT_OK, Context, Parser, command, iso_date, print_violations, table


def register(sub: Any) -> None:
    group = sub.add_parser("filing", help=_("a physician's filings (备案): show, renew, end"))
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    show = verbs.add_parser("show", help=_("every filing of a physician with its history"))
    show.add_argument("cert")
    show.add_argument("--json", action="store_true")
    renew = verbs.add_parser("renew", help=_("renew or extend a filing until a date"))
    renew.add_argument("cert")
    renew.add_argument("institution", help=_("the institution's code"))
    renew.add_argument("--until", type=iso_date, required=True, metavar="DATE")
    renew.add_argument("--authority", help=_("the authority that accepted the filing"))
    renew.add_argument("--number", help=_("the filing's number"))
    renew.add_argument(
        "--from",
        dest="start",
        type=iso_date,
        metavar="DATE",
        help=_("first day of a filing renewed after it was ended (default: the next day)"),
    )
    end = verbs.add_parser("end", help=_("end a filing on a date (its last day)"))
    end.add_argument("cert")
    end.add_argument("institution", help=_("the institution's code"))
    end.add_argument("--on", type=iso_date, required=True, metavar="DATE")
    end.add_argument("--reason", required=True)


@command("filing")
def cmd_filing(args: argparse.Namespace, ctx: Context) -> int:
    registry = ctx.registry
    if args.verb == "show":
        views = registry.filings(args.cert)
        if args.json:
            ctx.json([v.as_json() for v in views])
            return EXIT_OK
        _print_filings(ctx, views)
        return EXIT_OK
    if args.verb == "renew":
        change = registry.renew_filing(
            args.cert, args.institution, args.until, authority=args.authority,
            number=args.number, start=args.start,
        )  # fmt: skip
        text = _("Renewed the filing of {cert} at {institution}: valid from {start} until {end}.")
    else:
        change = registry.end_filing(args.cert, args.institution, args.on, args.reason)
        text = _("Ended the filing of {cert} at {institution} on {end}.")
    _print_change(ctx, change, text)
    return EXIT_OK


def _print_change(ctx: Context, change: FilingChange, text: str) -> None:
    f = change.filing
    ctx.out.print(
        text.format(
            cert=f.cert, institution=f.institution_name, start=f.valid_from.isoformat(),
            end=f.valid_to.isoformat(),
        ),
        markup=False,
    )  # fmt: skip
    if change.violations:
        ctx.out.print(_("Agreements outside every filing (PERIOD):"), markup=False)
        print_violations(ctx, [v.as_json() for v in change.violations], title=None)


def _print_filings(ctx: Context, views: Any) -> None:
    if not views:
        ctx.out.print(_("No filings."))
        return
    today = dt.date.today()
    t = table(
        _("institution"), _("region"), _("scope"), _("valid from"), _("valid to"), _("state"),
        _("authority"), _("number"), _("history"), title=_("Filings"),
    )  # fmt: skip
    for f in views:
        history = "; ".join(
            f"{_(e.action)} {e.on.isoformat()} → {e.valid_to.isoformat()}"
            + (f" ({e.contract_no})" if e.contract_no else "")
            + (f" {e.reason}" if e.reason else "")
            for e in f.history
        )
        t.add_row(
            f"{f.institution_name} ({f.institution_code})", f.region, f.scope,
            f.valid_from.isoformat(), f.valid_to.isoformat(), _(f.state_on(today)),
            f.authority or "-", f.number or "-", history,
        )  # fmt: skip
    ctx.out.print(t)
