"""The ``multisite`` command line (SPEC §6). Every command goes through the service layer.

Exit codes: 0 success / nothing found; 1 violations found (``check``) or rows rejected
(``import``); 2 bad usage or bad input; 141 the reader of the output went away (``| head``).
Errors are one sentence on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

from sqlalchemy.exc import DBAPIError

from .. import i18n
from ..domain.policy import PolicyError
from ..escaping import printable
from ..i18n import _
from ..services import ServiceError
from ..storage import StorageError
from . import (
    admin,
    backup,
    calendar,
    check,
    contracts,
    credit,
    database,
    due,
    filings,
    importing,
    inspect,
    institutions,
    nurses,
    physicians,
    trust,
    tui,
    validation_base,
    vocabulary,
)
from .common import COMMANDS, EXIT_USAGE, Context, Parser, UsageError

# Each group module adds its subcommands (``register``) and their handlers (``@command``).
GROUPS = (database, physicians, nurses, institutions, contracts, filings, credit, check, admin,
          vocabulary, backup, validation_base, calendar, importing, tui, due, inspect,
          trust)  # fmt: skip


def build_parser() -> Parser:
    parser = Parser(prog="multisite", description=_("Regional registry of multi-site physicians."))
    parser.add_argument(
        "--db", help=_("SQLAlchemy database URL (default: the embedded SQLite file)")
    )
    parser.add_argument(
        "--clerk",
        help=_("act as this clerk (only an admin may name another clerk than who logged in)"),
    )
    parser.add_argument("--lang", choices=("zh", "en"), help=_("language of messages"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for group in GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _peek_lang(argv)
    try:
        i18n.set_language(lang)
    except ValueError:
        i18n.set_language("en")
    context: Context | None = None
    try:
        with _argparse_speaks_our_language():
            args = build_parser().parse_args(argv)
            if args.lang is not None and args.lang != i18n.current_language():
                i18n.set_language(args.lang)  # argparse's choice (``--lan zh`` is ``--lang zh``)
            if not args.command:
                build_parser().print_help()
                return EXIT_USAGE
        context = Context(args)
        handler = COMMANDS[args.command]
        code = handler(args, context)
        sys.stdout.flush()  # a reader gone shows here, not as Python's complaint at exit
        return code
    except UsageError as error:
        return _fail(_("Bad usage: {problem}.").format(problem=str(error).rstrip(".")))
    except (ServiceError, StorageError, PolicyError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail(_("Interrupted; nothing of the unfinished operation was stored."))
    except DBAPIError as error:
        if os.environ.get("MULTISITE_DEBUG"):
            raise
        return _fail(database_refusal(error))
    except BrokenPipeError:
        return _reader_gone()
    except OSError as error:
        return _fail(
            _("{file}: {reason}.").format(file=error.filename or "", reason=i18n.os_reason(error))
        )
    except Exception as error:  # the last guard: one sentence, never a traceback
        if os.environ.get("MULTISITE_DEBUG"):
            raise
        return _fail(
            _(
                "Unexpected internal error ({kind}: {detail}); nothing was stored. Set "
                "MULTISITE_DEBUG=1 to see details."
            ).format(kind=type(error).__name__, detail=error)
        )
    finally:
        if context is not None:
            context.close()


@contextlib.contextmanager
def _argparse_speaks_our_language() -> Iterator[None]:
    """argparse's own sentences (``argument --on: …``, ``the following arguments are
    required: cert``, ``usage:``) through the product's catalogues while the command line is
    parsed: under ``--lang zh`` a clerk read them in English inside a Chinese sentence."""
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._ = i18n._  # type: ignore[attr-defined]
    argparse.ngettext = i18n.ngettext  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


def database_refusal(error: DBAPIError) -> str:
    """One sentence of a database error: its primary message only — never the statement, its
    parameters or PostgreSQL's DETAIL, which can quote the values of a row."""
    orig = error.orig
    diag = getattr(orig, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    code = getattr(orig, "sqlstate", None) or ""
    if code == "42501":
        return _(
            "The database refused: this login may not do that (its grants or the row-level "
            "security of its region); nothing was stored."
        )
    reason = (primary or str(orig or "").strip().splitlines()[0] if orig else "").rstrip(".")
    return _("The database refused the operation ({reason}); nothing was stored.").format(
        reason=reason or type(error).__name__
    )


def _peek_lang(argv: list[str]) -> str | None:
    """The language asked for, before argparse runs (its own sentences are translated): the
    last ``--lang``, as argparse takes the last of an option given twice."""
    found = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith("--lang="):
            found = arg.split("=", 1)[1]
    return found


EXIT_PIPE = 128 + 13  # as a program killed by SIGPIPE: the reader of the output went away


def _reader_gone() -> int:
    """``multisite … | head``: the reader stopped reading. Nothing to say (nobody reads it);
    what is still buffered goes nowhere instead of failing again when Python exits."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return EXIT_PIPE


def _fail(message: str) -> int:
    sys.stderr.write(printable(message.rstrip()) + "\n")
    return EXIT_USAGE
