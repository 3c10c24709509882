"""``multisite base``: the validation-base report (医师基数) and the effect of ending a contract."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.text import Text

from ..domain import regions
from ..escaping import markup, plain, printable
from ..i18n import _
from ..services.validation_base import (
    NOT_COUNTED,
    REASONS,
    InstitutionBase,
    impact_of_termination,
    report_json_chunks,
    risk_label,
    validation_base,
)
from .common import EXIT_OK, Context, command, iso_date, table


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "base", help=_("validation-base report (physician base per institution)")
    )
    parser.add_argument("--institution", metavar="CODE", help=_("one institution, in full"))
    parser.add_argument("--on", type=iso_date, metavar="DATE", help=_("the date (default today)"))
    parser.add_argument(
        "--without",
        metavar="CONTRACT_NO",
        help=_("show the effect of ending this contract before the date"),
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help=_("every institution with its contributors and risks listed (slower)"),
    )
    parser.add_argument("--json", action="store_true")


def _status(b: InstitutionBase) -> str:
    if b.status == "meets":
        return "[green]" + _("meets") + "[/]"
    titles = " (" + "、".join(b.title_short) + ")" if b.title_short else ""
    return "[red]" + _("short") + markup(titles) + "[/]"


BOXED = 300  # up to this many institutions in a drawn table; more as plain columns
STATUS = 8  # the column whose cells carry colour markup


def _summary(ctx: Context, bases: list[InstitutionBase], title: str) -> None:
    header = [
        _("institution"),
        _("name"),
        _("county"),
        _("kind"),
        _("beds"),
        _("required"),
        _("counted"),
        _("shortfall"),
        _("status"),
        _("next validation"),
        _("apply by"),
        _("physicians"),
        _("at risk"),
        _("nurses"),
    ]
    rows = [
        [
            b.institution,
            b.name,
            regions.name_of(b.county) if b.county else "",
            b.kind,
            str(b.beds),
            f"{b.required:g}" + ("" if b.confirmed else "*"),
            f"{b.counted:g}",
            f"{b.shortfall:g}",
            _status(b),
            b.next_validation.isoformat(),
            b.apply_by.isoformat(),
            str(b.contributor_count),
            risk_label(b),
            nurse_cell(b),
        ]
        for b in bases
    ]
    if len(rows) <= BOXED:
        t = table(*header, title=title)
        for row in rows:  # stored text as it is; the status cell is our own markup
            t.add_row(*row[:STATUS], Text.from_markup(row[STATUS]), *row[STATUS + 1 :])
        ctx.out.print(t)
    else:  # a province: drawing 40,000 rows in a box would take the better part of a minute
        _columns(ctx, title, header, rows)
    if any(not b.confirmed for b in bases):
        ctx.out.print(_("* the required minimum rests on unconfirmed default values."))
    if any(b.nurse_required and not b.nurse_confirmed for b in bases):
        ctx.out.print(_("nurses: counted/required; * the nurse minimum is an unconfirmed default."))


def nurse_cell(b: InstitutionBase) -> str:
    """Nurses counted/required and whether that meets the nurse minimum (- when none asked)."""
    if not b.nurse_required and not b.nurse_counted:
        return "-"
    mark = "" if b.nurse_confirmed else "*"
    status = _("short") if b.nurse_status == "short" else _("meets")
    return f"{b.nurse_counted:g}/{b.nurse_required:g}{mark} {status}"


def _width(text: str) -> int:
    """Terminal cells: CJK characters and full-width punctuation take two."""
    return len(text) + sum(1 for ch in text if ch >= "\u2e80")


def _columns(ctx: Context, title: str, header: list[str], rows: list[list[str]]) -> None:
    """Rows as plain aligned columns, written straight out (status in colour on a terminal)."""
    styled = [row[STATUS] for row in rows]
    for row in rows:
        row[STATUS] = Text.from_markup(row[STATUS]).plain
    widths = [max(_width(h), *(_width(row[i]) for row in rows)) for i, h in enumerate(header)]

    def line(cells: list[str], status: str | None = None) -> str:
        out = [c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)]
        if status is not None:
            out[STATUS] = status + " " * (widths[STATUS] - _width(cells[STATUS]))
        return "  ".join(out).rstrip()

    ctx.out.print(title, markup=False, highlight=False)
    ctx.out.print(line(header), markup=False, highlight=False)
    if ctx.out.is_terminal:
        text = "\n".join(
            line([markup(c) for c in row], status) for row, status in zip(rows, styled, strict=True)
        )
        ctx.out.print(text, highlight=False, soft_wrap=True, markup=True)
    else:  # a file or a pipe: no styling to render
        ctx.out.file.write(printable("\n".join(line(row) for row in rows)) + "\n")


def _detail(ctx: Context, b: InstitutionBase) -> None:
    ctx.out.print(
        Text.assemble(
            plain(b.name, "bold"),
            printable(
                f"  {b.institution}  {b.kind} · {_('beds')} {b.beds} · "
                + (f"{b.county} {regions.describe(b.county)} · " if b.county else "")
                + _("counting: {mode}").format(mode=b.counting)
            ),
        )
    )
    titles = markup(
        "、".join(f"{k} ≥{v} ({b.title_counts.get(k, 0)})" for k, v in b.title_minimum.items())
        or "-"
    )
    ctx.out.print(
        _(
            "Required {required:g} (title minima: {titles}), counted {counted:g}: {status}; "
            "next validation {day}, apply by {apply_by}."
        ).format(
            required=b.required,
            titles=titles,
            counted=b.counted,
            status=_status(b),
            day=b.next_validation.isoformat(),
            apply_by=b.apply_by.isoformat(),
        ),
        markup=True,
    )
    if b.has_nurses:
        ctx.out.print(
            _("Nurses: required {required:g}, counted {counted:g}: {status}.").format(
                required=b.nurse_required,
                counted=b.nurse_counted,
                status=_("short") if b.nurse_status == "short" else _("meets"),
            ),
            markup=False,
        )
    t = table(
        _("physician"),
        _("full name"),
        _("title"),
        _("role"),
        _("h/week"),
        _("share"),
        title=_("Contributors"),
    )
    for c in b.contributors:
        share = _(NOT_COUNTED[c.not_counted]) if c.not_counted in NOT_COUNTED else f"{c.share:g}"
        if c.profession == "nurse":
            share = f"{c.share:g} ({_('nurse')})"
        t.add_row(c.physician, c.name, c.title, _(c.role), f"{c.hours:g}", share)
    ctx.out.print(t)
    if b.at_risk:
        r = table(
            _("reason"),
            _("contract"),
            _("physician"),
            _("last day counted"),
            _("counted after"),
            title=_("At risk before the next validation"),
        )
        for risk in b.at_risk:
            r.add_row(
                _(REASONS.get(risk.reason, risk.reason)),
                risk.contract_no or "-",
                risk.physician,
                risk.ends_on.isoformat(),
                f"{risk.counted_after:g}",
            )
        ctx.out.print(r)
    elif b.status == "short":
        ctx.out.print(
            _("It is below its minimum already; nothing on record takes more away before "
              "the next validation.")
        )  # fmt: skip
    else:
        ctx.out.print(_("Nothing on record takes it below its minimum before the next validation."))


@command("base")
def cmd_base(args: argparse.Namespace, ctx: Context) -> int:
    registry = ctx.registry
    if args.without:
        return _without(args, ctx)
    if args.json and not args.institution:  # every institution with its contributors
        sys.stdout.flush()
        out = sys.stdout.buffer
        for piece in report_json_chunks(registry, args.on):  # stored documents, as bytes
            out.write(piece)
        out.write(b"\n")
        out.flush()
        return EXIT_OK
    # one institution or --full: contributors and risks listed; else the region-wide table
    detail = bool(args.institution or args.full)
    bases = validation_base(registry, on=args.on, institution=args.institution, detail=detail)
    if args.json:
        ctx.json([b.as_json() for b in bases])
        return EXIT_OK
    if detail:
        for b in bases:
            _detail(ctx, b)
        return EXIT_OK
    _summary(ctx, bases, _("Validation base (physician base) per institution"))
    short = sum(1 for b in bases if b.status == "short")
    ctx.out.print(
        _("{n} institutions, {short} below their minimum.").format(n=len(bases), short=short)
    )
    return EXIT_OK


def _without(args: argparse.Namespace, ctx: Context) -> int:
    import datetime as dt

    on = args.on or dt.date.today()
    pairs = impact_of_termination(ctx.registry, args.without, on)
    if args.institution:
        code = args.institution.strip().upper()
        validation_base(ctx.registry, on=on, institution=code)  # unknown code → one sentence
        pairs = [p for p in pairs if p[0].institution == code]
    if args.json:
        documents = []
        for before, after in pairs:
            doc = after.as_json()
            doc["without"] = args.without.strip()
            doc["before"] = {
                "counted": before.counted,
                "shortfall": before.shortfall,
                "status": before.status,
            }
            documents.append(doc)
        ctx.json(documents)
        return EXIT_OK
    t = table(
        _("institution"),
        _("name"),
        _("required"),
        _("counted now"),
        _("counted without it"),
        _("status without it"),
        title=_("Ending contract {contract}").format(contract=args.without.strip()),
    )
    for before, after in pairs:
        t.add_row(
            after.institution,
            after.name,
            f"{after.required:g}",
            f"{before.counted:g}",
            f"{after.counted:g}",
            Text.from_markup(_status(after)),  # our own markup; the names stay text
        )
    ctx.out.print(t)
    return EXIT_OK
