"""Tests of the schedule algebra against a brute-force day-by-day oracle."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from multisite.domain.schedule import (
    WEEK,
    Conflict,
    Excess,
    Gap,
    Pattern,
    Slot,
    first_day_over,
    first_long_duty,
    first_week_over,
    first_week_without_rest,
    max_week,
    minutes_between,
    occurrences,
    overlaps,
    travel_gaps,
    weekly_minutes_on,
)

D = dt.date
MIN = dt.timedelta(minutes=1)
EPOCH = dt.datetime(2000, 1, 3)  # a Monday; oracle minutes count from here


def hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def slot(code: str) -> Slot:
    """'FR 20:00-08:00' -> Slot."""
    day, span = code.split()
    a, b = span.split("-")
    return Slot(("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(day), hm(a), hm(b))


def pat(key: str, group: str, codes: str, start: dt.date, end: dt.date) -> Pattern:
    return Pattern(key, group, tuple(slot(c.strip()) for c in codes.split(";")), start, end)


# ---------------------------------------------------------------------------------------
# The oracle: expand every occurrence day by day (independent of the module's internals).


def expand(patterns: list[Pattern]) -> list[tuple[int, int, int, int]]:
    """(start minute, end minute, pattern index, slot index), minutes since EPOCH."""
    out = []
    for pi, p in enumerate(patterns):
        day = p.start
        while day <= p.end:
            for si, s in enumerate(p.slots):
                if s.weekday == day.weekday():
                    begin = dt.datetime.combine(day, dt.time()) + s.start * MIN
                    length = s.end - s.start if s.end > s.start else s.end + 1440 - s.start
                    m = int((begin - EPOCH) / MIN)
                    out.append((m, m + length, pi, si))
            day += dt.timedelta(days=1)
    return out


def at(minute: int) -> dt.datetime:
    return EPOCH + minute * MIN


def keys_of(patterns: list[Pattern], indices) -> tuple[Hashable, ...]:
    out: list[Hashable] = []
    for pi in sorted(set(indices)):
        if patterns[pi].key not in out:
            out.append(patterns[pi].key)
    return tuple(out)


def oracle_overlaps(patterns):
    occ = expand(patterns)
    best: dict = {}
    for a in occ:
        for b in occ:
            if (a[2], a[3]) >= (b[2], b[3]):
                continue
            lo, hi = max(a[0], b[0]), min(a[1], b[1])
            if lo < hi:
                pair = (a[2], a[3], b[2], b[3])
                if pair not in best or lo < best[pair][0]:
                    best[pair] = (lo, hi - lo)
    rows = sorted((t, pair, m) for pair, (t, m) in best.items())
    return [
        Conflict(
            patterns[pa].key,
            patterns[pb].key,
            patterns[pa].slots[sa],
            patterns[pb].slots[sb],
            at(t),
            m,
        )
        for t, (pa, sa, pb, sb), m in rows
    ]


def oracle_gaps(patterns, buffer):
    occ = expand(patterns)
    best: dict = {}
    for x in occ:
        for y in occ:
            gx, gy = patterns[x[2]].group, patterns[y[2]].group
            if gx == gy:
                continue
            gap = y[0] - x[1]
            req = buffer(gx, gy)
            if not 0 <= gap < req:
                continue
            ix, iy = (x[2], x[3]), (y[2], y[3])
            pair, flip = ((ix, iy), 0) if ix < iy else ((iy, ix), 1)
            cand = (x[1], flip, gap, req, x, y)
            if pair not in best or cand[:3] < best[pair][:3]:
                best[pair] = cand
    rows = sorted((c[0], pair, c) for pair, c in best.items())
    return [
        Gap(
            patterns[x[2]].key,
            patterns[y[2]].key,
            patterns[x[2]].slots[x[3]],
            patterns[y[2]].slots[y[3]],
            at(t),
            gap,
            req,
        )
        for t, _, (_, _, gap, req, x, y) in rows
    ]


def clipped(occ, unit: int):
    """{unit index: [(lo, hi, pattern index)]} with occurrences cut at unit boundaries."""
    out = defaultdict(list)
    for s, e, pi, _ in occ:
        while s < e:
            u = s // unit
            cut = min(e, (u + 1) * unit)
            out[u].append((s, cut, pi))
            s = cut
    return out


def unit_start(u: int, unit: int) -> dt.date:
    return (EPOCH + u * unit * MIN).date()


def oracle_first_over(patterns, limit, unit):
    per = clipped(expand(patterns), unit)
    for u in sorted(per):
        load = sum(e - s for s, e, _ in per[u])
        if load > limit:
            return Excess(unit_start(u, unit), load, keys_of(patterns, (x[2] for x in per[u])))
    return None


def oracle_max_week(patterns):
    per = clipped(expand(patterns), WEEK)
    best = None
    for u in sorted(per):
        load = sum(e - s for s, e, _ in per[u])
        if best is None or load > best[1]:
            best = (u, load)
    if best is None:
        return None
    u, load = best
    return Excess(unit_start(u, WEEK), load, keys_of(patterns, (x[2] for x in per[u])))


def oracle_no_rest(patterns, rest):
    per = clipped(expand(patterns), WEEK)
    for u in sorted(per):
        cursor, longest = u * WEEK, 0
        for s, e, _ in sorted(per[u]):
            longest = max(longest, s - cursor)
            cursor = max(cursor, e)
        longest = max(longest, (u + 1) * WEEK - cursor)
        if longest < rest:
            return Excess(unit_start(u, WEEK), longest, keys_of(patterns, (x[2] for x in per[u])))
    return None


def oracle_long_duty(patterns, min_rest, max_duty):
    """Every occurrence, day by day: join those closer than ``min_rest``; the first period
    longer than ``max_duty`` (its length capped at a week, as the algebra reports it)."""
    occ = sorted(expand(patterns))
    if not occ:
        return None
    periods = []
    start, end, who = occ[0][0], occ[0][1], [occ[0][2]]
    for s, e, pi, _ in occ[1:]:
        if s - end < min_rest:
            end, who = max(end, e), [*who, pi]
        else:
            periods.append((start, end, who))
            start, end, who = s, e, [pi]
    periods.append((start, end, who))
    for start, end, who in periods:
        if end - start > max_duty:
            length = min(end - start, WEEK)
            return Excess(at(start).date(), length, keys_of(patterns, who)), end - start
    return None


def oracle_minutes_between(patterns, start, end):
    out: dict = defaultdict(int)
    for s, e, pi, _ in expand(patterns):
        if start <= at(s).date() <= end:
            out[patterns[pi].group] += e - s
    return dict(out)


def oracle_occurrences(patterns, start, end):
    rows = sorted(
        (o for o in expand(patterns) if start <= at(o[0]).date() <= end),
        key=lambda o: (o[0], o[2], o[3]),  # ties in input order
    )
    return [(patterns[pi].key, patterns[pi].slots[si], at(s), at(e)) for s, e, pi, si in rows]


# ---------------------------------------------------------------------------------------
# Strategies

minutes_of_day = st.one_of(
    st.integers(0, 47).map(lambda h: h * 30),  # round times: touching sessions are common
    st.integers(0, 1439),
)


@st.composite
def slots(draw) -> Slot:
    start = draw(minutes_of_day)
    end = draw(minutes_of_day.filter(lambda m: m != start))
    return Slot(draw(st.integers(0, 6)), start, end)


@st.composite
def pattern_sets(draw) -> list[Pattern]:
    base = draw(st.dates(D(2025, 1, 1), D(2027, 10, 1)))
    out = []
    for i in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            start = base + dt.timedelta(days=draw(st.integers(0, 40)))
        else:
            start = draw(st.dates(D(2025, 1, 1), D(2027, 11, 1)))
        end = start + dt.timedelta(days=draw(st.integers(0, 59)))
        group = draw(st.sampled_from("ABC"))
        key = draw(st.sampled_from([f"K{i}", "K0"]))  # keys may repeat across patterns
        ss = tuple(draw(st.lists(slots(), min_size=1, max_size=5)))
        out.append(Pattern(key, group, ss, start, end))
    return out


FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------------------
# Properties


@FAST
@given(pattern_sets())
def test_overlaps_equal_brute_force(patterns):
    assert overlaps(patterns) == oracle_overlaps(patterns)


@FAST
@given(pattern_sets(), st.integers(0, 240), st.integers(0, 240), st.integers(0, 240))
def test_travel_gaps_equal_brute_force(patterns, ab, ac, bc):
    table = {frozenset("AB"): ab, frozenset("AC"): ac, frozenset("BC"): bc}

    def buffer(x, y):
        return table[frozenset((x, y))]

    assert travel_gaps(patterns, buffer) == oracle_gaps(patterns, buffer)


@FAST
@given(pattern_sets(), st.integers(0, 5000))
def test_first_week_over_equals_brute_force(patterns, limit):
    assert first_week_over(patterns, limit) == oracle_first_over(patterns, limit, WEEK)


@FAST
@given(pattern_sets())
def test_max_week_equals_brute_force(patterns):
    assert max_week(patterns) == oracle_max_week(patterns)


@FAST
@given(pattern_sets(), st.integers(0, 1500))
def test_first_day_over_equals_brute_force(patterns, limit):
    assert first_day_over(patterns, limit) == oracle_first_over(patterns, limit, 1440)


@FAST
@given(pattern_sets(), st.sampled_from([1440, 2880, 4000, 5000, 6000, 8000, 9500, WEEK]))
def test_first_week_without_rest_equals_brute_force(patterns, rest):
    assert first_week_without_rest(patterns, rest) == oracle_no_rest(patterns, rest)


@FAST
@given(
    pattern_sets(),
    st.one_of(st.integers(0, 1440), st.integers(WEEK - 500, WEEK + 500)),
    st.integers(-60, 3000),
)
def test_first_long_duty_equals_brute_force(patterns, min_rest, max_duty):
    got = first_long_duty(patterns, min_rest, max_duty)
    expected = oracle_long_duty(patterns, min_rest, max_duty)
    if expected is None:
        assert got is None
    else:
        excess, true_length = expected
        assert got is not None
        assert (got.first, got.minutes) == (excess.first, excess.minutes)
        if true_length < WEEK:  # a period longer than a week is seen over its first week only
            assert got.keys == excess.keys


@FAST
@given(pattern_sets(), st.integers(-30, 120), st.integers(0, 90))
def test_minutes_between_equals_brute_force(patterns, offset, length):
    start = min(p.start for p in patterns) + dt.timedelta(days=offset)
    end = start + dt.timedelta(days=length)
    assert minutes_between(patterns, start, end) == oracle_minutes_between(patterns, start, end)


@FAST
@given(pattern_sets(), st.integers(-10, 70), st.integers(0, 40))
def test_occurrences_equal_brute_force(patterns, offset, length):
    start = min(p.start for p in patterns) + dt.timedelta(days=offset)
    end = start + dt.timedelta(days=length)
    got = [(o.key, o.slot, o.start, o.end) for o in occurrences(patterns, start, end)]
    assert got == oracle_occurrences(patterns, start, end)


@FAST
@given(pattern_sets(), st.integers(-5, 70))
def test_weekly_minutes_on_sums_patterns_in_force(patterns, offset):
    on = min(p.start for p in patterns) + dt.timedelta(days=offset)
    expected: dict = defaultdict(int)
    for p in patterns:
        if p.start <= on <= p.end:
            expected[p.group] += sum(s.duration for s in p.slots)
    assert weekly_minutes_on(patterns, on) == dict(expected)


# ---------------------------------------------------------------------------------------
# Named behaviours


def test_slot_properties_and_text():
    fr = slot("FR 20:00-08:00")
    assert str(fr) == "FR 20:00-08:00"
    assert str(Slot(0, 8 * 60, 12 * 60)) == "MO 08:00-12:00"
    assert fr.duration == 12 * 60
    assert (fr.mow_start, fr.mow_end) == (4 * 1440 + 1200, 5 * 1440 + 480)
    su = slot("SU 22:00-06:00")
    assert su.mow_end == WEEK + 360 > WEEK
    assert slot("MO 00:00-23:59").duration == 1439
    assert slot("MO 00:01-00:00").duration == 1439


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [(7, 0, 60), (-1, 0, 60), (0, 1440, 60), (0, -1, 60), (0, 60, 1440), (0, 480, 480)],
)
def test_slot_rejects_invalid_values(weekday, start, end):
    with pytest.raises(ValueError, match="Slot"):
        Slot(weekday, start, end)


def test_overnight_friday_overlaps_saturday_morning_elsewhere():
    night = pat("N-1", "A", "FR 20:00-08:00", D(2025, 3, 3), D(2025, 6, 30))
    # Starts on Saturday 1 March: that Saturday has no preceding Friday night shift.
    morning = pat("M-1", "B", "SA 07:30-12:00", D(2025, 3, 1), D(2025, 6, 30))
    (conflict,) = overlaps([night, morning])
    assert (conflict.key_a, conflict.key_b) == ("N-1", "M-1")
    assert conflict.first_start == dt.datetime(2025, 3, 8, 7, 30)
    assert conflict.minutes == 30


def test_sunday_overnight_overlaps_monday_morning_of_other_pattern():
    night = pat("S-1", "A", "SU 22:00-06:00", D(2025, 3, 2), D(2025, 3, 9))
    early = pat("E-1", "B", "MO 05:00-09:00", D(2025, 3, 10), D(2025, 4, 30))
    # The range ends on Sunday 9 March: that night still runs into Monday 10 March.
    (conflict,) = overlaps([night, early])
    assert conflict.first_start == dt.datetime(2025, 3, 10, 5, 0)
    assert conflict.minutes == 60
    assert (
        overlaps([night, pat("E-2", "B", "MO 05:00-09:00", D(2025, 3, 11), D(2025, 4, 30))]) == []
    )


def test_touching_sessions_are_travel_gaps_only_between_different_groups():
    morning = pat("A-1", "X", "MO 08:00-12:00", D(2025, 3, 3), D(2025, 3, 31))
    noon_elsewhere = pat("B-1", "Y", "MO 12:00-14:00", D(2025, 3, 3), D(2025, 3, 31))
    noon_same_site = pat("C-1", "X", "MO 12:00-14:00", D(2025, 3, 3), D(2025, 3, 31))
    assert overlaps([morning, noon_elsewhere]) == []
    (gap,) = travel_gaps([morning, noon_elsewhere], lambda a, b: 30)
    assert (gap.key_a, gap.key_b, gap.gap, gap.required) == ("A-1", "B-1", 0, 30)
    assert gap.first_start == dt.datetime(2025, 3, 3, 12, 0)
    assert travel_gaps([morning, noon_same_site], lambda a, b: 30) == []
    # The earlier occurrence is "a" whatever the input order.
    (gap,) = travel_gaps([noon_elsewhere, morning], lambda a, b: 30)
    assert (gap.key_a, gap.key_b) == ("A-1", "B-1")


def test_gap_of_exactly_the_buffer_is_enough():
    morning = pat("A-1", "X", "MO 08:00-12:00", D(2025, 3, 3), D(2025, 3, 31))
    later = pat("B-1", "Y", "MO 12:30-14:00", D(2025, 3, 3), D(2025, 3, 31))
    assert travel_gaps([morning, later], lambda a, b: 30) == []
    assert [g.gap for g in travel_gaps([morning, later], lambda a, b: 31)] == [30]


def test_same_weekdays_on_disjoint_dates_do_not_conflict():
    spring = pat("A-1", "X", "MO 08:00-12:00; TU 08:00-12:00", D(2025, 3, 3), D(2025, 3, 31))
    summer = pat("B-1", "Y", "MO 09:00-11:00; TU 11:00-13:00", D(2025, 4, 1), D(2025, 6, 30))
    # 1 April is a Tuesday: the Monday slot of "summer" never meets a Monday of "spring".
    assert overlaps([spring, summer]) == []
    assert travel_gaps([spring, summer], lambda a, b: 30) == []


def test_two_slots_of_one_pattern_can_overlap():
    (conflict,) = overlaps(
        [pat("A-1", "X", "WE 08:00-12:00; WE 11:00-13:00", D(2025, 3, 1), D(2025, 3, 31))]
    )
    assert conflict.first_start == dt.datetime(2025, 3, 5, 11, 0)
    assert conflict.minutes == 60


def test_week_with_61_hours_exceeds_a_60_hour_limit():
    weekdays = "; ".join(f"{d} 08:00-20:00" for d in ("MO", "TU", "WE", "TH", "FR"))
    full = pat("A-1", "X", weekdays, D(2025, 3, 3), D(2025, 3, 30))
    extra = pat("B-1", "Y", "SA 08:00-09:00", D(2025, 3, 15), D(2025, 3, 30))
    assert first_week_over([full], 60 * 60) is None  # exactly 60 h is allowed
    assert first_week_over([full, extra], 60 * 60) == Excess(
        D(2025, 3, 10), 61 * 60, ("A-1", "B-1")
    )


def test_week_of_a_midweek_start_counts_only_days_from_the_start():
    weekdays = "; ".join(f"{d} 08:00-18:00" for d in ("MO", "TU", "WE", "TH", "FR"))
    p = pat("A-1", "X", weekdays, D(2025, 3, 5), D(2025, 4, 30))  # starts on a Wednesday
    assert first_week_over([p], 25 * 60) == Excess(D(2025, 3, 3), 30 * 60, ("A-1",))
    assert max_week([p]) == Excess(D(2025, 3, 10), 50 * 60, ("A-1",))


def test_sunday_overnight_hours_split_between_weeks_and_days():
    p = pat("A-1", "X", "SU 20:00-08:00", D(2025, 3, 9), D(2025, 3, 9))
    assert first_week_over([p], 0) == Excess(D(2025, 3, 3), 240, ("A-1",))
    assert first_day_over([p], 300) == Excess(D(2025, 3, 10), 480, ("A-1",))
    assert max_week([p]) == Excess(D(2025, 3, 10), 480, ("A-1",))


def test_day_over_eleven_hours_across_two_sites():
    a = pat("A-1", "X", "TH 07:00-13:00", D(2025, 3, 1), D(2025, 3, 31))
    b = pat("B-1", "Y", "TH 14:00-20:00", D(2025, 3, 10), D(2025, 3, 31))
    assert first_day_over([a, b], 11 * 60) == Excess(D(2025, 3, 13), 12 * 60, ("A-1", "B-1"))


def test_week_without_a_free_day():
    night_and_day = "; ".join(
        f"{d} 08:00-20:00" for d in ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
    )
    p = pat("A-1", "X", night_and_day, D(2025, 3, 3), D(2025, 3, 23))
    assert first_week_without_rest([p]) == Excess(D(2025, 3, 3), 12 * 60, ("A-1",))
    # Starting on Tuesday leaves Monday 00:00 to Tuesday 08:00 free: 32 h.
    later = pat("A-1", "X", night_and_day, D(2025, 3, 4), D(2025, 3, 23))
    assert first_week_without_rest([later]) == Excess(D(2025, 3, 10), 12 * 60, ("A-1",))


def test_a_split_shift_is_one_short_duty_period():
    # 08-12 and 18-21: a 6 h gap joins them into one 13 h duty period, within 24 - 8 = 16 h.
    split = pat("A-1", "X", "MO 08:00-12:00", D(2025, 3, 3), D(2025, 3, 31))
    evening = pat("B-1", "Y", "MO 18:00-21:00", D(2025, 3, 3), D(2025, 3, 31))
    assert first_long_duty([split, evening], 8 * 60, 16 * 60) is None
    assert first_long_duty([split, evening], 8 * 60, 12 * 60) == Excess(
        D(2025, 3, 3), 13 * 60, ("A-1", "B-1")
    )


def test_a_night_shift_and_an_afternoon_clinic_are_one_22_hour_duty_period():
    night = pat("A-1", "X", "MO 20:00-08:00", D(2025, 3, 3), D(2025, 3, 31))
    clinic = pat("B-1", "Y", "TU 14:00-18:00", D(2025, 3, 11), D(2025, 3, 31))
    assert first_long_duty([night], 8 * 60, 16 * 60) is None
    # 20:00 Monday to 18:00 Tuesday with a 6 h gap: 22 h, from the first Monday both run.
    assert first_long_duty([night, clinic], 8 * 60, 16 * 60) == Excess(
        D(2025, 3, 10), 22 * 60, ("A-1", "B-1")
    )


def test_a_rest_of_exactly_min_rest_ends_the_duty_period():
    day = pat("A-1", "X", "MO 06:00-14:00", D(2025, 3, 3), D(2025, 3, 31))
    late = pat("B-1", "Y", "MO 22:00-23:00", D(2025, 3, 3), D(2025, 3, 31))
    assert first_long_duty([day, late], 8 * 60, 16 * 60) is None  # 8 h gap: two periods
    later = pat("B-1", "Y", "MO 21:59-23:00", D(2025, 3, 3), D(2025, 3, 31))
    assert first_long_duty([day, later], 8 * 60, 16 * 60) == Excess(
        D(2025, 3, 3), 17 * 60, ("A-1", "B-1")
    )


def test_sums_per_group():
    a = pat("A-1", "X", "MO 08:00-12:00; SU 22:00-06:00", D(2025, 3, 3), D(2025, 3, 16))
    b = pat("B-1", "Y", "WE 14:00-17:30", D(2025, 3, 10), D(2025, 3, 31))
    assert weekly_minutes_on([a, b], D(2025, 3, 3)) == {"X": 720}
    assert weekly_minutes_on([a, b], D(2025, 3, 12)) == {"X": 720, "Y": 210}
    assert minutes_between([a, b], D(2025, 3, 1), D(2025, 3, 31)) == {
        "X": 1440,
        "Y": 630,
    }  # Wednesdays 12, 19, 26
    assert minutes_between([a, b], D(2025, 4, 1), D(2025, 4, 30)) == {}


def test_ranges_of_centuries_are_not_expanded():
    # Any day-by-day expansion would take minutes here; the algebra answers at once.
    a = pat("A-1", "X", "MO 08:00-12:00; FR 20:00-08:00", D(1, 1, 1), D(9998, 12, 31))
    b = pat("B-1", "Y", "SA 07:00-09:00; MO 12:10-13:00", D(5000, 1, 1), D(9998, 12, 31))
    (conflict,) = overlaps([a, b])
    assert conflict.first_start.date().year == 5000
    assert [g.gap for g in travel_gaps([a, b], lambda x, y: 30)] == [10]
    assert first_week_over([a, b], 10) is not None
    day = first_day_over([a, b], 9 * 60)
    assert day is not None and day.minutes == 600  # Saturday: 8 h + 2 h
    assert max_week([a, b]) is not None
    assert first_week_without_rest([a, b], 6 * 1440) is not None
    duty = first_long_duty([a, b], 10 * 60, 12 * 60)  # Friday 20:00 to Saturday 09:00
    assert duty is not None and duty.first.year == 5000 and duty.minutes == 13 * 60
    assert sum(minutes_between([a, b], D(1, 1, 1), D(9998, 12, 31)).values()) > 0
