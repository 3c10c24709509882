"""``multisite due``: reminders of what ends, lapses or falls due within a window of days."""

from __future__ import annotations

import argparse
from typing import Any

from ..i18n import _
from ..services.due import DEFAULT_WITHIN, due_items
from .common import EXIT_OK, Context, command, iso_date, positive_int, table


def register(sub: Any) -> None:
    due = sub.add_parser(
        "due",
        help=_(
            "contracts ending, filings lapsing, suspensions ending, validations and listings due"
        ),
    )
    due.add_argument(
        "--within",
        type=positive_int,
        default=DEFAULT_WITHIN,
        metavar="DAYS",
        help=_("how many days ahead to look (default 30)"),
    )
    due.add_argument("--on", type=iso_date, metavar="DATE", help=_("the first day (default today)"))
    due.add_argument("--institution", metavar="CODE", help=_("only this institution's items"))
    due.add_argument("--json", action="store_true")


@command("due")
def cmd_due(args: argparse.Namespace, ctx: Context) -> int:
    items = due_items(ctx.registry, args.within, args.on, args.institution)
    if args.json:
        ctx.json([x.as_json() for x in items])
        return EXIT_OK
    if not items:
        ctx.out.print(_("Nothing is due within {days} days.").format(days=args.within))
        return EXIT_OK
    t = table(_("due"), _("what"), _("practitioner"), _("institution"), _("reference"),
              title=_("Due within {days} days").format(days=args.within))  # fmt: skip
    for x in items:
        profession = _(x.profession or "physician")  # 医师/护士
        who = f"{profession} {x.physician_name} {x.physician}" if x.physician else "-"
        where = f"{x.institution_name} {x.institution}" if x.institution else "-"
        t.add_row(x.due.isoformat(), x.label, who, where, x.reference)
    ctx.out.print(t)
    return EXIT_OK
