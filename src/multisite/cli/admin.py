"""The commission's settings: ``multisite staffing`` (医疗机构基本标准 per region) and
``multisite policy`` (the counting mode and the rule limits per region)."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from ..domain.identifiers import province_of
from ..domain.policy import PolicyError, default_sources
from ..i18n import _
from ..services import ServiceError
from ..services.validation_base import staffing_view
from .common import EXIT_OK, Context, Parser, command, table


def register(sub: Any) -> None:
    staffing = sub.add_parser(
        "staffing", help=_("minimum physicians per institution kind, per region")
    )
    verbs = staffing.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    show = verbs.add_parser("show", help=_("the minimum of every kind as it applies in a region"))
    show.add_argument("--region", help=_("region code (default: the shipped defaults)"))
    show.add_argument("--json", action="store_true")
    put = verbs.add_parser("set", help=_("set a region's minimum for one institution kind"))
    put.add_argument("region", help=_("province, city or county code"))
    put.add_argument("kind", help=_("institution kind, e.g. 综合门诊部"))
    put.add_argument(
        "--min", type=_number, dest="min_physicians", metavar="N", help=_("minimum physicians")
    )
    put.add_argument("--per-bed", type=_number, metavar="X", help=_("physicians per bed"))
    put.add_argument(
        "--title",
        action="append",
        type=_title,
        metavar="TITLE=N",
        help=_("physicians of this title or higher, e.g. 副主任医师=1 (repeatable; =0 drops it)"),
    )
    put.add_argument("--min-nurses", type=_number, metavar="N", help=_("minimum nurses"))
    put.add_argument(
        "--nurses-per-physician",
        type=_number,
        metavar="X",
        help=_("nurses per physician counted (社区卫生服务中心: 1 per general practitioner)"),
    )
    put.add_argument("--nurse-source", help=_("where the nurse minimum comes from"))
    put.add_argument(
        "--nurse-confirmed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=_("the nurse minimum rests on a confirmed source"),
    )
    put.add_argument("--source", help=_("where the value comes from (a notice, a standard)"))
    put.add_argument(
        "--confirmed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=_("the values rest on a confirmed source (new values without it: unconfirmed)"),
    )
    drop = verbs.add_parser("unset", help=_("drop a region's own minimum for one kind"))
    drop.add_argument("region")
    drop.add_argument("kind")

    policy = sub.add_parser("policy", help=_("counting mode and rule limits, per region"))
    pverbs = policy.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    pshow = pverbs.add_parser("show", help=_("the policy in force in a region"))
    pshow.add_argument("--region", help=_("province code (default: the newest policy)"))
    pshow.add_argument("--json", action="store_true")
    pset = pverbs.add_parser("set", help=_("store a new policy version for a region"))
    pset.add_argument("region")
    pset.add_argument("values", nargs="+", type=_setting, metavar="KEY=VALUE")


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value >= 0 and math.isfinite(value)):  # NaN and inf too
        raise argparse.ArgumentTypeError(_("{value} is not a number ≥ 0").format(value=text))
    return value


def _title(text: str) -> tuple[str, int]:
    title, sep, count = text.partition("=")
    if not sep or not count.strip().isdigit():
        raise argparse.ArgumentTypeError(
            _("{value} is not TITLE=N (for example 副主任医师=1)").format(value=text)
        )
    return title.strip(), int(count)


def _setting(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(
            _("{value} is not KEY=VALUE (for example counting=headcount)").format(value=text)
        )
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except ValueError:
        value = raw.strip()
    return key.strip(), value


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: read as text, refused as not a number


@command("staffing")
def cmd_staffing(args: argparse.Namespace, ctx: Context) -> int:
    registry = ctx.registry
    if args.verb == "set":
        registry.set_staffing(
            args.region,
            args.kind,
            min_physicians=args.min_physicians,
            per_bed=args.per_bed,
            title_minimum=dict(args.title) if args.title else None,
            confirmed=args.confirmed,
            source=args.source,
            min_nurses=args.min_nurses,
            nurses_per_physician=args.nurses_per_physician,
            nurse_confirmed=args.nurse_confirmed,
            nurse_source=args.nurse_source,
        )
        ctx.out.print(
            _("Stored the minimum for {kind} in {region}.").format(
                kind=args.kind, region=args.region
            )
        )
        args.verb, args.json = "show", False
    elif args.verb == "unset":
        registry.clear_staffing(args.region, args.kind)
        ctx.out.print(
            _("{kind} in {region} follows the wider region or the default again.").format(
                kind=args.kind, region=args.region
            )
        )
        return EXIT_OK
    rows = staffing_view(registry, args.region)
    if args.json:
        ctx.json(rows)
        return EXIT_OK
    t = table(
        _("kind"),
        _("minimum"),
        _("per bed"),
        _("title minima"),
        _("confirmed"),
        _("nurses"),
        _("set by"),
        title=_("Minimum physicians per institution kind ({region})").format(
            region=args.region or _("shipped defaults")
        ),
    )
    for row in rows:
        t.add_row(
            row["kind"],
            f"{row['min_physicians']:g}",
            f"{row['per_bed']:g}",
            "、".join(f"{k} ≥{v}" for k, v in row["title_minimum"].items()) or "-",
            _("yes") if row["confirmed"] else _("no"),
            nurse_minimum(row),
            row["from"] if row["from"] != "default" else _("default"),
        )
    ctx.out.print(t)
    return EXIT_OK


def nurse_minimum(row: dict[str, Any]) -> str:
    """``≥5``, ``1/physician``, both, or ``-``; ``*`` when unconfirmed."""
    parts = []
    if row["min_nurses"]:
        parts.append(f"≥{row['min_nurses']:g}")
    if row["nurses_per_physician"]:
        parts.append(_("{n}/physician").format(n=f"{row['nurses_per_physician']:g}"))
    if not parts:
        return "-"
    return "、".join(parts) + ("" if row["nurse_confirmed"] else "*")


@command("policy")
def cmd_policy(args: argparse.Namespace, ctx: Context) -> int:
    registry = ctx.registry
    if args.verb == "set":
        if not (len(args.region) == 6 and args.region.endswith("0000")):
            raise ServiceError(
                _("Policies are set per province: {code} is not a code ending in 0000.").format(
                    code=args.region
                )
            )
        try:
            policy = registry.set_policy(args.region, dict(args.values))
        except PolicyError as error:
            raise ServiceError(str(error)) from error
        ctx.out.print(
            _("Stored policy version {version} for {region}.").format(
                version=policy.version, region=args.region
            )
        )
    else:
        if args.region is not None and not registry.region_known(args.region):
            raise ServiceError(_("Unknown region {code}.").format(code=args.region))
        # Policies are per province: a county's or a city's is its province's (it showed the
        # defaults whatever the province had set).
        policy = registry.policy(province_of(args.region) if args.region else None)
    values = policy.as_dict()
    if args.verb == "show" and args.json:
        ctx.json(values)
        return EXIT_OK
    sources = default_sources()
    t = table(_("setting"), _("value"), _("default and its source"), title=_("Policy"))
    for key, value in values.items():
        t.add_row(key, json.dumps(value, ensure_ascii=False), sources.get(key, ""))
    ctx.out.print(t)
    return EXIT_OK
