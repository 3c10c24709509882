"""The ``multisite`` command line: ``main`` parses, each module beside it is one command group."""

from __future__ import annotations

from .main import main

__all__ = ["main"]
