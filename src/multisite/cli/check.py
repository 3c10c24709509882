"""``multisite check``: sweep the region (or one physician, one institution) for violations."""

from __future__ import annotations

import argparse
from typing import Any

from ..i18n import _
from .common import EXIT_FOUND, EXIT_OK, Context, command, print_violations


def register(sub: Any) -> None:
    check = sub.add_parser("check", help=_("sweep the region for rule violations"))
    check.add_argument("--physician")
    check.add_argument("--institution")
    check.add_argument("--json", action="store_true")


@command("check")
def cmd_check(args: argparse.Namespace, ctx: Context) -> int:
    found = ctx.registry.check(physician=args.physician, institution=args.institution)
    documents = [v.as_json() for v in found]
    if args.json:
        ctx.json(documents)
    else:
        print_violations(ctx, documents, title=_("Violations"))
        errors = sum(1 for v in found if v.severity == "error")
        ctx.out.print(
            _("{errors} errors, {warnings} warnings.").format(
                errors=errors, warnings=len(found) - errors
            )
        )
    return EXIT_FOUND if found else EXIT_OK
