"""The editable vocabularies per region (词表): scopes of each category and institution kinds.

The shipped lists (``data/vocabulary.json``) hold everywhere; a region adds or removes values
(province, then city, then county changes applied in order), each change audited. What a
region's clerks may file (a 壮医 scope in Guangxi, a kind the province licenses) is checked
against the vocabulary of the physician's or the institution's region.
"""

from __future__ import annotations

import time

from ..domain.text import normalize_text
from ..domain.vocabulary import CATEGORIES, Vocabulary, shipped, with_changes
from ..i18n import _
from ..storage import queries as q
from ..storage.models import VocabularyChange
from .registry import CONTEXT_TTL, RegistryCore, ServiceError, require_region_code

LISTS = ("kinds", *(f"scopes.{c}" for c in CATEGORIES))
MAX_VALUE = 32


def region_vocabulary(registry: RegistryCore, region_code: str | None) -> Vocabulary:
    """The vocabulary that holds in ``region_code`` (None: the shipped one). Kept for
    ``CONTEXT_TTL`` seconds per region; the registry's own changes drop it at once."""
    if region_code is None:
        return shipped()
    kept: dict[str, tuple[float, Vocabulary]] = registry.__dict__.setdefault("_vocabularies", {})
    now = time.monotonic()
    found = kept.get(region_code)
    if found is not None and now - found[0] < CONTEXT_TTL:
        return found[1]
    with registry.db.read() as s:
        vocabulary = with_changes(shipped(), q.vocabulary_changes(s, region_code))
    kept[region_code] = (now, vocabulary)
    return vocabulary


class Vocabularies(RegistryCore):
    def vocabulary(self, region_code: str | None = None) -> Vocabulary:
        """The vocabulary that holds in ``region_code`` (None: the shipped one)."""
        return region_vocabulary(self, region_code)

    def change_vocabulary(
        self, region_code: str, list_name: str, value: str, *, remove: bool = False
    ) -> Vocabulary:
        """Add ``value`` to (or remove it from) a list of the region's vocabulary, audited."""
        require_region_code(region_code)
        if list_name not in LISTS:
            raise ServiceError(
                _("Vocabulary list {name} is not one of {lists}.").format(
                    name=list_name, lists=", ".join(LISTS)
                )
            )
        value = normalize_text(value).strip()
        if not value or len(value) > MAX_VALUE or any(ch in value for ch in ";；,，"):
            raise ServiceError(
                _("A vocabulary value is one name of 1 to {n} characters.").format(n=MAX_VALUE)
            )
        with self.db.write() as s:
            if q.region(s, region_code) is None:
                raise ServiceError(_("Unknown region {code}.").format(code=region_code))
            before = with_changes(shipped(), q.vocabulary_changes(s, region_code))
            present = value in _values(before, list_name)
            if present != remove:
                message = (
                    _("{value} is not in {name} in region {code}.")
                    if remove
                    else _("{value} is already in {name} in region {code}.")
                )
                raise ServiceError(message.format(value=value, name=list_name, code=region_code))
            s.add(
                VocabularyChange(
                    region_code=region_code,
                    list=list_name,
                    value=value,
                    removed=remove,
                    created_by=self.clerk,
                )
            )
            self._audit(
                s,
                "remove" if remove else "add",
                "vocabulary",
                f"{region_code}/{list_name}",
                {"value": value} if remove else None,
                None if remove else {"value": value},
            )
            after = with_changes(before, [(list_name, value, remove)])
        self.__dict__.pop("_vocabularies", None)
        return after


def _values(vocabulary: Vocabulary, list_name: str) -> tuple[str, ...]:
    if list_name == "kinds":
        return tuple(vocabulary.kinds)
    return vocabulary.scopes[list_name.partition(".")[2]]
