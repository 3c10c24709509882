"""Batch import, checking and storing (批量导入: 校验与入库).

``run_import`` streams a file through the parsing layer, checks every row with the checks the
service applies (identifiers, vocabularies, the rules of ``rules.py``), and stores the accepted
rows in ONE transaction, so a crash or a kill leaves the database as it was:

* ``all`` (default): one rejected row stores nothing;
* ``partial``: the good rows are stored, the others reported;
* ``dry-run``: nothing is stored, everything is reported.

Contracts take a batch path: the rows are grouped by physician, the facts of all affected
physicians are loaded with a few bulk SELECTs, and each physician's new agreements are checked
in memory against what is stored *and* the other rows of the batch. When rows conflict the
later row (as the file orders them) is rejected; the rules run again without it until the
remaining rows are clean. The accepted rows are written with ``executemany``.

Keys: contract number, certificate number, credit code. A row equal to what is stored is
``unchanged`` and writes nothing; a changed row updates the entity with an audit row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.facts import AgreementFact, PhysicianFact
from ..domain.schedule import Slot, slots_text
from ..domain.sessions_text import parse_sessions
from ..domain.vocabulary import CATEGORIES, INSTITUTION_KINDS
from ..i18n import _
from ..importing.columns import LEVEL_VALUES, ROLE_VALUES, STATUS_VALUES, TITLE_VALUES, column
from ..importing.normalize import (
    ValueProblem,
    parse_bool,
    parse_choice,
    parse_date,
    parse_decimal_hours,
    parse_int,
    parse_list,
)
from ..importing.readers import Row, Table, read_originals, read_table
from ..importing.report import ImportReport, Problem, write_report_csv
from ..storage import imports as store
from ..storage import queries as q
from ..storage.audit import snapshot
from ..storage.models import Institution, Physician, Region, Registration, RegistrationEvent, utcnow
from . import PhysicianInput, Registry, ServiceError, initials

MODES = ("all", "partial", "dry-run")
WRITE_CHUNK = 10_000  # created agreements written per executemany round
ERROR, WARNING = rules.ERROR, rules.WARNING

# Codes of row problems that are not rules of DOMAIN.md.
INVALID = "INVALID"  # a cell cannot be read or fails an identifier/vocabulary check
UNKNOWN = "UNKNOWN"  # the row names a physician or institution the registry does not know
DUPLICATE = "DUPLICATE"  # the key appears on an earlier row of the same file
KEY_CONFLICT = "KEY_CONFLICT"  # the contract belongs to another physician, or is terminated
CHECKSUM = "CHECKSUM"  # a credit code fails its check character (warning, kept)

Progress = Callable[[str, int, int | None], None]
"""``progress(phase, done, total)``: phase is ``read``, ``check`` or ``write``."""


PARSE_MEMO = 200_000


class _Rows:
    """Collects problems per row while a file is checked; fills in originals at the end."""

    def __init__(self, table: Table, report: ImportReport) -> None:
        self.table = table
        self.report = report
        self.rejected: dict[int, list[Problem]] = {}
        self.warnings: list[Problem] = []
        self.originals: dict[int, list[str]] = {}
        # Cells repeat (dates, weekly patterns, yes/no): each distinct one is parsed once.
        self.parsed: dict[Any, tuple[bool, Any]] = {}

    def header(self, name: str) -> str:
        index = self.table.column_map.get(name)
        if index is not None and index < len(self.table.headers):
            return self.table.headers[index]
        try:
            return column(self.table.kind, name).display()
        except KeyError:
            return name

    def reject(self, row: int, name: str, code: str, message: str) -> None:
        problem = Problem(row, self.header(name) if name else "", code, ERROR, message)
        self.rejected.setdefault(row, []).append(problem)

    def warn(self, row: int, name: str, code: str, message: str) -> None:
        self.warnings.append(
            Problem(row, self.header(name) if name else "", code, WARNING, message)
        )

    def finish(self, path: Path, sheet: str | None) -> None:
        """Attach the original cells to every problem (a second streamed pass if needed)."""
        wanted = {p.row for ps in self.rejected.values() for p in ps} | {
            p.row for p in self.warnings
        }
        missing = wanted - set(self.originals)
        if missing:
            self.originals.update(read_originals(path, missing, sheet))
        problems = [p for ps in self.rejected.values() for p in ps] + self.warnings
        for p in problems:
            p.original = self.originals.get(p.row, [])
        problems.sort(key=lambda p: (p.row, p.severity != ERROR))
        self.report.problems = problems
        self.report.rejected = len(self.rejected)


def _text(row: Row, name: str) -> str:
    value = row.cells.get(name)
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _read(rows: _Rows, row: Row, name: str, parse: Callable[..., Any], *args: Any) -> Any:
    """Parse one cell (``parse(value, *args, column=name)``); a problem rejects the row."""
    value = row.cells.get(name)
    # The extra arguments are module-level vocabularies, so their identity is their value.
    key: Any = (parse, name, value, *map(id, args))
    try:
        found = rows.parsed.get(key)
    except TypeError:  # an unhashable cell value: parse it every time
        found, key = None, None
    if found is None:
        try:
            result = parse(value, *args, column=name)
            found = (True, tuple(result) if isinstance(result, list) else result)
        except ValueProblem as problem:
            found = (False, problem.message)
        if key is not None and len(rows.parsed) < PARSE_MEMO:
            rows.parsed[key] = found
    ok, result = found
    if not ok:
        rows.reject(row.number, name, INVALID, result)
        return None
    return result


def _parse_beds(value: object, *, column: str) -> int:
    return parse_int(value, column=column, minimum=0, maximum=100_000)


def _certificate(rows: _Rows, row: Row, name: str) -> str:
    """A 医师执业证书编码 cell, cleaned; one that is not 15 digits rejects the row."""
    cert = ids.clean(_required(rows, row, name))
    if cert and not ids.cert_no_ok(cert):
        rows.reject(
            row.number,
            name,
            INVALID,
            _("Certificate number {cert} is not 15 digits (医师执业证书编码).").format(cert=cert),
        )
    return cert


def _credit_code(rows: _Rows, row: Row, name: str) -> str:
    """A 统一社会信用代码 cell, cleaned; one of the wrong shape rejects the row."""
    code = ids.clean(_required(rows, row, name))
    if code and not ids.credit_code_shape_ok(code):
        rows.reject(
            row.number,
            name,
            INVALID,
            _("Institution code {code} is not an 18-character 统一社会信用代码.").format(code=code),
        )
    return code


def _required(rows: _Rows, row: Row, name: str) -> str:
    text = _text(row, name)
    if not text:
        rows.reject(
            row.number,
            name,
            INVALID,
            _("The column {column} is empty.").format(column=rows.header(name)),
        )
    return text


def run_import(
    registry: Registry,
    kind: str,
    path: str | Path,
    *,
    mode: str = "all",
    sheet: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Check and (unless ``dry-run``) store the rows of one file; see the module docstring.

    Raises :class:`~multisite.importing.readers.FileProblem` when the file itself is unusable.
    """
    if mode not in MODES:
        raise ValueError(f"unknown import mode {mode!r}: use one of {', '.join(MODES)}")
    path = Path(path)
    report = ImportReport(kind, str(path), mode)
    tick = progress or (lambda _phase, _done, _total: None)
    with read_table(path, sheet, kind=kind) as table:
        report.headers = list(table.headers)
        report.unknown_columns = list(table.unknown_columns)
        rows = _Rows(table, report)
        if kind == "contracts":
            _ContractImport(registry, table, rows, report, tick).run()
        elif kind == "institutions":
            _InstitutionImport(registry, table, rows, report, tick).run()
        else:
            _PhysicianImport(registry, table, rows, report, tick).run()
        report.unknown_columns = list(table.unknown_columns)
    rows.finish(path, sheet)
    return report


@contextmanager
def _transaction(registry: Registry, report: ImportReport) -> Iterator[Any]:
    """One write transaction (a read one for a dry run); rolled back unless it may commit."""
    if report.mode == "dry-run":
        with registry.db.read() as s:
            yield s
        return
    try:
        with registry.db.write() as s:
            yield s
    except IntegrityError as error:
        # Another clerk stored one of these keys (a contract number, a certificate, a credit
        # code) between our check and our write: the whole import was rolled back.
        raise ServiceError(
            _(
                "The import was not stored: another clerk stored some of the same contracts, "
                "physicians or institutions at the same moment. Run the import again."
            )
        ) from error


def _may_store(report: ImportReport, rows: _Rows) -> bool:
    if report.mode == "dry-run":
        return False
    return report.mode == "partial" or not rows.rejected


class _Abandon(Exception):
    """Roll the import's transaction back (all-or-nothing with a rejected row)."""


# --- contracts -------------------------------------------------------------------------------


class _Who(NamedTuple):
    id: int
    cert_no: str


@dataclass(slots=True)
class _Contract:
    number: int
    contract_no: str
    cert: str
    code: str
    role: str
    department: str
    start: dt.date
    end: dt.date
    hours: float
    consent: bool | None
    slots: tuple[Slot, ...]
    notes: dict[str, str]
    fact: AgreementFact | None = None
    stored_id: int | None = None
    revision: int = 0


class _ContractImport:
    def __init__(
        self,
        registry: Registry,
        table: Table,
        rows: _Rows,
        report: ImportReport,
        tick: Progress,
    ) -> None:
        self.registry = registry
        self.table = table
        self.rows = rows
        self.report = report
        self.tick = tick

    def parse(self) -> list[_Contract]:
        rows, report = self.rows, self.report
        seen: dict[str, int] = {}
        parsed: list[_Contract] = []
        for row in self.table:
            report.rows_read += 1
            if report.rows_read % 2000 == 0:
                self.tick("read", report.rows_read, None)
            number = row.number
            if row.problem is not None:
                rows.reject(number, row.problem.column, INVALID, row.problem.message)
                rows.originals[number] = row.original
                continue
            before = len(rows.rejected.get(number, ()))
            contract_no = _required(rows, row, "contract_no")
            cert = _certificate(rows, row, "physician")
            code = _credit_code(rows, row, "institution")
            role = _read(rows, row, "role", parse_choice, ROLE_VALUES)
            department = _required(rows, row, "department")
            start = _read(rows, row, "start", parse_date)
            end = _read(rows, row, "end", parse_date)
            slots = _read(rows, row, "sessions", parse_sessions)
            if slots is not None and not slots:
                rows.reject(
                    number,
                    "sessions",
                    INVALID,
                    _(
                        "The column {column} is empty: an agreement needs its weekly sessions."
                    ).format(column=rows.header("sessions")),
                )
            hours: Any = 0.0
            if row.cells.get("weekly_hours") is not None:
                hours = _read(rows, row, "weekly_hours", parse_decimal_hours)
            consent = None
            if row.cells.get("consent") is not None:
                consent = _read(rows, row, "consent", parse_bool)
            if start is not None and end is not None and start > end:
                rows.reject(
                    number,
                    "end",
                    "PERIOD",
                    _("The agreement starts on {start}, after it ends on {end} (PERIOD).").format(
                        start=start.isoformat(), end=end.isoformat()
                    ),
                )
            if contract_no in seen:
                rows.reject(
                    number,
                    "contract_no",
                    DUPLICATE,
                    _("Contract {contract} already appears on row {row} of this file.").format(
                        contract=contract_no, row=seen[contract_no]
                    ),
                )
            elif contract_no:
                seen[contract_no] = number
            if len(rows.rejected.get(number, ())) > before:
                rows.originals[number] = row.original
                continue
            parsed.append(
                _Contract(
                    number,
                    contract_no,
                    cert,
                    code,
                    role,
                    department,
                    start,
                    end,
                    float(hours),
                    consent,
                    tuple(slots),
                    row.notes,
                )
            )
        self.tick("read", report.rows_read, report.rows_read)
        return parsed

    def run(self) -> None:
        parsed = self.parse()
        ctx = self.registry.rule_context()
        writing = self.report.mode != "dry-run"
        try:
            with _transaction(self.registry, self.report) as s:
                accepted = self.check(s, parsed, ctx, lock=writing)
                if _may_store(self.report, self.rows):
                    self.write(s, accepted)
                    self.report.committed = True
                elif writing:
                    raise _Abandon
        except _Abandon:
            self.report.committed = False

    def check(
        self, s: Session, parsed: list[_Contract], ctx: rules.RuleContext, *, lock: bool
    ) -> list[tuple[_Contract, _Who, list[rules.Violation]]]:
        rows, report = self.rows, self.report
        institutions = store.institution_facts(s)
        pids = store.physician_ids(s, (c.cert for c in parsed), lock=lock)
        stored = store.agreements_by_contract(s, (c.contract_no for c in parsed))
        by_physician: dict[int, list[_Contract]] = defaultdict(list)
        for c in parsed:
            pid = pids.get(c.cert)
            inst = institutions.get(c.code)
            if pid is None:
                rows.reject(
                    c.number,
                    "physician",
                    UNKNOWN,
                    _("Unknown physician {cert}: register the physician first.").format(
                        cert=c.cert
                    ),
                )
            if inst is None:
                rows.reject(
                    c.number,
                    "institution",
                    UNKNOWN,
                    _("Unknown institution {code}: file the institution first.").format(
                        code=c.code
                    ),
                )
            if pid is None or inst is None:
                continue
            old = stored.get(c.contract_no)
            if old is not None and old.physician_id != pid:
                rows.reject(
                    c.number,
                    "contract_no",
                    KEY_CONFLICT,
                    _("Contract {contract} belongs to another physician.").format(
                        contract=c.contract_no
                    ),
                )
                continue
            if old is not None and old.status == "terminated":
                rows.reject(
                    c.number,
                    "contract_no",
                    KEY_CONFLICT,
                    _("Contract {contract} is terminated and cannot be changed.").format(
                        contract=c.contract_no
                    ),
                )
                continue
            if old is not None:
                c.stored_id, c.revision = old.id, old.revision
            c.fact = AgreementFact(
                c.stored_id,
                c.contract_no,
                inst,
                c.role,
                c.department,
                c.start,
                c.end,
                c.hours,
                c.consent,
                c.slots,
            )
            by_physician[pid].append(c)
        accepted: list[tuple[_Contract, _Who, list[rules.Violation]]] = []
        total = len(by_physician)
        for done, facts in enumerate(store.physician_facts(s, sorted(by_physician)), start=1):
            accepted.extend(self._check_physician(facts, by_physician[facts.id], ctx))
            if done % 500 == 0:
                self.tick("check", done, total)
        self.tick("check", total, total)
        for c, _facts, _warnings in accepted:
            if c.stored_id is None:
                report.created += 1
            else:
                report.updated += 1
        return accepted

    def _check_physician(
        self, facts: PhysicianFact, batch: list[_Contract], ctx: rules.RuleContext
    ) -> list[tuple[_Contract, _Who, list[rules.Violation]]]:
        stored = {a.contract_no: a for a in facts.agreements}
        candidates: list[_Contract] = []
        for c in batch:
            old = stored.get(c.contract_no)
            if old is not None and _same(old, c):
                self.report.unchanged += 1
            else:
                candidates.append(c)
        if not candidates:
            return []
        while True:
            names = {c.contract_no for c in candidates}
            kept = tuple(a for a in facts.agreements if a.contract_no not in names)
            trial = _replace_agreements(facts, kept + tuple(c.fact for c in candidates if c.fact))
            found = self.registry.evaluate(trial)
            victims: dict[str, list[rules.Violation]] = {}
            order = {c.contract_no: c.number for c in candidates}
            for v in found:
                if v.severity != ERROR:
                    continue
                involved = [no for no in v.agreements if no in order]
                if involved:
                    victim = max(involved, key=order.__getitem__)
                    victims.setdefault(victim, []).append(v)
            if not victims:
                break
            for c in candidates:
                for v in victims.get(c.contract_no, ()):
                    self.rows.reject(c.number, rules.column_of(v.code), v.code, v.message)
            candidates = [c for c in candidates if c.contract_no not in victims]
            if not candidates:
                return []
        result = []
        who = _Who(facts.id, facts.cert_no)  # not the whole facts: memory stays bounded
        for c in candidates:
            mine = [v for v in found if c.contract_no in v.agreements]
            for v in mine:
                self.rows.warn(c.number, rules.column_of(v.code), v.code, v.message)
            result.append((c, who, mine))
        return result

    def _insert_created(
        self,
        s: Session,
        creates: list[tuple[_Contract, _Who, dict[str, Any]]],
        audits: list[dict[str, Any]],
        now: dt.datetime,
    ) -> None:
        """Insert the created agreements gathered so far, their sessions and audit rows."""
        ids_ = store.insert_agreements(s, [row for _c, _f, row in creates])
        sessions: list[dict[str, Any]] = []
        for c, facts, row in creates:
            aid = ids_[c.contract_no]
            sessions.extend(_session_rows(c, facts.id, aid, 0))
            audits.append(
                store.audit_row(
                    self.registry.clerk,
                    "create",
                    "agreement",
                    c.contract_no,
                    None,
                    _agreement_after(aid, row, c.slots),
                    physician=facts.cert_no,
                    institution=c.code,
                    at=now,
                )
            )
        store.insert_many(s, store.WorkSession, sessions)
        store.insert_audit(s, audits)
        creates.clear()
        audits.clear()

    def write(
        self, s: Session, accepted: list[tuple[_Contract, _Who, list[rules.Violation]]]
    ) -> None:
        clerk = self.registry.clerk
        now = utcnow()
        pids = sorted({f.id for _c, f, _w in accepted})
        regs, filings = store.registrations_and_filings(s, pids)
        new_filings: list[store.StoredFiling] = []
        widened: dict[int, store.StoredFiling] = {}
        creates: list[tuple[_Contract, _Who, dict[str, Any]]] = []
        audits: list[dict[str, Any]] = []
        total = len(accepted)
        for done, (c, facts, warnings) in enumerate(accepted, start=1):
            assert c.fact is not None
            inst = c.fact.institution
            values = {
                "institution_id": inst.id,
                "role": c.role,
                "department": c.department,
                "start": c.start,
                "end": c.end,
                "weekly_hours": c.hours,
                "consent": c.consent,
                "warnings": [v.as_json() for v in warnings],
                "updated_at": now,
                "pattern": slots_text(c.slots),
                "weekly_minutes": sum(slot.duration for slot in c.slots),
            }
            if c.stored_id is None:
                row = {
                    "contract_no": c.contract_no,
                    "physician_id": facts.id,
                    "liability": "",
                    "pay": "",
                    "insurance": "",
                    "status": "active",
                    "terminated_on": None,
                    "revision": 0,
                    "notes": dict(c.notes),
                    **values,
                }
                creates.append((c, facts, row))
                if len(creates) >= WRITE_CHUNK:  # bounded memory: write as we go
                    self._insert_created(s, creates, audits, now)
            else:
                before = store.agreement_snapshot(s, c.stored_id)
                revision = c.revision + 1
                store.replace_agreement(
                    s,
                    c.stored_id,
                    {**values, "revision": revision},
                    _session_rows(c, facts.id, c.stored_id, revision),
                )
                after = store.agreement_snapshot(s, c.stored_id)
                audits.append(
                    store.audit_row(
                        clerk,
                        "update",
                        "agreement",
                        c.contract_no,
                        before,
                        after,
                        physician=facts.cert_no,
                        institution=inst.code,
                        at=now,
                    )
                )
            if c.role == "additional":
                _file(regs.get(facts.id, ()), filings, new_filings, widened, c)
            if done % 5000 == 0:
                self.tick("write", done, total)
        self._insert_created(s, creates, audits, now)
        store.insert_many(
            s,
            store.Filing,
            [
                {
                    "registration_id": f.registration_id,
                    "institution_id": f.institution_id,
                    "scope": f.scope,
                    "valid_from": f.valid_from,
                    "valid_to": f.valid_to,
                }
                for f in new_filings
            ],
        )
        for f in widened.values():
            assert f.id is not None
            store.widen_filing(s, f.id, f.valid_from, f.valid_to)
        self.tick("write", total, total)


def _file(
    regs: Any,
    filings: dict[tuple[int, int], store.StoredFiling],
    new_filings: list[store.StoredFiling],
    widened: dict[int, store.StoredFiling],
    c: _Contract,
) -> None:
    """备案, as the service files it: the registration whose region holds the institution."""
    assert c.fact is not None
    inst = c.fact.institution
    reg = next((rid for rid, region in regs if ids.region_contains(region, inst.county_code)), None)
    if reg is None:
        return
    filing = filings.get((reg, inst.id))
    if filing is None:
        filing = store.StoredFiling(None, reg, inst.id, c.start, c.end, c.department)
        filings[(reg, inst.id)] = filing
        new_filings.append(filing)
        return
    if filing.valid_from > c.start or filing.valid_to < c.end:
        filing.valid_from = min(filing.valid_from, c.start)
        filing.valid_to = max(filing.valid_to, c.end)
        if filing.id is not None:
            widened[filing.id] = filing


def _session_rows(
    c: _Contract, physician_id: int, agreement_id: int, revision: int
) -> list[dict[str, Any]]:
    assert c.fact is not None
    return [
        {
            "agreement_id": agreement_id,
            "physician_id": physician_id,
            "institution_id": c.fact.institution.id,
            "weekday": slot.weekday,
            "start_minute": slot.start,
            "end_minute": slot.end,
            "start_date": c.start,
            "end_date": c.end,
            "revision": revision,
        }
        for slot in c.slots
    ]


def _agreement_after(aid: int, row: dict[str, Any], slots: tuple[Slot, ...]) -> dict[str, Any]:
    """The audit snapshot of a created agreement, shaped as ``service.snapshot`` shapes it."""
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


def _same(old: AgreementFact, c: _Contract) -> bool:
    assert c.fact is not None
    return (
        old.institution.id == c.fact.institution.id
        and old.role == c.role
        and old.department == c.department
        and old.start == c.start
        and old.end == c.end
        and abs((old.weekly_hours or 0.0) - c.hours) < 1e-9
        and old.consent == c.consent
        and sorted(old.slots, key=_slot_key) == sorted(c.slots, key=_slot_key)
    )


def _slot_key(slot: Slot) -> tuple[int, int, int]:
    return (slot.weekday, slot.start, slot.end)


def _replace_agreements(p: PhysicianFact, agreements: tuple[AgreementFact, ...]) -> PhysicianFact:
    return PhysicianFact(
        p.id,
        p.cert_no,
        p.name,
        p.level,
        p.category,
        p.scopes,
        p.title,
        p.dishonest,
        p.practising_since,
        p.failed_assessment_on,
        p.registrations,
        p.filings,
        agreements,
    )


# --- institutions ----------------------------------------------------------------------------

_KIND_VALUES: dict[str, tuple[str, ...]] = {kind: () for kind in INSTITUTION_KINDS}


class _InstitutionImport:
    def __init__(
        self,
        registry: Registry,
        table: Table,
        rows: _Rows,
        report: ImportReport,
        tick: Progress,
    ) -> None:
        self.registry = registry
        self.table = table
        self.rows = rows
        self.report = report
        self.tick = tick

    def parse(self) -> list[tuple[int, str, dict[str, Any], dict[str, str]]]:
        rows, report = self.rows, self.report
        seen: dict[str, int] = {}
        parsed = []
        for row in self.table:
            report.rows_read += 1
            number = row.number
            if row.problem is not None:
                rows.reject(number, row.problem.column, INVALID, row.problem.message)
                continue
            before = len(rows.rejected.get(number, ()))
            code = _credit_code(rows, row, "code")
            if code and ids.credit_code_shape_ok(code) and not ids.credit_code_checksum_ok(code):
                rows.warn(
                    number,
                    "code",
                    CHECKSUM,
                    _(
                        "Institution code {code} fails the GB 32100 check character (kept, please verify)."
                    ).format(code=code),
                )
            name = _required(rows, row, "name")
            kind = _read(rows, row, "kind", parse_choice, _KIND_VALUES)
            county = _required(rows, row, "region")
            if county and not ids.region_code_ok(county):
                rows.reject(
                    number,
                    "region",
                    INVALID,
                    _("Region code {code} is not a six-digit GB/T 2260 code.").format(code=county),
                )
            beds = 0
            if row.cells.get("beds") is not None:
                beds = _read(rows, row, "beds", _parse_beds)
            grassroots = False
            if row.cells.get("grassroots") is not None:
                grassroots = _read(rows, row, "grassroots", parse_bool)
            if code in seen:
                rows.reject(
                    number,
                    "code",
                    DUPLICATE,
                    _("Institution {code} already appears on row {row} of this file.").format(
                        code=code, row=seen[code]
                    ),
                )
            elif code:
                seen[code] = number
            if len(rows.rejected.get(number, ())) > before:
                continue
            values = {
                "name": name,
                "kind": kind,
                "county_code": county,
                "beds": int(beds),
                "departments": parse_list(row.cells.get("departments")),
                "grassroots": bool(grassroots),
                "address": _text(row, "address"),
            }
            parsed.append((number, code, values, row.notes))
        return parsed

    def run(self) -> None:
        parsed = self.parse()
        try:
            with _transaction(self.registry, self.report) as s:
                existing = store.existing_keys(
                    s, Institution, Institution.code, (p[1] for p in parsed)
                )
                regions = store.region_codes(s)
                audits: list[tuple[Any, str, str, dict[str, Any] | None]] = []
                writing = _may_store(self.report, self.rows)
                for _number, code, values, notes in parsed:
                    old = existing.get(code)
                    if old is None:
                        self.report.created += 1
                        if writing:
                            _ensure_regions(s, self.registry, values["county_code"], regions)
                            inst = Institution(code=code, notes=dict(notes), **values)
                            store.add(s, inst)
                            audits.append((inst, "create", code, None))
                        continue
                    changed = {k: v for k, v in values.items() if getattr(old, k) != v}
                    if not changed:
                        self.report.unchanged += 1
                        continue
                    self.report.updated += 1
                    if writing:
                        _ensure_regions(s, self.registry, values["county_code"], regions)
                        before = snapshot(old)
                        for k, v in changed.items():
                            setattr(old, k, v)
                        old.updated_at = utcnow()
                        audits.append((old, "update", code, before))
                if writing:
                    store.flush(s)
                    store.insert_audit(
                        s,
                        [
                            store.audit_row(
                                self.registry.clerk,
                                action,
                                "institution",
                                code,
                                before,
                                snapshot(obj),
                                institution=code,
                            )
                            for obj, action, code, before in audits
                        ],
                    )
                    self.report.committed = self.report.mode != "dry-run"
                elif self.report.mode != "dry-run":
                    raise _Abandon
        except _Abandon:
            self.report.committed = False


def _ensure_regions(s: Session, registry: Registry, county: str, known: set[str]) -> None:
    province = ids.province_of(county)
    for code, level in ((province, "province"), (county, "county")):
        if code not in known:
            known.add(code)
            store.add(s, Region(code=code, name=code, level=level))
            store.insert_audit(
                s,
                [store.audit_row(registry.clerk, "create", "region", code, None, {"level": level})],
            )


# --- physicians ------------------------------------------------------------------------------

_CATEGORY_VALUES: dict[str, tuple[str, ...]] = {c: () for c in CATEGORIES}


class _PhysicianImport:
    def __init__(
        self,
        registry: Registry,
        table: Table,
        rows: _Rows,
        report: ImportReport,
        tick: Progress,
    ) -> None:
        self.registry = registry
        self.table = table
        self.rows = rows
        self.report = report
        self.tick = tick

    def parse(self) -> list[tuple[int, PhysicianInput]]:
        rows, report = self.rows, self.report
        seen: dict[str, int] = {}
        parsed = []
        for row in self.table:
            report.rows_read += 1
            number = row.number
            if row.problem is not None:
                rows.reject(number, row.problem.column, INVALID, row.problem.message)
                continue
            before = len(rows.rejected.get(number, ()))
            cert = _certificate(rows, row, "cert")
            name = _required(rows, row, "name")
            level = _read(rows, row, "level", parse_choice, LEVEL_VALUES)
            category = _read(rows, row, "category", parse_choice, _CATEGORY_VALUES)
            scopes = parse_list(row.cells.get("scopes"))
            title = _read(rows, row, "title", parse_choice, TITLE_VALUES)
            region = _required(rows, row, "region")
            main = ids.clean(_required(rows, row, "main_institution"))
            registered = _read(rows, row, "registered", parse_date)
            status = "注册"
            if row.cells.get("status") is not None:
                status = _read(rows, row, "status", parse_choice, STATUS_VALUES) or status
            if status != "注册":
                rows.reject(
                    number,
                    "status",
                    INVALID,
                    _(
                        "Status {status} cannot be imported: suspend or cancel a registration "
                        "at the registry window."
                    ).format(status=status),
                )
            if cert in seen:
                rows.reject(
                    number,
                    "cert",
                    DUPLICATE,
                    _("Physician {cert} already appears on row {row} of this file.").format(
                        cert=cert, row=seen[cert]
                    ),
                )
            elif cert:
                seen[cert] = number
            if len(rows.rejected.get(number, ())) > before:
                continue
            data = PhysicianInput(
                cert, name, level, category, scopes, title, region, main, registered
            )
            data.notes = dict(row.notes)
            try:
                self.registry._check_physician_fields(data)
            except ServiceError as error:
                rows.reject(number, "", INVALID, str(error))
                continue
            parsed.append((number, data))
        return parsed

    def run(self) -> None:
        parsed = self.parse()
        ctx = self.registry.rule_context()
        try:
            with _transaction(self.registry, self.report) as s:
                mains = store.existing_keys(
                    s, Institution, Institution.code, (d.main_institution for _n, d in parsed)
                )
                existing = store.existing_keys(
                    s, Physician, Physician.cert_no, (d.cert_no for _n, d in parsed)
                )
                regions = store.region_codes(s)
                for number, data in parsed:
                    self._one(s, number, data, mains, existing, regions, ctx)
                if _may_store(self.report, self.rows):
                    self.report.committed = True
                elif self.report.mode != "dry-run":
                    raise _Abandon
        except _Abandon:
            self.report.committed = False

    def _one(
        self,
        s: Session,
        number: int,
        data: PhysicianInput,
        mains: dict[str, Any],
        existing: dict[str, Any],
        regions: set[str],
        ctx: rules.RuleContext,
    ) -> None:
        rows, report, clerk = self.rows, self.report, self.registry.clerk
        main = mains.get(data.main_institution)
        if main is None:
            rows.reject(
                number,
                "main_institution",
                UNKNOWN,
                _("Unknown main institution {code}: file the institution first.").format(
                    code=data.main_institution
                ),
            )
            return
        if not ids.region_contains(data.region_code, main.county_code):
            rows.reject(
                number,
                "main_institution",
                "OUT_OF_REGION",
                _("Main institution {name} ({county}) lies outside region {region}.").format(
                    name=main.name, county=main.county_code, region=data.region_code
                ),
            )
            return
        values = {
            "name": data.name,
            "initials": initials(data.name),
            "level": data.level,
            "category": data.category,
            "scopes": list(dict.fromkeys(data.scopes)),
            "title": data.title,
        }
        old = existing.get(data.cert_no)
        if old is None:
            report.created += 1
            if report.mode == "dry-run":
                return
            if data.region_code not in regions:
                level = "province" if data.region_code.endswith("0000") else "county"
                regions.add(data.region_code)
                store.add(s, Region(code=data.region_code, name=data.region_code, level=level))
            phys = Physician(cert_no=data.cert_no, notes=dict(data.notes), **values)
            store.add(s, phys)
            store.flush(s)
            reg = Registration(
                physician_id=phys.id,
                region_code=data.region_code,
                main_institution_id=main.id,
                registered_on=data.registered_on,
                status="registered",
            )
            store.add(s, reg)
            store.flush(s)
            store.add(
                s,
                RegistrationEvent(
                    registration_id=reg.id, status="registered", on=data.registered_on
                ),
            )
            after = snapshot(phys) | {"region": data.region_code, "main_institution": main.code}
            store.insert_audit(
                s,
                [
                    store.audit_row(
                        clerk,
                        "create",
                        "physician",
                        data.cert_no,
                        None,
                        after,
                        physician=data.cert_no,
                        institution=main.code,
                    )
                ],
            )
            return
        changed = {k: v for k, v in values.items() if getattr(old, k) != v}
        regs = q.registrations_of(s, old.id)
        current = next((r for r in regs if r.region_code == data.region_code), None)
        if current is None:
            rows.reject(
                number,
                "region",
                INVALID,
                _(
                    "Physician {cert} is registered in another region: change the registration "
                    "at the registry window."
                ).format(cert=data.cert_no),
            )
            return
        main_changed = current.main_institution_id != main.id
        if not changed and not main_changed:
            report.unchanged += 1
            return
        before = snapshot(old)
        savepoint = s.begin_nested()
        for k, v in changed.items():
            setattr(old, k, v)
        old.updated_at = utcnow()
        if main_changed:
            current.main_institution_id = main.id
            store.add(
                s,
                RegistrationEvent(
                    registration_id=current.id,
                    status="changed",
                    on=data.registered_on,
                    reason=main.code,
                ),
            )
        store.flush(s)
        errors = [v for v in rules.evaluate(q.physician_fact(s, old), ctx) if v.severity == ERROR]
        if errors or report.mode == "dry-run":
            savepoint.rollback()
            s.expire_all()
        else:
            savepoint.commit()
        if errors:
            for error in errors:
                rows.reject(number, "", error.code, error.message)
            return
        report.updated += 1
        if report.mode != "dry-run":
            store.insert_audit(
                s,
                [
                    store.audit_row(
                        clerk,
                        "update",
                        "physician",
                        data.cert_no,
                        before,
                        snapshot(old),
                        physician=data.cert_no,
                    )
                ],
            )


__all__ = ["MODES", "ImportReport", "Problem", "Progress", "run_import", "write_report_csv"]
