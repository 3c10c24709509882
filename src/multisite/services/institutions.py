"""Institutions (医疗机构): filing and changing them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..domain import identifiers as ids
from ..domain.vocabulary import INSTITUTION_KINDS
from ..i18n import _
from ..storage import queries as q
from ..storage.audit import snapshot
from ..storage.models import (
    Institution,
    utcnow,
)
from .registry import (
    RegistryCore,
    ServiceError,
    WriteResult,
    require_region_code,
)


@dataclass
class InstitutionInput:
    code: str
    name: str
    kind: str
    county_code: str
    beds: int = 0
    departments: Sequence[str] = ()
    grassroots: bool = False
    address: str = ""
    dishonest: bool = False
    makeup_follows: int | None = None
    notes: dict[str, Any] = field(default_factory=dict)


class Institutions(RegistryCore):
    # -- institutions --

    def file_institution(self, data: InstitutionInput) -> WriteResult:
        code = ids.clean(data.code)
        if not ids.credit_code_shape_ok(code):
            raise ServiceError(
                _("Institution code {code} is not an 18-character 统一社会信用代码.").format(
                    code=data.code
                )
            )
        notes = []
        if not ids.credit_code_checksum_ok(code):
            notes.append(
                _(
                    "Institution code {code} fails the GB 32100 check character (kept, please verify)."
                ).format(code=code)
            )
        if data.kind not in INSTITUTION_KINDS:
            raise ServiceError(
                _("Institution kind {kind} is not one of {kinds}.").format(
                    kind=data.kind, kinds="、".join(INSTITUTION_KINDS)
                )
            )
        require_region_code(data.county_code)
        if data.beds < 0:
            raise ServiceError(_("Beds must be a number ≥ 0."))
        values = {
            "name": data.name.strip(),
            "kind": data.kind,
            "county_code": data.county_code,
            "beds": int(data.beds),
            "departments": list(dict.fromkeys(data.departments)),
            "grassroots": bool(data.grassroots),
            "address": data.address.strip(),
            "dishonest": bool(data.dishonest),
            "makeup_follows": data.makeup_follows,
        }
        if not values["name"]:
            raise ServiceError(_("The institution name is empty."))
        with self.db.write() as s:
            self._ensure_county(s, data.county_code)
            existing = q.institution_by_code(s, code)
            if existing is None:
                inst = Institution(code=code, notes=dict(data.notes), **values)
                s.add(inst)
                s.flush()
                self._audit(
                    s, "create", "institution", code, None, snapshot(inst), institution=code
                )
                return WriteResult("created", code, notes=notes)
            before = snapshot(existing)
            changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
            if not changed:
                return WriteResult("unchanged", code, notes=notes)
            for k, v in changed.items():
                setattr(existing, k, v)
            existing.updated_at = utcnow()
            s.flush()
            self._audit(
                s, "update", "institution", code, before, snapshot(existing), institution=code
            )
            return WriteResult("updated", code, notes=notes)
