"""Every message a user can see exists in Simplified Chinese, and the compiled catalogues
match their sources."""

from __future__ import annotations

import gettext
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "multisite" / "locale" / "zh_CN" / "LC_MESSAGES"
KEYWORDS = {"_": None, "N_": None}


def source_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in (ROOT / "src" / "multisite", ROOT / "tui"):
        for filename, _line, message, _comments, _context in extract_from_dir(
            folder, keywords=KEYWORDS, comment_tags=()
        ):
            if isinstance(message, str) and message:
                found.setdefault(message, f"{folder.name}/{filename}")
    return found


def translations() -> dict[str, str]:
    out: dict[str, str] = {}
    for po in sorted(LOCALE.glob("*.po")):
        with po.open("rb") as handle:
            for entry in read_po(handle, locale="zh_CN"):
                if entry.id and entry.string and isinstance(entry.id, str):
                    out.setdefault(entry.id, str(entry.string))
    return out


def test_every_user_message_has_a_chinese_translation():
    known = translations()
    missing = {m: where for m, where in source_messages().items() if m not in known}
    assert missing == {}


def test_compiled_catalogues_match_their_sources():
    for po in sorted(LOCALE.glob("*.po")):
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{mo.name} is missing: run scripts/compile-catalogues"
        with mo.open("rb") as handle:
            compiled = gettext.GNUTranslations(handle)
        with po.open("rb") as handle:
            for entry in read_po(handle, locale="zh_CN"):
                if entry.id and entry.string and isinstance(entry.id, str) and not entry.fuzzy:
                    assert compiled.gettext(entry.id) == entry.string, (po.name, entry.id)


def test_placeholders_survive_translation():
    import re

    known = translations()
    for message, translated in known.items():
        assert set(re.findall(r"\{\w+\}", message)) == set(re.findall(r"\{\w+\}", translated)), (
            message
        )
