"""Words the screens share: a contract's role in short, a practitioner's profession, sessions in
the clerk's language."""

from __future__ import annotations

from multisite.domain.sessions_text import format_sessions
from multisite.i18n import N_, _, current_language
from multisite.services.views import AgreementLine

ROLE_SHORT = {"primary": N_("main"), "additional": N_("other")}
PROFESSION = {"physician": N_("physician"), "nurse": N_("nurse")}


def profession_label(profession: str) -> str:
    """医师 or 护士: how a row says which profession it is."""
    return _(PROFESSION.get(profession, profession))


def sessions_label(a: AgreementLine) -> str:
    """The sessions as the clerk's language writes them (周一 08:00-12:00 in zh)."""
    return format_sessions(a.slots, chinese=current_language() == "zh")
