"""``multisite inspect …``: random inspections (双随机) — the inspectors list, draws, results."""

from __future__ import annotations

import argparse
from typing import Any

from ..i18n import _
from ..services.inspections import OUTCOMES, DrawView, Inspections
from .common import EXIT_OK, Context, Parser, command, iso_date, positive_int, table


def register(sub: Any) -> None:
    group = sub.add_parser(
        "inspect", help=_("random inspections (双随机): inspectors, draws, results")
    )
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    people = verbs.add_parser("inspectors", help=_("the inspectors list the commission keeps"))
    pverbs = people.add_subparsers(
        dest="action", metavar="ACTION", parser_class=Parser, required=True
    )
    add = pverbs.add_parser("add", help=_("put an inspector on the list"))
    add.add_argument("name")
    add.add_argument("--unit", required=True, help=_("the inspector's unit (执法单位)"))
    add.add_argument("--region", required=True, metavar="CODE")
    show = pverbs.add_parser("list", help=_("the inspectors on the list"))
    show.add_argument("--region", metavar="CODE")
    show.add_argument("--json", action="store_true")
    off = pverbs.add_parser("disable", help=_("take an inspector off future draws"))
    off.add_argument("id", type=int)
    draw = verbs.add_parser("draw", help=_("draw institutions and their inspectors at random"))
    draw.add_argument("--institutions", type=positive_int, required=True, metavar="N")
    draw.add_argument("--inspectors", type=positive_int, required=True, metavar="M",
                      help=_("inspectors drawn for each institution"))  # fmt: skip
    draw.add_argument("--seed", help=_("the seed that reproduces the draw (default: random)"))
    draw.add_argument("--region", metavar="CODE", help=_("only this region's institutions"))
    draw.add_argument("--json", action="store_true")
    one = verbs.add_parser("show", help=_("a draw with its results"))
    one.add_argument("draw", type=int)
    one.add_argument("--json", action="store_true")
    record = verbs.add_parser("record", help=_("store an inspection's result"))
    record.add_argument("draw", type=int)
    record.add_argument("institution", metavar="CODE")
    record.add_argument("--on", type=iso_date, required=True, metavar="DATE")
    record.add_argument("--outcome", required=True,
                        help=_("compliant|rectify|non_compliant (合格|责令整改|不合格)"))  # fmt: skip
    record.add_argument("--findings", default="")


@command("inspect")
def cmd_inspect(args: argparse.Namespace, ctx: Context) -> int:
    service = Inspections(ctx.registry)
    if args.verb == "inspectors":
        if args.action == "add":
            x = service.add_inspector(args.name, args.unit, args.region)
            ctx.out.print(
                _("Inspector {id}: {name} of {unit} ({region}).").format(
                    id=x.id, name=x.name, unit=x.unit, region=x.region
                ),
                markup=False,
            )
        elif args.action == "disable":
            x = service.disable_inspector(args.id)
            ctx.out.print(_("Inspector {id} ({name}) takes part in no further draws.").format(
                id=x.id, name=x.name), markup=False)  # fmt: skip
        else:
            found = service.inspectors(args.region)
            if args.json:
                ctx.json([x.as_json() for x in found])
                return EXIT_OK
            t = table(_("id"), _("name"), _("unit"), _("jurisdiction"), _("active"),
                      title=_("Inspectors"))  # fmt: skip
            for x in found:
                t.add_row(str(x.id), x.name, x.unit, x.region, _("yes") if x.active else _("no"))
            ctx.out.print(t if found else _("No inspectors on the list."))
        return EXIT_OK
    if args.verb == "draw":
        drawn = service.draw(args.institutions, args.inspectors, args.seed, args.region)
    elif args.verb == "show":
        drawn = service.show(args.draw)
    else:
        done = service.record(args.draw, args.institution, args.on, args.outcome, args.findings)
        ctx.out.print(
            _("Recorded the inspection of {name} ({code}) on {on}: {outcome}.").format(
                name=done.institution_name, code=done.institution,
                on=args.on.isoformat(), outcome=_(OUTCOMES[done.outcome or ""]),
            ),
            markup=False,
        )  # fmt: skip
        return EXIT_OK
    if args.json:
        ctx.json(drawn.as_json())
        return EXIT_OK
    _print_draw(ctx, drawn)
    return EXIT_OK


def _print_draw(ctx: Context, drawn: DrawView) -> None:
    t = table(
        _("institution"), _("name"), _("inspectors"), _("inspected on"), _("outcome"),
        title=_("Draw {id} (seed {seed}) by {who} at {at}").format(
            id=drawn.id, seed=drawn.seed, who=drawn.drawn_by,
            at=drawn.drawn_at.isoformat(sep=" "),
        ),
    )  # fmt: skip
    for x in drawn.inspections:
        t.add_row(
            x.institution, x.institution_name, "、".join(p.name for p in x.inspectors),
            x.inspected_on.isoformat() if x.inspected_on else "-",
            _(OUTCOMES[x.outcome]) if x.outcome else "-",
        )  # fmt: skip
    ctx.out.print(t)
