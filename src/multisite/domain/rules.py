"""The rules of DOMAIN.md §Rules, one small function per code (规则).

Every rule reads the plain facts of one physician (``facts.py``) and the region's policy, and
yields violations whose size is measured: minutes of overlap, hours over a limit, the first
day or week where the rule bites, and the agreements and institutions involved. Schedule
rules stand on the pattern algebra (``schedule.py``); none expands occurrences day by day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field

from ..i18n import N_, _
from . import schedule
from .facts import AgreementFact, PhysicianFact
from .identifiers import region_contains
from .policy import Policy

ERROR = "error"
WARNING = "warning"
INTERMEDIATE_TITLES = frozenset({"主治医师", "副主任医师", "主任医师"})


@dataclass(frozen=True, slots=True)
class Violation:
    code: str
    severity: str
    physician: str
    agreements: tuple[str, ...]
    institutions: tuple[str, ...]
    first_date: dt.date
    measure: float
    unit: str
    message: str

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "physician": self.physician,
            "agreements": list(self.agreements),
            "institutions": list(self.institutions),
            "first_date": self.first_date.isoformat(),
            "measure": self.measure,
            "unit": self.unit,
            "message": self.message,
        }


@dataclass(frozen=True)
class RuleContext:
    """What the rules need besides one physician's facts."""

    policy: Policy
    travel_buffer: Callable[[Hashable, Hashable], int] | None = None
    unknown_holiday_years: Callable[[dt.date, dt.date], list[int]] = field(
        default=lambda _a, _b: []
    )

    def buffer(self, a: Hashable, b: Hashable) -> int:
        if self.travel_buffer is not None:
            return self.travel_buffer(a, b)
        return self.policy.travel_buffer_minutes


Rule = Callable[[PhysicianFact, RuleContext], Iterator[Violation]]


def _live(p: PhysicianFact) -> list[AgreementFact]:
    return [a for a in p.agreements if a.status != "draft" and a.start <= a.end]


def _by_contract(p: PhysicianFact) -> dict[Hashable, AgreementFact]:
    return {a.contract_no: a for a in p.agreements}


def _violation(
    code: str,
    severity: str,
    p: PhysicianFact,
    agreements: Sequence[AgreementFact],
    first: dt.date,
    measure: float,
    unit: str,
    message: str,
) -> Violation:
    contracts = tuple(dict.fromkeys(a.contract_no for a in agreements))
    institutions = tuple(dict.fromkeys(a.institution.code for a in agreements))
    return Violation(
        code, severity, p.cert_no, contracts, institutions, first, round(measure, 2), unit, message
    )


def _hours(minutes: float) -> float:
    return round(minutes / 60, 2)


# --- schedule rules ---------------------------------------------------------------------------


def overlap(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """OVERLAP: two sessions of one physician intersect in time (any institutions)."""
    live = _live(p)
    index = _by_contract(p)
    for c in schedule.overlaps([a.pattern for a in live]):
        a, b = index[c.key_a], index[c.key_b]
        yield _violation(
            "OVERLAP",
            ERROR,
            p,
            [a, b],
            c.first_start.date(),
            c.minutes,
            "min",
            _("{a} {slot_a} overlaps {b} {slot_b} by {minutes} minutes from {first}.").format(
                a=a.contract_no,
                slot_a=c.slot_a,
                b=b.contract_no,
                slot_b=c.slot_b,
                minutes=c.minutes,
                first=c.first_start.date().isoformat(),
            ),
        )


def travel_gap(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """TRAVEL_GAP: sessions at two institutions closer than the travel buffer."""
    live = _live(p)
    index = _by_contract(p)
    for g in schedule.travel_gaps([a.pattern for a in live], ctx.buffer):
        a, b = index[g.key_a], index[g.key_b]
        yield _violation(
            "TRAVEL_GAP",
            ERROR,
            p,
            [a, b],
            g.first_start.date(),
            g.gap,
            "min",
            _(
                "Only {gap} minutes between {a} {slot_a} and {b} {slot_b} at another "
                "institution from {first}; {required} minutes are needed to travel."
            ).format(
                gap=g.gap,
                a=a.contract_no,
                slot_a=g.slot_a,
                b=b.contract_no,
                slot_b=g.slot_b,
                first=g.first_start.date().isoformat(),
                required=g.required,
            ),
        )


def _involved(p: PhysicianFact, keys: Sequence[Hashable]) -> list[AgreementFact]:
    index = _by_contract(p)
    return [index[k] for k in keys if k in index]


def _week_limit(code: str, severity: str, limit_attr: str, text: str) -> Rule:
    def rule(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
        limit = getattr(ctx.policy, limit_attr)
        excess = schedule.first_week_over([a.pattern for a in _live(p)], int(limit * 60))
        if excess is not None:
            over = _hours(excess.minutes) - limit
            yield _violation(
                code,
                severity,
                p,
                _involved(p, excess.keys),
                excess.first,
                over,
                "h",
                _(text).format(
                    hours=_hours(excess.minutes),
                    limit=limit,
                    over=round(over, 2),
                    week=excess.first.isoformat(),
                ),
            )

    rule.__name__ = code.lower()
    rule.__doc__ = f"{code}: scheduled hours in a calendar week above the policy limit."
    return rule


weekly_hours = _week_limit(
    "WEEKLY_HOURS",
    ERROR,
    "weekly_max_hours",
    N_("{hours} hours scheduled in the week of {week}, {over} over the limit of {limit}."),
)
standard_hours = _week_limit(
    "STANDARD_HOURS",
    WARNING,
    "standard_weekly_hours",
    N_(
        "{hours} hours scheduled in the week of {week}, {over} above the statutory "
        "average of {limit}."
    ),
)


def daily_hours(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """DAILY_HOURS: more than 8 h + 3 h overtime of sessions on one calendar day."""
    limit = ctx.policy.daily_max_hours
    excess = schedule.first_day_over([a.pattern for a in _live(p)], int(limit * 60))
    if excess is not None:
        over = _hours(excess.minutes) - limit
        yield _violation(
            "DAILY_HOURS",
            WARNING,
            p,
            _involved(p, excess.keys),
            excess.first,
            over,
            "h",
            _("{hours} hours scheduled on {day}, {over} over {limit} a day.").format(
                hours=_hours(excess.minutes),
                day=excess.first.isoformat(),
                over=round(over, 2),
                limit=limit,
            ),
        )


def rest_day(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """REST_DAY: no free 24 h in a calendar week (劳动法 art. 38)."""
    rest = int(ctx.policy.rest_day_hours * 60)
    found = schedule.first_week_without_rest([a.pattern for a in _live(p)], rest)
    if found is not None:
        yield _violation(
            "REST_DAY",
            WARNING,
            p,
            _involved(p, found.keys),
            found.first,
            _hours(found.minutes),
            "h",
            _(
                "No free {rest} hours in the week of {week}: the longest rest is {hours} hours."
            ).format(
                rest=ctx.policy.rest_day_hours,
                week=found.first.isoformat(),
                hours=_hours(found.minutes),
            ),
        )


def min_rest(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """MIN_REST: less than the minimum rest between two work blocks."""
    found = schedule.first_short_rest(
        [a.pattern for a in _live(p)],
        int(ctx.policy.min_rest_hours * 60),
        int(ctx.policy.block_gap_hours * 60),
    )
    if found is not None:
        yield _violation(
            "MIN_REST",
            WARNING,
            p,
            _involved(p, found.keys),
            found.first,
            _hours(found.minutes),
            "h",
            _(
                "Only {hours} hours of rest between two work blocks on {day}; {limit} are due."
            ).format(
                hours=_hours(found.minutes),
                day=found.first.isoformat(),
                limit=ctx.policy.min_rest_hours,
            ),
        )


# --- registration rules -----------------------------------------------------------------------


def registration(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """REGISTRATION: no active registration covering the agreement's period."""
    for a in _live(p):
        regs = [
            r for r in p.registrations if region_contains(r.region_code, a.institution.county_code)
        ]
        regs = regs or list(p.registrations)
        gaps = [r.first_gap(a.start, a.end) for r in regs]
        if not regs or all(g is not None for g in gaps):
            first = min((g for g in gaps if g is not None), default=a.start)
            yield _violation(
                "REGISTRATION",
                ERROR,
                p,
                [a],
                first,
                (a.end - first).days + 1,
                "d",
                _(
                    "{contract} runs from {start} to {end} but the registration is not active "
                    "from {first}."
                ).format(
                    contract=a.contract_no,
                    start=a.start.isoformat(),
                    end=a.end.isoformat(),
                    first=first.isoformat(),
                ),
            )


def out_of_region(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """OUT_OF_REGION: the institution lies outside every registered region."""
    for a in _live(p):
        if not any(
            region_contains(r.region_code, a.institution.county_code) for r in p.registrations
        ):
            regions = ", ".join(r.region_code for r in p.registrations) or "-"
            yield _violation(
                "OUT_OF_REGION",
                ERROR,
                p,
                [a],
                a.start,
                1,
                "institution",
                _("{institution} ({county}) is outside the registered region {regions}.").format(
                    institution=a.institution.name,
                    county=a.institution.county_code,
                    regions=regions,
                ),
            )


def scope(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """SCOPE: the department is outside the physician's scopes or the institution's departments."""
    for a in _live(p):
        if a.department not in p.scopes:
            yield _violation(
                "SCOPE",
                ERROR,
                p,
                [a],
                a.start,
                1,
                "department",
                _(
                    "Department {department} of {contract} is outside the physician's scope ({scopes})."
                ).format(
                    department=a.department,
                    contract=a.contract_no,
                    scopes="、".join(sorted(p.scopes)) or "-",
                ),
            )
        elif a.institution.departments and a.department not in a.institution.departments:
            yield _violation(
                "SCOPE",
                ERROR,
                p,
                [a],
                a.start,
                1,
                "department",
                _("{institution} is not licensed for department {department}.").format(
                    institution=a.institution.name, department=a.department
                ),
            )


def primary(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """PRIMARY: additional agreements need one primary over the same period; never two."""
    live = _live(p)
    primaries = [a for a in live if a.role == "primary"]
    mains = {r.main_institution_id for r in p.registrations}
    for a in primaries:
        if mains and a.institution.id not in mains:
            yield _violation(
                "PRIMARY",
                ERROR,
                p,
                [a],
                a.start,
                1,
                "agreement",
                _(
                    "{contract} is a primary agreement but {institution} is not the registered "
                    "main institution."
                ).format(contract=a.contract_no, institution=a.institution.name),
            )
    for i, a in enumerate(primaries):
        for b in primaries[i + 1 :]:
            start, end = max(a.start, b.start), min(a.end, b.end)
            if start <= end:
                yield _violation(
                    "PRIMARY",
                    ERROR,
                    p,
                    [a, b],
                    start,
                    (end - start).days + 1,
                    "d",
                    _(
                        "{a} and {b} are both primary agreements from {start}: a physician has "
                        "one main institution."
                    ).format(a=a.contract_no, b=b.contract_no, start=start.isoformat()),
                )
    for a in live:
        if a.role != "additional":
            continue
        first = _first_uncovered(a.start, a.end, [(b.start, b.end) for b in primaries])
        if first is not None:
            yield _violation(
                "PRIMARY",
                ERROR,
                p,
                [a],
                first,
                1,
                "agreement",
                _(
                    "Additional agreement {contract} has no active primary agreement on {day}."
                ).format(contract=a.contract_no, day=first.isoformat()),
            )


def _first_uncovered(
    start: dt.date, end: dt.date, cover: list[tuple[dt.date, dt.date]]
) -> dt.date | None:
    day = start
    for a, b in sorted(cover):
        if a > day:
            break
        if b >= day:
            day = b + dt.timedelta(days=1)
        if day > end:
            return None
    return day if day <= end else None


def period(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """PERIOD: start after end, or an agreement outside its filing's validity (drafts are not
    filed yet, so they are not held to it)."""
    for a in p.agreements:
        if a.status == "draft":
            continue
        if a.start > a.end:
            yield _violation(
                "PERIOD",
                ERROR,
                p,
                [a],
                a.start,
                (a.start - a.end).days,
                "d",
                _("{contract} starts on {start}, after its end on {end}.").format(
                    contract=a.contract_no, start=a.start.isoformat(), end=a.end.isoformat()
                ),
            )
            continue
        filings = [f for f in p.filings if f.institution_id == a.institution.id]
        within = any(f.valid_from <= a.start and a.end <= f.valid_to for f in filings)
        if a.role == "additional" and filings and not within:
            yield _violation(
                "PERIOD",
                ERROR,
                p,
                [a],
                a.start,
                1,
                "agreement",
                _("{contract} ({start} to {end}) lies outside its filing at {institution}.").format(
                    contract=a.contract_no,
                    start=a.start.isoformat(),
                    end=a.end.isoformat(),
                    institution=a.institution.name,
                ),
            )


def site_limit(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """SITE_LIMIT: more institutions at once than ``max_institutions``."""
    cap = ctx.policy.max_institutions
    if cap is None:
        return
    live = _live(p)
    for day in sorted({a.start for a in live}):
        current = [a for a in live if a.start <= day <= a.end]
        sites = {a.institution.id for a in current}
        if len(sites) > cap:
            yield _violation(
                "SITE_LIMIT",
                ERROR,
                p,
                current,
                day,
                len(sites),
                "institutions",
                _("{count} institutions at once from {day}; the region allows {cap}.").format(
                    count=len(sites), day=day.isoformat(), cap=cap
                ),
            )
            return


def credit(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """CREDIT: physician or institution on the dishonesty list (失信/黑名单)."""
    for a in _live(p):
        if p.dishonest or a.institution.dishonest:
            who = p.name if p.dishonest else a.institution.name
            yield _violation(
                "CREDIT",
                ERROR,
                p,
                [a],
                a.start,
                1,
                "listing",
                _("{who} is on the dishonesty list; {contract} cannot be filed.").format(
                    who=who, contract=a.contract_no
                ),
            )


def eligibility(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """ELIGIBILITY (off by default): the 2014 gate for additional sites."""
    if not ctx.policy.eligibility_gate:
        return
    years = ctx.policy.eligibility_min_years
    for a in _live(p):
        if a.role != "additional":
            continue
        reasons = []
        if p.title not in INTERMEDIATE_TITLES:
            reasons.append(_("title {title} is below 主治医师").format(title=p.title))
        since = p.practising_since
        if since is None or _add_years(since, years) > a.start:
            reasons.append(_("fewer than {years} years of practice").format(years=years))
        failed = p.failed_assessment_on
        if failed is not None and failed > _add_years(a.start, -6):
            reasons.append(_("a failed assessment in the last two cycles"))
        if reasons:
            yield _violation(
                "ELIGIBILITY",
                ERROR,
                p,
                [a],
                a.start,
                len(reasons),
                "reasons",
                _("{contract}: not eligible for multi-site practice: {reasons}.").format(
                    contract=a.contract_no, reasons="; ".join(reasons)
                ),
            )


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def consent(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """CONSENT: an additional agreement with no consent or notice of the main institution."""
    for a in _live(p):
        if a.role == "additional" and not a.consent:
            yield _violation(
                "CONSENT",
                WARNING,
                p,
                [a],
                a.start,
                1,
                "agreement",
                _("{contract} records no consent or notice of the main institution.").format(
                    contract=a.contract_no
                ),
            )


def contract_hours(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """CONTRACT_HOURS: scheduled weekly hours differ from the contracted hours by > 10 %."""
    tolerance = ctx.policy.contract_hours_tolerance
    for a in _live(p):
        if a.weekly_hours <= 0:
            continue
        scheduled = a.scheduled_minutes / 60
        if abs(scheduled - a.weekly_hours) > tolerance * a.weekly_hours + 1e-9:
            yield _violation(
                "CONTRACT_HOURS",
                WARNING,
                p,
                [a],
                a.start,
                round(scheduled - a.weekly_hours, 2),
                "h",
                _("{contract} schedules {scheduled} hours a week but contracts {hours}.").format(
                    contract=a.contract_no, scheduled=round(scheduled, 2), hours=a.weekly_hours
                ),
            )


def holiday_data(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """HOLIDAY_DATA: a schedule runs into a year with no holiday calendar."""
    for a in _live(p):
        if not a.slots:
            continue
        years = ctx.unknown_holiday_years(a.start, a.end)
        if years:
            first = max(a.start, dt.date(years[0], 1, 1))
            yield _violation(
                "HOLIDAY_DATA",
                WARNING,
                p,
                [a],
                first,
                len(years),
                "years",
                _("{contract} runs into {years}, for which no holiday calendar is loaded.").format(
                    contract=a.contract_no, years=", ".join(map(str, years))
                ),
            )


RULES: list[Rule] = [
    overlap,
    travel_gap,
    weekly_hours,
    standard_hours,
    daily_hours,
    rest_day,
    min_rest,
    registration,
    out_of_region,
    scope,
    primary,
    period,
    site_limit,
    credit,
    eligibility,
    consent,
    contract_hours,
    holiday_data,
]

CODES = (
    "OVERLAP",
    "TRAVEL_GAP",
    "WEEKLY_HOURS",
    "STANDARD_HOURS",
    "DAILY_HOURS",
    "REST_DAY",
    "MIN_REST",
    "REGISTRATION",
    "OUT_OF_REGION",
    "SCOPE",
    "PRIMARY",
    "PERIOD",
    "SITE_LIMIT",
    "CREDIT",
    "ELIGIBILITY",
    "CONSENT",
    "CONTRACT_HOURS",
    "HOLIDAY_DATA",
)


def evaluate(p: PhysicianFact, ctx: RuleContext) -> list[Violation]:
    """Every violation of every rule for one physician, errors first, then by date."""
    found = [v for rule in RULES for v in rule(p, ctx)]
    found.sort(key=lambda v: (v.severity != ERROR, v.first_date, v.code))
    return found


def touching(violations: Sequence[Violation], contract_no: str) -> list[Violation]:
    """The violations that involve one agreement (what a write of it would create)."""
    return [v for v in violations if contract_no in v.agreements]
