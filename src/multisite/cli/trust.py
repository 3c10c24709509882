"""``multisite clerk add|list|disable`` (who may write what) and ``multisite audit verify``
(the audit chain recomputed)."""

from __future__ import annotations

import argparse
from typing import Any

from ..i18n import _
from .common import EXIT_FOUND, EXIT_OK, Context, Parser, command, table


def register(sub: Any) -> None:
    group = sub.add_parser("clerk", help=_("the registry's clerks: region and role"))
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    add = verbs.add_parser("add", help=_("add a clerk (or change one's region and role)"))
    add.add_argument("name", help=_("the OS user (SQLite) or PostgreSQL role they log in as"))
    add.add_argument("--region", required=True, help=_("province, city or county code"))
    add.add_argument("--role", required=True, choices=("clerk", "supervisor", "admin"))
    listing = verbs.add_parser("list", help=_("every clerk with region and role"))
    listing.add_argument("--json", action="store_true")
    disable = verbs.add_parser(
        "disable", help=_("stop a clerk from reading or writing the registry")
    )
    disable.add_argument("name")

    audit = sub.add_parser("audit", help=_("the audit log"))
    averbs = audit.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    averbs.add_parser(
        "verify", help=_("recompute the audit chain (exit 1 naming the first bad row)")
    )


@command("clerk")
def cmd_clerk(args: argparse.Namespace, ctx: Context) -> int:
    registry = ctx.registry
    if args.verb == "add":
        outcome = registry.add_clerk(args.name, args.region, args.role)
        message = (
            _("Added clerk {name}: {role} of {region}.")
            if outcome == "created"
            else _("Changed clerk {name}: {role} of {region}.")
        )
        ctx.out.print(
            message.format(
                name=args.name, role=_(args.role), region=registry.region_name(args.region)
            )
        )
        return EXIT_OK
    if args.verb == "disable":
        registry.disable_clerk(args.name)
        ctx.out.print(_("Disabled clerk {name}.").format(name=args.name))
        return EXIT_OK
    clerks = registry.clerk_list()
    if args.json:
        ctx.json(
            [
                {"name": c.name, "region": c.region, "role": c.role, "enabled": c.enabled,
                 "created_at": c.created_at, "created_by": c.created_by}
                for c in clerks
            ]
        )  # fmt: skip
        return EXIT_OK
    t = table(_("clerk"), _("clerk role"), _("jurisdiction"), _("enabled"), _("added"), _("by"))
    for c in clerks:
        t.add_row(
            c.name, _(c.role), c.region_name, _("yes") if c.enabled else _("no"), c.created_at,
            c.created_by,
        )  # fmt: skip
    ctx.out.print(t)
    return EXIT_OK


@command("audit")
def cmd_audit(args: argparse.Namespace, ctx: Context) -> int:
    checked, broken = ctx.registry.verify_audit()
    if broken is None:
        ctx.out.print(_("The audit chain is intact: {count} rows verified.").format(count=checked))
        return EXIT_OK
    if broken.reason == "tail":
        message = _(
            "The audit chain is broken at row {row}: the rows after row {after} are missing."
        )
    elif broken.reason == "unchained":
        message = _("The audit chain is broken at row {row}: it carries no chain hash.")
    else:
        message = _(
            "The audit chain is broken at row {row}: its hash does not match its content and "
            "the row before it ({after}); it was edited, or a row before it deleted or moved."
        )
    ctx.err(message.format(row=broken.row, after=broken.after or "-"))
    return EXIT_FOUND
