"""The region sweep (``multisite check``): every rule over the stored region."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import astuple

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import jurisdiction, rules
from ..domain.facts import PhysicianFact
from ..domain.holidays import HolidayCalendar
from ..domain.sweep import Sweeper, SweepLimits, facts_always_full
from ..i18n import _
from ..storage import Database
from ..storage import queries as q
from ..storage import sweep as sweep_queries
from .registry import (
    RegistryCore,
    ServiceError,
)

# The version of what a kept sweep verdict means: change it with the rules' preconditions
# (``Rule.clears``, ``storage.sweep.physician_rows``) so verdicts kept by an older release are
# judged again.
SWEEP_VERSION = "sweep-1"
MANY_STALE = 50_000  # more physicians marked than this: judge everyone in one statement


class Checks(RegistryCore):
    def check(
        self, physician: str | None = None, institution: str | None = None
    ) -> list[rules.Violation]:
        """Sweep the region (or one physician / one institution's physicians) for violations,
        each agreement under the policy of its province."""
        calendar = self.holiday_calendar()
        context_for = self.contexts(calendar)
        sweep: RegionSweep | None = None
        with self.db.read() as s:
            selected: Iterable[int]
            evaluate: Callable[[PhysicianFact], list[rules.Violation]]
            if physician:
                phys = q.physician_by_cert(s, ids.clean(physician))
                if phys is None:
                    raise ServiceError(_("Unknown physician {cert}.").format(cert=physician))
                selected, evaluate = [phys.id], lambda f: self.evaluate_fully(f, context_for)
            elif institution:
                inst = q.institution_by_code(s, ids.clean(institution))
                if inst is None:
                    raise ServiceError(_("Unknown institution {code}.").format(code=institution))
                selected = q.physician_ids_at(s, inst.id)
                evaluate = lambda f: self.evaluate_fully(f, context_for)  # noqa: E731
            else:
                sweep = RegionSweep(context_for, set(self._buffers), calendar)
                selected, evaluate = sweep.candidates(s), sweep.evaluate
            found: list[rules.Violation] = []
            for facts in q.all_physician_facts(s, selected):
                found.extend(evaluate(facts))
        if sweep is not None:
            sweep.keep(self.db)  # after the read: SQLite has one writer, the read held none
        if institution:
            code = ids.clean(institution)
            found = [v for v in found if code in v.institutions or not v.institutions]
        return found


class RegionSweep:
    """The whole-region sweep: which physicians the rules must run for, and which rules.

    Each physician is judged under the policy of the province of their registration (a
    :class:`Sweeper` per province with a policy of its own, one for the others). The
    preconditions that read agreement rows run in the database
    (``storage.sweep.physician_rows``); the schedule rules' precondition on the weekly
    patterns here, memoised; a physician flagged is loaded and evaluated by the rules whose
    preconditions do not clear them (every rule, under each province's policy, when several
    provinces judge their agreements)."""

    def __init__(
        self,
        context_for: Callable[[str], rules.RuleContext],
        buffers: set[tuple[int, int]],
        calendar: HolidayCalendar,
    ) -> None:
        self.context_for = context_for
        self.buffers = buffers
        self.calendar = calendar
        self._sweepers: dict[str, Sweeper] = {}
        self._own: dict[str, str] = {}  # first two digits → province code with its own policy
        # what candidates() judged, for keep(): fingerprint, everyone?, verdicts, marks read
        self._judged: tuple[str, bool, dict[int, bool], list[int]] | None = None

    def sweeper(self, province: str) -> Sweeper:
        """The sweeper of ``province`` (``NN0000``; "" for the provinces on the defaults)."""
        found = self._sweepers.get(province)
        if found is None:
            context = self.context_for(province)
            found = Sweeper(context, {}, self.buffers, self.calendar.known)
            self._sweepers[province] = found
        return found

    def candidates(self, s: Session) -> list[int]:
        """The physicians whose rules must run: those ``always_full`` names, and those whose
        agreement rows fail a precondition in the database or whose weekly patterns may
        break a schedule rule. The second verdict is kept between sweeps (``sweep_cache``):
        only the physicians whose rows changed since (``sweep_stale``) are judged again, and
        everyone when the policies, holiday years, travel buffers or listed institutions
        changed. :meth:`keep` stores what this sweep judged."""
        state = sweep_queries.sweep_state(s)  # the marks before any data they stand for
        own = [code for code in q.latest_policies(s) if code == ids.province_of(code)]
        self._own = {code[:2]: code for code in own}
        limits = {code: self.sweeper(code).limits() for code in own}
        default = self.sweeper("").limits()
        listed = sweep_queries.listed_institutions(s)
        key = self._fingerprint(own, limits, default, listed)
        flagged = sweep_queries.always_full(s)
        everyone = state.key != key or len(state.stale) > MANY_STALE
        asked = None if everyone else state.stale
        rows = (
            sweep_queries.physician_rows(s, limits, default, listed, asked)
            if asked is None or asked
            else []
        )
        decided = {pid: False for pid in asked or ()}  # no live agreement left: cleared
        if not own:  # one policy for everyone: the loop's common case
            risky = self.sweeper("").patterns_risky
            decided.update((pid, bool(bad) or risky(patterns)) for pid, bad, patterns, _p in rows)
        else:
            for physician_id, bad, patterns, province in rows:
                sweeper = self.sweeper(self._own.get(province or "", ""))
                decided[physician_id] = bool(bad) or sweeper.patterns_risky(patterns)
        kept = set() if everyone else state.flagged - decided.keys()
        flagged.update(kept, (pid for pid, flag in decided.items() if flag))
        self._judged = (key, everyone, decided, [mark for mark, _pid in state.marks])
        return sorted(flagged)

    def keep(self, db: Database) -> None:
        """Store the verdicts :meth:`candidates` reached and drop the marks they answer. Best
        effort, as the validation base's results: a read-only database, a lock not had within
        a second, a physician deleted meanwhile: nothing is kept, and the next sweep judges
        again."""
        if self._judged is None:
            return
        key, everyone, decided, marks = self._judged
        if not everyone and not decided and not marks:
            return
        try:
            with db.write_briefly(1000) as s:
                sweep_queries.save_sweep(s, key, everyone=everyone, decided=decided, marks=marks)
        except DBAPIError:
            pass

    def _fingerprint(
        self,
        own: list[str],
        limits: dict[str, SweepLimits],
        default: SweepLimits,
        listed: list[int],
    ) -> str:
        """What a kept verdict depends on beyond the physician's own rows: each province's
        policy and limits (holiday years and travel buffers included), the institutions ever
        listed, and the version of the preconditions."""

        def text(of: SweepLimits) -> str:  # a frozenset's repr has no fixed order
            return repr((*astuple(of)[:-1], sorted(of.buffered)))

        parts = [SWEEP_VERSION, repr(sorted(self.buffers)), repr(listed), text(default)]
        parts.append(repr(self.sweeper("").policy))
        for code in sorted(own):
            parts += [code, text(limits[code]), repr(self.sweeper(code).policy)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def evaluate(self, facts: PhysicianFact) -> list[rules.Violation]:
        """The violations of a flagged physician: the rules at risk under their province's
        policy, or every rule under each province's (``jurisdiction``)."""
        judged_by = jurisdiction.provinces(facts)
        provinces = set(judged_by.values())
        if len(provinces) != 1 or facts_always_full(facts):
            return jurisdiction.evaluate(facts, self.context_for, judged_by)
        province = provinces.pop()
        sweeper = self.sweeper(self._own.get(province[:2], ""))
        return rules.evaluate(facts, self.context_for(province), sweeper.rules_at_risk(facts))
