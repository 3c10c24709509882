"""The README's two screenshots of the clerks' UI, drawn from the snapshot baselines.

    .venv/bin/python scripts/tui_screenshots.py

``tests/test_tui_screens.py`` keeps an SVG of every screen at 80×24 in zh and en (the demo
region, seed 3, on 2026-03-02); this turns two of them into the PNGs the README shows, so the
pictures are always the screens the tests check. Chromium (``/usr/bin/chromium``, as for the
public pages' browser test) draws them; a CJK font (``fonts-wqy-microhei``) must be installed.

The SVG that Textual writes gives each run of text a ``textLength`` of one cell per character,
so a browser squeezes Chinese (two cells a character) into half its width; the lengths are
set here from the cells the text takes on the terminal.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

from rich.cells import cell_len

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "__snapshots__" / "test_tui_screens"
OUT = ROOT / "docs" / "screenshots"
SHOTS = {"physician": "physician.png", "contract": "contract-form.png"}
CHROMIUM = "/usr/bin/chromium"
CELL = 12.2  # the width of one terminal cell in Textual's SVG
TEXT = re.compile(r'(<text [^>]*?textLength=")([\d.]+)("[^>]*>)([^<]*)(</text>)')
FONT = '"DejaVu Sans Mono", "WenQuanYi Micro Hei Mono", monospace'


def by_cells(svg: str) -> str:
    """Every text run as wide as the terminal cells it takes."""

    def fix(m: re.Match[str]) -> str:
        cells = cell_len(html.unescape(m.group(4)))
        return f"{m.group(1)}{cells * CELL:g}{m.group(3)}{m.group(4)}{m.group(5)}"

    svg = TEXT.sub(fix, svg)
    return svg.replace("font-family: Fira Code, monospace;", f"font-family: {FONT};")


def main() -> int:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            for name, png in SHOTS.items():
                svg = (SNAPSHOTS / f"test_screen_at_80x24[zh-{name}].svg").read_text()
                width, height = (
                    float(v)
                    for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups()  # type: ignore[union-attr]
                )
                page = browser.new_page(
                    viewport={"width": int(width), "height": int(height) + 1},
                    device_scale_factor=1.25,
                )
                page.set_content(
                    "<html><body style='margin:0;background:#000'>"
                    + by_cells(svg)
                    + "</body></html>"
                )
                page.screenshot(path=str(OUT / png))
                page.close()
                print(f"wrote {OUT / png}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
