"""The registry's core (服务层): the database, the clerk, the audit row and the rule context.

Every write of the CLI, the TUI, the import and the demo goes through a service built on
:class:`RegistryCore`: one transaction that checks its input, runs the rules (``domain.rules``)
on the physician as the write would leave them, refuses the write when it would create an
error, and records an audit row (clerk, time, entity, before, after) in the same transaction.
The aggregates' services (``regions``, ``institutions``, ``physicians``, ``agreements``,
``checks``) each add their methods; :class:`multisite.services.Registry` joins them.
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.facts import PhysicianFact
from ..domain.holidays import HolidayCalendar, HolidayDay
from ..domain.policy import Policy as PolicyValues
from ..domain.policy import defaults
from ..domain.sweep import Sweeper
from ..domain.sweep import evaluate as evaluate_quickly
from ..i18n import _
from ..storage import Database
from ..storage import queries as q
from ..storage.models import (
    AuditEntry,
    Region,
    utcnow,
)


class ServiceError(Exception):
    """Bad input or an impossible request: one sentence naming the field and the rule."""


class RefusedError(ServiceError):
    """The write would create rule errors; nothing was stored."""

    def __init__(self, violations: Sequence[rules.Violation]) -> None:
        self.violations = list(violations)
        errors = [v for v in violations if v.severity == rules.ERROR]
        super().__init__(
            _("Refused: {code}: {message}").format(code=errors[0].code, message=errors[0].message)
        )


CONTEXT_TTL = 30.0


def require_region_code(code: str) -> None:
    """A GB/T 2260 six-digit code, or one sentence saying it is not."""
    if not ids.region_code_ok(code):
        raise ServiceError(
            _("Region code {code} is not a six-digit GB/T 2260 code.").format(code=code)
        )


def clerk_name(explicit: str | None = None) -> str:
    """``--clerk`` first, then ``MULTISITE_CLERK``, then the OS user."""
    if explicit:
        return explicit
    env = os.environ.get("MULTISITE_CLERK")
    if env:
        return env
    try:
        return getpass.getuser()
    except Exception:  # no user name on this system
        return "unknown"


def initials(name: str) -> str:
    """Pinyin initials of a Chinese name (张伟 → zw), for search."""
    # Imported here: pypinyin's dictionaries take ~55 MB, which only name writers need.
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()


@dataclass(frozen=True)
class WriteResult:
    outcome: str  # created / updated / unchanged
    key: str
    warnings: list[rules.Violation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- the service -------------------------------------------------------------------------------


class RegistryCore:
    """The database, the clerk and the rule context every service of the registry shares."""

    def __init__(self, db: Database, clerk: str | None = None) -> None:
        self.db = db
        self.clerk = clerk_name(clerk)
        self._context: tuple[float, rules.RuleContext, Sweeper] | None = None

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
        s.add(
            AuditEntry(
                at=utcnow(),
                clerk=self.clerk,
                action=action,
                entity=entity,
                entity_key=key,
                physician_cert=physician,
                institution_code=institution,
                before=before,
                after=after,
            )
        )

    def policy(self, region_code: str | None = None) -> PolicyValues:
        """The policy in force: defaults with the newest stored version applied."""
        with self.db.read() as s:
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
        self, policy: PolicyValues | None = None, calendar: HolidayCalendar | None = None
    ) -> rules.RuleContext:
        """Policy, travel buffers and holiday data for the rules, as stored now (or ``policy``
        and ``calendar`` when given). Reads only: nothing is kept for later calls."""
        with self.db.read() as s:
            buffers = q.travel_buffers(s)
        return self._make_rules(policy, calendar, buffers)[0]

    def _rules(self) -> tuple[rules.RuleContext, Sweeper]:
        """The write path's context and the sweep's shortcut made from it, kept for
        ``CONTEXT_TTL`` seconds (a long-running TUI sees another clerk's policy change within
        that time; this registry's own policy and holiday writes drop it at once)."""
        now = time.monotonic()
        if self._context is not None and now - self._context[0] < CONTEXT_TTL:
            return self._context[1], self._context[2]
        context, quick = self._make_rules(None, None, self._buffers)
        self._context = (now, context, quick)
        return context, quick

    def prepare_rules(self) -> None:
        """Read policy, travel buffers and holidays for the write path now (before a race)."""
        self._rules()

    def _make_rules(
        self,
        policy: PolicyValues | None,
        calendar: HolidayCalendar | None,
        buffers: dict[tuple[int, int], int],
    ) -> tuple[rules.RuleContext, Sweeper]:
        policy = policy or self.policy()
        calendar = calendar or self.holiday_calendar()

        def buffer(a: Hashable, b: Hashable) -> int:
            return buffers.get((a, b), policy.travel_buffer_minutes)  # type: ignore[arg-type]

        context = rules.RuleContext(policy, buffer, calendar.unknown_years_between)
        return context, Sweeper(context, {}, set(buffers), calendar.known)

    def evaluate(self, facts: PhysicianFact) -> list[rules.Violation]:
        """Every violation of ``facts`` under the policy in force (``rules.evaluate``, with the
        sweep's sound shortcut: facts that provably break nothing are not evaluated)."""
        return evaluate_quickly(facts, self._rules()[1])

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

    def _ensure_county(self, s: Session, county: str) -> None:
        """Known counties are stored as regions; a new code is filed with its province."""
        province = ids.province_of(county)
        for code, level in ((province, "province"), (county, "county")):
            if q.region(s, code) is None:
                s.add(Region(code=code, name=code, level=level if code != province else "province"))
                s.flush()
                self._audit(s, "create", "region", code, None, {"level": level})

    def _ensure_region_code(self, s: Session, code: str) -> None:
        if q.region(s, code) is None:
            level = "province" if code.endswith("0000") else "county"
            s.add(Region(code=code, name=code, level=level))
            s.flush()
            self._audit(s, "create", "region", code, None, {"level": level})


def dataclass_replace_version(policy: PolicyValues, version: int) -> PolicyValues:
    from dataclasses import replace

    return replace(policy, version=version)
