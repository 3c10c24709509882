"""The minimum-staffing table (医疗机构基本标准): the shipped defaults and a region's rows.

``required = max(min_physicians, per_bed × beds)``; ``title_minimum`` asks for so many
physicians of a title or higher. Nurses (护士) have their own minimum beside it:
``max(min_nurses, nurses_per_physician × physicians counted)`` (a 社区卫生服务中心: one nurse
per general practitioner), confirmed or not on its own. A region's stored rows replace a kind's defaults, the most
specific region first (county, then city, then province). Pure: no database access.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

from ..i18n import _
from .vocabulary import TITLES


@dataclass(frozen=True)
class Staffing:
    """The minimum of one institution kind: ``max(min_physicians, per_bed × beds)``."""

    min_physicians: float
    per_bed: float
    title_minimum: Mapping[str, int]
    confirmed: bool
    source: str
    min_nurses: float = 0.0
    nurses_per_physician: float = 0.0
    nurse_confirmed: bool = True  # nothing asked of nurses: nothing to confirm
    nurse_source: str = ""

    def required(self, beds: int) -> float:
        return round(max(self.min_physicians, self.per_bed * max(beds, 0)), 2)

    def nurses_required(self, physicians_counted: float) -> float:
        """The nurse minimum beside ``physicians_counted`` (the base counted toward the
        physician minimum, in the same counting mode)."""
        per = self.nurses_per_physician * max(physicians_counted, 0.0)
        return round(max(self.min_nurses, per), 2)


class StaffingError(ValueError):
    """A staffing value that cannot be used; the message names the kind and the field."""


@cache
def defaults_digest() -> str:
    """A short digest of the shipped staffing table and vocabulary (the kinds' cycles and who
    counts): stored results name the data they were computed with."""
    data = resources.files("multisite").joinpath("data")
    text = data.joinpath("staffing_defaults.json").read_bytes()
    text += data.joinpath("vocabulary.json").read_bytes()
    return hashlib.sha256(text).hexdigest()[:8]


@cache
def staffing_defaults() -> dict[str, Staffing]:
    """The shipped table (``data/staffing_defaults.json``), checked on load."""
    text = resources.files("multisite").joinpath("data/staffing_defaults.json").read_text("utf-8")
    out: dict[str, Staffing] = {}
    for kind, entry in json.loads(text).items():
        if kind.startswith("_"):
            continue
        values = {}
        for key in ("min_physicians", "per_bed", "title_minimum"):
            if key not in entry or "value" not in entry[key]:
                raise StaffingError(f"staffing default {kind}.{key} is missing")
            values[key] = entry[key]["value"]
        base = _staffing(
            kind,
            values["min_physicians"],
            values["per_bed"],
            values["title_minimum"],
            all(bool(entry[k].get("confirmed")) for k in values),
            "; ".join(f"{k}: {entry[k].get('source', '')}" for k in values),
        )
        nurses = {k: entry[k] for k in NURSE_KEYS if k in entry}
        if nurses:
            try:
                check_values(
                    None, None, None, *(nurses.get(k, {}).get("value", 0) for k in NURSE_KEYS)
                )
            except StaffingError as error:
                raise StaffingError(f"{kind}: {error}") from None
            base = replace(
                base,
                min_nurses=float(nurses.get("min_nurses", {}).get("value", 0)),
                nurses_per_physician=float(nurses.get("nurses_per_physician", {}).get("value", 0)),
                nurse_confirmed=all(bool(v.get("confirmed")) for v in nurses.values()),
                nurse_source="; ".join(f"{k}: {v.get('source', '')}" for k, v in nurses.items()),
            )
        out[kind] = base
    return out


NURSE_KEYS = ("min_nurses", "nurses_per_physician")


# The largest value of each figure a staffing row may hold: far past any 医疗机构基本标准 (the
# largest kinds ask 0.3 physicians and about 1 nurse a bed), near enough to catch a typo.
MOST = {
    "min_physicians": 100_000,
    "per_bed": 10,
    "min_nurses": 100_000,
    "nurses_per_physician": 100,
}


def check_values(
    minimum: Any,
    per_bed: Any,
    titles: Any,
    min_nurses: Any = None,
    nurses_per_physician: Any = None,
) -> None:
    """Raise :class:`StaffingError` (one sentence) for a value that cannot be used; None
    stands for a value not given."""
    for name, value in (
        ("min_physicians", minimum),
        ("per_bed", per_bed),
        ("min_nurses", min_nurses),
        ("nurses_per_physician", nurses_per_physician),
    ):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            raise StaffingError(_("Staffing value {name} must be a number ≥ 0.").format(name=name))
        if value is not None and value > MOST[name]:  # --min 1e300 made `base` ask for 1e+300
            raise StaffingError(
                _("Staffing value {name} must be at most {most}.").format(
                    name=name, most=f"{MOST[name]:,}"
                )
            )
    if titles is not None and (
        not isinstance(titles, dict)
        or not all(
            k in TITLES and isinstance(v, int) and not isinstance(v, bool) and v >= 0
            for k, v in titles.items()
        )
    ):
        raise StaffingError(
            _("A title minimum needs a title ({titles}) and a whole number ≥ 0.").format(
                titles="、".join(TITLES)
            )
        )


def _staffing(
    kind: str, minimum: Any, per_bed: Any, titles: Any, confirmed: bool, source: str
) -> Staffing:
    try:
        if minimum is None or per_bed is None or titles is None:
            raise StaffingError(_("Staffing value {name} must be a number ≥ 0.").format(name=kind))
        check_values(minimum, per_bed, titles)
    except StaffingError as error:
        raise StaffingError(f"{kind}: {error}") from None
    return Staffing(float(minimum), float(per_bed), dict(titles), confirmed, source)


def staffing_table(rows: Iterable[Any]) -> dict[tuple[str, str], Staffing]:
    """The region's stored rows by (region code, kind)."""
    return {
        (r.region_code, r.kind): replace(
            _staffing(
                r.kind,
                r.min_physicians,
                r.per_bed,
                r.title_minimum or {},
                bool(r.confirmed),
                r.source or "",
            ),
            min_nurses=float(r.min_nurses or 0),
            nurses_per_physician=float(r.nurses_per_physician or 0),
            nurse_confirmed=bool(r.nurse_confirmed) or not (r.min_nurses or r.nurses_per_physician),
            nurse_source=r.nurse_source or "",
        )
        for r in rows
    }


def staffing_for(
    kind: str, county: str, stored: dict[tuple[str, str], Staffing]
) -> Staffing | None:
    """The most specific row for the institution's county (county, city, province), else
    the shipped default; None for a kind neither knows."""
    return staffing_source(kind, county, stored)[0]


def staffing_source(
    kind: str, region: str, stored: dict[tuple[str, str], Staffing]
) -> tuple[Staffing | None, str | None]:
    """The minimum that applies to ``kind`` in ``region`` and the region whose row it is
    (None: the shipped default)."""
    for code in dict.fromkeys((region, region[:4] + "00", region[:2] + "0000")):
        row = stored.get((code, kind))
        if row is not None:
            return row, code
    return staffing_defaults().get(kind), None
