"""Messages for users in Simplified Chinese and English (gettext catalogues).

Source strings are English. The zh_CN catalogues live in ``locale/zh_CN/LC_MESSAGES``: one
``.po`` per area (``multisite.po`` for the core, ``rules.po``, ``importing.po``, ``ical.po``,
``tui.po`` …), compiled to ``.mo`` by ``scripts/compile-catalogues`` and chained at load time.
The language is chosen once per process by ``--lang`` or, failing that, by the locale
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``); anything starting with ``zh`` is Chinese.
"""

from __future__ import annotations

import errno
import gettext
import os
from pathlib import Path

DOMAIN = "multisite"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("zh", "en")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def language_from_environment() -> str:
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def set_language(lang: str | None) -> str:
    """Select the catalogue for this process; returns the language in force."""
    global _translation, _language
    chosen = lang or language_from_environment()
    if chosen not in LANGUAGES:
        raise ValueError(f"unknown language {chosen!r}: use zh or en")
    _language = chosen
    _translation = _load_catalogues("zh_CN") if chosen == "zh" else gettext.NullTranslations()
    return chosen


def _load_catalogues(locale: str) -> gettext.NullTranslations:
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    chain: gettext.NullTranslations = gettext.NullTranslations()
    for mo in sorted(folder.glob("*.mo")):
        with mo.open("rb") as handle:
            catalogue = gettext.GNUTranslations(handle)
        catalogue.add_fallback(chain)
        chain = catalogue
    return chain


def catalogue(lang: str) -> gettext.NullTranslations:
    """The messages of ``lang`` without choosing it for the process (the public pages answer
    each request in its own language)."""
    return _load_catalogues("zh_CN") if lang == "zh" else gettext.NullTranslations()


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """Translate ``message`` into the language in force."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now."""
    return message


# The operating system's reasons, in the clerk's language (``strerror`` is English whatever
# the locale: "/x.ics：No such file or directory。" stood in a Chinese sentence).
OS_REASONS = {
    errno.ENOENT: N_("no such file or folder"),
    errno.EISDIR: N_("it is a folder"),
    errno.ENOTDIR: N_("a part of the path is not a folder"),
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("permission denied"),
    errno.ENOSPC: N_("the disk is full"),
    errno.EDQUOT: N_("the disk quota is used up"),
    errno.EROFS: N_("the file system is read-only"),
    errno.EEXIST: N_("it exists already"),
    errno.EFBIG: N_("the file is too large"),
    errno.ENAMETOOLONG: N_("the name is too long"),
}


def os_reason(error: BaseException) -> str:
    """Why an operating-system call failed, in the language in force (its ``strerror`` when
    the reason is not one of ``OS_REASONS``, or the error itself)."""
    number = getattr(error, "errno", None)
    if number in OS_REASONS:
        return _(OS_REASONS[number])
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
