"""What every screen needs from the running app: the service and the clerk's "today"."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, cast

from textual.dom import DOMNode

from multisite.services import Registry


class ClerkApp(Protocol):
    registry: Registry
    today: dt.date

    def open_physician(self, cert: str) -> None: ...


def clerk_app(node: DOMNode) -> ClerkApp:
    return cast(ClerkApp, node.app)


def registry(node: DOMNode) -> Registry:
    return clerk_app(node).registry


def today(node: DOMNode) -> dt.date:
    return clerk_app(node).today
