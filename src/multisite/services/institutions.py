"""Institutions (医疗机构): filing and changing them, one at a time or a whole batch."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..domain import identifiers as ids
from ..domain.inputs import CHECKSUM, KEEP, RETIRED, InstitutionInput
from ..domain.text import NAME_TEXT
from ..i18n import _
from ..storage import batch as store
from ..storage.audit import audit_row, snapshot
from ..storage.models import Institution, utcnow
from .registry import (
    BatchResult,
    Commit,
    FieldError,
    RegistryCore,
    WriteResult,
    checked_rows,
    notes_texts,
    require_region_code,
    retired_warning,
    single_result,
    stored_texts,
)
from .vocabularies import region_vocabulary

CREATE_CHUNK = 5000  # new institutions flushed at a time
# Values a write that does not name them (None in the input) leaves as stored.
KEPT_UNLESS_NAMED = ("licensed_on",)


class Institutions(RegistryCore):
    def file_institution(self, data: InstitutionInput) -> WriteResult:
        """File a new institution or change a stored one (the credit code is the key)."""
        return single_result(self.save_institutions([(1, data)]), ids.clean(data.code))

    def save_institutions(
        self, items: Iterable[tuple[int, InstitutionInput]], *, commit: Commit = "all"
    ) -> BatchResult:
        """File or change many institutions in one transaction; ``items`` are (row, input).

        A row equal to what is stored is ``unchanged`` and writes nothing; every created or
        changed row writes an audit row; new counties are filed as regions first.
        """
        result = BatchResult()

        def check(row: int, data: InstitutionInput) -> tuple[str, tuple[dict[str, Any], Any]]:
            code, values = self._institution_values(row, data, result)
            return code, (values, data)

        def duplicate(code: str, row: int) -> str:
            return _("Institution {code} already appears on row {row} of this file.").format(
                code=code, row=row
            )

        checked = [
            (row, code, values, data)
            for row, code, (values, data) in checked_rows(items, result, check, "code", duplicate)
        ]
        seen = [code for _row, code, _values, _data in checked]
        with self._batch_session(commit) as s:
            existing = store.existing_keys(s, Institution, Institution.code, seen)
            creates: list[tuple[int, Institution]] = []
            updates: list[tuple[int, Institution, dict[str, Any], dict[str, Any]]] = []
            for row, code, values, data in checked:
                old = existing.get(code)
                places = {values.get("county_code"), old.county_code if old else None}
                outside = [c for c in places if c and not self.may_write_county(c)]
                if outside:
                    self._refuse_row(
                        result, row, "region", _("institution {code}").format(code=code),
                        "institution", code, institution=code, audit=commit != "none",
                    )  # fmt: skip
                    continue
                if old is None:
                    fresh = {k: v for k, v in values.items() if v is not None and v is not KEEP}
                    creates.append((row, Institution(code=code, notes=dict(data.notes), **fresh)))
                    continue
                changed = {
                    k: v
                    for k, v in values.items()
                    if getattr(old, k) != v
                    and v is not KEEP
                    and not (v is None and k in KEPT_UNLESS_NAMED)
                }
                if changed:
                    updates.append((row, old, changed, snapshot(old)))
                else:
                    result.count(row, "unchanged")
            for row, _inst in creates:
                result.count(row, "created")
            for row, _old, _changed, _before in updates:
                result.count(row, "updated")
            if not result.may_store(commit):
                return result
            counties = [i.county_code for _row, i in creates]
            counties += [c["county_code"] for _r, _o, c, _b in updates if "county_code" in c]
            self._ensure_regions(s, counties)
            now = utcnow()
            for _row, old, changed, _before in updates:
                for k, v in changed.items():
                    setattr(old, k, v)
                old.updated_at = now
            s.flush()
            self._append_audit(
                s,
                [
                    audit_row(self.clerk, "update", "institution", old.code, before,
                              snapshot(old), institution=old.code, at=now)
                    for _row, old, _changed, before in updates
                ],
            )  # fmt: skip
            for start in range(0, len(creates), CREATE_CHUNK):
                chunk = [inst for _row, inst in creates[start : start + CREATE_CHUNK]]
                s.add_all(chunk)
                s.flush()
                self._append_audit(
                    s,
                    [
                        audit_row(self.clerk, "create", "institution", i.code, None,
                                  snapshot(i), institution=i.code, at=now)
                        for i in chunk
                    ],
                )  # fmt: skip
                for inst in chunk:
                    s.expunge(inst)
            result.committed = True
        return result

    def _institution_values(
        self, row: int, data: InstitutionInput, result: BatchResult
    ) -> tuple[str, dict[str, Any]]:
        """The checked credit code and column values of one input (FieldError if not)."""
        code = ids.clean(data.code)
        if not ids.credit_code_shape_ok(code):
            raise FieldError(
                _("Institution code {code} is not an 18-character 统一社会信用代码.").format(
                    code=data.code
                ),
                "code",
            )
        if not ids.credit_code_checksum_ok(code):
            result.warn(
                row,
                "code",
                CHECKSUM,
                _(
                    "Institution code {code} fails the GB 32100 check character (kept, please verify)."
                ).format(code=code),
            )
        name = data.name.strip()
        if not name:
            raise FieldError(_("The institution name is empty."), "name")
        stored_texts(
            ("name", NAME_TEXT, _("The institution's name"), name, "institution_name"),
            ("address", NAME_TEXT, _("The address"), data.address, "address"),
            *(
                ("departments", NAME_TEXT, _("A department"), d, "department")
                for d in data.departments
            ),
            *notes_texts(data.notes),
        )
        county = require_region_code(data.county_code)
        if county.retired:
            result.warn(row, "region", RETIRED, retired_warning(county))
        kinds = region_vocabulary(self, data.county_code).kinds
        if data.kind not in kinds:
            raise FieldError(
                _("Institution kind {kind} is not one of {kinds}.").format(
                    kind=data.kind, kinds="、".join(kinds)
                ),
                "kind",
            )
        if data.beds < 0:
            raise FieldError(_("Beds must be a number ≥ 0."), "beds")
        return code, {
            "name": name,
            "kind": data.kind,
            "county_code": data.county_code,
            "beds": int(data.beds),
            "departments": list(dict.fromkeys(data.departments)),
            "grassroots": bool(data.grassroots),
            "address": data.address.strip(),
            "makeup_follows": data.makeup_follows,
            "licensed_on": data.licensed_on,
        }
