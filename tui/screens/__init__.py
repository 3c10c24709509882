"""The screens of the clerks' UI, one module per area."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen


def open_main_screen(app: App[None], name: str) -> None:
    """Show main screen ``name`` on top of the search screen (the home of the app)."""
    from .audit import AuditScreen
    from .due import DueScreen
    from .importing import ImportScreen
    from .institutions import InstitutionsScreen
    from .search import SearchScreen

    factories: dict[str, type[Screen[None]]] = {
        "search": SearchScreen,
        "institutions": InstitutionsScreen,
        "import": ImportScreen,
        "audit": AuditScreen,
        "due": DueScreen,
    }
    wanted = factories[name]
    # Keep the stack short: drop back to the search screen (the bottom one) first.
    while len(app.screen_stack) > 2:
        app.pop_screen()
    if isinstance(app.screen, wanted):
        return
    if name != "search":
        app.push_screen(wanted())
