"""The screens of the clerks' UI, one module per area, and the one table that names them.

``SCREENS`` gives each main screen's name (for the palette and ``action_open``), where its
class lives, its key and its title. A screen another area adds (Due, …) is one row here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from multisite.i18n import N_

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen


@dataclass(frozen=True)
class ScreenEntry:
    name: str
    target: str  # "module:Class" under multisite.tui.screens
    key: str
    title: str  # N_-marked; translated where shown
    help: str
    short: str = ""  # N_-marked; the help screen's name for it, when the title is long

    @property
    def key_label(self) -> str:
        return self.short or self.title

    def load(self) -> type[Screen[None]]:
        module, _sep, cls = self.target.partition(":")
        found: type[Screen[None]] = getattr(importlib.import_module(f"{__name__}.{module}"), cls)
        return found


SCREENS: tuple[ScreenEntry, ...] = (
    ScreenEntry("search", "search:SearchScreen", "f2", N_("Physicians"),
                N_("find by name, certificate or pinyin initials")),
    ScreenEntry("institutions", "institutions:InstitutionsScreen", "f3", N_("Institutions"),
                N_("validation bases, short or at risk first")),
    ScreenEntry("import", "importing:ImportScreen", "f4", N_("Import"),
                N_("pick a file, dry run, then commit")),
    ScreenEntry("audit", "audit:AuditScreen", "f5", N_("Audit"),
                N_("changes by date, action, clerk, physician")),
    ScreenEntry("credit", "credit:CreditScreen", "f6", N_("Credit"),
                N_("the credit register: listings and points")),
    ScreenEntry("due", "due:DueScreen", "f7", N_("Due: contracts, filings, suspensions, validations"),
                N_("what ends or falls due in the next days"), N_("Due")),
    ScreenEntry("register", "registration:RegistrationScreen", "f8", N_("Register"),
                N_("file a new physician or nurse: registration details, national ID")),
)  # fmt: skip


def entry(name: str) -> ScreenEntry:
    return next(e for e in SCREENS if e.name == name)


def open_main_screen(app: App[None], name: str) -> None:
    """Show main screen ``name`` on top of the search screen (the home of the app)."""
    wanted = entry(name).load()
    # Keep the stack short: drop back to the search screen (the bottom one) first.
    while len(app.screen_stack) > 2:
        app.pop_screen()
    if isinstance(app.screen, wanted):
        return
    if name != "search":
        app.push_screen(wanted())
