"""Command palette (Ctrl+P) providers: the screens (``SCREENS``), and physicians by search."""

from __future__ import annotations

import asyncio
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from multisite.escaping import markup, plain, printable
from multisite.i18n import _
from multisite.services.search import find_physicians

from .labels import profession_label
from .screens import SCREENS
from .session import clerk_app, registry


def _screens() -> list[tuple[str, str, str]]:
    return [(e.name, f"{_(e.title)} ({e.key.upper()})", _(e.help)) for e in SCREENS]


class ScreensProvider(Provider):
    """Go to one of the main screens."""

    async def discover(self) -> Hits:
        for name, title, help_text in _screens():
            yield DiscoveryHit(title, partial(self.app.action_open, name), help=help_text)  # type: ignore[attr-defined]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, title, help_text in _screens():
            score = max(matcher.match(title), matcher.match(name))
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.action_open, name),  # type: ignore[attr-defined]
                    text=title,
                    help=help_text,
                )


class PhysicianSearchProvider(Provider):
    """Open a physician or nurse found by certificate prefix, pinyin initials or name."""

    async def search(self, query: str) -> Hits:
        if len(query.strip()) < 2:
            return
        page = await asyncio.to_thread(find_physicians, registry(self.screen), query, limit=10)
        app = clerk_app(self.screen)
        for rank, hit in enumerate(page.hits):
            title = printable(f"{hit.name} {hit.cert}")
            yield Hit(
                1.0 - rank / 100,
                plain(title),
                partial(app.open_physician, hit.cert),
                text=title,
                help=markup(
                    f"{profession_label(hit.profession)} · {_(hit.status)} · {hit.title} · "
                    f"{hit.main_institution}"
                ),
            )
