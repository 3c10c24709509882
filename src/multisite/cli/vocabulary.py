"""``multisite vocabulary show|add|remove``: the scopes and institution kinds a region files."""

from __future__ import annotations

import argparse
from typing import Any

from ..i18n import N_, _
from ..services.vocabularies import LISTS
from .common import EXIT_OK, Context, Parser, command, table

WHO_COUNTS = {
    "all": N_("every physician"),
    "general_practitioners": N_("general practitioners (全科医学)"),
    "practising_physicians": N_("执业医师 with 5 years of registered practice"),
}


def register(sub: Any) -> None:
    group = sub.add_parser(
        "vocabulary", help=_("scopes and institution kinds a region files (词表)")
    )
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    show = verbs.add_parser("show", help=_("the vocabulary as it holds in a region"))
    show.add_argument("--region", help=_("region code (default: the shipped vocabulary)"))
    show.add_argument("--json", action="store_true")
    for verb, text in (
        ("add", _("add a value to a list of a region's vocabulary")),
        ("remove", _("remove a value from a list of a region's vocabulary")),
    ):
        change = verbs.add_parser(verb, help=text)
        change.add_argument("region", help=_("province, city or county code"))
        change.add_argument("list", choices=LISTS, metavar="LIST", help=", ".join(LISTS))
        change.add_argument("value")


@command("vocabulary")
def cmd_vocabulary(args: argparse.Namespace, ctx: Context) -> int:
    registry = ctx.registry
    region = args.region
    if args.verb in ("add", "remove"):
        registry.change_vocabulary(region, args.list, args.value, remove=args.verb == "remove")
        ctx.out.print(
            _("Stored: {value} in {name} of region {code}.").format(
                value=args.value, name=args.list, code=region
            )
            if args.verb == "add"
            else _("Removed: {value} from {name} of region {code}.").format(
                value=args.value, name=args.list, code=region
            )
        )
        return EXIT_OK
    vocabulary = registry.vocabulary(region)
    kinds = [
        {
            "kind": kind.name,
            "validation_years": kind.validation_years,
            "counts": kind.counts,
            "confirmed": kind.confirmed,
            "source": kind.source,
        }
        for kind in vocabulary.kinds.values()
    ]
    if args.json:
        ctx.json(
            {
                "region": region,
                "scopes": {c: list(v) for c, v in vocabulary.scopes.items()},
                "county_scope_limit": vocabulary.county_scope_limit,
                "kinds": kinds,
            }
        )
        return EXIT_OK
    scopes = table(_("category"), _("scopes"), title=_("Scopes (执业范围)"))
    for category, values in vocabulary.scopes.items():
        scopes.add_row(category, "、".join(values))
    ctx.out.print(scopes)
    ctx.out.print(
        _(
            "A physician registered at county level holds at most {n} scopes of one category."
        ).format(n=vocabulary.county_scope_limit)
    )
    t = table(
        _("kind"), _("validation every (years)"), _("who counts"), _("confirmed"),
        title=_("Institution kinds (机构类别)"),
    )  # fmt: skip
    for kind in kinds:
        years = kind["validation_years"]
        t.add_row(
            str(kind["kind"]),
            str(years) if years else _("by beds (3 from 100 beds, else 1)"),
            _(WHO_COUNTS[str(kind["counts"])]),
            _("yes") if kind["confirmed"] else _("no"),
        )
    ctx.out.print(t)
    return EXIT_OK
