"""The registry's vocabularies (词表, DOMAIN.md §Registration, SPEC §7).

Closed sets the code reasons about stay constants: levels, categories, titles, roles. The
lists a commission edits are data (``data/vocabulary.json``, checked on load): the scopes of
each category (执业范围, with 壮医 and the other 民族医), how many scopes a physician registered
at county level and below may hold, and the institution kinds (机构类别) with their validation
cycle (校验期, 实施细则 art. 35) and who counts toward their physician minimum.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

LEVELS = ("执业医师", "执业助理医师")
CATEGORIES = ("临床", "中医", "口腔", "公共卫生")
TITLES = ("住院医师", "主治医师", "副主任医师", "主任医师")
PHYSICIAN = "physician"
NURSE = "nurse"
PROFESSIONS = (PHYSICIAN, NURSE)
NURSE_TITLES = ("护士", "护师", "主管护师", "副主任护师", "主任护师")
NURSE_LEVEL = "注册护士"
"""A nurse has no level, category or scopes of a physician's: the registry stores ``level``
注册护士 (registered nurse), an empty category and no scopes."""
ROLES = ("primary", "additional")
GENERAL_PRACTICE = "全科医学"
COUNTS = ("all", "general_practitioners", "practising_physicians")
"""Who counts toward a kind's physician minimum: everyone; general practitioners (全科医学
among the scopes); 执业医师 with ``PRACTISING_YEARS`` of registered practice."""
PRACTISING_YEARS = 5
THREE_YEARLY_BEDS = 100


class VocabularyError(ValueError):
    """A vocabulary entry that cannot be used; the message names the list and the value."""


@dataclass(frozen=True)
class Kind:
    """An institution kind: its validation cycle in years (None: by beds, yearly below
    ``THREE_YEARLY_BEDS``) and who counts toward its physician minimum."""

    name: str
    validation_years: int | None = None
    counts: str = "all"
    source: str = ""
    confirmed: bool = False

    def cycle_years(self, beds: int) -> int:
        """医疗机构管理条例 art. 22, 实施细则 art. 35: the kind's cycle, else by beds."""
        if self.validation_years is not None:
            return self.validation_years
        return 3 if beds >= THREE_YEARLY_BEDS else 1


@dataclass(frozen=True)
class Vocabulary:
    scopes: Mapping[str, tuple[str, ...]]
    county_scope_limit: int
    kinds: Mapping[str, Kind] = field(default_factory=dict)

    def kind(self, name: str) -> Kind:
        """The kind's entry. A kind a region removed keeps its shipped meaning for the
        institutions filed under it; an unknown one counts everyone, its cycle by beds."""
        return self.kinds.get(name) or shipped().kinds.get(name) or Kind(name)

    def scope_limit(self, region_code: str) -> int | None:
        """How many scopes a physician registered in ``region_code`` may hold: the limit at
        county level and below, none for a province (an 执业医师's region)."""
        return None if region_code.endswith("0000") else self.county_scope_limit


def counts_toward_minimum(
    kind: Kind, level: str, scopes: frozenset[str] | list[str], since: dt.date | None, on: dt.date
) -> bool:
    """Whether a physician counts toward the physician minimum of an institution of ``kind``
    on ``on`` (医疗机构基本标准): only general practitioners at a 社区卫生服务中心 or 社区医院;
    only an 执业医师 with five years of registered practice at a 诊所. The others are shown
    beside the count, not counted."""
    if kind.counts == "general_practitioners":
        return GENERAL_PRACTICE in scopes
    if kind.counts == "practising_physicians":
        start = practising_from(kind, level, since)
        return start is not None and start <= on
    return True


def practising_from(kind: Kind, level: str, since: dt.date | None) -> dt.date | None:
    """The first day a physician counts at a kind that asks for years of practice (None:
    never, as an 执业助理医师 or with no start of practice on record)."""
    if kind.counts != "practising_physicians":
        return dt.date.min
    if level != LEVELS[0] or since is None:
        return None
    try:
        return since.replace(year=since.year + PRACTISING_YEARS)
    except ValueError:  # 29 February
        return since.replace(year=since.year + PRACTISING_YEARS, day=28)


def _strings(name: str, values: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise VocabularyError(f"vocabulary {name}: a list of names is needed")
    return tuple(v.strip() for v in values)


def _kind(name: str, entry: Any) -> Kind:
    if not isinstance(entry, dict):
        raise VocabularyError(f"vocabulary kind {name}: an object is needed")
    years = entry.get("validation_years")
    if years is not None and (isinstance(years, bool) or years not in (1, 2, 3)):
        raise VocabularyError(f"vocabulary kind {name}: validation_years is 1, 2, 3 or null")
    counts = entry.get("counts", "all")
    if counts not in COUNTS:
        raise VocabularyError(f"vocabulary kind {name}: counts is one of {', '.join(COUNTS)}")
    return Kind(name, years, counts, str(entry.get("source", "")), bool(entry.get("confirmed")))


def parse(raw: Mapping[str, Any]) -> Vocabulary:
    """A vocabulary from its JSON form, every entry checked."""
    scopes = raw.get("scopes")
    if not isinstance(scopes, dict) or set(scopes) != set(CATEGORIES):
        raise VocabularyError(f"vocabulary scopes: one list for each of {', '.join(CATEGORIES)}")
    limit = raw.get("county_scope_limit", {}).get("value")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise VocabularyError("vocabulary county_scope_limit: a whole number ≥ 1 is needed")
    kinds = raw.get("kinds")
    if not isinstance(kinds, dict) or not kinds:
        raise VocabularyError("vocabulary kinds: at least one kind is needed")
    return Vocabulary(
        MappingProxyType({c: _strings(f"scopes.{c}", scopes[c]["values"]) for c in CATEGORIES}),
        limit,
        MappingProxyType({name: _kind(name, entry) for name, entry in kinds.items()}),
    )


@cache
def shipped() -> Vocabulary:
    """The shipped vocabulary (``data/vocabulary.json``)."""
    text = resources.files("multisite").joinpath("data/vocabulary.json").read_text("utf-8")
    return parse(json.loads(text))


def with_changes(base: Vocabulary, changes: list[tuple[str, str, bool]]) -> Vocabulary:
    """``base`` with a region's changes applied in order: ``(list, value, removed)`` where
    list is ``scopes.<category>`` or ``kinds``."""
    scopes = {c: list(v) for c, v in base.scopes.items()}
    kinds = dict(base.kinds)
    for name, value, removed in changes:
        if name == "kinds":
            if removed:
                kinds.pop(value, None)
            else:
                kinds.setdefault(value, Kind(value))
            continue
        category = name.partition(".")[2]
        if category not in scopes:
            continue
        present = value in scopes[category]
        if removed and present:
            scopes[category].remove(value)
        elif not removed and not present:
            scopes[category].append(value)
    return replace(
        base,
        scopes=MappingProxyType({c: tuple(v) for c, v in scopes.items()}),
        kinds=MappingProxyType(kinds),
    )


SCOPES: Mapping[str, tuple[str, ...]] = shipped().scopes
INSTITUTION_KINDS: tuple[str, ...] = tuple(shipped().kinds)
