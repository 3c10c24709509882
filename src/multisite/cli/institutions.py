"""``multisite institution …``: an institution and the agreements at it."""

from __future__ import annotations

import argparse
from typing import Any

from ..i18n import _
from .common import (
    EXIT_OK,
    Context,
    Parser,
    command,
    table,
)


def register(sub: Any) -> None:
    group = sub.add_parser("institution", help=_("show an institution"))
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    show = verbs.add_parser("show")
    show.add_argument("code")
    show.add_argument("--json", action="store_true")


@command("institution")
def cmd_institution(args: argparse.Namespace, ctx: Context) -> int:
    from ..services.views import institution_view

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
