"""The whole-region sweep (``multisite check``) without evaluating every physician in full.

Most physicians break no rule, and most schedules repeat. Each rule carries a cheap, sound
precondition (``Rule.clears``) that says it cannot bite; only physicians for whom some rule
could bite are loaded in full and evaluated by :func:`rules.evaluate`, so the violations
reported are exactly those of the full rules. The region sweep tests the preconditions that
read agreement rows in the database, one row per physician (``storage.sweep.physician_rows``,
under the :class:`SweepLimits` of the physician's province), and asks this module only about
the weekly patterns (:meth:`Sweeper.patterns_risky`). The write path tests the same
preconditions on one physician's facts (:meth:`Sweeper.facts_clean`, on
:class:`~multisite.domain.rules.SweepAgreement` rows). What the rows do not carry (several
registrations, suspensions, the physician on the dishonesty list, agreements outside their
filings) is tested per physician first: by ``storage.sweep.always_full`` in SQL, by
:func:`facts_always_full` on facts.

Why the schedule test is sound: every occurrence a physician ever has belongs to the union of
their live agreements' weekly patterns taken without date bounds. Overlaps, travel gaps, the
week/day/rest-day loads and the length of duty periods can only grow when occurrences are
added, so if that always-on union breaks none of them, no dated part of it does. The union's
verdict is memoised by its patterns and which of them share an institution, so repeated
schedules cost one dictionary lookup.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from . import rules, schedule
from .facts import InstitutionFact, PhysicianFact
from .rules import RULES, Rule, RuleContext, SweepAgreement, Violation
from .rules.core import Site
from .rules.schedule_rules import ScheduleClear, duty_limits
from .schedule import Pattern, Slot

__all__ = [
    "Site",
    "SweepAgreement",
    "SweepLimits",
    "Sweeper",
    "evaluate",
    "facts_always_full",
]

ALWAYS_FROM = dt.date(2001, 1, 1)  # a Monday
ALWAYS_TO = dt.date(2001, 1, 28)  # a Sunday: four full weeks
NO_RISKS: frozenset[str] = frozenset()

ScheduleKey = tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class SweepLimits:
    """The figures of a province's policy that the row preconditions tested in the database
    read (``storage.sweep.physician_rows``)."""

    tolerance: float  # CONTRACT_HOURS: contract_hours_tolerance
    max_institutions: int | None  # SITE_LIMIT
    eligibility_gate: bool  # ELIGIBILITY
    first_known: dt.date  # HOLIDAY_DATA: the years with holiday data around today
    last_known: dt.date
    buffered: frozenset[int]  # institutions with a travel buffer of their own for some pair


class Sweeper:
    """Decides per physician whether the full rules must run (see the module docstring);
    the memoised helpers the rules' preconditions read (``rules.core.Shortcuts``)."""

    def __init__(
        self,
        ctx: RuleContext,
        institutions: Mapping[int, Site | InstitutionFact],
        buffer_pairs: set[tuple[int, int]],
        known_year: Callable[[int], bool],
    ) -> None:
        self.ctx = ctx
        self.policy = ctx.policy
        self.institutions = institutions
        self.buffer_pairs = buffer_pairs
        self.known_span = _known_span(known_year)
        self.sites: dict[int, Site] = {
            key: inst if isinstance(inst, Site) else _site(inst)
            for key, inst in institutions.items()
        }
        self._scopes: dict[str, frozenset[str]] = {}
        self._minutes: dict[str, int] = {}
        self._texts: dict[tuple[Slot, ...], str] = {}
        self._schedule_memo: dict[ScheduleKey, frozenset[str]] = {}
        self._joined_memo: dict[str | None, bool] = {}
        self._last: tuple[Sequence[SweepAgreement], frozenset[str]] | None = None
        self._row_tests = tuple(
            (r.clears, r.professions) for r in RULES if not isinstance(r.clears, ScheduleClear)
        )
        self._schedule_codes = frozenset(
            r.clears.code for r in RULES if isinstance(r.clears, ScheduleClear)
        )

    # -- what the preconditions read (rules.core.Shortcuts) --

    def scopes(self, stored: str | frozenset[str] | None) -> frozenset[str]:
        if isinstance(stored, frozenset):
            return stored
        text = stored or "[]"
        found = self._scopes.get(text)
        if found is None:
            found = self._scopes[text] = frozenset(json.loads(text))
        return found

    def minutes(self, pattern: str) -> int:
        found = self._minutes.get(pattern)
        if found is None:
            found = self._minutes[pattern] = sum(
                s.duration for s in schedule.slots_from_text(pattern)
            )
        return found

    def schedule_risks(self, live: Sequence[SweepAgreement]) -> frozenset[str]:
        """The schedule rule codes the always-on union of ``live`` may break (memoised by
        the patterns and which of them share an institution; the last answer is kept for
        the next rule asking about the same rows)."""
        if self._last is not None and self._last[0] is live:
            return self._last[1]
        sites: dict[int, int] = {}
        if len(live) == 1:
            sites[live[0].institution_id] = 0
            key: ScheduleKey = ((0, live[0].pattern or ""),)
        else:
            for r in live:
                sites.setdefault(r.institution_id, len(sites))
            if len(sites) == len(live):  # each at its own institution: as patterns_risky keys
                key = tuple(enumerate(sorted(r.pattern or "" for r in live)))
            else:
                key = tuple(sorted([(sites[r.institution_id], r.pattern or "") for r in live]))
        risks = self._schedule_memo.get(key)
        if risks is None:
            risks = self._schedule_memo[key] = self._always_on(key)
        pairs = self.buffer_pairs
        if pairs and len(sites) > 1 and any((x, y) in pairs for x in sites for y in sites):
            risks = risks | {"TRAVEL_GAP"}  # a pair's own buffer: the default proves nothing
        self._last = (live, risks)
        return risks

    def limits(self) -> SweepLimits:
        """What the preconditions tested in the database read of this sweeper's policy."""
        first, last = self.known_span
        return SweepLimits(
            self.policy.contract_hours_tolerance,
            self.policy.max_institutions,
            self.policy.eligibility_gate,
            dt.date.fromisoformat(first),
            dt.date.fromisoformat(last),
            frozenset(i for pair in self.buffer_pairs for i in pair),
        )

    def patterns_risky(self, joined: str | None) -> bool:
        """Whether some schedule rule may bite on the always-on union of the weekly patterns
        ``joined`` by ``|`` (one per live agreement, each at an institution of its own)."""
        found = self._joined_memo.get(joined)
        if found is None:
            texts = sorted((joined or "").split("|"))
            key: ScheduleKey = tuple(enumerate(texts))
            risks = self._schedule_memo.get(key)
            if risks is None:
                risks = self._schedule_memo[key] = self._always_on(key)
            found = self._joined_memo[joined] = not self._schedule_codes.isdisjoint(risks)
        return found

    # -- the decisions --

    def needs_full_check(self, rows: Sequence[SweepAgreement]) -> bool:
        """False only when no rule can bite for this physician's agreements."""
        live = [r for r in rows if r.status != "draft"]
        if not live:
            return False
        for r in live:
            if r.pattern is None:
                return True  # no stored pattern text: only the full rules can tell
        profession = live[0].profession
        for clears, professions in self._row_tests:
            if profession in professions and not clears(live, self):
                return True
        # Every schedule rule's precondition at once: one memoised verdict on the union.
        return not self._schedule_codes.isdisjoint(self.schedule_risks(live))

    def rules_at_risk(self, p: PhysicianFact) -> tuple[Rule, ...]:
        """The rules that may bite for ``p``: every rule that binds the profession when only
        the full rules can tell (:func:`facts_always_full`), else those whose precondition
        does not clear the physician. Each precondition is sound on its own, so the rules
        left out find nothing; the region sweep evaluates only these for a physician it
        flagged."""
        every = rules.applying_to(p.profession)
        if facts_always_full(p):
            return every
        live = [r for r in self._rows(p) if r.status != "draft"]
        if not live:
            return ()
        risks = self.schedule_risks(live)
        return tuple(
            rule
            for rule in every
            if (
                rule.clears.code in risks
                if isinstance(rule.clears, ScheduleClear)
                else not rule.clears(live, self)
            )
        )

    def facts_clean(self, p: PhysicianFact) -> bool:
        """True only when no rule can bite for these facts (the write path's shortcut): the
        physician-level test, then the same preconditions as the sweep's rows."""
        if facts_always_full(p):
            return False
        return not self.needs_full_check(self._rows(p))

    def _rows(self, p: PhysicianFact) -> list[SweepAgreement]:
        """``p``'s agreements as the preconditions read them (one registration)."""
        reg = p.registrations[0]
        for a in p.agreements:
            inst = a.institution
            if inst.id not in self.sites:
                self.sites[inst.id] = _site(inst)
        return [
            SweepAgreement(
                p.id, a.institution.id, a.role, a.department, a.start.isoformat(),
                a.end.isoformat(), a.weekly_hours, a.consent, a.status, self._text(a.slots),
                reg.region_code, reg.main_institution_id, reg.registered_on.isoformat(),
                p.scopes, len(a.missing_terms), p.profession,
            )
            for a in p.agreements
        ]  # fmt: skip

    def _text(self, slots: tuple[Slot, ...]) -> str:
        """``schedule.slots_text``, remembered: the same weekly patterns recur."""
        text = self._texts.get(slots)
        if text is None:
            text = self._texts[slots] = schedule.slots_text(slots)
        return text

    def _always_on(self, key: ScheduleKey) -> frozenset[str]:
        """The schedule rules the always-on union of ``key``'s patterns breaks."""
        policy = self.policy
        patterns = [
            Pattern(i, group, schedule.slots_from_text(text), ALWAYS_FROM, ALWAYS_TO)
            for i, (group, text) in enumerate(key)
        ]
        rest, longest = duty_limits(self.ctx)
        tests = {
            "OVERLAP": lambda: schedule.overlaps(patterns),
            "TRAVEL_GAP": lambda: schedule.travel_gaps(
                patterns, lambda _a, _b: policy.travel_buffer_minutes
            ),
            "STANDARD_HOURS": lambda: schedule.first_week_over(
                patterns, int(policy.standard_weekly_hours * 60)
            ),
            "WEEKLY_HOURS": lambda: schedule.first_week_over(
                patterns, int(policy.weekly_max_hours * 60)
            ),
            "DAILY_HOURS": lambda: schedule.first_day_over(
                patterns, int(policy.daily_max_hours * 60)
            ),
            "REST_DAY": lambda: schedule.first_week_without_rest(
                patterns, int(policy.rest_day_hours * 60)
            ),
            "MIN_REST": lambda: schedule.first_long_duty(patterns, rest, longest),
        }
        return frozenset(code for code, test in tests.items() if test()) or NO_RISKS


def _site(inst: Site | InstitutionFact) -> Site:
    return Site(inst.county_code, inst.departments, inst.listed)


def facts_always_full(p: PhysicianFact) -> bool:
    """What ``storage.sweep.always_full`` finds in SQL, on facts: several registrations (or
    none), a suspension or cancellation, the physician on the dishonesty list, or an
    additional agreement outside its filing(s)."""
    if len(p.registrations) != 1 or p.listings or p.registrations[0].inactive:
        return True
    for a in p.agreements:
        if a.role == "additional" and a.status != "draft":
            filings = [f for f in p.filings if f.institution_id == a.institution.id]
            if filings and not any(
                f.valid_from <= a.start and a.end <= f.valid_to for f in filings
            ):
                return True
    return False


def _known_span(known_year: Callable[[int], bool], around: int = 2026) -> tuple[str, str]:
    """The ISO dates bounding the run of years around ``around`` that have holiday data
    (an agreement inside it cannot trigger HOLIDAY_DATA)."""
    if not known_year(around):
        return ("9999-12-31", "0001-01-01")  # nothing is inside: every agreement is checked
    first = last = around
    while first > 1900 and known_year(first - 1):
        first -= 1
    while last < 2200 and known_year(last + 1):
        last += 1
    return (f"{first:04d}-01-01", f"{last:04d}-12-31")


def evaluate(p: PhysicianFact, sweeper: Sweeper) -> list[Violation]:
    """``rules.evaluate``, narrowed to the rules whose precondition does not clear ``p``
    (none: nothing to find)."""
    at_risk = sweeper.rules_at_risk(p)
    return rules.evaluate(p, sweeper.ctx, at_risk) if at_risk else []
