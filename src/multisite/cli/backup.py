"""``multisite backup FILE`` and ``multisite restore FILE`` (see :mod:`multisite.services.backup`)."""

from __future__ import annotations

import argparse
from typing import Any

from ..i18n import _
from ..services import ServiceError
from ..services.backup import (
    BackupError,
    admit_reader,
    backup,
    require_admin_to_replace,
    restore,
)
from ..storage import head_revision
from .common import EXIT_OK, Context, command


def register(sub: Any) -> None:
    save = sub.add_parser(
        "backup", help=_("copy the whole registry into FILE (SQLite backup API or pg_dump)")
    )
    save.add_argument("file")
    save.add_argument("--force", action="store_true", help=_("overwrite an existing FILE"))
    load = sub.add_parser(
        "restore", help=_("replace the registry with a backup made by multisite backup")
    )
    load.add_argument("file")
    load.add_argument(
        "--force", action="store_true", help=_("replace a database that holds registry data")
    )


@command("backup")
def cmd_backup(args: argparse.Namespace, ctx: Context) -> int:
    admit_reader(ctx.db, args.clerk)
    try:
        result = backup(ctx.db, args.file, force=args.force)
    except BackupError as error:
        raise ServiceError(str(error)) from error
    ctx.out.print(
        _("Backup written to {file} ({size} bytes, {method}).").format(
            file=result.path, size=result.size, method=result.method
        ),
        markup=False,
        highlight=False,
    )
    return EXIT_OK


@command("restore")
def cmd_restore(args: argparse.Namespace, ctx: Context) -> int:
    require_admin_to_replace(ctx.db, args.clerk)
    try:
        revision = restore(ctx.db, args.file, force=args.force)
    except BackupError as error:
        raise ServiceError(str(error)) from error
    message = _("Restored {file} (schema revision {revision}).").format(
        file=args.file, revision=revision
    )
    if revision != head_revision():
        message += " " + _("Run `multisite init` to upgrade it to revision {head}.").format(
            head=head_revision()
        )
    ctx.out.print(message, markup=False, highlight=False)
    return EXIT_OK
