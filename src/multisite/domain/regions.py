"""Administrative divisions (行政区划, GB/T 2260): every code with its name, and its city and
province, from the table shipped in ``data/gb2260.json``.

Six digits: the first two name the province (``450000`` 广西壮族自治区), the first four the city
(``450100`` 南宁市), all six the county (``450103`` 青秀区). The table holds the 民政部 list of
county-level-and-above codes of the edition it names, and the codes earlier revisions listed
that it no longer does (*retired*: still accepted on old records, with a warning). Its source
is written in the file (``scripts/build-regions-table`` rebuilds it). Pure: no I/O beyond
reading the shipped file once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    retired_after: str | None = None  # the last revision that listed a retired code

    @property
    def retired(self) -> bool:
        return self.retired_after is not None


@dataclass(frozen=True, slots=True)
class Table:
    edition: str
    source: str
    divisions: dict[str, Division]


@cache
def table() -> Table:
    raw = json.loads(resources.files("multisite.data").joinpath("gb2260.json").read_text("utf-8"))
    divisions = {code: Division(code, name) for code, name in raw["current"].items()}
    for code, (name, last) in raw["retired"].items():
        divisions.setdefault(code, Division(code, name, last))
    return Table(raw["edition"], raw["source"], divisions)


def division(code: str) -> Division | None:
    """The division of ``code`` (current or retired), or None when the table has no such code."""
    return table().divisions.get(code)


def level(code: str) -> str:
    """province (xx0000), city (xxxx00) or county, by the shape of the code."""
    if code.endswith("0000"):
        return "province"
    return "city" if code.endswith("00") else "county"


def chain(code: str) -> list[Division]:
    """The division of ``code`` and those above it that the table holds, smallest first
    (450103 → 青秀区, 南宁市, 广西壮族自治区; a municipality's district has no city). Above a
    current code only current divisions count (old revisions listed placeholders such as
    110100 市辖区); above a retired one, retired ones too."""
    own = division(code)
    found: list[Division] = [own] if own is not None else []
    for c in dict.fromkeys((code[:4] + "00", code[:2] + "0000")):
        d = division(c)
        if c != code and d is not None and (not d.retired or (own is not None and own.retired)):
            found.append(d)
    return found


def describe(code: str) -> str:
    """``青秀区, 南宁市, 广西壮族自治区`` (or the code itself when the table does not know it)."""
    names = [d.name for d in chain(code)]
    return ", ".join(names) if names else code


def name_of(code: str) -> str:
    d = division(code)
    return d.name if d is not None else code
