"""``multisite credit …``: the credit register (诚信/黑名单) — dated listings of physicians and
institutions, and points for misconduct (不良执业行为记分)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ..i18n import _
from ..services import ListingChange, ListingInput
from .common import EXIT_OK, Context, Parser, command, iso_date, print_violations, table


def register(sub: Any) -> None:
    group = sub.add_parser(
        "credit", help=_("the credit register: dishonesty listings and misconduct points")
    )
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    add = verbs.add_parser("add", help=_("list a physician or an institution from a date"))
    add.add_argument("subject", choices=("physician", "institution"))
    add.add_argument("key", help=_("certificate number or institution code"))
    add.add_argument("--from", dest="start", type=iso_date, required=True, metavar="DATE")
    add.add_argument("--to", dest="until", type=iso_date, metavar="DATE")
    add.add_argument("--reason", required=True)
    add.add_argument("--authority", required=True, help=_("the deciding authority"))
    add.add_argument("--decision", default="", metavar="NUMBER", help=_("decision number"))
    end = verbs.add_parser("end", help=_("end a listing on a date (its last day)"))
    end.add_argument("id", type=int)
    end.add_argument("--on", type=iso_date, required=True, metavar="DATE")
    show = verbs.add_parser("show", help=_("listings and points on file"))
    show.add_argument("--physician", metavar="CERT")
    show.add_argument("--institution", metavar="CODE")
    show.add_argument("--json", action="store_true")
    points = verbs.add_parser("points", help=_("record misconduct points against a physician"))
    points.add_argument("cert")
    points.add_argument("--on", type=iso_date, required=True, metavar="DATE")
    points.add_argument("--points", type=int, required=True, metavar="N")
    points.add_argument("--reason", required=True)
    points.add_argument("--authority", required=True)
    points.add_argument("--decision", default="", metavar="NUMBER")


@command("credit")
def cmd_credit(args: argparse.Namespace, ctx: Context) -> int:
    registry = ctx.registry
    if args.verb == "add":
        change = registry.add_listing(
            ListingInput(
                args.subject, args.key, args.start, args.reason, args.authority, args.until,
                args.decision,
            )
        )  # fmt: skip
        _print_change(ctx, change)
    elif args.verb == "end":
        _print_change(ctx, registry.end_listing(args.id, args.on))
    elif args.verb == "points":
        recorded = registry.add_points(
            args.cert, args.on, args.points, args.reason, args.authority, args.decision
        )
        ctx.out.print(
            _("Recorded {points} points against {name} ({cert}) on {on}.").format(
                points=recorded.points, name=recorded.name, cert=recorded.cert,
                on=recorded.on.isoformat(),
            ),
            markup=False,
        )  # fmt: skip
    else:
        record = registry.credit_record(args.physician, args.institution)
        if args.json:
            ctx.json(record.as_json())
            return EXIT_OK
        _print_record(ctx, record.listings, record.points)
    return EXIT_OK


def _print_change(ctx: Context, change: ListingChange) -> None:
    x = change.listing
    until = x.until.isoformat() if x.until else _("open")
    messages = {
        "created": _("Listing {id}: {name} ({key}) is on the dishonesty list from {start} to {until}."),
        "updated": _("Listing {id} changed: {name} ({key}) is listed from {start} to {until}."),
        "unchanged": _("Listing {id} is already on file as given; nothing changed."),
    }  # fmt: skip
    ctx.out.print(
        messages[change.outcome].format(
            id=x.id, name=x.name, key=x.key, start=x.start.isoformat(), until=until
        ),
        markup=False,
    )
    if change.violations:
        ctx.out.print(_("Agreements in force while listed (CREDIT):"), markup=False)
        print_violations(ctx, [v.as_json() for v in change.violations], title=None)


def _print_record(ctx: Context, listings: Any, points: Any) -> None:
    today = dt.date.today()
    t = table(
        _("listing no."), _("subject"), _("name"), _("from"), _("to"), _("reason"), _("authority"),
        _("decision"), _("today"), title=_("Dishonesty listings (失信/黑名单)"),
    )  # fmt: skip
    for x in listings:
        t.add_row(
            str(x.id), f"{_(x.profession or x.subject)} {x.key}", x.name, x.start.isoformat(),
            x.until.isoformat() if x.until else _("open"), x.reason, x.authority or "-",
            x.decision or "-", _("listed") if x.in_force_on(today) else "-",
        )  # fmt: skip
    ctx.out.print(t if listings else _("No listings."))
    if points:
        p = table(
            _("practitioner"), _("name"), _("on"), _("points"), _("reason"), _("authority"),
            _("decision"), title=_("Misconduct points (不良执业行为记分)"),
        )  # fmt: skip
        for x in points:
            p.add_row(
                f"{_(x.profession)} {x.cert}", x.name, x.on.isoformat(), str(x.points), x.reason, x.authority,
                x.decision or "-",
            )  # fmt: skip
        ctx.out.print(p)
