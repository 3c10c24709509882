"""``multisite tui``: the clerks' terminal UI on the service of this run."""

from __future__ import annotations

import argparse
from typing import Any

from ..i18n import _
from .common import EXIT_OK, Context, command


def register(sub: Any) -> None:
    sub.add_parser("tui", help=_("the clerks' terminal UI"))


@command("tui")
def cmd_tui(args: argparse.Namespace, ctx: Context) -> int:
    from multisite.tui.app import MultisiteApp

    MultisiteApp(ctx.registry).run()
    return EXIT_OK
