"""Agreements (合同/协议) and their weekly sessions; filing (备案) follows from them.

One write path for one agreement (the TUI, the CLI) and for a batch (an import, the demo):
:meth:`Agreements.save_agreements`. The rows are grouped by physician, the facts of all
affected physicians are read with a few bulk SELECTs, and each physician's new agreements are
checked in memory against what is stored *and* the other rows of the batch. When rows conflict
the later row (in the batch's order) is rejected, and the rules run again without it until the
remaining rows are clean. The accepted rows are written with ``executemany``; a single
agreement is a batch of one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from ..domain import filings, rules
from ..domain import identifiers as ids
from ..domain.facts import AgreementFact, InstitutionFact, PhysicianFact
from ..domain.filings import FILING, FilingPlan
from ..domain.inputs import KEY_CONFLICT, TERMS, UNKNOWN, AgreementInput
from ..domain.schedule import Slot, slots_text
from ..domain.text import FREE_TEXT, IDENTIFIER_TEXT, NAME_TEXT
from ..domain.vocabulary import ROLES
from ..i18n import N_, _
from ..storage import batch as store
from ..storage import bulk
from ..storage import queries as q
from ..storage.audit import audit_row, locked_head, snapshot, store_linked
from ..storage.models import WorkSession, utcnow
from .filings import Filings, _Who, describe
from .filings import done as filing_done
from .registry import (
    Abandon,
    BatchResult,
    Commit,
    ConcurrentWriteError,
    FieldError,
    Progress,
    ServiceError,
    WriteResult,
    batch_chunks,
    checked_rows,
    closing_ledger,
    no_progress,
    notes_texts,
    single_result,
    stored_texts,
)

WRITE_CHUNK = 10_000  # created agreements written per executemany round
STREAM_ROWS = 10_000  # a larger batch is checked and written this many rows at a time
MANY_INSTITUTIONS = 1000  # from this many codes in a batch, read every institution at once
ONE_BY_ONE = 64  # from this many rows of one physician, rows are admitted one by one
LISTED = 3  # a rejected row lists at most this many violations of one code, then their count


@dataclass(slots=True)
class _Pending:
    """One row of a batch on its way: checked fields, then its facts and stored twin."""

    row: int
    contract_no: str
    cert: str
    code: str
    data: AgreementInput | None  # let go of once the facts are made (a large batch's memory)
    fact: AgreementFact | None = None
    stored_id: int | None = None
    revision: int = 0
    terms: dict[str, str] | None = None  # the stored terms of a stored agreement
    named: tuple[str | None, ...] = ()  # the terms this row names (None: not named), by TERMS
    notes: dict[str, Any] | None = None

    def keep_only_facts(self, institution: InstitutionFact) -> None:
        data = self.data
        assert data is not None
        self.named = tuple(getattr(data, term) for term in TERMS)
        stored = self.terms or {}
        empty = {term for term in TERMS if not stored.get(term, "").strip()}
        self.fact = _fact(
            self.stored_id, self.contract_no, institution, data, _missing_terms(self.named, empty)
        )
        self.notes = data.notes
        self.data = None

    filing: FilingPlan | None = None  # the filing (备案) its save files, extends or renews


AGREEMENT_TEXTS = (
    ("department", NAME_TEXT, N_("The department"), "department"),
    ("tasks", FREE_TEXT, N_("The tasks"), "free_text"),
    ("liability", FREE_TEXT, N_("The liability terms"), "free_text"),
    ("pay", FREE_TEXT, N_("The pay terms"), "free_text"),
    ("insurance", FREE_TEXT, N_("The insurance terms"), "free_text"),
    ("employment", FREE_TEXT, N_("The employment terms"), "free_text"),
)
"""An agreement's texts besides its number: (field, kind, label, length key)."""


def check_agreement_fields(data: AgreementInput) -> tuple[str, str, str]:
    """The contract number, certificate and credit code of ``data``, its fields checked
    (FieldError naming the field otherwise)."""
    contract = data.contract_no.strip()
    if not contract:
        raise FieldError(_("The contract number is empty."), "contract_no")
    stored_texts(
        ("contract_no", IDENTIFIER_TEXT, _("The contract number"), contract, "contract_no"),
        *(
            (name, kind, _(label), value, limit)
            for name, kind, label, limit in AGREEMENT_TEXTS
            if (value := getattr(data, name))  # an empty text is not checked: not labelled
        ),
        *notes_texts(data.notes),
    )
    cert = ids.clean(data.physician)
    if ids.profession_of_cert(cert) is None:
        raise FieldError(
            _(
                "Certificate number {cert} is neither a 医师执业证书编码 (15 digits) nor a "
                "护士执业证书编号 (12 digits)."
            ).format(cert=data.physician),
            "physician",
        )
    code = ids.clean(data.institution)
    if not ids.credit_code_shape_ok(code):
        raise FieldError(
            _("Institution code {code} is not an 18-character 统一社会信用代码.").format(
                code=data.institution
            ),
            "institution",
        )
    if data.role not in ROLES:
        raise FieldError(
            _("Role {role} is not primary or additional.").format(role=data.role), "role"
        )
    if data.start > data.end:
        raise FieldError(
            _("The agreement starts on {start}, after it ends on {end} (PERIOD).").format(
                start=data.start.isoformat(), end=data.end.isoformat()
            ),
            "end",
            "PERIOD",
        )
    if not 0 <= data.weekly_hours <= 168:
        raise FieldError(_("Contracted weekly hours must lie between 0 and 168."), "weekly_hours")
    return contract, cert, code


def _reject_listing(
    result: BatchResult, p: _Pending, violations: Iterable[rules.Violation]
) -> None:
    """Reject row ``p`` for ``violations``: at most ``LISTED`` of one code, then one line that
    counts the rest, so a row in conflict with thousands of others stays a few lines."""
    by_code: dict[str, list[rules.Violation]] = defaultdict(list)
    for v in violations:
        by_code[v.code].append(v)
    for code, found in by_code.items():
        column = rules.column_of(code)
        for v in found[:LISTED]:
            result.reject(p.row, column, code, v.message, v)
        if len(found) > LISTED:
            result.reject(
                p.row,
                column,
                code,
                _("… and {more} more {code} conflicts of this row ({total} in all).").format(
                    more=f"{len(found) - LISTED:,}", code=code, total=f"{len(found):,}"
                ),
            )


def _unknown_physician(cert: str) -> FieldError:
    return FieldError(
        _("Unknown physician {cert}: register the physician first.").format(cert=cert),
        "physician",
        UNKNOWN,
    )


def _unknown_institution(code: str) -> FieldError:
    return FieldError(
        _("Unknown institution {code}: file the institution first.").format(code=code),
        "institution",
        UNKNOWN,
    )


def _belongs_to_another(contract: str) -> FieldError:
    return FieldError(
        _("Contract {contract} belongs to another physician.").format(contract=contract),
        "contract_no",
        KEY_CONFLICT,
    )


@dataclass(frozen=True)
class AgreementPreview:
    """What saving an agreement would do: the violations touching it (errors refuse the
    save) and the filing (备案) it would file, extend or renew (``note`` says so)."""

    violations: list[rules.Violation]
    filing: FilingPlan | None

    @property
    def note(self) -> str | None:
        return describe(self.filing) if self.filing is not None else None


class Agreements(Filings):
    def preview_agreement(self, data: AgreementInput) -> list[rules.Violation]:
        """The violations filing ``data`` would create, without storing anything."""
        return self.agreement_preview(data).violations

    def agreement_preview(self, data: AgreementInput) -> AgreementPreview:
        """What saving ``data`` would do, without storing anything: the violations it would
        create and the filing it would file, extend or renew."""
        contract, cert, code = check_agreement_fields(data)
        read = q.contract_facts(self.db, cert, code, contract)  # one statement, one snapshot
        facts, institution, owner = read.physician, read.institution, read.owner
        if facts is None:
            raise _unknown_physician(cert)
        if institution is None:
            raise _unknown_institution(code)
        if owner is not None and owner != facts.id:
            raise _belongs_to_another(contract)
        old = next((a for a in facts.agreements if a.contract_no == contract), None)
        empty = set(old.missing_terms) if old is not None else set(TERMS)
        named = tuple(getattr(data, term) for term in TERMS)
        fact = _fact(None, contract, institution, data, _missing_terms(named, empty))
        after, plans = filings.plan_all(facts.with_agreement(fact), [fact])
        found = rules.touching(self.evaluate(after), contract)
        return AgreementPreview(found, plans[0] if plans else None)

    def save_agreement(self, data: AgreementInput) -> WriteResult:
        """File a new agreement or change a stored one (``contract_no`` is the key)."""
        try:
            result = self.save_agreements([(1, data)])
        except ConcurrentWriteError as error:
            # Only a race gets here: another clerk committed the same new contract number
            # between our check and our insert, or (PostgreSQL) the exclusion guard of
            # revision 0004 caught a double booking the rules did not see.
            raise ServiceError(
                _(
                    "Contract {contract} could not be stored: another clerk changed the same "
                    "data at the same moment; nothing was stored, try again."
                ).format(contract=data.contract_no.strip())
            ) from error
        return single_result(result, data.contract_no.strip())

    def save_agreements(
        self,
        items: Iterable[tuple[int, AgreementInput]],
        *,
        commit: Commit = "all",
        progress: Progress | None = None,
        result: BatchResult | None = None,
        flush: Callable[[BatchResult, int | None], None] | None = None,
    ) -> BatchResult:
        """File or change many agreements in one transaction; ``items`` are (row, input).

        Rules run across the batch and against what is stored; a row equal to what is stored is
        ``unchanged``; every created or changed agreement writes its sessions, its filing (备案,
        for an additional institution) and an audit row.

        A batch of more than ``STREAM_ROWS`` rows (a large file) is streamed: each chunk of
        rows is checked against what is stored — the earlier chunks' rows included, written
        into the same transaction — and written, then ``flush(result, last row)`` takes its
        issues (the import writes its report as it goes; the last row is None after the last
        chunk). Only the contract numbers are held to the end,
        never the rows. Such a batch's dry run, or all-or-nothing run with a rejected row, is
        checked in a write transaction that is rolled back at the end. ``result`` may carry
        rows rejected before the batch (by the file's reader).
        """
        tick = progress or no_progress
        result = result if result is not None else BatchResult()
        streamed, pieces = batch_chunks(items, STREAM_ROWS)
        if not streamed and commit == "all" and result.refused:
            commit = "none"  # the reader rejected a row: the others are checked, not stored
        seen: MutableMapping[str, int] = store.KeyLedger() if streamed else {}
        institutions: dict[str, InstitutionFact] = {}
        with (
            self._batch_session("all" if streamed and commit == "none" else commit) as s,
            closing_ledger(seen),
        ):
            for chunk, last in pieces:
                upto = None if last else chunk[-1][0]
                one = not streamed and len(chunk) == 1  # a clerk's save, not a file's rows
                pending = self._pending(chunk, result, seen)
                if isinstance(seen, store.KeyLedger):
                    seen.settle()
                chunk.clear()
                accepted = self._check_batch(
                    s, pending, result, lock=commit != "none", tick=tick, known=institutions
                )
                del pending
                # Whether the rows will be stored, as far as is known now: a streamed
                # all-or-nothing batch knows it only after its last chunk.
                stores = commit == "partial" or (commit == "all" and last and not result.refused)
                for p, _who, _warnings in accepted:
                    # What the save does to the filing (备案): a clerk's one contract is told
                    # every time; a batch's report names the filings it extends or renews (a
                    # new additional contract filing its institution is the ordinary case).
                    if p.filing is not None and (p.filing.action != filings.FILE or one):
                        note = filing_done(p.filing) if stores else describe(p.filing)
                        result.warn(p.row, "institution", FILING, note)
                if streamed or result.may_store(commit):
                    self._write_batch(s, accepted, tick)
                del accepted
                if flush is not None:
                    flush(result, upto)
            if streamed and (commit == "none" or not result.may_store(commit)):
                raise Abandon  # checked against its own earlier chunks; nothing is kept
            result.committed = commit != "none" and result.may_store(commit)
        return result

    def _pending(
        self,
        items: Iterable[tuple[int, AgreementInput]],
        result: BatchResult,
        seen: MutableMapping[str, int] | None = None,
    ) -> list[_Pending]:
        def check(row: int, data: AgreementInput) -> tuple[str, _Pending]:
            contract, cert, code = check_agreement_fields(data)
            return contract, _Pending(row, contract, cert, code, data)

        def duplicate(contract: str, row: int) -> str:
            return _("Contract {contract} already appears on row {row} of this file.").format(
                contract=contract, row=row
            )

        rows = checked_rows(items, result, check, "contract_no", duplicate, seen)
        return [pending for _row, _key, pending in rows]

    def _check_batch(
        self, s: Session, pending: list[_Pending], result: BatchResult, *, lock: bool,
        tick: Progress, known: dict[str, InstitutionFact] | None = None,
    ) -> list[tuple[_Pending, _Who, list[rules.Violation]]]:  # fmt: skip
        institutions = known if known is not None else {}
        codes = {p.code for p in pending} - institutions.keys()
        if codes:  # a contract import changes no institution: earlier chunks' facts hold
            institutions.update(
                store.institution_facts(s, None if len(codes) >= MANY_INSTITUTIONS else codes)
            )
        pids = store.physician_ids(s, (p.cert for p in pending), lock=lock)
        stored = store.agreements_by_contract(s, (p.contract_no for p in pending))
        by_physician: dict[int, list[_Pending]] = defaultdict(list)
        for p in pending:
            pid = pids.get(p.cert)
            inst = institutions.get(p.code)
            problems = ([] if pid is not None else [_unknown_physician(p.cert)]) + (
                [] if inst is not None else [_unknown_institution(p.code)]
            )
            old = stored.get(p.contract_no)
            if pid is not None and inst is not None and old is not None:
                if old.physician_id != pid:
                    problems.append(_belongs_to_another(p.contract_no))
                elif old.status == "terminated":
                    problems.append(
                        FieldError(
                            _("Contract {contract} is terminated and cannot be changed.").format(
                                contract=p.contract_no
                            ),
                            "contract_no",
                            KEY_CONFLICT,
                        )
                    )
            for problem in problems:
                result.reject(p.row, problem.field, problem.code, str(problem))
            if problems or pid is None or inst is None:
                continue
            if not (self.may_write_county(inst.county_code) or self.may_write_physician(s, p.cert)):
                self._refuse_row(
                    result, p.row, "institution",
                    _("contract {contract} (physician {cert}, institution {code})").format(
                        contract=p.contract_no, cert=p.cert, code=p.code
                    ),
                    "agreement", p.contract_no, physician=p.cert, institution=p.code,
                    audit=lock,
                )  # fmt: skip
                continue
            if old is not None:
                p.stored_id, p.revision, p.terms = old.id, old.revision, old.terms
            p.keep_only_facts(inst)
            by_physician[pid].append(p)
        accepted: list[tuple[_Pending, _Who, list[rules.Violation]]] = []
        total = len(by_physician)
        for done, facts in enumerate(_facts_of(s, sorted(by_physician)), start=1):
            accepted.extend(self._check_physician(facts, by_physician[facts.id], result))
            if done % 500 == 0:
                tick("check", done, total)
        tick("check", total, total)
        accepted.sort(key=lambda a: a[0].row)  # stored in the batch's order, whatever the backend
        for p, _who, _warnings in accepted:
            result.count(p.row, "created" if p.stored_id is None else "updated")
        return accepted

    def _check_physician(
        self, facts: PhysicianFact, batch: list[_Pending], result: BatchResult
    ) -> list[tuple[_Pending, _Who, list[rules.Violation]]]:
        stored = {a.contract_no: a for a in facts.agreements}
        candidates: list[_Pending] = []
        for p in batch:
            old = stored.get(p.contract_no)
            if old is not None and _same(old, p):
                result.count(p.row, "unchanged")
            else:
                candidates.append(p)
        if not candidates:
            return []
        if len(candidates) > ONE_BY_ONE:
            candidates = self._admit_in_order(facts, candidates, result)
        while True:
            names = {p.contract_no for p in candidates}
            kept = tuple(a for a in facts.agreements if a.contract_no not in names)
            trial = _with_agreements(facts, kept + tuple(p.fact for p in candidates if p.fact))
            trial, plans = filings.plan_all(trial, [p.fact for p in candidates if p.fact])
            found = self.evaluate(trial)
            victims: dict[str, list[rules.Violation]] = {}
            order = {p.contract_no: p.row for p in candidates}
            for v in found:
                if v.severity != rules.ERROR:
                    continue
                involved = [no for no in v.agreements if no in order]
                if involved:
                    victim = max(involved, key=order.__getitem__)
                    victims.setdefault(victim, []).append(v)
            if not victims:
                break
            for p in candidates:
                _reject_listing(result, p, victims.get(p.contract_no, ()))
            candidates = [p for p in candidates if p.contract_no not in victims]
            if not candidates:
                return []
        accepted = []
        who = _Who(facts.id, facts.cert_no)  # not the whole facts: memory stays bounded
        planned = {plan.contract_no: plan for plan in plans}
        for p in candidates:
            p.filing = planned.get(p.contract_no)
            mine = [v for v in found if p.contract_no in v.agreements]
            for v in mine:
                result.warn(p.row, rules.column_of(v.code), v.code, v.message, v)
            accepted.append((p, who, mine))
        return accepted

    def _admit_in_order(
        self, facts: PhysicianFact, candidates: list[_Pending], result: BatchResult
    ) -> list[_Pending]:
        """Many rows for one physician: each row, in file order, is checked against what is
        stored and the rows admitted before it, and rejected for a conflict with those alone.
        Rows that conflict with each other then cost one small evaluation each instead of
        every pair of the batch (5,000 mutually overlapping rows: seconds, not minutes, and
        one line each in the report). The admitted rows go on to the whole-batch check."""
        names = {p.contract_no for p in candidates}
        kept = tuple(a for a in facts.agreements if a.contract_no not in names)
        admitted: list[_Pending] = []
        for p in candidates:
            assert p.fact is not None
            trial = _with_agreements(facts, (*kept, *(a.fact for a in admitted if a.fact), p.fact))
            conflicts = [
                v
                for v in self.evaluate(trial)
                if v.severity == rules.ERROR
                and p.contract_no in v.agreements
                and len(v.agreements) > 1
            ]
            if conflicts:
                _reject_listing(result, p, conflicts)
            else:
                admitted.append(p)
        return admitted

    def _write_batch(
        self, s: Session, accepted: list[tuple[_Pending, _Who, list[rules.Violation]]],
        tick: Progress,
    ) -> None:  # fmt: skip
        now = utcnow()
        creates: list[tuple[_Pending, _Who, dict[str, Any]]] = []
        audits: list[dict[str, Any]] = []
        total = len(accepted)
        for number, (p, who, warnings) in enumerate(accepted, start=1):
            assert p.fact is not None
            inst = p.fact.institution
            values = {
                "institution_id": inst.id,
                "role": p.fact.role,
                "department": p.fact.department,
                "start": p.fact.start,
                "end": p.fact.end,
                "weekly_hours": p.fact.weekly_hours,
                "consent": p.fact.consent,
                "warnings": [v.as_json() for v in warnings],
                "updated_at": now,
                "pattern": slots_text(p.fact.slots),
                "weekly_minutes": p.fact.scheduled_minutes,
            }
            named = dict(zip(TERMS, p.named, strict=True))
            if p.stored_id is None:
                row = {
                    "contract_no": p.contract_no,
                    "physician_id": who.id,
                    **{term: text or "" for term, text in named.items()},
                    "status": "active",
                    "terminated_on": None,
                    "revision": 0,
                    "notes": dict(p.notes or {}),
                    **values,
                }
                creates.append((p, who, row))
                if len(creates) >= WRITE_CHUNK and number < total:  # (the last: with filings)
                    self._insert_created(s, creates, audits, now)
            else:
                values.update({t: text for t, text in named.items() if text is not None})
                before = store.agreement_snapshot(s, p.stored_id)
                revision = p.revision + 1
                store.replace_agreement(
                    s,
                    p.stored_id,
                    {**values, "revision": revision},
                    _session_rows(p, who.id, p.stored_id, revision),
                )
                after = store.agreement_snapshot(s, p.stored_id)
                audits.append(
                    audit_row(self.clerk, "update", "agreement", p.contract_no, before, after,
                              physician=who.cert_no, institution=inst.code, at=now)
                )  # fmt: skip
            if number % 5000 == 0:
                tick("write", number, total)
        plans = [(p.filing, who) for p, who, _w in accepted if p.filing is not None]
        self._insert_created(s, creates, audits, now, plans)
        tick("write", total, total)

    def _insert_created(
        self,
        s: Session,
        creates: list[tuple[_Pending, _Who, dict[str, Any]]],
        audits: list[dict[str, Any]],
        now: dt.datetime,
        plans: list[tuple[FilingPlan, _Who]] | None = None,
    ) -> None:
        """Insert the created agreements gathered so far, their sessions, the filings
        ``plans`` file, extend or renew (with their history) and the audit rows of all.

        Every statement comes first — the chain's head locked, the ids drawn, the filings
        read — then the agreements are sent, and the other rows are built (the audit rows
        hashed) while the database stores them: on PostgreSQL each COPY is finished in the
        background and only the next use of the connection waits for it (``storage.bulk``),
        so the writer's work and the server's overlap instead of taking turns."""
        plans = plans or []
        if not (creates or audits or plans):
            return
        head = locked_head(s)
        ids = store.agreement_ids(s, len(creates))
        filed = self._filing_writes(s, plans, now)
        rows = [{**row, "id": aid} for aid, (_p, _w, row) in zip(ids, creates, strict=True)]
        store.insert_agreements(s, rows)
        sessions: list[dict[str, Any]] = []
        for aid, (p, who, row) in zip(ids, creates, strict=True):
            sessions.extend(_session_rows(p, who.id, aid, 0))
            audits.append(
                audit_row(self.clerk, "create", "agreement", p.contract_no, None,
                          _created_snapshot(aid, row, p.fact.slots if p.fact else ()),
                          physician=who.cert_no, institution=p.code, at=now)
            )  # fmt: skip
        del rows
        written = filed.build(self.clerk, audits)
        bulk.insert_rows(s, WorkSession, sessions)
        linked = self._link_audit(s, audits, head)  # hashed while the sessions are stored
        self._store_filings(s, written)
        store_linked(s, linked)
        creates.clear()
        audits.clear()

    def terminate_agreement(self, contract_no: str, on: dt.date, reason: str) -> WriteResult:
        """End an agreement on ``on`` (its last day); its series ends there in every export."""
        stored_texts(("reason", FREE_TEXT, _("The reason"), reason, "free_text"))
        with self.db.write() as s:
            # Lock the physician before reading the agreement, so two clerks terminating or
            # changing it at once are serialised on PostgreSQL (READ COMMITTED) too.
            owner = q.contract_owner(s, contract_no.strip())
            if owner is not None:
                q.lock_physician(s, owner)
            agreement = q.agreement_by_contract(s, contract_no.strip())
            if agreement is None:
                raise ServiceError(_("Unknown contract {contract}.").format(contract=contract_no))
            self._guard(
                s, "agreement", agreement.contract_no, physician=agreement.physician.cert_no,
                institution=agreement.institution.code,
            )  # fmt: skip
            if agreement.status == "terminated":
                raise ServiceError(
                    _("Contract {contract} is already terminated.").format(contract=contract_no)
                )
            if on < agreement.start - dt.timedelta(days=1):
                raise ServiceError(
                    _("Termination date {on} is before the agreement starts on {start}.").format(
                        on=on.isoformat(), start=agreement.start.isoformat()
                    )
                )
            before = snapshot(agreement)
            agreement.status = "terminated"
            agreement.terminated_on = min(on, agreement.end)
            agreement.notes = {**(agreement.notes or {}), "termination_reason": reason}
            agreement.revision += 1
            agreement.updated_at = utcnow()
            for x in agreement.sessions:
                x.end_date = agreement.effective_end
                x.revision = agreement.revision
            s.flush()
            self._audit(
                s,
                "terminate",
                "agreement",
                agreement.contract_no,
                before,
                snapshot(agreement),
                physician=agreement.physician.cert_no,
                institution=agreement.institution.code,
            )
            return WriteResult("updated", agreement.contract_no)


def _fact(
    stored_id: int | None,
    contract: str,
    institution: InstitutionFact,
    data: AgreementInput,
    missing_terms: tuple[str, ...] = (),
) -> AgreementFact:
    return AgreementFact(
        stored_id, contract, institution, data.role, data.department.strip(), data.start,
        data.end, float(data.weekly_hours), data.consent, tuple(data.slots), "active",
        missing_terms,
    )  # fmt: skip


def _missing_terms(named: tuple[str | None, ...], stored_empty: set[str]) -> tuple[str, ...]:
    """The terms an agreement lacks after a write (TERMS): a term the write names as given,
    one it does not name as stored (``stored_empty``: the stored agreement's empty ones)."""
    return tuple(
        term
        for term, text in zip(TERMS, named, strict=True)
        if (term in stored_empty if text is None else not text.strip())
    )


def _facts_of(s: Session, physician_ids: list[int]) -> Iterator[PhysicianFact]:
    """The rule facts of these physicians (one physician: the write path's cached SELECTs)."""
    if len(physician_ids) == 1:
        fact = q.physician_fact_by_id(s, physician_ids[0])
        if fact is not None:
            yield fact
        return
    yield from store.physician_facts(s, physician_ids)


def _session_rows(
    p: _Pending, physician_id: int, agreement_id: int, revision: int
) -> list[dict[str, Any]]:
    assert p.fact is not None
    return [
        {
            "agreement_id": agreement_id,
            "physician_id": physician_id,
            "institution_id": p.fact.institution.id,
            "weekday": slot.weekday,
            "start_minute": slot.start,
            "end_minute": slot.end,
            "start_date": p.fact.start,
            "end_date": p.fact.end,
            "revision": revision,
        }
        for slot in p.fact.slots
    ]


def _created_snapshot(aid: int, row: dict[str, Any], slots: tuple[Slot, ...]) -> dict[str, Any]:
    """The audit snapshot of a created agreement, shaped as ``storage.audit.snapshot`` shapes
    a stored one (built from the inserted row: no read back)."""
    data: dict[str, Any] = {"id": aid}
    for key, value in row.items():
        if key in ("warnings", "updated_at"):
            continue
        data[key] = value.isoformat() if isinstance(value, dt.date) else value
    data["sessions"] = list(_slot_texts(slots))
    return data


@lru_cache(maxsize=4096)
def _slot_texts(slots: tuple[Slot, ...]) -> tuple[str, ...]:
    return tuple(str(slot) for slot in slots)


def _same(old: AgreementFact, p: _Pending) -> bool:
    """Whether ``p`` would leave the stored agreement as it is (terms it names included)."""
    new = p.fact
    assert new is not None
    return (
        old.institution.id == new.institution.id
        and old.role == new.role
        and old.department == new.department
        and old.start == new.start
        and old.end == new.end
        and abs((old.weekly_hours or 0.0) - new.weekly_hours) < 1e-9
        and old.consent == new.consent
        and sorted(old.slots, key=_slot_key) == sorted(new.slots, key=_slot_key)
        and all(
            text is None or (p.terms or {}).get(term) == text
            for term, text in zip(TERMS, p.named, strict=True)
        )
    )


def _slot_key(slot: Slot) -> tuple[int, int, int]:
    return (slot.weekday, slot.start, slot.end)


def _with_agreements(p: PhysicianFact, agreements: tuple[AgreementFact, ...]) -> PhysicianFact:
    return PhysicianFact(
        p.id,
        p.cert_no,
        p.name,
        p.level,
        p.category,
        p.scopes,
        p.title,
        p.listings,
        p.practising_since,
        p.failed_assessment_on,
        p.registrations,
        p.filings,
        agreements,
        p.profession,
    )
