"""The clerks' terminal UI (``multisite tui``): a small shell around the screens.

Every read and write goes through the service layer (``Registry``, ``views``, ``search``);
nothing here speaks SQL. Labels go through ``_()`` so the language follows ``--lang``;
binding descriptions are marked with ``N_`` and translated by the footer and the help screen.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from multisite.i18n import N_, _
from multisite.services import Registry

from .palette import PhysicianSearchProvider, ScreensProvider
from .screens import SCREENS
from .screens.due import due_this_week
from .screens.search import SearchScreen


class MultisiteApp(App[None]):
    """One clerk's session on the registry."""

    CSS_PATH = "multisite.tcss"
    TITLE = "multisite"
    COMMANDS = App.COMMANDS | {ScreensProvider, PhysicianSearchProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(e.key, f"open('{e.name}')", e.key_label, show=False) for e in SCREENS),
        Binding("f1", "help", N_("Help")),
        Binding("question_mark", "help", N_("Help"), key_display="?", show=False),
        Binding("ctrl+p", "command_palette", N_("Palette"), show=False),
        Binding("ctrl+q", "quit", N_("Quit"), show=False, priority=True),
    ]

    def __init__(
        self, registry: Registry, *, today: dt.date | None = None, due_on_start: bool = True
    ) -> None:
        super().__init__()
        self.due_on_start = due_on_start
        self.registry = registry
        self.today = today or dt.date.today()
        self.sub_title = _("multi-site practice registry · clerk {clerk}").format(
            clerk=registry.clerk
        )

    def on_mount(self) -> None:
        self.push_screen(SearchScreen())
        if self.due_on_start and due_this_week(self.registry, self.today):
            self.action_open("due")

    def action_open(self, name: str) -> None:
        """Go to one of the main screens (F-keys and the command palette)."""
        from .screens import open_main_screen

        open_main_screen(self, name)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def open_physician(self, cert: str) -> None:
        from .screens.physician import PhysicianScreen

        self.push_screen(PhysicianScreen(cert))
