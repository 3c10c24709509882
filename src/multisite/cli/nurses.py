"""``multisite nurse show|suspend|cancel|reinstate``: a nurse (护士), their registration,
filings and agreements — the physician's verbs on a nurse's 护士执业证书编号."""

from __future__ import annotations

import argparse
from typing import Any

from ..domain.vocabulary import NURSE
from ..i18n import _
from . import physicians
from .common import Context, command


def register(sub: Any) -> None:
    group = sub.add_parser(
        "nurse", help=_("show a nurse; suspend, cancel or reinstate a registration")
    )
    physicians.add_verbs(group)


@command("nurse")
def cmd_nurse(args: argparse.Namespace, ctx: Context) -> int:
    return physicians.run(args, ctx, NURSE)
