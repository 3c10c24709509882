"""The clerks' terminal UI (``multisite tui``): a small shell around the screens.

Every read and write goes through the service layer (``Registry``, ``views``, ``search``);
nothing here speaks SQL. Labels go through ``_()`` so the language follows ``--lang``.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from multisite.i18n import _
from multisite.services import Registry

from .palette import PhysicianSearchProvider, ScreensProvider
from .screens.due import due_this_week
from .screens.search import SearchScreen


class MultisiteApp(App[None]):
    """One clerk's session on the registry."""

    CSS_PATH = "multisite.tcss"
    TITLE = "multisite"
    COMMANDS = App.COMMANDS | {ScreensProvider, PhysicianSearchProvider}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f2", "open('search')", _("Physicians")),
        Binding("f3", "open('institutions')", _("Institutions")),
        Binding("f4", "open('import')", _("Import")),
        Binding("f5", "open('audit')", _("Audit")),
        Binding("ctrl+q", "quit", _("Quit"), priority=True),
    ]

    def __init__(
        self, registry: Registry, *, today: dt.date | None = None, due_on_start: bool = True
    ) -> None:
        super().__init__()
        self.registry = registry
        self.today = today or dt.date.today()
        self.due_on_start = due_on_start  # open the Due screen when something is due this week
        self.sub_title = _("registry of multi-site physicians · clerk {clerk}").format(
            clerk=registry.clerk
        )

    def on_mount(self) -> None:
        self.push_screen(SearchScreen())
        if self.due_on_start and due_this_week(self.registry, self.today):
            self.action_open("due")

    def action_open(self, name: str) -> None:
        """Go to one of the main screens (F2–F5 and the command palette)."""
        from .screens import open_main_screen

        open_main_screen(self, name)

    def open_physician(self, cert: str) -> None:
        from .screens.physician import PhysicianScreen

        self.push_screen(PhysicianScreen(cert))
