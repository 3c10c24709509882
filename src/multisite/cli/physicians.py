"""``multisite physician …``: a physician, their registrations, filings and agreements."""

from __future__ import annotations

import argparse
from typing import Any

from rich.text import Text

from ..domain.vocabulary import PHYSICIAN
from ..escaping import plain, printable
from ..i18n import _
from ..services.validation_base import NOT_COUNTED
from .common import (
    EXIT_OK,
    Context,
    Parser,
    command,
    iso_date,
    print_violations,
    table,
)


def register(sub: Any) -> None:
    group = sub.add_parser(
        "physician", help=_("show a physician; suspend, cancel or reinstate a registration")
    )
    add_verbs(group)


def add_verbs(group: Any) -> None:
    """show, suspend, cancel, reinstate: the verbs of ``physician`` and ``nurse``."""
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    show = verbs.add_parser("show", help=_("registrations, filings, agreements and violations"))
    show.add_argument("cert")
    show.add_argument("--json", action="store_true")
    region_help = _("the registration's region code (default: every registration)")
    suspend = verbs.add_parser("suspend", help=_("suspend a registration (暂停) for a period"))
    suspend.add_argument("cert")
    suspend.add_argument("--from", dest="start", type=iso_date, required=True, metavar="DATE")
    suspend.add_argument("--to", dest="until", type=iso_date, required=True, metavar="DATE")
    suspend.add_argument("--reason", required=True)
    suspend.add_argument("--region", help=region_help)
    cancel = verbs.add_parser("cancel", help=_("cancel a registration (注销) for good"))
    cancel.add_argument("cert")
    cancel.add_argument("--on", type=iso_date, required=True, metavar="DATE")
    cancel.add_argument("--reason", required=True)
    cancel.add_argument("--region", help=region_help)
    reinstate = verbs.add_parser(
        "reinstate", help=_("end a suspension: the physician practises again from DATE")
    )
    reinstate.add_argument("cert")
    reinstate.add_argument("--on", type=iso_date, required=True, metavar="DATE")
    reinstate.add_argument("--region", help=region_help)
    reinstate.add_argument("--reason", default="")


@command("physician")
def cmd_physician(args: argparse.Namespace, ctx: Context) -> int:
    return run(args, ctx, PHYSICIAN)


def run(args: argparse.Namespace, ctx: Context, profession: str) -> int:
    """One verb on a practitioner of ``profession`` (the other profession's certificate is
    one sentence naming the right command)."""
    ctx.registry.require_profession(args.cert, profession)
    if args.verb == "show":
        return _show(args, ctx)
    registry = ctx.registry
    if args.verb == "suspend":
        change = registry.suspend_registration(
            args.cert, args.start, args.until, args.reason, region=args.region
        )
        done = _("Suspended the registration of {cert} in {regions} from {start} to {until}.")
    elif args.verb == "cancel":
        change = registry.cancel_registration(args.cert, args.on, args.reason, region=args.region)
        done = _("Cancelled the registration of {cert} in {regions} from {start}.")
    else:
        change = registry.reinstate_registration(
            args.cert, args.on, region=args.region, reason=args.reason
        )
        done = _("Reinstated {cert} in {regions}: practice resumes on {start}.")
    start = args.start if args.verb == "suspend" else args.on
    until = args.until if args.verb == "suspend" else None
    ctx.out.print(
        done.format(
            cert=change.cert,
            regions=", ".join(change.regions),
            start=start.isoformat(),
            until=until.isoformat() if until else "",
        ),
        markup=False,
    )
    if change.violations:
        ctx.out.print(
            _("Contracts in force while a registration is not active (REGISTRATION):"),
            markup=False,
        )
        print_violations(ctx, [v.as_json() for v in change.violations], title=None)
    return EXIT_OK


def _show(args: argparse.Namespace, ctx: Context) -> int:
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
                f"  {p['cert']}  "
                + " · ".join(
                    x for x in (p["level"], p["category"], "、".join(p["scopes"]), p["title"]) if x
                )
                + f"  ({_('status')}: {_(p['status'])})"
                + (f"  身份证号 {p['id_number']}" if p.get("id_number") else "")
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
