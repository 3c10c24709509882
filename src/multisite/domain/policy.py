"""Region policy (规则参数): the limits of DOMAIN.md §Rules, versioned per region.

Defaults live in ``data/policy_defaults.json`` with their sources; a region's stored policy
holds only the values a clerk changed. Values are validated on load.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from functools import cache
from importlib import resources
from typing import Any

from ..i18n import _

COUNTING_MODES = ("fte", "headcount", "primary_only")
BOOLEANS = frozenset({"eligibility_gate", "publish_schedule", "publish_inspections"})
RETIRED = frozenset({"block_gap_hours"})
"""Settings a stored policy may still hold that no rule reads any more (MIN_REST no longer
joins sessions into work blocks: duty periods are joined by gaps under min_rest_hours)."""


class PolicyError(ValueError):
    """A policy value that cannot be used; the message names the key and the rule."""


@dataclass(frozen=True)
class Policy:
    weekly_max_hours: float
    standard_weekly_hours: float
    daily_max_hours: float
    rest_day_hours: float
    min_rest_hours: float
    travel_buffer_minutes: int
    max_institutions: int | None
    contract_hours_tolerance: float
    eligibility_gate: bool
    eligibility_min_years: int
    counting: str
    standard_week_hours: float
    min_weekly_hours: float
    publish_schedule: bool = False  # the public pages show weekly schedules
    publish_inspections: bool = True  # the public pages show inspection results
    version: int = 0

    def with_values(self, values: dict[str, Any], stored: bool = False) -> Policy:
        """A copy with ``values`` applied, each checked (``stored``: values read back from a
        stored policy, whose retired settings are passed over)."""
        known = {f.name: f for f in fields(self) if f.name != "version"}
        changes: dict[str, Any] = {}
        for key, value in values.items():
            if stored and key in RETIRED:
                continue
            if key not in known:
                raise PolicyError(_("Unknown policy setting {key}.").format(key=key))
            changes[key] = _check(key, value)
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(key: str, value: Any) -> Any:
    if key == "counting":
        if value not in COUNTING_MODES:
            raise PolicyError(
                _("Policy setting counting must be one of {modes}.").format(
                    modes=", ".join(COUNTING_MODES)
                )
            )
        return value
    if key in BOOLEANS:
        if not isinstance(value, bool):
            raise PolicyError(_("Policy setting {key} must be true or false.").format(key=key))
        return value
    if key == "max_institutions" and value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise PolicyError(_("Policy setting {key} must be a number ≥ 0.").format(key=key))
    if key == "standard_week_hours" and value == 0:
        raise PolicyError(_("Policy setting {key} must be more than 0.").format(key=key))
    if key in ("travel_buffer_minutes", "max_institutions", "eligibility_min_years"):
        if int(value) != value:
            raise PolicyError(_("Policy setting {key} must be a whole number.").format(key=key))
        return int(value)
    return float(value)


@cache
def default_sources() -> dict[str, str]:
    raw = json.loads(resources.files("multisite").joinpath("data/policy_defaults.json").read_text())
    return {k: v["source"] for k, v in raw.items() if not k.startswith("_")}


@cache
def defaults() -> Policy:
    raw = json.loads(resources.files("multisite").joinpath("data/policy_defaults.json").read_text())
    values = {k: _check(k, v["value"]) for k, v in raw.items() if not k.startswith("_")}
    return Policy(**values)
