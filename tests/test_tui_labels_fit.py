"""A dialog's field labels fit their column (``.field-label``: 12 cells, one of padding), in
both languages: "Registration" read "Registratio" in the suspend dialog of a physician with
two registrations, "Decision no." and "Filing number" lost their last letters (found by
helper trial2 at 80x24; fails before)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.cells import cell_len

from multisite import i18n

SCREENS = Path(__file__).resolve().parents[1] / "tui" / "screens"
# Field("key", _("Label") …) and self._row(_("Label"), …): the labels of the dialogs' rows
LABEL = re.compile(r'(?:Field\(\s*"[a-z_]+",\s*|_row\(\s*)_\("([^"]+)"\)')


def dialog_labels() -> set[str]:
    found: set[str] = set()
    for path in SCREENS.glob("*.py"):
        if path.name == "registration.py":  # its own, wider label column (14)
            continue
        found.update(LABEL.findall(path.read_text(encoding="utf-8")))
    return found


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_dialog_label_fits_its_column(language: str):
    labels = dialog_labels()
    assert len(labels) > 5  # the pattern still finds them
    i18n.set_language(language)
    try:
        wide = sorted(t for t in (i18n._(x) for x in labels) if cell_len(t) > 11)
    finally:
        i18n.set_language("en")
    assert wide == []
