"""The region sweep (``multisite check``): every rule over the stored region."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import jurisdiction, rules
from ..domain.facts import PhysicianFact
from ..domain.holidays import HolidayCalendar
from ..domain.sweep import Sweeper, facts_always_full
from ..i18n import _
from ..storage import queries as q
from ..storage import sweep as sweep_queries
from .registry import (
    RegistryCore,
    ServiceError,
)


class Checks(RegistryCore):
    def check(
        self, physician: str | None = None, institution: str | None = None
    ) -> list[rules.Violation]:
        """Sweep the region (or one physician / one institution's physicians) for violations,
        each agreement under the policy of its province."""
        calendar = self.holiday_calendar()
        context_for = self.contexts(calendar)
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

    def sweeper(self, province: str) -> Sweeper:
        """The sweeper of ``province`` (``NN0000``; "" for the provinces on the defaults)."""
        found = self._sweepers.get(province)
        if found is None:
            context = self.context_for(province)
            found = Sweeper(context, {}, self.buffers, self.calendar.known)
            self._sweepers[province] = found
        return found

    def candidates(self, s: Session) -> list[int]:
        """The physicians whose rules must run: those ``always_full`` names, those whose
        agreement rows fail a precondition in the database, and those whose weekly patterns
        may break a schedule rule."""
        own = [code for code in q.latest_policies(s) if code == ids.province_of(code)]
        self._own = {code[:2]: code for code in own}
        limits = {code: self.sweeper(code).limits() for code in own}
        default = self.sweeper("")
        flagged = sweep_queries.always_full(s)
        rows = sweep_queries.physician_rows(s, limits, default.limits())
        if not own:  # one policy for everyone: the loop's common case
            risky = default.patterns_risky
            flagged.update(pid for pid, bad, patterns, _p in rows if bad or risky(patterns))
            return sorted(flagged)
        for physician_id, bad, patterns, province in rows:
            if bad or self.sweeper(self._own.get(province or "", "")).patterns_risky(patterns):
                flagged.add(physician_id)
        return sorted(flagged)

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
