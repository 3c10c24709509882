"""Regions, their policy (versioned limits) and minimum-staffing rows (医疗机构基本标准)."""

from __future__ import annotations

from typing import Any

from ..domain.policy import RETIRED, defaults
from ..domain.policy import Policy as PolicyValues
from ..domain.staffing import StaffingError, check_values, staffing_source, staffing_table
from ..i18n import _
from ..storage import queries as q
from ..storage.models import (
    Policy,
    StaffingMinimum,
)
from .registry import (
    RegistryCore,
    ServiceError,
    dataclass_replace_version,
    require_region_code,
)
from .vocabularies import region_vocabulary


class Regions(RegistryCore):
    # -- regions and policy --

    def set_policy(self, region_code: str, values: dict[str, Any]) -> PolicyValues:
        """Store a new policy version for a region (only the changed values are kept)."""
        with self.db.write() as s:
            if q.region(s, region_code) is None:
                raise ServiceError(_("Unknown region {code}.").format(code=region_code))
            rows = q.policy_rows(s, region_code)
            merged = {
                k: v for k, v in (rows[-1].values if rows else {}).items() if k not in RETIRED
            }
            merged.update(values)
            checked = defaults().with_values(merged)
            version = (rows[-1].version if rows else 0) + 1
            s.add(
                Policy(
                    region_code=region_code, version=version, values=merged, created_by=self.clerk
                )
            )
            self._audit(
                s, "update", "policy", region_code, rows[-1].values if rows else None, merged
            )
        self.forget_context()
        return dataclass_replace_version(checked, version)

    # -- the minimum-staffing table (医疗机构基本标准) --

    def region_known(self, code: str) -> bool:
        """A stored region, or a city with a stored county under it."""
        with self.db.read() as s:
            return q.region_known(s, code)

    def staffing(self, region_code: str | None = None) -> list[StaffingMinimum]:
        """The stored rows (a region's replacements for the shipped defaults)."""
        with self.db.read() as s:
            return q.staffing_rows(s, region_code)

    def set_staffing(
        self,
        region_code: str,
        kind: str,
        *,
        min_physicians: float | None = None,
        per_bed: float | None = None,
        title_minimum: dict[str, int] | None = None,
        confirmed: bool | None = None,
        source: str | None = None,
        min_nurses: float | None = None,
        nurses_per_physician: float | None = None,
        nurse_confirmed: bool | None = None,
        nurse_source: str | None = None,
    ) -> StaffingMinimum:
        """Store a region's minimum for an institution kind; values not given keep the row's,
        or for a new row the values that applied there so far (a wider region's or the
        shipped default)."""
        require_region_code(region_code)
        kinds = region_vocabulary(self, region_code).kinds
        if kind not in kinds:
            raise ServiceError(
                _("Institution kind {kind} is not one of {kinds}.").format(
                    kind=kind, kinds="、".join(kinds)
                )
            )
        nurses = (min_nurses, nurses_per_physician, nurse_confirmed, nurse_source)
        given = (min_physicians, per_bed, title_minimum, confirmed, source, *nurses)
        if all(value is None for value in given):
            raise ServiceError(
                _("Give at least one staffing value to set (a minimum, per bed, a title).")
            )
        try:
            check_values(min_physicians, per_bed, title_minimum, min_nurses, nurses_per_physician)
        except StaffingError as error:
            raise ServiceError(str(error)) from None
        with self.db.write() as s:
            if not q.region_known(s, region_code):
                raise ServiceError(_("Unknown region {code}.").format(code=region_code))
            self._ensure_regions(s, [region_code])  # a city above stored counties: file it
            row = q.staffing_row(s, region_code, kind)
            before = _staffing_dict(row) if row else None
            if row is None:
                stored = staffing_table(q.staffing_rows(s))
                start, _origin = staffing_source(kind, region_code, stored)
                row = StaffingMinimum(
                    region_code=region_code,
                    kind=kind,
                    min_physicians=start.min_physicians if start else 0,
                    per_bed=start.per_bed if start else 0,
                    title_minimum=dict(start.title_minimum) if start else {},
                    confirmed=start.confirmed if start else False,
                    source=start.source if start else "",
                    min_nurses=start.min_nurses if start else 0,
                    nurses_per_physician=start.nurses_per_physician if start else 0,
                    nurse_confirmed=start.nurse_confirmed if start else False,
                    nurse_source=start.nurse_source if start else "",
                )
                s.add(row)
            if (min_physicians, per_bed, title_minimum) != (None, None, None) and (
                confirmed is None and source is None
            ):  # new values without a word on them: not what the source said any more
                row.confirmed = False
            if min_physicians is not None:
                row.min_physicians = float(min_physicians)
            if per_bed is not None:
                row.per_bed = float(per_bed)
            if title_minimum is not None:
                row.title_minimum = {t: n for t, n in title_minimum.items() if n > 0}
            if confirmed is not None:
                row.confirmed = confirmed
            if source is not None:
                row.source = source
            if (min_nurses, nurses_per_physician) != (None, None) and (
                nurse_confirmed is None and nurse_source is None
            ):
                row.nurse_confirmed = False
            if min_nurses is not None:
                row.min_nurses = float(min_nurses)
            if nurses_per_physician is not None:
                row.nurses_per_physician = float(nurses_per_physician)
            if nurse_confirmed is not None:
                row.nurse_confirmed = nurse_confirmed
            if nurse_source is not None:
                row.nurse_source = nurse_source
            after = _staffing_dict(row)
            self._audit(s, "update", "staffing", f"{region_code}/{kind}", before, after)
            s.flush()
            return row

    def clear_staffing(self, region_code: str, kind: str) -> None:
        """Drop a region's row for a kind: the next wider region's, or the default, applies."""
        with self.db.write() as s:
            row = q.staffing_row(s, region_code, kind)
            if row is None:
                raise ServiceError(
                    _("Region {code} has no staffing row of its own for {kind}.").format(
                        code=region_code, kind=kind
                    )
                )
            self._audit(s, "delete", "staffing", f"{region_code}/{kind}", _staffing_dict(row), None)
            s.delete(row)


def _staffing_dict(row: StaffingMinimum) -> dict[str, Any]:
    return {
        "region": row.region_code,
        "kind": row.kind,
        "min_physicians": row.min_physicians,
        "per_bed": row.per_bed,
        "title_minimum": dict(row.title_minimum or {}),
        "confirmed": bool(row.confirmed),
        "source": row.source or "",
        "min_nurses": row.min_nurses or 0,
        "nurses_per_physician": row.nurses_per_physician or 0,
        "nurse_confirmed": bool(row.nurse_confirmed),
        "nurse_source": row.nurse_source or "",
    }
