"""Search for the clerks' UI and the command palette: pages of physicians and institutions.

The database pages the results (``storage/search.py``); nothing here loads a whole table.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ..storage import search as sq
from . import Registry

PAGE = 20


@dataclass(frozen=True, slots=True)
class PhysicianHit:
    cert: str
    name: str
    initials: str
    title: str
    category: str
    status: str
    main_institution: str
    profession: str = "physician"  # or nurse

    @property
    def nurse(self) -> bool:
        return self.profession == "nurse"


@dataclass(frozen=True, slots=True)
class InstitutionHit:
    code: str
    name: str
    kind: str
    departments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of hits; ``more`` tells whether a next page exists."""

    query: str
    offset: int
    hits: tuple[PhysicianHit, ...]
    more: bool


def find_physicians(registry: Registry, text: str, *, offset: int = 0, limit: int = PAGE) -> Page:
    """Physicians and nurses whose certificate number or pinyin initials start with ``text``,
    or whose name contains it. An empty query finds nothing (the clerk has not typed yet)."""
    query = unicodedata.normalize("NFKC", text).strip()
    if not query:
        return Page(text, 0, (), False)
    with registry.db.read() as s:
        rows = sq.physicians(s, query, limit + 1, max(offset, 0))
    hits = tuple(PhysicianHit(*(value or "" for value in row)) for row in rows[:limit])
    return Page(text, max(offset, 0), hits, len(rows) > limit)


def find_institutions(registry: Registry, text: str, *, limit: int = PAGE) -> list[InstitutionHit]:
    """Institutions whose code starts with ``text`` or whose name contains it."""
    with registry.db.read() as s:
        rows = sq.institutions(s, text.strip(), limit)
    return [
        InstitutionHit(code, name, kind, tuple(depts or ())) for code, name, kind, depts in rows
    ]
