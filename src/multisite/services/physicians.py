"""Physicians and their registrations (医师执业注册): register, change, suspend, cancel — one at
a time or a whole batch, through the same checks, rules and audit rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.inputs import DUPLICATE, PROFESSION, RETIRED, UNKNOWN, PhysicianInput
from ..domain.regions import Division
from ..domain.text import FREE_TEXT, NAME_TEXT
from ..domain.vocabulary import (
    CATEGORIES,
    LEVELS,
    NURSE,
    NURSE_LEVEL,
    NURSE_TITLES,
    PHYSICIAN,
    PROFESSIONS,
    TITLES,
)
from ..i18n import _
from ..storage import batch as store
from ..storage import bulk, feeds
from ..storage import queries as q
from ..storage.audit import audit_row, locked_head, row_snapshot, snapshot
from ..storage.models import (
    FeedToken,
    Institution,
    Physician,
    Registration,
    RegistrationEvent,
    utcnow,
)
from .registry import (
    Abandon,
    BatchResult,
    Commit,
    FieldError,
    Issue,
    RegistryCore,
    ServiceError,
    WriteResult,
    batch_chunks,
    checked_rows,
    closing_ledger,
    initials,
    notes_texts,
    require_region_code,
    retired_warning,
    single_result,
    stored_texts,
)
from .vocabularies import region_vocabulary

STATUSES = ("registered", "suspended", "cancelled")
CREATE_CHUNK = 5000  # new physicians flushed at a time
STATUS_ACTIONS = {"suspended": "suspend", "cancelled": "cancel"}


@dataclass(slots=True)
class _Checked:
    row: int
    cert: str
    values: dict[str, Any]
    digest: str | None
    data: PhysicianInput


def _physician_row(pid: int, one: _Checked, now: dt.datetime) -> dict[str, Any]:
    """Every column of a new physician's row (the model's defaults where the input is silent)."""
    return {
        "id": pid,
        "cert_no": one.cert,
        "profession": "physician",
        "status": "registered",
        "id_digest": one.digest,
        "id_masked": None,
        "practising_since": None,
        "failed_assessment_on": None,
        "notes": dict(one.data.notes),
        "updated_at": now,
        **one.values,
    }


class Physicians(RegistryCore):
    def register_physician(self, data: PhysicianInput) -> WriteResult:
        """Register a new physician or change a registered one (the certificate is the key)."""
        return single_result(self.save_physicians([(1, data)]), ids.clean(data.cert_no))

    def save_physicians(
        self,
        items: Iterable[tuple[int, PhysicianInput]],
        *,
        commit: Commit = "all",
        result: BatchResult | None = None,
        flush: Callable[[BatchResult, int | None], None] | None = None,
    ) -> BatchResult:
        """Register or change many physicians in one transaction; ``items`` are (row, input).

        A new physician gets a registration in ``region_code`` with its main institution and
        the status history the input carries (暂停/注销). A changed physician's agreements must
        stay free of rule errors, or the row is rejected.

        The rows are taken ``CREATE_CHUNK`` at a time: each chunk is checked, then written,
        and ``flush(result, last row)`` takes its issues (the import writes its report as it
        goes; the last row is None after the last chunk). A row depends on no other row's
        writing (a certificate or national ID met again is found among the keys held, never
        the rows), so a chunk is checked while the database still stores the one before
        (``storage.bulk``), and a dry run writes nothing. An all-or-nothing batch with a
        rejected row is rolled back at the end. ``result`` may carry rows rejected before the
        batch (by the file's reader).
        """
        result = result if result is not None else BatchResult()
        streamed, pieces = batch_chunks(items, CREATE_CHUNK)
        # certificate → row and national ID's hash → row: in a temporary file when streamed
        seen: MutableMapping[str, int] = store.KeyLedger() if streamed else {}
        digests: MutableMapping[str, int] = store.KeyLedger() if streamed else {}
        with (
            self._batch_session(commit) as s,
            closing_ledger(seen),
            closing_ledger(digests),
        ):
            mains: dict[str, Institution] = {}
            first = next(pieces)  # an empty batch: one empty chunk
            checked = self._fields_checked(first[0], result, seen)
            current: tuple[list[Any], bool] | None = first
            while current is not None:
                chunk, last = current
                upto = None if last else chunk[-1][0]
                chunk.clear()
                following = None if last else next(pieces)
                ahead: list[_Checked] = []

                def meanwhile(following: Any = following, ahead: list[_Checked] = ahead) -> None:
                    """The next chunk's fields, checked while the database stores this one's."""
                    if following is not None:
                        ahead.extend(self._fields_checked(following[0], result, seen))

                creates = self._stored_checked(s, checked, result, commit, digests, mains)
                if commit != "none":
                    self._create_physicians(s, creates, meanwhile)
                else:
                    meanwhile()
                del creates
                if flush is not None:
                    flush(result, upto)
                current, checked = following, ahead
            if not result.may_store(commit):
                if commit != "none":
                    raise Abandon  # the changes kept so far go with the transaction
                return result
            result.committed = True
        return result

    def _fields_checked(
        self,
        items: list[tuple[int, PhysicianInput]],
        result: BatchResult,
        seen: MutableMapping[str, int],
    ) -> list[_Checked]:
        """The rows of one chunk whose fields pass, each certificate once (no statement)."""

        def check(row: int, data: PhysicianInput) -> tuple[str, _Checked]:
            one = self._checked_physician(row, data, result)
            return one.cert, one

        def duplicate(cert: str, row: int) -> str:
            return _("Certificate {cert} already appears on row {row} of this file.").format(
                cert=cert, row=row
            )

        checked = [
            one for _r, _k, one in checked_rows(items, result, check, "cert", duplicate, seen)
        ]
        if isinstance(seen, store.KeyLedger):
            seen.settle()
        return checked

    def _stored_checked(
        self,
        s: Session,
        checked: list[_Checked],
        result: BatchResult,
        commit: Commit,
        digests: MutableMapping[str, int],
        mains: dict[str, Institution],
    ) -> list[tuple[_Checked, Institution]]:
        """Check one chunk's rows against what is stored (a stored physician's change is
        applied, or rejected, as it is met); the new physicians to create, with their main
        institutions. ``mains``: the main institutions found by the chunks before (code →
        institution), the chunk's added (a file names a few thousand, over and over)."""
        certs = [one.cert for one in checked]
        if commit != "none":
            store.lock_physicians(s, certs)  # writers of one physician queue
        wanted = {ids.clean(c.data.main_institution) for c in checked} - mains.keys()
        mains.update(store.existing_keys(s, Institution, Institution.code, wanted))
        existing = store.existing_keys(s, Physician, Physician.cert_no, certs)
        registered = store.registered_mains(s, (old.id for old in existing.values()))
        holders = store.existing_keys(
            s, Physician, Physician.id_digest, (c.digest for c in checked if c.digest)
        )
        creates: list[tuple[_Checked, Institution]] = []
        for one in checked:
            if one.digest and not self._digest_free(one, holders, digests, result):
                continue
            main = self._main_institution(one, mains, result)
            if main is None:
                continue
            old = existing.get(one.cert)
            may = self.may_write_county(one.data.region_code) or self.may_write_county(
                main.county_code
            )
            if not may or (old is not None and not self.may_write_physician(s, one.cert)):
                self._refuse_row(
                    result, one.row, "region", _("physician {cert}").format(cert=one.cert),
                    "physician", one.cert, physician=one.cert, audit=commit != "none",
                )  # fmt: skip
                continue
            if old is None:
                creates.append((one, main))
                result.count(one.row, "created")
            else:
                self._change_physician(
                    s, one, old, main, result, keep=commit != "none", registered=registered[old.id]
                )
        if isinstance(digests, store.KeyLedger):
            digests.settle()
        return creates

    def physician_preview(self, data: PhysicianInput) -> list[Issue]:
        """What saving ``data`` would meet, stored nothing: the same checks, region scope and
        rules as :meth:`register_physician` (the TUI form shows them before Ctrl+S)."""
        return self.save_physicians([(1, data)], commit="none").issues

    def require_profession(self, cert: str, profession: str) -> None:
        """One sentence when ``cert`` is stored as the other profession (a nurse named by a
        ``physician`` command, or the reverse); an unknown certificate is left to the command."""
        with self.db.read() as s:
            found = q.profession_of(s, ids.clean(cert))
        if found is not None and found != profession:
            raise ServiceError(profession_mismatch(ids.clean(cert), found))

    def _checked_physician(self, row: int, data: PhysicianInput, result: BatchResult) -> _Checked:
        cert = check_cert(data.cert_no, data.profession)
        if data.profession == NURSE:
            region = self._check_nurse_fields(data)
        else:
            region = self._check_physician_fields(data)
        if region.retired:
            result.warn(row, "region", RETIRED, retired_warning(region))
        digest = masked = None
        if data.id_number:
            number = ids.clean(data.id_number).replace(" ", "")
            if not ids.id_number_ok(number):
                raise FieldError(
                    _("The national ID number fails its GB 11643 check character."), "id_number"
                )
            if ids.id_birth_date(number) is None:
                raise FieldError(
                    _("The national ID number does not hold a real birth date."), "id_number"
                )
            try:
                digest = ids.id_digest(number, self.id_key())
            except ServiceError as error:
                raise FieldError(str(error), "id_number") from None
            masked = ids.id_masked(number)
        self._check_status(data)
        values: dict[str, Any] = {
            "name": data.name.strip(),
            "initials": initials(data.name),
            "level": data.level,
            "category": data.category,
            "scopes": list(dict.fromkeys(data.scopes)),
            "title": data.title,
            "profession": data.profession,
        }
        if data.practising_since is not None:
            values["practising_since"] = data.practising_since
        if masked is not None:
            values["id_masked"] = masked
        return _Checked(row, cert, values, digest, data)

    @staticmethod
    def _digest_free(
        one: _Checked,
        holders: dict[str, Physician],
        seen: MutableMapping[str, int],
        result: BatchResult,
    ) -> bool:
        """Whether the row's national ID is no other physician's (an earlier row's, or stored);
        the sentence names the other row or physician, never the number. An earlier row of
        the file is named first, whether or not its chunk is written yet."""
        assert one.digest is not None
        earlier = seen.get(one.digest)
        if earlier is not None:
            result.reject(
                one.row, "id_number", DUPLICATE,
                _("This national ID number already appears on row {row} of this file.").format(
                    row=earlier
                ),
            )  # fmt: skip
            return False
        holder = holders.get(one.digest)
        if holder is not None and holder.cert_no != one.cert:
            result.reject(
                one.row, "id_number", DUPLICATE,
                _("This national ID number is already registered for physician {cert}.").format(
                    cert=holder.cert_no
                ),
            )  # fmt: skip
            return False
        seen[one.digest] = one.row
        return True

    @staticmethod
    def _main_institution(
        one: _Checked, mains: dict[str, Institution], result: BatchResult
    ) -> Institution | None:
        data = one.data
        main = mains.get(ids.clean(data.main_institution))
        if main is None:
            result.reject(
                one.row,
                "main_institution",
                UNKNOWN,
                _("Unknown main institution {code}: file the institution first.").format(
                    code=data.main_institution
                ),
            )
        elif not ids.region_contains(data.region_code, main.county_code):
            result.reject(
                one.row,
                "main_institution",
                "OUT_OF_REGION",
                _("Main institution {name} ({county}) lies outside region {region}.").format(
                    name=main.name, county=main.county_code, region=data.region_code
                ),
            )
            main = None
        return main

    def _create_physicians(
        self,
        s: Session,
        creates: list[tuple[_Checked, Institution]],
        meanwhile: Callable[[], None] | None = None,
    ) -> None:
        """New physicians with their registrations, events and audit rows, a chunk at a time,
        inserted in bulk (``storage.bulk``: multi-row INSERTs on SQLite, COPY on PostgreSQL)
        with ids drawn beforehand. The ORM's unit of work cost about 1 ms a physician (object
        construction, flushes, identity map, expunging), most of an import's time.
        ``meanwhile``: the caller's work to do once, while the database stores the first
        registrations (no statement of its own); called whatever is created."""
        if not creates and meanwhile is not None:
            meanwhile()
        if creates:
            self._ensure_regions(s, [one.data.region_code for one, _main in creates])
        for start in range(0, len(creates), CREATE_CHUNK):
            chunk = creates[start : start + CREATE_CHUNK]
            now = utcnow()
            # The chain's head is locked first: each table's rows are then built (and the
            # audit rows hashed) while the previous table's are being stored (``bulk``).
            head = locked_head(s)
            pids = bulk.reserve_ids(s, Physician, len(chunk))
            rids = bulk.reserve_ids(s, Registration, len(chunk))
            people = [
                _physician_row(pid, one, now) for pid, (one, _main) in zip(pids, chunk, strict=True)
            ]
            bulk.insert_rows(s, Physician, people)
            regs = [
                {
                    "id": rid,
                    "physician_id": pid,
                    "region_code": one.data.region_code,
                    "main_institution_id": main.id,
                    "registered_on": one.data.registered_on,
                    "status": "registered",
                }
                for rid, pid, (one, main) in zip(rids, pids, chunk, strict=True)
            ]
            audits = [
                audit_row(
                    self.clerk,
                    "create",
                    "physician",
                    person["cert_no"],
                    None,
                    row_snapshot(Physician, person)
                    | {"region": reg["region_code"], "main_institution": main.code},
                    physician=person["cert_no"],
                    institution=main.code,
                    at=now,
                )
                for person, reg, (_one, main) in zip(people, regs, chunk, strict=True)
            ]
            bulk.insert_rows(s, Registration, regs)
            if meanwhile is not None:  # the caller's work while the registrations are stored
                meanwhile()
                meanwhile = None
            bulk.insert_rows(
                s,
                RegistrationEvent,
                [
                    {"registration_id": reg["id"], "status": "registered",
                     "on": reg["registered_on"], "until": None, "reason": "", "recorded_at": now}
                    for reg in regs
                ],
            )  # fmt: skip
            self._append_audit(s, audits, head)
            del people, regs, audits
            for pid, rid, (one, _main) in zip(pids, rids, chunk, strict=True):
                if one.data.status != "registered":  # an imported 暂停/注销: its history
                    phys, reg = s.get(Physician, pid), s.get(Registration, rid)
                    assert phys is not None and reg is not None
                    self._record_status(s, phys, reg, one.data)
                    s.flush()
                    for obj in (phys, reg, *reg.events):
                        s.expunge(obj)

    def _change_physician(
        self,
        s: Session,
        one: _Checked,
        old: Physician,
        main: Institution,
        result: BatchResult,
        *,
        keep: bool,
        standing: set[ErrorKey] | None = None,
        registered: set[tuple[str, int]] | None = None,
    ) -> None:
        """Apply one row to a stored physician in a savepoint; keep it (``keep``) when it
        brings no rule error, else reject the row. An error already on record before the row
        (a contract run through a suspension, a listing) stays to be resolved whatever the
        row says, and does not refuse it: where the physician has errors after the row, the
        savepoint is undone, the errors before are found (``standing``) and the row applied
        again — only a row meeting errors pays for the second evaluation. ``registered``: the
        physician's registrations as (region, main institution id), read for the batch's chunk
        (else read here)."""
        data = one.data
        if old.profession != data.profession:
            result.reject(
                one.row, "cert", PROFESSION, profession_mismatch(old.cert_no, old.profession)
            )
            return
        changed = {k: v for k, v in one.values.items() if getattr(old, k) != v}
        if one.digest and old.id_digest != one.digest:
            changed["id_digest"] = one.digest
        if registered is None:
            registered = {
                (r.region_code, r.main_institution_id) for r in q.registrations_of(s, old.id)
            }
        if (
            not changed
            and data.status == "registered"
            and (data.region_code, main.id) in registered
        ):
            # the row as stored (a roster sent again): no savepoint, whose undoing walks every
            # object the batch's session holds (a 12,000-row file: 58 s, most of it that)
            result.count(one.row, "unchanged")
            return
        before = snapshot(old)
        savepoint = s.begin_nested()
        try:
            registration, reg = self._change_main(
                s, old, data.region_code, main, data.registered_on
            )
            if registration:  # a new registration or main institution: read back, events and all
                reg = next(
                    r for r in q.registrations_of(s, old.id) if r.region_code == data.region_code
                )
            status_changed = data.status != "registered" and self._record_status(s, old, reg, data)
        except ServiceError as error:
            savepoint.rollback()
            field = error.field if isinstance(error, FieldError) else "region"
            code = error.code if isinstance(error, FieldError) else "INVALID"
            result.reject(one.row, field, code, str(error))
            return
        if not changed and not registration and not status_changed:
            savepoint.rollback()
            result.count(one.row, "unchanged")
            return
        for k, v in changed.items():
            setattr(old, k, v)
        old.updated_at = utcnow()
        s.flush()
        errors = [
            v
            for v in self.evaluate(q.physician_fact(s, old))
            if v.severity == rules.ERROR and _error_key(v) not in (standing or ())
        ]
        if errors or not keep:
            savepoint.rollback()
            s.expire_all()
        if errors and standing is None:  # were they on record before the row?
            found = _errors_of(self.evaluate(q.physician_fact(s, old)))
            if all(_error_key(v) in found for v in errors):
                self._change_physician(s, one, old, main, result, keep=keep, standing=found)
                return
            errors = [v for v in errors if _error_key(v) not in found]
        if errors:
            field = "status" if status_changed else ""
            for violation in errors:
                result.reject(one.row, field, violation.code, violation.message, violation)
            return
        if keep and (changed or registration):
            self._audit(
                s, "update", "physician", one.cert, before, snapshot(old), physician=one.cert
            )
        if keep:
            savepoint.commit()
        result.count(one.row, "updated")

    def _change_main(
        self, s: Session, phys: Physician, region: str, main: Institution, on: dt.date
    ) -> tuple[bool, Registration]:
        """The registration in ``region`` (a new one: 增加注册) with ``main`` as its main
        institution: whether anything changed, and the registration (as read: a row that
        changes nothing, most of a file sent again, reads the registrations once)."""
        regs = q.registrations_of(s, phys.id)
        reg = next((r for r in regs if r.region_code == region), None)
        if reg is None:
            if any(r.region_code[:2] == region[:2] for r in regs):
                raise FieldError(
                    _("The physician is already registered in this province."), "region"
                )
            if phys.level == "执业助理医师" and regs:
                raise FieldError(
                    _("An 执业助理医师 may hold only one registration region."), "region"
                )
            reg = Registration(
                physician_id=phys.id,
                region_code=region,
                main_institution_id=main.id,
                registered_on=on,
                status="registered",
            )
            self._ensure_regions(s, [region])
            s.add(reg)
            s.flush()
            s.add(RegistrationEvent(registration_id=reg.id, status="registered", on=on))
            return True, reg
        if reg.main_institution_id == main.id:
            return False, reg
        reg.main_institution_id = main.id
        s.add(RegistrationEvent(registration_id=reg.id, status="changed", on=on, reason=main.code))
        return True, reg

    def _check_nurse_fields(self, data: PhysicianInput) -> Division:
        """A nurse's fields checked (FieldError naming the field), and the region: a nurse's
        title, no physician's level, category or scopes, a province as the region (护士执业注册
        for a province-level 执业地点, like an 执业医师's)."""
        if not data.name.strip():
            raise FieldError(_("The nurse's name is empty."), "name")
        stored_texts(
            ("name", NAME_TEXT, _("The nurse's name"), data.name, "physician_name"),
            ("status_reason", FREE_TEXT, _("The reason"), data.status_reason, "free_text"),
            *notes_texts(data.notes),
        )
        if data.scopes:
            raise FieldError(
                _("A nurse has no scope of practice (执业范围): {scopes} is a physician's.").format(
                    scopes="、".join(data.scopes)
                ),
                "scopes",
                PROFESSION,
            )
        if data.category:
            raise FieldError(
                _("A nurse has no category (执业类别): {value} is a physician's.").format(
                    value=data.category
                ),
                "category",
                PROFESSION,
            )
        if data.level not in ("", NURSE_LEVEL):
            raise FieldError(
                _("A nurse has no physician's level: {value} is a physician's.").format(
                    value=data.level
                ),
                "level",
                PROFESSION,
            )
        check_title(data.title, NURSE)
        region = require_region_code(data.region_code)
        if not data.region_code.endswith("0000"):
            raise FieldError(
                _("A nurse registers for a province: use a code ending in 0000."), "region"
            )
        data.level = NURSE_LEVEL
        return region

    def _check_physician_fields(self, data: PhysicianInput) -> Division:
        """The fields of ``data`` checked (FieldError naming the field), and its region."""
        if not data.name.strip():
            raise FieldError(_("The physician's name is empty."), "name")
        stored_texts(
            ("name", NAME_TEXT, _("The physician's name"), data.name, "physician_name"),
            *(("scopes", NAME_TEXT, _("A scope"), scope, "scope") for scope in data.scopes),
            ("status_reason", FREE_TEXT, _("The reason"), data.status_reason, "free_text"),
            *notes_texts(data.notes),
        )
        if data.level not in LEVELS:
            raise FieldError(
                _("Level {value} is not 执业医师 or 执业助理医师.").format(value=data.level),
                "level",
            )
        if data.category not in CATEGORIES:
            raise FieldError(
                _("Category {value} is not one of {allowed}.").format(
                    value=data.category, allowed="、".join(CATEGORIES)
                ),
                "category",
            )
        region = require_region_code(data.region_code)
        vocabulary = region_vocabulary(self, data.region_code)
        allowed = vocabulary.scopes[data.category]
        for scope in data.scopes:
            if scope not in allowed:
                raise FieldError(
                    _("Scope {scope} does not belong to category {category}.").format(
                        scope=scope, category=data.category
                    ),
                    "scopes",
                )
        if not data.scopes:
            raise FieldError(_("A physician needs at least one scope (执业范围)."), "scopes")
        limit = vocabulary.scope_limit(data.region_code)
        if limit is not None and len(set(data.scopes)) > limit:
            raise FieldError(
                _(
                    "A physician registered at county level holds at most {limit} scopes of "
                    "one category, not {count}."
                ).format(limit=limit, count=len(set(data.scopes))),
                "scopes",
            )
        check_title(data.title, PHYSICIAN)
        province = data.region_code.endswith("0000")
        if data.level == "执业医师" and not province:
            raise FieldError(
                _("An 执业医师 registers for a province: use a code ending in 0000."), "region"
            )
        if data.level == "执业助理医师" and data.region_code.endswith("00"):
            raise FieldError(
                _("An 执业助理医师 registers for a county: use a county code."), "region"
            )
        return region

    @staticmethod
    def _check_status(data: PhysicianInput) -> None:
        """A status with the dates and reason it needs (暂停: first and last day; 注销: the day)."""
        if data.status not in STATUSES:
            raise FieldError(
                _("Status {status} is not 注册, 暂停 or 注销.").format(status=data.status), "status"
            )
        if data.status == "registered":
            return
        if data.status_from is None:
            raise FieldError(
                _("A suspension or cancellation needs the day it takes effect."), "status_from"
            )
        if data.status == "suspended":
            if data.status_to is None:
                raise FieldError(_("A suspension needs its last day."), "status_to")
            check_suspension(data.status_from, data.status_to, data.status_reason)
        else:
            if data.status_to is not None:
                raise FieldError(_("A cancellation is for good: it has no last day."), "status_to")
            check_cancellation(data.status_reason)

    def _record_status(
        self, s: Session, phys: Physician, reg: Registration, data: PhysicianInput
    ) -> bool:
        """Add the suspension or cancellation ``data`` carries to the registration's history
        (an import's 暂停/注销 rows); False when the history already holds it (a re-import)."""
        assert data.status_from is not None
        return self._add_status(
            s, phys, reg, data.status, data.status_from, data.status_to, data.status_reason
        )

    def _revoke_feeds(self, s: Session, phys: Physician) -> None:
        """A physician whose every registration is cancelled (注销) keeps no subscription:
        their feeds are revoked in the same transaction (the URL then answers 404, like an
        unknown one), with an audit row."""
        tokens = feeds.active_tokens(s, physician_id=phys.id)
        if not tokens:
            return
        now = utcnow()
        for token in tokens:
            token.revoked_at = now
        s.flush()
        self._audit(
            s, "revoke", "feed_token", phys.cert_no, _revoked_snapshot(tokens),
            {"active_token_ids": [], "reason": "cancelled"}, physician=phys.cert_no,
        )  # fmt: skip

    def _add_status(
        self,
        s: Session,
        phys: Physician,
        reg: Registration,
        status: str,
        start: dt.date,
        until: dt.date | None,
        reason: str,
    ) -> bool:
        """Add a suspension (with ``until``) or a cancellation to a registration's history, with
        its audit row; False when the history already holds it. The physician's status follows
        their registrations (``physician_status``)."""
        reason = reason.strip()
        for event in reg.events:
            if (event.status, event.on, event.until) == (status, start, until):
                return False
        if reg.status == "cancelled" or any(e.status == "cancelled" for e in reg.events):
            raise FieldError(
                _("The registration of {cert} is cancelled.").format(cert=phys.cert_no), "status"
            )
        before = {"region": reg.region_code, "status": reg.status}
        s.add(
            RegistrationEvent(
                registration_id=reg.id, status=status, on=start, until=until, reason=reason
            )
        )
        reg.status = status
        s.flush()
        phys.status = physician_status([r.status for r in q.registrations_of(s, phys.id)])
        if phys.status == "cancelled":
            self._revoke_feeds(s, phys)
        after = {"region": reg.region_code, "status": status, "from": start.isoformat(),
                 "reason": reason}  # fmt: skip
        if until is not None:
            after["until"] = until.isoformat()
        self._audit(
            s, STATUS_ACTIONS[status], "registration", phys.cert_no, before, after,
            physician=phys.cert_no,
        )  # fmt: skip
        return True


def _revoked_snapshot(tokens: Sequence[FeedToken]) -> dict[str, Any]:
    return {"active_token_ids": [t.id for t in tokens]}


def check_cert(cert_no: str, profession: str) -> str:
    """The cleaned certificate number of a ``profession``; FieldError when it is not one, with
    code PROFESSION when it is the other profession's (a nurse's 12-digit 护士执业证书编号 in a
    physicians' file, a physician's 15-digit 医师执业证书编码 in a nurses' file)."""
    if profession not in PROFESSIONS:
        raise FieldError(
            _("Profession {value} is not physician or nurse.").format(value=profession), "cert"
        )
    cert = ids.clean(cert_no)
    found = ids.profession_of_cert(cert)
    if found == profession:
        return cert
    if found is not None:
        raise FieldError(cert_of_other_profession(cert, found), "cert", PROFESSION)
    if profession == NURSE:
        raise FieldError(
            _(
                "Certificate number {cert} is not a 护士执业证书编号 (12 digits: the year of first "
                "registration, the province's two-digit code, a six-digit serial)."
            ).format(cert=cert_no),
            "cert",
        )
    raise FieldError(
        _("Certificate number {cert} is not 15 digits (医师执业证书编码).").format(cert=cert_no),
        "cert",
    )


def cert_of_other_profession(cert: str, found: str) -> str:
    if found == NURSE:
        return _(
            "{cert} is a nurse's certificate number (护士执业证书编号), not a physician's."
        ).format(cert=cert)
    return _(
        "{cert} is a physician's certificate number (医师执业证书编码), not a nurse's."
    ).format(cert=cert)


def profession_mismatch(cert: str, stored: str) -> str:
    """A stored practitioner named as the other profession."""
    if stored == NURSE:
        return _("{cert} is registered as a nurse, not a physician (multisite nurse …).").format(
            cert=cert
        )
    return _("{cert} is registered as a physician, not a nurse (multisite physician …).").format(
        cert=cert
    )


def check_title(title: str, profession: str) -> None:
    """A title of ``profession`` (护士 … 主任护师 for a nurse; 住院医师 … 主任医师 for a
    physician); the other profession's title is a PROFESSION error."""
    own, other = (NURSE_TITLES, TITLES) if profession == NURSE else (TITLES, NURSE_TITLES)
    if title in own:
        return
    if title in other:
        message = (
            _("Title {value} is a physician's, not a nurse's ({allowed}).")
            if profession == NURSE
            else _("Title {value} is a nurse's, not a physician's ({allowed}).")
        )
        raise FieldError(message.format(value=title, allowed="、".join(own)), "title", PROFESSION)
    raise FieldError(
        _("Title {value} is not one of {allowed}.").format(value=title, allowed="、".join(own)),
        "title",
    )


def physician_status(statuses: Sequence[str]) -> str:
    """The physician's status over their registrations: cancelled when all are, suspended when
    none is registered, else registered."""
    if statuses and all(x == "cancelled" for x in statuses):
        return "cancelled"
    if statuses and all(x in ("suspended", "cancelled") for x in statuses):
        return "suspended"
    return "registered"


def check_suspension(start: dt.date, until: dt.date, reason: str) -> None:
    if until < start:
        raise FieldError(
            _("The suspension ends on {until}, before it starts on {start}.").format(
                until=until.isoformat(), start=start.isoformat()
            ),
            "status_to",
        )
    if not reason.strip():
        raise FieldError(_("A suspension needs a reason."), "status_reason")


def check_cancellation(reason: str) -> None:
    if not reason.strip():
        raise FieldError(_("A cancellation needs a reason."), "status_reason")


ErrorKey = tuple[str, tuple[str, ...], tuple[str, ...], dt.date]


def _error_key(violation: rules.Violation) -> ErrorKey:
    """An error as the same error before and after a write: its rule, what it names and its
    first day (one that starts elsewhere, as a second suspension's would, is the write's)."""
    return violation.code, violation.agreements, violation.institutions, violation.first_date


def _errors_of(found: list[rules.Violation]) -> set[ErrorKey]:
    return {_error_key(v) for v in found if v.severity == rules.ERROR}
