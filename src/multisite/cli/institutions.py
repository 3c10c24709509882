"""``multisite institution …``: an institution and the agreements at it."""

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
        Text.assemble(
            plain(i["name"], "bold"),
            printable(
                f"  {i['code']}  {i['kind']} · {_('beds')} {i['beds']} · "
                f"{i['county_code']} {i['region_name']}"
                + (f" · {_('grassroots')}" if i["grassroots"] else "")
            ),
        )
    )
    ctx.out.print(f"{_('address')}: {i['address'] or '-'}")
    ctx.out.print(f"{_('departments')}: {'、'.join(i['departments']) or '-'}")
    v = i["validation"]
    ctx.out.print(
        _(
            "Physician base: required {required:g}, counted {counted:g} ({status}); "
            "next validation {day}, apply by {apply_by}."
        ).format(
            required=v["required"],
            counted=v["counted"],
            status=_(v["status"]),
            day=v["next_validation"],
            apply_by=v["apply_by"],
        )
    )
    if v.get("nurse_required") or v.get("nurse_count"):
        ctx.out.print(
            _("Nurses: required {required:g}, counted {counted:g}: {status}.").format(
                required=v["nurse_required"],
                counted=v["nurse_counted"],
                status=_("short") if v["nurse_status"] == "short" else _("meets"),
            ),
            markup=False,
        )
    for c in v["contributors"]:
        if not c["counted"]:
            ctx.out.print(f"  {c['name']} {c['physician']}: {_(NOT_COUNTED[c['not_counted']])}")
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
