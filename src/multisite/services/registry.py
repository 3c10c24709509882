"""The registry's core (服务层): the database, the clerk, the audit row and the rule context.

Every write of the CLI, the TUI, the import and the demo goes through a service built on
:class:`RegistryCore`: one transaction that checks its input, runs the rules (``domain.rules``)
on the physician as the write would leave them, refuses the write when it would create an
error, and records an audit row (clerk, time, entity, before, after) in the same transaction.
The aggregates' services (``regions``, ``institutions``, ``physicians``, ``agreements``,
``checks``) each add their methods; :class:`multisite.services.Registry` joins them.
"""

from __future__ import annotations

import os
import time
from collections.abc import (
    Callable,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    MutableMapping,
    Sequence,
)
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import chain, islice
from typing import Any, Literal, NoReturn, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import jurisdiction, regions, rules, text
from ..domain.facts import PhysicianFact
from ..domain.holidays import HolidayCalendar, HolidayDay
from ..domain.inputs import DUPLICATE, INVALID, UNKNOWN
from ..domain.policy import Policy as PolicyValues
from ..domain.policy import defaults
from ..domain.sweep import Sweeper
from ..domain.sweep import evaluate as evaluate_quickly
from ..i18n import N_, _
from ..storage import Database, keys, security
from ..storage import batch as store
from ..storage import queries as q
from ..storage.audit import Linked, audit_row, link_audit, store_linked
from ..storage.models import AuditEntry, Clerk, Region


class ServiceError(Exception):
    """Bad input or an impossible request: one sentence naming the field and the rule."""


class FieldError(ServiceError):
    """Bad input in one field: ``field`` is its canonical name (``sessions``, ``cert`` …, or
    empty for the row as a whole), ``code`` the problem's code."""

    def __init__(self, message: str, field: str = "", code: str = INVALID) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class Abandon(Exception):
    """Raised inside a batch's transaction to roll it back (all-or-nothing with a rejected row)."""


class ConcurrentWriteError(ServiceError):
    """Another clerk stored one of the same keys between our check and our write."""


class RefusedError(ServiceError):
    """The write would create rule errors; nothing was stored."""

    def __init__(self, violations: Sequence[rules.Violation]) -> None:
        self.violations = list(violations)
        errors = [v for v in violations if v.severity == rules.ERROR]
        super().__init__(
            _("Refused: {code}: {message}").format(code=errors[0].code, message=errors[0].message)
        )


CONTEXT_TTL = 30.0


def require_region_code(code: str, field: str = "region") -> regions.Division:
    """The division of a GB/T 2260 code the table knows (current or retired), or one sentence
    naming the code (``INVALID`` for the wrong shape, ``UNKNOWN`` for a code not in the table)."""
    if not ids.region_code_ok(code):
        raise FieldError(
            _("Region code {code} is not a six-digit GB/T 2260 code.").format(code=code), field
        )
    found = regions.division(code)
    if found is None:
        raise FieldError(
            _("Region code {code} is not in the GB/T 2260 table ({edition} edition).").format(
                code=code, edition=regions.table().edition
            ),
            field,
            UNKNOWN,
        )
    return found


def retired_warning(division: regions.Division) -> str:
    """The warning a retired code is accepted with."""
    return _(
        "Region code {code} ({name}) was retired from GB/T 2260 after the {revision} revision; "
        "kept, please verify."
    ).format(code=division.code, name=division.name, revision=division.retired_after)


def clerk_name(explicit: str | None = None) -> str:
    """``--clerk`` first, then ``MULTISITE_CLERK``, then the OS user."""
    return requested_clerk(explicit) or security.os_user()


def requested_clerk(explicit: str | None = None) -> str | None:
    """The clerk a run asks to act as (``--clerk``, then ``MULTISITE_CLERK``), if any."""
    return explicit or os.environ.get("MULTISITE_CLERK") or None


class ScopeError(ServiceError):
    """A write outside what the clerk's region and role allow; nothing of it was stored, and
    the refusal has its own audit row."""


ROLES = (N_("clerk"), N_("supervisor"), N_("admin"))
CLERK_REGION = "CLERK_REGION"
"""The code of a row outside the acting clerk's region (or a write their role may not do)."""
ADMIN_ENTITIES = frozenset(
    ("policy", "staffing", "staffing_minimum", "vocabulary", "vocabulary_change", "holiday_year",
     "holiday_day", "travel_buffer", "clerk", "inspector")
)  # fmt: skip


@dataclass(frozen=True)
class Acting:
    """Who a registry's writes are recorded as and what they may do.

    ``principal`` is who authenticated: the PostgreSQL role of the connection, or the OS user
    on SQLite (whose file permissions are the boundary). ``name`` is the clerk the writes act
    as: the principal itself, or — only when the principal is an enabled admin — the clerk
    named by ``--clerk``/``MULTISITE_CLERK`` (with that clerk's region and role when it is
    on record, else the admin's). ``role`` None: not a clerk of this registry (reads only).
    """

    name: str
    principal: str
    role: str | None
    region: str | None

    @property
    def delegated(self) -> bool:
        return self.name != self.principal


TextField = tuple[str, str, str, object, str]
"""``(field, kind, label, value, length key)``: a text to check before it is stored."""


def stored_texts(*fields: TextField) -> None:
    """:func:`multisite.domain.text.check_texts` for each field; the first problem is a
    FieldError naming the field. One check of every text the registry stores, whoever writes
    it, the same on both engines."""
    for name, kind, label, value, limit in fields:
        try:
            text.check_texts((kind, label, value, limit))
        except text.ValueProblem as problem:
            raise FieldError(problem.message, name) from None


def notes_texts(notes: Mapping[str, object]) -> list[TextField]:
    """The fields of a notes mapping (unknown columns kept from an import)."""
    if not notes:
        return []
    label = _("The note")
    fields: list[TextField] = []
    for key, value in notes.items():
        fields.append(("", text.NAME_TEXT, label, key, "note_key"))
        fields.append(("", text.FREE_TEXT, f"{label} {text.shown(key)}", value, "free_text"))
    return fields


@lru_cache(maxsize=1 << 16)
def initials(name: str) -> str:
    """Pinyin initials of a Chinese name (张伟 → zw), for search. Names repeat (a region has
    thousands of 张伟): each is converted once. A name of Chinese characters none of whose runs
    is one of pypinyin's phrases reads each character by its first reading, as pypinyin does:
    those initials are looked up per character (pypinyin's segmentation costs ~150 µs a name,
    a fifth of a physician import); any other name goes through pypinyin whole."""
    found = _initials_by_character(name)
    if found is None:
        # Imported here: pypinyin's dictionaries take ~55 MB, which only name writers need.
        from pypinyin import Style, lazy_pinyin

        found = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return found[:32]  # the column's length: a 64-character name has 64 initials


def _initials_by_character(name: str) -> str | None:
    """``name``'s initials from its characters one by one, or None where pypinyin would read
    it otherwise (a character with no reading, or a run that is one of its phrases)."""
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

    letters = []
    for character in name:
        if ord(character) not in PINYIN_DICT:
            return None
        letters.append(_character_initial(character))
    longest = min(len(name), _longest_phrase())
    for size in range(2, longest + 1):
        for start in range(len(name) - size + 1):
            if name[start : start + size] in PHRASES_DICT:
                return None
    return "".join(letters)


@lru_cache(maxsize=1)
def _longest_phrase() -> int:
    from pypinyin.constants import PHRASES_DICT

    return max(map(len, PHRASES_DICT), default=1)


@lru_cache(maxsize=1 << 15)
def _character_initial(character: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(character, style=Style.FIRST_LETTER, errors="ignore")).lower()


@dataclass
class _Policies:
    """What the rules read besides facts, as cached: each province's stored policy."""

    read_at: float
    stored: dict[str, PolicyValues]
    calendar: HolidayCalendar
    made: dict[str, tuple[rules.RuleContext, Sweeper]] = field(default_factory=dict)

    def policy(self, province: str) -> PolicyValues:
        """A province's own policy, else the defaults."""
        return self.stored.get(province) or defaults()


@dataclass(frozen=True)
class WriteResult:
    outcome: str  # created / updated / unchanged
    key: str
    warnings: list[rules.Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- batches ---------------------------------------------------------------------------------

In = TypeVar("In")
Out = TypeVar("Out")

Commit = Literal["all", "partial", "none"]
"""How a batch is stored: ``all`` only when no row is rejected, ``partial`` the good rows,
``none`` nothing (every row checked and reported, as a dry run)."""

Progress = Callable[[str, int, int | None], None]
"""``progress(phase, done, total)``: phase is ``read``, ``check`` or ``write``."""


def no_progress(_phase: str, _done: int, _total: int | None) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem of one row of a batch: an error rejects the row, a warning is kept."""

    row: int
    field: str
    code: str
    severity: str
    message: str
    violation: rules.Violation | None = None


@dataclass
class BatchResult:
    """What a batch write did, row by row (rows are the caller's numbers, e.g. spreadsheet rows)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    committed: bool = False
    issues: list[Issue] = field(default_factory=list)
    rejected: set[int] = field(default_factory=set)
    refused: bool = False  # a row was rejected, here or by the file's reader (all-or-nothing)

    def reject(self, row: int, field: str, code: str, message: str, violation: Any = None) -> None:
        self.issues.append(Issue(row, field, code, rules.ERROR, message, violation))
        self.rejected.add(row)
        self.refused = True

    def drain(self) -> list[Issue]:
        """The issues found so far, handed over and forgotten: a streamed batch's report is
        written as it goes, and its rows are not held to the end."""
        issues, self.issues = self.issues, []
        self.rejected.clear()
        return issues

    def warn(self, row: int, field: str, code: str, message: str, violation: Any = None) -> None:
        self.issues.append(Issue(row, field, code, rules.WARNING, message, violation))

    def count(self, row: int, outcome: str) -> None:
        """Row ``row`` is (or would be) ``created``, ``updated`` or ``unchanged``."""
        setattr(self, outcome, getattr(self, outcome) + 1)

    def may_store(self, commit: Commit) -> bool:
        return commit == "partial" or (commit == "all" and not self.refused)


def checked_rows(
    items: Iterable[tuple[int, In]],
    result: BatchResult,
    check: Callable[[int, In], tuple[str, Out]],
    key_field: str,
    duplicate: Callable[[str, int], str],
    seen: MutableMapping[str, int] | None = None,
) -> Iterator[tuple[int, str, Out]]:
    """The rows of a batch whose fields pass ``check`` (which returns the row's key and what
    it made of the input, or raises FieldError), each key once: a FieldError or a key seen on
    an earlier row (``duplicate(key, earlier row)`` says so) rejects the row. ``seen`` (key →
    row) carries the keys of a streamed batch's earlier chunks: keys are held, not rows."""
    seen = {} if seen is None else seen
    for row, data in items:
        try:
            key, checked = check(row, data)
        except FieldError as error:
            result.reject(row, error.field, error.code, str(error))
            continue
        earlier = seen.get(key)
        if earlier is not None:
            result.reject(row, key_field, DUPLICATE, duplicate(key, earlier))
            continue
        seen[key] = row
        yield row, key, checked


@contextmanager
def closing_ledger(seen: MutableMapping[str, int]) -> Iterator[None]:
    """Close a key ledger's temporary file when the batch is done."""
    try:
        yield
    finally:
        if isinstance(seen, store.KeyLedger):
            seen.close()


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size`` (the last one shorter), each read only when asked for."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def with_last(chunks: Iterator[list[Any]]) -> Iterator[tuple[list[Any], bool]]:
    """Each chunk with whether it is the last one (one chunk is read ahead)."""
    current = next(chunks, None)
    while current is not None:
        ahead = next(chunks, None)
        yield current, ahead is None
        current = ahead


def batch_chunks(items: Iterable[Any], size: int) -> tuple[bool, Iterator[tuple[list[Any], bool]]]:
    """A batch's ``items`` in chunks of ``size``, each with whether it is the last one, and
    whether the batch is streamed (more than one chunk: the second is read before the first
    is handed on). An empty batch is one empty chunk."""
    pieces = with_last(chunked(items, size))
    first = next(pieces, ([], True))
    return not first[1], chain([first], pieces)


def single_result(result: BatchResult, key: str) -> WriteResult:
    """The outcome of a batch of one row (``key``), or its first error raised as one sentence."""
    errors = [i for i in result.issues if i.severity == rules.ERROR]
    violations = [i.violation for i in errors if i.violation is not None]
    if violations:
        raise RefusedError(violations)
    if errors:
        raise FieldError(errors[0].message, errors[0].field, errors[0].code)
    kept = [i for i in result.issues if i.severity == rules.WARNING]
    return WriteResult(
        "created" if result.created else "updated" if result.updated else "unchanged",
        key,
        [i.violation for i in kept if i.violation is not None],
        [i.message for i in kept if i.violation is None],
    )


# --- the service -------------------------------------------------------------------------------


class RegistryCore:
    """The database, the clerk and the rule context every service of the registry shares."""

    def __init__(self, db: Database, clerk: str | None = None) -> None:
        self.db = db
        self._requested = requested_clerk(clerk)
        if self._requested is not None:
            stored_texts(("", text.NAME_TEXT, _("The clerk's name"), self._requested, "clerk"))
        self._context: _Policies | None = None
        self._acting: Acting | None = None
        self._id_key: bytes | None = None

    # -- who acts --

    @property
    def acting(self) -> Acting:
        """Who this registry's writes act as (read once from the connection and the clerks)."""
        if self._acting is None:
            with self.db.read() as s:
                who = security.principal(s.connection())
                records = {c.name: c for c in q.clerks(s)}
            try:
                self._acting = resolve_acting(who, self._requested, records)
            except ScopeError as error:  # the refusal has its audit row, recorded as who asked
                self.db.defer_audit(
                    audit_row(who[:64], "refuse", "clerk", (self._requested or "")[:64], None,
                              {"reason": str(error)})
                )  # fmt: skip
                raise
        return self._acting

    @property
    def clerk(self) -> str:
        """The clerk's name the audit rows record."""
        return self.acting.name

    def admit(self) -> Acting:
        """Who acts, at an entry (a command, the clerks' UI) before anything is read: a disabled
        clerk is refused here (one sentence, with its audit row), reads included."""
        return self.acting

    def id_key(self) -> bytes:
        """The national-ID hash key (``storage.keys``), or one sentence saying what to do."""
        if self._id_key is None:
            try:
                self._id_key = keys.load_key(self.db.url)
            except keys.IdKeyError as error:
                raise ServiceError(str(error)) from None
        return self._id_key

    def require_role(self, *roles: str) -> Acting:
        """The acting clerk when their role is one of ``roles``, else a refusal (audited)."""
        acting = self._writer()
        if acting.role not in roles:
            self._refuse(
                _("{clerk} is a {role}: only an admin may do this.").format(
                    clerk=acting.name, role=_(acting.role or "clerk")
                ),
                "role",
                "",
            )
        return acting

    def _writer(self) -> Acting:
        """The acting clerk, who must be a clerk of this registry to write."""
        acting = self.acting
        if acting.role is None:
            self._refuse(
                _(
                    "{name} is not a clerk of this registry: an admin adds them with "
                    "`multisite clerk add {name} --region CODE --role clerk`."
                ).format(name=acting.name),
                "clerk",
                acting.name,
            )
        return acting

    def _refuse(self, message: str, entity: str, key: str, **about: str | None) -> NoReturn:
        """Raise a ScopeError; its audit row is written once the writing transaction (if any)
        has rolled back (``Database.defer_audit``)."""
        acting = self.acting
        self.db.defer_audit(
            audit_row(
                acting.name[:64], "refuse", entity[:32], key[:64], None, {"reason": message},
                principal=acting.principal if acting.delegated else None,
                physician=about.get("physician"), institution=about.get("institution"),
            )
        )  # fmt: skip
        raise ScopeError(message)

    def region_name(self, code: str | None) -> str:
        if code is None:
            return _("the whole registry")
        found = regions.division(code)
        return f"{code} {found.name}" if found else code

    def may_write_county(self, county: str) -> bool:
        """Whether the acting clerk writes in ``county`` (an institution's, a registration's)."""
        acting = self.acting
        if acting.role == "admin":
            return True
        if acting.role != "clerk":
            return False
        return acting.region is None or (
            bool(county) and ids.region_contains(acting.region, county)
        )

    def may_write_physician(self, s: Session, cert: str) -> bool:
        """Whether the acting clerk writes this stored physician: registered in the clerk's
        region, or with a main institution there (a physician not stored yet: True — the
        registration's check decides)."""
        acting = self.acting
        if acting.role == "admin":
            return True
        if acting.role != "clerk":
            return False
        cache = s.info.setdefault("ms_may_physician", {})
        if cert not in cache:
            places = q.physician_places(s, cert)
            cache[cert] = not places or any(self.may_write_county(p) for p in places)
        return bool(cache[cert])

    def may_write_institution(self, s: Session, code: str) -> bool:
        acting = self.acting
        if acting.role == "admin":
            return True
        cache = s.info.setdefault("ms_may_institution", {})
        if code not in cache:
            county = q.institution_county(s, code)
            cache[code] = county is None or self.may_write_county(county)
        return bool(cache[code])

    def outside_region(self, what: str) -> str:
        """The sentence of a write outside the clerk's region."""
        acting = self.acting
        return _("{clerk} writes only in region {region}: {what} is outside it.").format(
            clerk=acting.name, region=self.region_name(acting.region), what=what
        )

    def _refuse_row(
        self,
        result: BatchResult,
        row: int,
        field: str,
        what: str,
        entity: str,
        key: str,
        *,
        audit: bool,
        physician: str | None = None,
        institution: str | None = None,
    ) -> None:
        """Reject a batch's row that lies outside the acting clerk's region or role, with an
        audit row of the refusal (written after the batch's transaction; not for a dry run)."""
        acting = self.acting
        if acting.role == "clerk":
            message = self.outside_region(what)
        elif acting.role is None:
            message = _(
                "{name} is not a clerk of this registry: an admin adds them with "
                "`multisite clerk add {name} --region CODE --role clerk`."
            ).format(name=acting.name)
        else:
            message = self.role_refusal(acting)
        result.reject(row, field, CLERK_REGION, message)
        if audit:
            self.db.defer_audit(
                audit_row(
                    acting.name, "refuse", entity, key[:64], None, {"reason": message},
                    principal=acting.principal if acting.delegated else None,
                    physician=physician, institution=institution,
                )
            )  # fmt: skip

    @staticmethod
    def role_refusal(acting: Acting) -> str:
        """The sentence of a write the clerk's role does not allow."""
        if acting.role == "supervisor":
            return _(
                "{clerk} is a supervisor: supervisors read everything and run reports, and "
                "change nothing."
            ).format(clerk=acting.name)
        return _("{clerk} is a {role}: only an admin may do this.").format(
            clerk=acting.name, role=_(acting.role or "clerk")
        )

    def _authorize(self, s: Session, rows: Sequence[dict[str, Any]]) -> None:
        """Every audit row's write checked against the acting clerk's role and region (the
        service's last line: whatever the entry point, a write has an audit row)."""
        acting = self._writer()
        if acting.role == "admin":
            return
        for row in rows:
            entity = row["entity"]
            if acting.role != "clerk" or entity in ADMIN_ENTITIES:
                self._refuse(self.role_refusal(acting), entity, row["entity_key"] or "")
            if entity == "region":
                continue
            cert, code = row.get("physician_cert"), row.get("institution_code")
            if cert and self.may_write_physician(s, cert):
                continue
            if code and self.may_write_institution(s, code):
                continue
            if not cert and not code:
                continue
            what = (
                _("physician {cert}").format(cert=cert)
                if cert
                else _("institution {code}").format(code=code)
            )
            self._refuse(
                self.outside_region(what), entity, row["entity_key"] or "",
                physician=cert, institution=code,
            )  # fmt: skip

    def _guard(
        self, s: Session, entity: str, key: str, *, physician: str | None = None,
        institution: str | None = None,
    ) -> None:  # fmt: skip
        """Refuse (audited, one sentence naming the region) a write the acting clerk may not
        do to this physician or institution — before anything is written."""
        self._authorize(
            s,
            [{"entity": entity, "entity_key": key, "physician_cert": physician,
              "institution_code": institution}],
        )  # fmt: skip

    def _append_audit(
        self, s: Session, rows: Sequence[dict[str, Any]], head: tuple[int, str] | None = None
    ) -> None:
        """Authorize and append audit rows (built by ``audit_row``) in the writing transaction
        (``head``: the chain's head the caller locked, see ``storage.audit.append_audit``)."""
        if rows:
            store_linked(s, self._link_audit(s, rows, head))

    def _link_audit(
        self, s: Session, rows: Sequence[dict[str, Any]], head: tuple[int, str] | None = None
    ) -> Linked:
        """Authorize audit rows and number and hash them (``storage.audit.link_audit``), to
        be stored later in the writing transaction (``storage.audit.store_linked``)."""
        if not rows:
            return Linked([], head or (0, ""))  # nothing to store
        self._authorize(s, rows)
        if self.acting.delegated:
            rows = [{**r, "principal": self.acting.principal} for r in rows]
        return link_audit(s, rows, head)

    # -- shared helpers --

    def _audit(
        self,
        s: Session,
        action: str,
        entity: str,
        key: str,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        *,
        physician: str | None = None,
        institution: str | None = None,
    ) -> None:
        """Record one mutation in the audit log, in the writing transaction."""
        row = audit_row(
            self.clerk, action, entity, key, before, after,
            physician=physician, institution=institution,
        )  # fmt: skip
        self._append_audit(s, [row])

    @contextmanager
    def _batch_session(self, commit: Commit) -> Iterator[Session]:
        """The transaction of one batch: a write transaction, or a read one for ``none``."""
        if commit == "none":
            with self.db.read() as s:
                yield s
            return
        try:
            with self.db.write() as s:
                yield s
        except Abandon:
            return
        except IntegrityError as error:
            # Another clerk stored one of these keys (a contract number, a certificate, a
            # credit code) between our check and our write: the whole batch was rolled back.
            raise ConcurrentWriteError(
                _(
                    "Nothing was stored: another clerk stored some of the same contracts, "
                    "physicians or institutions at the same moment. Try again."
                )
            ) from error

    def policy(self, region_code: str | None = None) -> PolicyValues:
        """The policy in force: defaults with the newest stored version applied."""
        with self.db.read() as s:
            return self.policy_in(s, region_code)

    @staticmethod
    def policy_in(s: Session, region_code: str | None = None) -> PolicyValues:
        """:meth:`policy`, read in the transaction ``s`` (a report reading everything at once)."""
        if region_code:  # a region's own, else the defaults (never another region's)
            row = q.policy_rows(s, region_code)[-1:]
        else:  # the registry's newest, as the region-wide rules apply it
            row = [r] if (r := q.latest_policy(s)) else []
        if not row:
            return defaults()
        return dataclass_replace_version(
            defaults().with_values(row[0].values, stored=True), row[0].version
        )

    @cached_property
    def _buffers(self) -> dict[tuple[int, int], int]:
        with self.db.read() as s:
            return q.travel_buffers(s)

    def holiday_calendar(self) -> HolidayCalendar:
        with self.db.read() as s:
            loaded = [HolidayDay(d.day, d.kind, d.name) for d in q.holiday_days(s)]  # type: ignore[arg-type]
        return HolidayCalendar(loaded)

    def rule_context(
        self,
        policy: PolicyValues | None = None,
        calendar: HolidayCalendar | None = None,
        *,
        province: str | None = None,
    ) -> rules.RuleContext:
        """Policy, travel buffers and holiday data for the rules of ``province`` (``NN0000``:
        its own policy, else the defaults — never another province's), as stored now (or
        ``policy`` and ``calendar`` when given). Reads only: nothing is kept for later calls.
        Without ``province`` and ``policy``: the newest policy stored anywhere (a registry of
        one province)."""
        with self.db.read() as s:
            buffers = q.travel_buffers(s)
        if policy is None:
            policy = self.policy(province) if province else self.policy()
        return self._make_rules(policy, calendar, buffers)[0]

    def contexts(
        self, calendar: HolidayCalendar | None = None
    ) -> Callable[[str], rules.RuleContext]:
        """Province → its rule context as stored now (made once each), with ``calendar``."""
        made: dict[str, rules.RuleContext] = {}

        def context_for(province: str) -> rules.RuleContext:
            if province not in made:
                policy = self.policy(province) if province else defaults()
                made[province] = self.rule_context(policy, calendar)
            return made[province]

        return context_for

    def _cached(self) -> _Policies:
        """The write path's reads: every province's policy and the holiday calendar, read at
        once and kept for ``CONTEXT_TTL`` seconds (a long-running TUI sees another clerk's
        policy change within that time; this registry's own policy and holiday writes drop
        them at once)."""
        now = time.monotonic()
        if self._context is None or now - self._context.read_at >= CONTEXT_TTL:
            with self.db.read() as s:
                stored = {
                    code: dataclass_replace_version(
                        defaults().with_values(row.values, stored=True), row.version
                    )
                    for code, row in q.latest_policies(s).items()
                }
            self._context = _Policies(now, stored, self.holiday_calendar())
        return self._context

    def _rules(self, province: str = "") -> tuple[rules.RuleContext, Sweeper]:
        """The write path's context of a province and the sweep's shortcut made from it."""
        cached = self._cached()
        made = cached.made.get(province)
        if made is None:
            made = cached.made[province] = self._make_rules(
                cached.policy(province), cached.calendar, self._buffers
            )
        return made

    def prepare_rules(self) -> None:
        """Read policy, travel buffers and holidays for the write path now (before a race)."""
        self._rules()

    def _make_rules(
        self,
        policy: PolicyValues,
        calendar: HolidayCalendar | None,
        buffers: dict[tuple[int, int], int],
    ) -> tuple[rules.RuleContext, Sweeper]:
        calendar = calendar or self.holiday_calendar()

        def buffer(a: Hashable, b: Hashable) -> int:
            return buffers.get((a, b), policy.travel_buffer_minutes)  # type: ignore[arg-type]

        context = rules.RuleContext(policy, buffer, calendar.unknown_years_between)
        return context, Sweeper(context, {}, set(buffers), calendar.known)

    def evaluate(self, facts: PhysicianFact) -> list[rules.Violation]:
        """Every violation of ``facts``, each agreement under the policy of its province
        (``domain.jurisdiction``), with the sweep's sound shortcut: facts that provably break
        nothing are not evaluated."""
        judged_by = jurisdiction.provinces(facts)
        distinct = set(judged_by.values())
        if len(distinct) <= 1:
            return evaluate_quickly(facts, self._rules(distinct.pop() if distinct else "")[1])
        return jurisdiction.evaluate(facts, lambda p: self._rules(p)[0], judged_by)

    def evaluate_fully(
        self, facts: PhysicianFact, context_for: Callable[[str], rules.RuleContext] | None = None
    ) -> list[rules.Violation]:
        """Every violation of ``facts`` by the full rules (no shortcut), each agreement under
        its province's policy (``context_for``, default: :meth:`contexts`)."""
        return jurisdiction.evaluate(facts, context_for or self.contexts())

    def forget_context(self) -> None:
        """Drop cached policy, buffers and holidays (after writing any of them)."""
        self._context = None
        self.__dict__.pop("_buffers", None)

    # -- reads --

    def physician_facts(self, cert: str) -> PhysicianFact:
        with self.db.read() as s:
            phys = q.physician_by_cert(s, ids.clean(cert))
            if phys is None:
                raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
            return q.physician_fact(s, phys)

    def summary(self) -> dict[str, int]:
        with self.db.read() as s:
            return q.counts(s)

    def audit_log(self, **filters: Any) -> list[AuditEntry]:
        with self.db.read() as s:
            return q.audit_entries(s, **filters)

    def _ensure_regions(self, s: Session, codes: Iterable[str]) -> None:
        """File the regions of ``codes`` and those above them (city, province) that are not
        stored yet, named as the GB/T 2260 table names them, each with an audit row, and flush
        them before anything that refers to them."""
        wanted: dict[str, str] = {}
        for code in codes:
            for d in regions.chain(code) or [regions.Division(code, code)]:
                wanted.setdefault(d.code, d.name)
            wanted.setdefault(ids.province_of(code), ids.province_of(code))
        missing = store.missing_regions(s, wanted)
        if not missing:
            return
        rows = [Region(code=c, name=wanted[c], level=regions.level(c)) for c in missing]
        s.add_all(rows)
        s.flush()
        self._append_audit(
            s,
            [
                audit_row(self.clerk, "create", "region", r.code, None,
                          {"name": r.name, "level": r.level})
                for r in rows
            ],
        )  # fmt: skip


def resolve_acting(who: str, requested: str | None, records: Mapping[str, Clerk]) -> Acting:
    """Who acts: the principal ``who``, or the clerk ``requested`` when ``who`` is an enabled
    admin (an admin may act as another clerk, with that clerk's rights; a name not on record
    acts with the admin's). Anyone else asking for another name is refused, and so is a
    disabled clerk, whether they authenticated or an admin names them: they read nothing
    either."""
    own = records.get(who)
    if own is not None and not own.enabled:
        raise ScopeError(disabled_clerk(who))
    own_role = own.role if own is not None and own.enabled else None
    if not requested or requested == who:
        return Acting(who, who, own_role, own.region_code if own is not None and own_role else None)
    if own_role != "admin":
        raise ScopeError(
            _(
                "{principal} may not act as {name}: the clerk is who authenticated ({principal}); "
                "only an admin may name another clerk."
            ).format(principal=who, name=requested)
        )
    other = records.get(requested)
    if other is None:
        return Acting(requested, who, "admin", None)
    if not other.enabled:
        raise ScopeError(disabled_clerk(requested))
    return Acting(requested, who, other.role, other.region_code)


def disabled_clerk(name: str) -> str:
    return _(
        "Clerk {name} is disabled and may neither read nor write the registry; an admin enables "
        "them again with `multisite clerk add {name} --region CODE --role ROLE`."
    ).format(name=name)


def dataclass_replace_version(policy: PolicyValues, version: int) -> PolicyValues:
    from dataclasses import replace

    return replace(policy, version=version)
