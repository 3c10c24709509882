"""``multisite physician …``: a physician, their registrations, filings and agreements."""

from __future__ import annotations

import argparse
from typing import Any

from rich.text import Text

from ..escaping import plain, printable
from ..i18n import _
from ..services.validation_base import NOT_COUNTED
from .common import (
    EXIT_OK,
    Context,
    Parser,
    command,
    print_violations,
    table,
)


def register(sub: Any) -> None:
    group = sub.add_parser("physician", help=_("show a physician"))
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    show = verbs.add_parser("show")
    show.add_argument("cert")
    show.add_argument("--json", action="store_true")


@command("physician")
def cmd_physician(args: argparse.Namespace, ctx: Context) -> int:
    from ..services.views import physician_view

    view = physician_view(ctx.registry, args.cert)
    if args.json:
        ctx.json(view)
        return EXIT_OK
    p = view
    ctx.out.print(
        Text.assemble(
            plain(p["name"], "bold"),
            printable(
                f"  {p['cert']}  {p['level']} · {p['category']} · {'、'.join(p['scopes'])} · "
                f"{p['title']}  ({_('status')}: {_(p['status'])})"
            ),
        )
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
            f"{r['region']} {r['region_name']}",
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
    served, planned = p["grassroots_hours"], p["grassroots_planned_hours"]
    if served or planned:
        g = table(
            _("year"),
            _("hours served at grassroots institutions"),
            _("hours planned"),
            title=_("Grassroots experience (served: up to today)"),
        )
        for year in sorted(set(served) | set(planned)):
            g.add_row(str(year), f"{served.get(year, 0):g}", f"{planned.get(year, 0):g}")
        ctx.out.print(g)
    if p["counts_toward_minimum"]:
        m = table(
            _("institution"), _("kind"), _("counts toward its minimum"),
            title=_("Physician base (医师基数) today"),
        )  # fmt: skip
        for row in p["counts_toward_minimum"]:
            reason = row["not_counted"]
            m.add_row(
                row["name"], row["kind"], _("yes") if row["counted"] else _(NOT_COUNTED[reason])
            )
        ctx.out.print(m)
    print_violations(ctx, p["violations"], title=_("Violations and warnings"))
    return EXIT_OK
