"""The footer of every screen: compact, translated when drawn, only the keys of this screen.

Binding descriptions are written with ``N_`` and translated here, so a screen class made
before the language was chosen (tests run zh and en in one process) still speaks it. The
F-keys and the palette are listed by ``?`` (the help screen), not in the footer: 80 columns
hold the keys of the screen itself.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from multisite.i18n import _


class ClerkFooter(Footer):
    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey):
                widget.description = _(widget.description)
                widget.tooltip = None
            yield widget
