"""The key of the national-ID hash (身份证号 → HMAC-SHA256): a random secret in a file only its
owner may read.

``MULTISITE_ID_KEY_FILE`` names the file; without it, an SQLite registry keeps its key beside
the database file (``multisite.db`` → ``multisite.db.idkey``). ``multisite init`` creates the
key (32 random bytes, mode 0600) when the file does not exist; nothing runs with a default key:
a registry without its key file, or with one others may read, refuses to hash a national ID
with one sentence naming what to do.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from sqlalchemy import make_url

from ..i18n import _, os_reason

ENV_KEY_FILE = "MULTISITE_ID_KEY_FILE"
SUFFIX = ".idkey"


class IdKeyError(Exception):
    """The key cannot be used; the message is one sentence naming what to do."""


def key_path(url: str) -> Path | None:
    """Where the registry at ``url`` keeps its key (None: PostgreSQL without the variable)."""
    named = os.environ.get(ENV_KEY_FILE)
    if named:
        return Path(named).expanduser()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        return (
            Path(parsed.database)
            .expanduser()
            .resolve()
            .with_name(Path(parsed.database).name + SUFFIX)
        )
    return None


def ensure_key(url: str) -> Path | None:
    """Create the key file of ``url`` when it does not exist (``init``); its path, or None
    where no path is known (PostgreSQL without ``MULTISITE_ID_KEY_FILE``)."""
    path = key_path(url)
    if path is None or path.exists():
        return path
    if not path.parent.is_dir():
        raise IdKeyError(
            _("The folder {folder} of the national-ID key file does not exist.").format(
                folder=path.parent
            )
        )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path


def load_key(url: str) -> bytes:
    """The key of the registry at ``url``, or one sentence saying what to do."""
    path = key_path(url)
    if path is None:
        raise IdKeyError(
            _(
                "No key for national ID numbers: set {variable} to a key file (multisite init "
                "creates it) before recording a 身份证号."
            ).format(variable=ENV_KEY_FILE)
        )
    try:
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise IdKeyError(
                _(
                    "The national-ID key file {file} may be read by others: run chmod 600 {file}."
                ).format(file=path)
            )
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise IdKeyError(
            _(
                "The national-ID key file {file} does not exist: run multisite init to create "
                "it (or restore it from your backup)."
            ).format(file=path)
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise IdKeyError(
            _("Cannot read the national-ID key file {file}: {reason}.").format(
                file=path, reason=os_reason(error)
            )
        ) from None
    if len(key) < 32:
        raise IdKeyError(
            _("The national-ID key file {file} holds no key (at least 32 characters).").format(
                file=path
            )
        )
    return key.encode()
