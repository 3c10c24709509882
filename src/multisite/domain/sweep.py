"""The whole-region sweep (``multisite check``) without evaluating every physician in full.

Most physicians break no rule, and most schedules repeat. The sweep therefore reads one row
per agreement (with the physician's registration and its stored pattern text, never the
session rows) and decides per physician with cheap, *sound* tests whether any rule could
bite. Only physicians that could be in violation are loaded in full and evaluated by
:func:`rules.evaluate`, so the violations reported are exactly those of the full rules.

Why the schedule test is sound: every occurrence a physician ever has belongs to the union of
their live agreements' weekly patterns taken without date bounds. Overlaps, travel gaps and
the week/day/rest-day loads can only grow when occurrences are added, so if that always-on
union breaks none of them, no dated part of it does. The minimum-rest rule is not monotone
(removing a session can split a work block), so it is tested pairwise instead: a short rest
needs two occurrences ``x`` and ``y`` of the union with ``block_gap ≤ y.start − x.end <
min_rest`` (see :func:`rest_pair_possible`). The union test is memoised by its patterns
and which of them share an institution, so repeated schedules cost one dictionary lookup.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from . import rules, schedule
from .facts import AgreementFact, InstitutionFact, PhysicianFact
from .identifiers import region_contains
from .rules import RuleContext, Violation
from .schedule import DAY, WEEK, Pattern, Slot

ALWAYS_FROM = dt.date(2001, 1, 1)  # a Monday
ALWAYS_TO = dt.date(2001, 1, 28)  # a Sunday: four full weeks
CLEAN, DIRTY, REST_UNSURE = 0, 1, 2


AgreementRow = Sequence[Any]
"""One agreement as ``storage.sweep.agreement_rows`` reads it, in this order: physician id,
institution id, role, department, start, effective end (dates as ISO text), weekly hours,
consent, status, pattern text, registration region, main institution id, registered on,
the physician's scopes as stored JSON text."""


def rest_pair_possible(
    slots: Sequence[Slot], min_rest: int, block_gap: int, later: Sequence[Slot] | None = None
) -> bool:
    """Whether an occurrence of ``slots`` and a later one (of ``later``, default ``slots``)
    of the always-on pattern rest ``block_gap ≤ gap < min_rest``."""
    if min_rest <= block_gap:
        return False
    reach = 1 + (min_rest + DAY) // WEEK
    for a in slots:
        end = a.mow_end
        for b in later if later is not None else slots:
            for k in range(reach + 1):
                gap = b.mow_start + k * WEEK - end
                if block_gap <= gap < min_rest:
                    return True
    return False


class Site(NamedTuple):
    """What the sweep needs of an institution."""

    county_code: str
    departments: frozenset[str]
    dishonest: bool


class Sweeper:
    """Decides per physician whether the full rules must run (see the module docstring)."""

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
        self.known_year = known_year
        self._schedule_memo: dict[tuple[tuple[int, str], ...], int] = {}
        self._rest_limits = (
            int(self.policy.min_rest_hours * 60),
            int(self.policy.block_gap_hours * 60),
        )
        self._scope_ok: dict[tuple[str, str], bool] = {}
        self._minutes: dict[str, int] = {}
        self._texts: dict[tuple[Slot, ...], str] = {}
        self._unit_memo: dict[tuple[Slot, ...], bool] = {}
        self._cross_memo: dict[tuple[tuple[Slot, ...], tuple[Slot, ...]], bool] = {}
        self._known_span = _known_span(known_year)
        self._known_dates = (
            dt.date.fromisoformat(max(self._known_span[0], "0001-01-01")),
            dt.date.fromisoformat(min(self._known_span[1], "9999-12-31")),
        )

    def needs_full_check(self, rows: Sequence[AgreementRow]) -> bool:
        """False only when no rule can bite for this physician's agreements."""
        lo, hi = self._known_span
        institutions = self.institutions
        scope_ok = self._scope_ok
        minutes_of = self._minutes
        tolerance = self.policy.contract_hours_tolerance
        live: list[AgreementRow] = []
        for row in rows:
            (_pid, inst_id, role, department, start, end, hours, consent, status, pattern,
             region, main_id, registered_on, scopes_text) = row  # fmt: skip
            if status == "draft":
                continue
            if pattern is None or start > end or registered_on > start or start < lo or end > hi:
                return True
            inst = institutions[inst_id]
            if inst.dishonest or region[:2] != inst.county_code[:2]:
                return True
            if not region.endswith("0000") and not region_contains(region, inst.county_code):
                return True
            ok = scope_ok.get((scopes_text, department))
            if ok is None:
                scopes = json.loads(scopes_text or "[]")
                ok = scope_ok[(scopes_text, department)] = department in scopes
            if not ok or (inst.departments and department not in inst.departments):
                return True
            if role == "primary":
                if inst_id != main_id:
                    return True
            elif not consent or self.policy.eligibility_gate:
                return True
            if hours > 0:
                minutes = minutes_of.get(pattern)
                if minutes is None:
                    minutes = minutes_of[pattern] = sum(
                        s.duration for s in schedule.slots_from_text(pattern)
                    )
                if abs(minutes / 60 - hours) > tolerance * hours + 1e-9:
                    return True
            live.append(row)
        if not live:
            return False
        if len(live) == 1:
            if live[0][2] != "primary":
                return True
            schedule_key: tuple[tuple[int, str], ...] = ((0, live[0][9]),)
        else:
            schedule_key = self._several(live)
            if not schedule_key:
                return True
        return not self._schedule_clean(schedule_key, lambda: _row_patterns(live))

    def facts_clean(self, p: PhysicianFact) -> bool:
        """True only when no rule can bite for these facts (the write path's shortcut).

        The same sound tests as :meth:`needs_full_check`, on facts instead of rows; it also
        covers the filings, which the sweep leaves to ``storage.sweep.always_full``.
        """
        if len(p.registrations) != 1 or p.dishonest:
            return False
        reg = p.registrations[0]
        if reg.inactive:
            return False
        lo, hi = self._known_dates
        policy = self.policy
        live: list[AgreementFact] = []
        for a in p.agreements:
            if a.status == "draft":
                continue
            if a.start > a.end or reg.registered_on > a.start or a.start < lo or a.end > hi:
                return False
            inst = a.institution
            if inst.dishonest or not region_contains(reg.region_code, inst.county_code):
                return False
            if a.department not in p.scopes or (
                inst.departments and a.department not in inst.departments
            ):
                return False
            if a.role == "primary":
                if inst.id != reg.main_institution_id:
                    return False
            else:
                if not a.consent or policy.eligibility_gate:
                    return False
                filings = [f for f in p.filings if f.institution_id == inst.id]
                if filings and not any(
                    f.valid_from <= a.start and a.end <= f.valid_to for f in filings
                ):
                    return False
            hours = a.weekly_hours
            if hours > 0 and abs(a.scheduled_minutes / 60 - hours) > (
                policy.contract_hours_tolerance * hours + 1e-9
            ):
                return False
            live.append(a)
        if not live:
            return True
        rows = [
            (p.id, a.institution.id, a.role, a.department, a.start, a.end, a.weekly_hours,
             a.consent, a.status, self._text(a.slots))
            for a in live
        ]  # fmt: skip
        if len(rows) == 1:
            if rows[0][2] != "primary":
                return False
            key: tuple[tuple[int, str], ...] = ((0, rows[0][9]),)
        else:
            key = self._several(rows)
            if not key:
                return False
        return self._schedule_clean(key, lambda: [a.pattern for a in live])

    def _text(self, slots: tuple[Slot, ...]) -> str:
        """``schedule.slots_text``, remembered: the same weekly patterns recur."""
        text = self._texts.get(slots)
        if text is None:
            text = self._texts[slots] = schedule.slots_text(slots)
        return text

    def _several(self, live: Sequence[AgreementRow]) -> tuple[tuple[int, str], ...]:
        """The schedule key of several agreements, or () when a rule may bite between them."""
        primaries = [(row[4], row[5]) for row in live if row[2] == "primary"]
        for i, (a_start, a_end) in enumerate(primaries):
            for b_start, b_end in primaries[i + 1 :]:
                if a_start <= b_end and b_start <= a_end:
                    return ()
        for row in live:
            if row[2] != "primary" and not any(
                p_start <= row[4] and row[5] <= p_end for p_start, p_end in primaries
            ):
                return ()
        sites: dict[int, int] = {}
        for row in live:
            sites.setdefault(row[1], len(sites))
        cap = self.policy.max_institutions
        if cap is not None and len(sites) > cap:
            return ()
        pairs = self.buffer_pairs
        if pairs and len(sites) > 1 and any((x, y) in pairs for x in sites for y in sites):
            return ()
        return tuple(sorted((sites[row[1]], row[9]) for row in live))

    def _always_on(self, key: tuple[tuple[int, str], ...]) -> int:
        """CLEAN, DIRTY, or REST_UNSURE (everything clean but the minimum-rest pair test)."""
        policy = self.policy
        patterns = [
            Pattern(i, group, schedule.slots_from_text(text), ALWAYS_FROM, ALWAYS_TO)
            for i, (group, text) in enumerate(key)
        ]
        slots = [s for p in patterns for s in p.slots]
        if (
            schedule.overlaps(patterns)
            or schedule.travel_gaps(patterns, lambda _a, _b: policy.travel_buffer_minutes)
            or schedule.first_week_over(patterns, int(policy.standard_weekly_hours * 60))
            or schedule.first_week_over(patterns, int(policy.weekly_max_hours * 60))
            or schedule.first_day_over(patterns, int(policy.daily_max_hours * 60))
            or schedule.first_week_without_rest(patterns, int(policy.rest_day_hours * 60))
        ):
            return DIRTY
        min_rest, block_gap = self._rest_limits
        return REST_UNSURE if rest_pair_possible(slots, min_rest, block_gap) else CLEAN

    def _schedule_clean(
        self, key: tuple[tuple[int, str], ...], dated: Callable[[], list[Pattern]]
    ) -> bool:
        """The memoised always-on verdict; when only the minimum rest is in doubt, the exact
        dated computation (one schedule function, not the whole rule set) decides."""
        verdict = self._schedule_memo.get(key)
        if verdict is None:
            verdict = self._schedule_memo[key] = self._always_on(key)
        if verdict == REST_UNSURE:
            patterns = dated()
            if self._units_rest_clean(patterns):
                return True
            min_rest, block_gap = self._rest_limits
            return schedule.first_short_rest(patterns, min_rest, block_gap) is None
        return verdict == CLEAN

    def _units_rest_clean(self, patterns: list[Pattern]) -> bool:
        """A sufficient test for "no short rest", finer than the pair test on the union.

        Agreements that share a date range form a unit: they are in force together, and
        dropping the first or last occurrences of a unit (at its range's ends) cannot create a
        short rest inside it. So each unit's own always-on pattern is checked exactly
        (memoised), and only pairs of occurrences from two different units go through the
        pair test.
        """
        units: dict[tuple[dt.date, dt.date], list[Slot]] = {}
        for p in patterns:
            units.setdefault((p.start, p.end), []).extend(p.slots)
        if len(units) == len(patterns) and len(patterns) > 1:
            return False  # no two share a range: the pair test has already said no
        min_rest, block_gap = self._rest_limits
        groups = [tuple(sorted(slots)) for slots in units.values()]
        for group in groups:
            clean = self._unit_memo.get(group)
            if clean is None:
                alone = Pattern(0, 0, group, ALWAYS_FROM, ALWAYS_TO)
                clean = schedule.first_short_rest([alone], min_rest, block_gap) is None
                self._unit_memo[group] = clean
            if not clean:
                return False
        for i, a in enumerate(groups):
            for j, b in enumerate(groups):
                if i == j:
                    continue
                crossing = self._cross_memo.get((a, b))
                if crossing is None:
                    crossing = rest_pair_possible(a, min_rest, block_gap, later=b)
                    self._cross_memo[(a, b)] = crossing
                if crossing:
                    return False
        return True


def _row_patterns(rows: Sequence[AgreementRow]) -> list[Pattern]:
    return [
        Pattern(i, row[1], schedule.slots_from_text(row[9]), dt.date.fromisoformat(row[4]),
                dt.date.fromisoformat(row[5]))
        for i, row in enumerate(rows)
    ]  # fmt: skip


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
    """``rules.evaluate``, skipped when the sound shortcut proves there is nothing to find."""
    return [] if sweeper.facts_clean(p) else rules.evaluate(p, sweeper.ctx)


def candidates(rows: Iterable[AgreementRow], sweeper: Sweeper, always: set[int]) -> list[int]:
    """The physicians whose rules must run in full: ``always`` plus those the sweeper flags."""
    flagged = set(always)
    check = sweeper.needs_full_check
    for physician_id, group in groupby(rows, key=itemgetter(0)):
        if physician_id not in flagged and check(list(group)):
            flagged.add(physician_id)
    return sorted(flagged)
