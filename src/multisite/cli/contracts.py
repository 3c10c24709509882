"""``multisite contract …``: one contract (合同/协议) — show it with its seven terms, terminate it."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from ..i18n import N_, _
from .common import EXIT_OK, Context, Parser, command, iso_date, print_violations

# The seven items seed 004 asks every contract to fix, as the clerk reads them.
TERM_LABELS = (
    ("tasks", N_("tasks (工作任务)")),
    ("liability", N_("medical liability (医疗责任)")),
    ("pay", N_("pay (薪酬)")),
    ("insurance", N_("insurance (相关保险)")),
    ("employment", N_("employment relation (人事（劳动）关系)")),
)


def register(sub: Any) -> None:
    group = sub.add_parser("contract", help=_("show or terminate a contract"))
    verbs = group.add_subparsers(dest="verb", metavar="VERB", parser_class=Parser, required=True)
    show = verbs.add_parser("show", help=_("a contract with its terms, filing and violations"))
    show.add_argument("contract_no", metavar="NO")
    show.add_argument("--json", action="store_true")
    end = verbs.add_parser("terminate", help=_("end a contract on its last day"))
    end.add_argument("contract_no", metavar="NO")
    end.add_argument("--last-day", type=iso_date, required=True, metavar="DATE")
    end.add_argument("--reason", default="")


@command("contract")
def cmd_contract(args: argparse.Namespace, ctx: Context) -> int:
    from ..services.contracts import contract_view

    if args.verb == "terminate":
        result = ctx.registry.terminate_agreement(args.contract_no, args.last_day, args.reason)
        view = contract_view(ctx.registry, result.key)
        ctx.out.print(
            _("Terminated {contract}: its last day is {day}.").format(
                contract=view.contract_no, day=view.end.isoformat()
            ),
            markup=False,
        )
        return EXIT_OK
    view = contract_view(ctx.registry, args.contract_no)
    if args.json:
        ctx.json(view.as_json())
        return EXIT_OK
    today = dt.date.today()
    physician, institution, h_week = _("physician"), _("institution"), _("h/week")
    period, schedule = _("period (执业期限)"), _("schedule (时间安排)")
    ended = ""
    if view.terminated_on:
        reason = f": {view.termination_reason}" if view.termination_reason else ""
        terminated = _("terminated")
        ended = f" ({terminated} {view.terminated_on.isoformat()}{reason})"
    lines = [
        f"{view.contract_no}  {_(view.state_on(today))}",
        f"{physician}: {view.physician_name} ({view.physician_cert})",
        f"{institution}: {view.institution_name} ({view.institution_code}) · {_(view.role)}"
        f" · {view.department}",
        f"{period}: {view.start.isoformat()} – {view.end.isoformat()}{ended}",
        f"{schedule}: {'; '.join(view.terms.sessions) or '-'}"
        f"  ({view.scheduled_hours:g}/{view.weekly_hours:g} {h_week})",
        *(f"{_(label)}: {getattr(view.terms, term) or '-'}" for term, label in TERM_LABELS),
    ]
    if view.role == "additional":
        consent = {True: _("yes"), False: _("no"), None: "-"}[view.consent]
        lines.append(_("consent of the main institution") + f": {consent}")
        f = view.filing
        filed = "-"
        if f is not None:
            filed = (
                f"{f.valid_from.isoformat()} – {f.valid_to.isoformat()} ({_(f.state_on(today))})"
            )
        lines.append(_("filing") + ": " + filed)
    for line in lines:
        ctx.out.print(line, markup=False, highlight=False)
    print_violations(
        ctx, [v.as_json() for v in view.violations], title=_("Violations and warnings")
    )
    return EXIT_OK
