"""The rules on time: overlaps, travel, weekly and daily hours, the rest day, daily rest.

Each stands on the pattern algebra (``schedule.py``); none expands occurrences day by day.
Their sweep precondition is one memoised verdict on the always-on union of the physician's
weekly patterns (``Shortcuts.schedule_risks``): every one of these measures can only grow
when occurrences are added, so what the union does not break, no dated part of it breaks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from ...i18n import N_, _, current_language
from .. import schedule
from ..facts import PhysicianFact
from ..sessions_text import format_sessions
from .core import (
    ERROR,
    WARNING,
    Precondition,
    Rule,
    RuleContext,
    Shortcuts,
    SweepAgreement,
    Violation,
    by_contract,
    hours,
    involved,
    live_agreements,
    violation,
)


class ScheduleClear:
    """The precondition of a schedule rule: the always-on union does not break it. The
    sweep asks for the union's verdict once per physician and tests every schedule rule's
    code against it (``code``), rather than calling each of these in turn."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __call__(self, agreements: Sequence[SweepAgreement], shortcuts: Shortcuts) -> bool:
        return self.code not in shortcuts.schedule_risks(agreements)


def schedule_clear(code: str) -> Precondition:
    return ScheduleClear(code)


def overlap(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """OVERLAP: two sessions of one physician intersect in time (any institutions)."""
    index = by_contract(p)
    for c in schedule.overlaps([a.pattern for a in live_agreements(p)]):
        a, b = index[c.key_a], index[c.key_b]
        yield violation(
            "OVERLAP",
            ERROR,
            p,
            [a, b],
            c.first_start.date(),
            c.minutes,
            "min",
            _("{a} {slot_a} overlaps {b} {slot_b} by {minutes} minutes from {first}.").format(
                a=a.contract_no,
                slot_a=slot_text(c.slot_a),
                b=b.contract_no,
                slot_b=slot_text(c.slot_b),
                minutes=c.minutes,
                first=c.first_start.date().isoformat(),
            ),
        )


def slot_text(slot: schedule.Slot) -> str:
    """A session as the clerk's language writes it (周二 19:00-21:00 in zh, TU … in en)."""
    return format_sessions([slot], chinese=current_language() == "zh")


def travel_gap(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """TRAVEL_GAP: sessions at two institutions closer than the travel buffer."""
    index = by_contract(p)
    for g in schedule.travel_gaps([a.pattern for a in live_agreements(p)], ctx.buffer):
        a, b = index[g.key_a], index[g.key_b]
        yield violation(
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
                slot_a=slot_text(g.slot_a),
                b=b.contract_no,
                slot_b=slot_text(g.slot_b),
                first=g.first_start.date().isoformat(),
                required=g.required,
            ),
        )


def _week_limit(code: str, severity: str, limit_attr: str, text: str) -> Rule:
    def check(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
        limit = getattr(ctx.policy, limit_attr)
        excess = schedule.first_week_over([a.pattern for a in live_agreements(p)], int(limit * 60))
        if excess is not None:
            over = hours(excess.minutes) - limit
            yield violation(
                code,
                severity,
                p,
                involved(p, excess.keys),
                excess.first,
                over,
                "h",
                _(text).format(
                    hours=hours(excess.minutes),
                    limit=limit,
                    over=round(over, 2),
                    week=excess.first.isoformat(),
                ),
            )

    check.__name__ = code.lower()
    check.__doc__ = f"{code}: scheduled hours in a calendar week above ``{limit_attr}``."
    summary = (
        N_("scheduled hours in a calendar week (Mon–Sun, all sites) above weekly_max_hours")
        if limit_attr == "weekly_max_hours"
        else N_("scheduled hours in a calendar week above the statutory average")
    )
    return Rule(code, severity, check, schedule_clear(code), "sessions", summary)


def daily_hours(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """DAILY_HOURS: more than 8 h + 3 h overtime of sessions on one calendar day."""
    limit = ctx.policy.daily_max_hours
    excess = schedule.first_day_over([a.pattern for a in live_agreements(p)], int(limit * 60))
    if excess is not None:
        over = hours(excess.minutes) - limit
        yield violation(
            "DAILY_HOURS",
            WARNING,
            p,
            involved(p, excess.keys),
            excess.first,
            over,
            "h",
            _("{hours} hours scheduled on {day}, {over} over {limit} a day.").format(
                hours=hours(excess.minutes),
                day=excess.first.isoformat(),
                over=round(over, 2),
                limit=limit,
            ),
        )


def rest_day(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """REST_DAY: no free 24 h in a calendar week (劳动法 art. 38)."""
    rest = int(ctx.policy.rest_day_hours * 60)
    found = schedule.first_week_without_rest([a.pattern for a in live_agreements(p)], rest)
    if found is not None:
        yield violation(
            "REST_DAY",
            WARNING,
            p,
            involved(p, found.keys),
            found.first,
            hours(found.minutes),
            "h",
            _(
                "No free {rest} hours in the week of {week}: the longest rest is {hours} hours."
            ).format(
                rest=ctx.policy.rest_day_hours,
                week=found.first.isoformat(),
                hours=hours(found.minutes),
            ),
        )


def duty_limits(ctx: RuleContext) -> tuple[int, int]:
    """MIN_REST's two figures in minutes: the rest that ends a duty period
    (``min_rest_hours``) and the longest duty period that still leaves it in 24 h."""
    rest = int(ctx.policy.min_rest_hours * 60)
    return rest, schedule.DAY - rest


def min_rest(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """MIN_REST: a duty period longer than 24 h − ``min_rest_hours`` leaves no daily rest.

    Sessions joined by gaps shorter than ``min_rest_hours`` form one duty period, from its
    first start to its last end (a morning and an evening clinic are one period of 13 h; a
    night shift 20:00–08:00 and a clinic at 14:00 the next day one of 22 h)."""
    rest, longest = duty_limits(ctx)
    found = schedule.first_long_duty([a.pattern for a in live_agreements(p)], rest, longest)
    if found is not None:
        yield violation(
            "MIN_REST",
            WARNING,
            p,
            involved(p, found.keys),
            found.first,
            hours(found.minutes),
            "h",
            _(
                "A duty period of {hours} hours from {day} with no rest of {rest} hours: "
                "more than {longest} hours of duty leave no daily rest."
            ).format(
                hours=hours(found.minutes),
                day=found.first.isoformat(),
                rest=ctx.policy.min_rest_hours,
                longest=hours(longest),
            ),
        )


OVERLAP = Rule(
    "OVERLAP",
    ERROR,
    overlap,
    schedule_clear("OVERLAP"),
    "sessions",
    N_("two sessions of one physician intersect in time (any institutions)"),
)
TRAVEL_GAP = Rule(
    "TRAVEL_GAP",
    ERROR,
    travel_gap,
    schedule_clear("TRAVEL_GAP"),
    "sessions",
    N_("sessions at two institutions closer than the travel buffer"),
)
WEEKLY_HOURS = _week_limit(
    "WEEKLY_HOURS",
    ERROR,
    "weekly_max_hours",
    N_("{hours} hours scheduled in the week of {week}, {over} over the limit of {limit}."),
)
STANDARD_HOURS = _week_limit(
    "STANDARD_HOURS",
    WARNING,
    "standard_weekly_hours",
    N_(
        "{hours} hours scheduled in the week of {week}, {over} above the statutory "
        "average of {limit}."
    ),
)
DAILY_HOURS = Rule(
    "DAILY_HOURS",
    WARNING,
    daily_hours,
    schedule_clear("DAILY_HOURS"),
    "sessions",
    N_("more than daily_max_hours of sessions on one calendar day"),
)
REST_DAY = Rule(
    "REST_DAY",
    WARNING,
    rest_day,
    schedule_clear("REST_DAY"),
    "sessions",
    N_("no free 24 h in a calendar week"),
)
MIN_REST = Rule(
    "MIN_REST",
    WARNING,
    min_rest,
    schedule_clear("MIN_REST"),
    "sessions",
    N_("a duty period (sessions joined by gaps under min_rest_hours) longer than 24 h minus it"),
)
