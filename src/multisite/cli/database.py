"""``multisite init`` (create or upgrade the schema), ``demo`` (a synthetic region) and
``summary`` (counts of the registry)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..i18n import _
from ..storage import upgrade
from .common import EXIT_OK, Context, command, positive_int, table


def register(sub: Any) -> None:
    sub.add_parser("init", help=_("create or upgrade the schema"))
    demo = sub.add_parser("demo", help=_("fill an empty database with a synthetic region"))
    demo.add_argument("--physicians", type=positive_int, default=2000)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument(
        "--nurses-per-physician",
        type=float,
        default=1.2,
        metavar="X",
        help=_("nurses to build per physician (1.2, as in China's statistics; 0: none)"),
    )
    demo.add_argument(
        "--progress",
        action="store_true",
        help=_("report each stored chunk on stderr (also when it is not a terminal)"),
    )
    summary = sub.add_parser("summary", help=_("counts of the registry"))
    summary.add_argument("--json", action="store_true")


@command("init")
def cmd_init(args: argparse.Namespace, ctx: Context) -> int:
    before, after = upgrade(ctx.db.engine)
    if before == after:
        ctx.out.print(_("The schema is up to date (revision {rev}).").format(rev=after))
    elif before is None:
        ctx.out.print(_("Created the schema (revision {rev}).").format(rev=after))
    else:
        ctx.out.print(_("Upgraded the schema from {old} to {new}.").format(old=before, new=after))
    return EXIT_OK


@command("demo")
def cmd_demo(args: argparse.Namespace, ctx: Context) -> int:
    from ..services.demo import generate

    upgrade(ctx.db.engine)
    registry = ctx.registry
    generate(
        registry,
        physicians=args.physicians,
        seed=args.seed,
        progress=args.progress or sys.stderr.isatty(),
        nurses_per_physician=args.nurses_per_physician,
        rows=False,  # nothing of a stored chunk is held: a region of millions in bounded memory
    )
    print_summary(ctx, registry.summary())
    return EXIT_OK


@command("summary")
def cmd_summary(args: argparse.Namespace, ctx: Context) -> int:
    counts = ctx.registry.summary()
    if args.json:
        ctx.json(counts)
    else:
        print_summary(ctx, counts)
    return EXIT_OK


def print_summary(ctx: Context, counts: dict[str, int]) -> None:
    labels = {
        "regions": _("regions"),
        "institutions": _("institutions"),
        "physicians": _("physicians"),
        "nurses": _("nurses"),
        "multi_site_physicians": _("multi-site physicians"),
        "agreements": _("agreements"),
        "sessions": _("weekly sessions"),
        "audit_entries": _("audit entries"),
    }
    t = table(_("item"), _("count"), title=_("Registry summary"))
    for key, label in labels.items():
        t.add_row(label, f"{counts.get(key, 0):,}")
    ctx.out.print(t)
