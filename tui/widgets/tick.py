"""A checkbox whose two states differ by their glyph, not only by colour: ``[x]`` ticked,
``[ ]`` not (Textual's own draws the same ``X`` in two colours, which a clerk on a
monochrome or colour-blind terminal cannot tell apart). ASCII on purpose: ☑/☐ are of
ambiguous width, two cells in many Chinese terminals."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Checkbox

TICKED = "[x]"
UNTICKED = "[ ]"


class TickBox(Checkbox):
    """Every form's checkbox (``Checkbox`` everywhere else in the CSS and the handlers)."""

    @property
    def _button(self) -> Content:
        style = self.get_visual_style("toggle--button")
        return Content.styled(TICKED if self.value else UNTICKED, style)
