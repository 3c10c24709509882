"""The validation base (医师基数): counting physicians toward each institution's licence check.

"多机构执业医师可以按实际执业情况纳入所执业医疗机构校验的医师基数" (2019). For a date ``on``
every institution gets its *required* minimum (the staffing table: the kind's minimum, or
``per_bed × beds`` where that is larger), its *counted* base under the region's policy, and
the next validation date (医疗机构校验). Counting modes (DOMAIN.md, ``policy.counting``):

* ``fte``: weekly minutes scheduled at the institution by the agreements in force on ``on``
  (the weekly pattern, not occurrences) ÷ ``standard_week_hours``, capped at 1.0 per
  physician per institution;
* ``headcount``: 1 where at least ``min_weekly_hours`` are scheduled;
* ``primary_only``: 1 at the main institution (an agreement in force with role primary).

A physician whose registration is suspended or cancelled on ``on`` counts nothing; an
agreement not in force on ``on`` (not started, ended, terminated) counts nothing. Who counts
toward a kind's minimum at all is the kind's (``vocabulary.counts_toward_minimum``): only
general practitioners at a 社区卫生服务中心 or 社区医院, only an 执业医师 of five years at a 诊所;
the others are listed with ``not_counted`` and a share of 0.

Next validation (``next_validation``): on the anniversaries of ``licensed_on`` (the first one on
or after ``on``), every ``validation_years`` of the kind (实施细则 art. 35), or by beds for kinds
without one (yearly below 100, every 3 years from 100: 条例 art. 22); apply three months before
(``apply_by``). When the licence date is unknown it is taken to fall on 31 December.

At risk: losses already on record that take effect before the next validation: agreements
ending before it (their last day is ``ends_on``), and suspensions or cancellations recorded for
the future that still hold on the validation day (``ends_on`` = the last day the physician
counts). The losses of one day are taken together. A loss is a risk when it takes something
away (a share, or a physician counted toward a title minimum) and the institution is then
below its minimum or below a title minimum; each risk carries the counted base after it.

Nurses (护士) count beside physicians, in the same counting mode, toward the kind's nurse
minimum (``max(min_nurses, nurses_per_physician × physicians counted)``, the staffing table):
``nurse_required``, ``nurse_counted``, ``nurse_status``; they are contributors with
``profession`` nurse and never count toward the physician minimum or a title minimum.
``status`` stays the physician base's (医师基数); the losses at risk are the physicians'.

Title minima (``综合门诊部``: ≥1 副主任医师): physicians counted (share > 0) holding that title
or a higher one; an institution short of one is *short* whatever its counted base.

The region-wide summary comes from ``base_cache`` (see :func:`_summary` and revision 0005):
stored per institution with the dates it holds for, marked stale by database triggers.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import regions
from ..domain.policy import Policy
from ..domain.staffing import (
    Staffing,
    StaffingError,
    defaults_digest,
    staffing_defaults,
    staffing_for,
    staffing_source,
    staffing_table,
)
from ..domain.vocabulary import (
    COUNTS,
    GENERAL_PRACTICE,
    INSTITUTION_KINDS,
    LEVELS,
    NURSE,
    TITLES,
    Kind,
    counts_toward_minimum,
    practising_from,
    shipped,
)
from ..i18n import N_, _
from ..storage import queries
from ..storage import validation_base as store
from ..storage.validation_base import Person
from . import Registry, ServiceError

EPSILON = 1e-9
APPLY_MONTHS_BEFORE = 3  # 医疗机构管理条例实施细则: apply three months before validation
TITLE_RANK = {title: rank for rank, title in enumerate(TITLES)}
PRIMARY = "primary"
__all__ = ["Staffing", "StaffingError", "staffing_defaults", "validation_base"]


@dataclass(slots=True)
class Contributor:
    """One physician practising at the institution on the date, with the share counted."""

    physician: str  # certificate number
    name: str
    role: str  # primary / additional
    hours: float  # weekly hours scheduled at this institution
    share: float
    title: str = ""
    not_counted: str = ""  # the kind's requirement the physician misses (shown, not counted)
    profession: str = "physician"  # a nurse counts toward the nurse minimum

    def as_json(self) -> dict[str, Any]:
        return {
            "physician": self.physician,
            "profession": self.profession,
            "name": self.name,
            "title": self.title,
            "role": self.role,
            "hours": self.hours,
            "share": self.share,
            "counted": not self.not_counted,
            "not_counted": self.not_counted or None,
        }


NOT_COUNTED = {
    "general_practitioners": N_("shown, not counted: not a general practitioner (全科医学)"),
    "practising_physicians": N_(
        "shown, not counted: not an 执业医师 with 5 years of registered practice"
    ),
}
REASONS = {"agreement_ends": N_("contract ends"), "registration_lapses": N_("registration lapses")}


@dataclass(frozen=True)
class Risk:
    """A loss on record before the next validation that leaves the institution short."""

    reason: str  # agreement_ends / registration_lapses
    contract_no: str | None
    physician: str
    ends_on: dt.date  # the last day the contribution counts
    counted_after: float

    def as_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "contract_no": self.contract_no,
            "physician": self.physician,
            "ends_on": self.ends_on.isoformat(),
            "counted_after": self.counted_after,
        }


@dataclass(slots=True)
class InstitutionBase:
    """医师基数 of one institution on one date.

    ``status`` is *short* when the counted base is below the required minimum or fewer
    counted physicians than a title minimum asks hold that title or a higher one
    (``title_short``). The region-wide summary leaves ``contributors``, ``at_risk`` and
    ``title_counts`` empty and gives their sizes and the first day at risk instead.
    """

    institution: str  # code
    name: str
    kind: str
    beds: int
    required: float
    title_minimum: Mapping[str, int]
    counted: float
    shortfall: float
    status: str  # meets / short
    next_validation: dt.date
    contributors: Sequence[Contributor] = ()
    at_risk: Sequence[Risk] = ()
    confirmed: bool = True  # whether the required minimum rests on confirmed values only
    counting: str = "fte"
    contributor_count: int = 0
    risk_count: int = 0
    risk_from: dt.date | None = None  # the first day it would be below its minimum
    title_counts: Mapping[str, int] = field(default_factory=dict)
    title_short: Sequence[str] = ()
    county: str = ""  # the institution's GB/T 2260 county code
    nurse_required: float = 0.0
    nurse_counted: float = 0.0
    nurse_confirmed: bool = True  # whether the nurse minimum rests on confirmed values only
    nurse_count: int = 0  # nurses practising there on the date

    @property
    def has_nurses(self) -> bool:
        """A nurse minimum applies or nurses practise there. A stored result of the region's
        table keeps the nurses' count, not their number, so that count is read too."""
        return self.nurse_required > 0 or self.nurse_count > 0 or self.nurse_counted > 0

    @property
    def nurse_shortfall(self) -> float:
        gap = self.nurse_required - self.nurse_counted
        return round(gap, 4) if gap > EPSILON else 0.0

    @property
    def nurse_status(self) -> str:
        return "short" if self.nurse_shortfall > 0 else "meets"

    @property
    def apply_by(self) -> dt.date:
        """The last day to apply for the validation (three months before it)."""
        return apply_by(self.next_validation)

    def as_json(self) -> dict[str, Any]:
        return {
            "institution": self.institution,
            "name": self.name,
            "county": self.county,
            "region_name": regions.describe(self.county) if self.county else "",
            "kind": self.kind,
            "beds": self.beds,
            "required": self.required,
            "required_confirmed": self.confirmed,
            "title_minimum": dict(self.title_minimum),
            "title_counts": dict(self.title_counts),
            "title_short": list(self.title_short),
            "counting": self.counting,
            "counted": self.counted,
            "shortfall": self.shortfall,
            "status": self.status,
            "next_validation": self.next_validation.isoformat(),
            "apply_by": self.apply_by.isoformat(),
            "contributor_count": self.contributor_count,
            "contributors": [c.as_json() for c in self.contributors],
            "at_risk_count": self.risk_count,
            "at_risk_from": self.risk_from.isoformat() if self.risk_from else None,
            "at_risk": [r.as_json() for r in self.at_risk],
            "nurse_required": self.nurse_required,
            "nurse_required_confirmed": self.nurse_confirmed,
            "nurse_counted": self.nurse_counted,
            "nurse_shortfall": self.nurse_shortfall,
            "nurse_status": self.nurse_status,
            "nurse_count": self.nurse_count,
        }


# --- the staffing table -----------------------------------------------------------------------


def staffing_view(registry: Registry, region: str | None) -> list[dict[str, Any]]:
    """Every institution kind's minimum as it applies in ``region`` (None: the shipped
    defaults), with where each comes from."""
    if region is not None and not registry.region_known(region):
        raise ServiceError(_("Unknown region {code}.").format(code=region))
    stored = staffing_table(registry.staffing()) if region is not None else {}
    out = []
    for kind in INSTITUTION_KINDS:
        found, origin = staffing_source(kind, region or "", stored)
        if found is None:
            continue
        out.append(
            {
                "kind": kind,
                "min_physicians": found.min_physicians,
                "per_bed": found.per_bed,
                "title_minimum": dict(found.title_minimum),
                "confirmed": found.confirmed,
                "from": origin or "default",
                "source": found.source,
                "min_nurses": found.min_nurses,
                "nurses_per_physician": found.nurses_per_physician,
                "nurse_confirmed": found.nurse_confirmed,
                "nurse_source": found.nurse_source,
            }
        )
    return out


# --- next validation ---------------------------------------------------------------------------


def _anniversary(licensed: dt.date, year: int) -> dt.date:
    try:
        return licensed.replace(year=year)
    except ValueError:  # 29 February in a common year
        return dt.date(year, 2, 28)


def next_validation(
    licensed_on: dt.date | None, beds: int, on: dt.date, kind: Kind | None = None
) -> dt.date:
    """The first validation day on or after ``on`` (医疗机构校验): on the anniversaries of the
    licence date, every ``kind.cycle_years(beds)`` years (实施细则 art. 35: the 3-year kinds;
    by beds for the others, 条例 art. 22). Unknown licence date: 31 December of ``on``'s year."""
    if licensed_on is None:
        return dt.date(on.year, 12, 31)
    period = (kind or Kind("")).cycle_years(beds)
    year = max(on.year, licensed_on.year + period)
    year += (licensed_on.year - year) % period
    day = _anniversary(licensed_on, year)
    if day < on:
        day = _anniversary(licensed_on, year + period)
    return day


def apply_by(validation: dt.date) -> dt.date:
    """Three months before ``validation`` (the same day of the month, or its last day)."""
    month = validation.month - APPLY_MONTHS_BEFORE
    year = validation.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for day in range(validation.day, 27, -1):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return dt.date(year, month, validation.day)


# --- counting ----------------------------------------------------------------------------------


def share_of(policy: Policy, minutes: int, primary: bool) -> float:
    """The share one physician counts at one institution under the region's policy."""
    return sharer(policy)(minutes, primary)


def sharer(policy: Policy) -> Callable[[int, bool], float]:
    """:func:`share_of` under ``policy``, its counting mode looked up once: (weekly minutes,
    whether main institution) → share. A cold report calls it for every practitioner."""
    if policy.counting == "primary_only":
        return lambda _minutes, primary: 1.0 if primary else 0.0
    if policy.counting == "headcount":
        least = least_minutes(policy)
        return lambda minutes, _primary: 1.0 if minutes >= least else 0.0
    week = week_minutes(policy)
    if week <= 0:
        return lambda _minutes, _primary: 0.0
    return lambda minutes, _primary: min(1.0, minutes / week)


def least_minutes(policy: Policy) -> int:
    """headcount: the fewest weekly minutes (whole) that count a practitioner."""
    return math.ceil(policy.min_weekly_hours * 60 - EPSILON)


def week_minutes(policy: Policy) -> float:
    """fte: the standard week in minutes (a share is minutes ÷ this, at most 1)."""
    return policy.standard_week_hours * 60


Portions = Callable[[int, bool], tuple[int, int]]


def portions(policy: Policy) -> Portions:
    """A practitioner's share as two integers, (whole shares, minutes of a share below one):
    what the counts add up, on either engine or here, so that every way of counting sums
    exactly the same. :func:`count_of` turns the sums into the base."""
    if policy.counting == "primary_only":
        return lambda _minutes, primary: (1 if primary else 0, 0)
    if policy.counting == "headcount":
        least = least_minutes(policy)
        return lambda minutes, _primary: (1 if minutes >= least else 0, 0)
    week = week_minutes(policy)
    if week <= 0:
        return lambda _minutes, _primary: (0, 0)
    return lambda minutes, _primary: (1, 0) if minutes >= week else (0, minutes)


def count_of(whole: int, minutes: int, week: float) -> float:
    """The base of ``whole`` shares and ``minutes`` of shares below one (fte: ÷ ``week``)."""
    return round(whole + minutes / week, 4) if minutes else float(whole)


@dataclass(slots=True)
class _Stake:
    """One practitioner at one institution: their agreements in force and the minutes of each."""

    physician_id: int
    agreements: list[tuple[str, str, dt.date, int]]  # contract, role, end, minutes
    minutes: int = 0  # of all the agreements
    primary: bool = False  # one of them is the main institution's

    def add(self, contract: str, role: str, end: dt.date, minutes: int) -> None:
        self.agreements.append((contract, role, end, minutes))
        self.minutes += minutes
        self.primary = self.primary or role == PRIMARY


Stretch = tuple[str, dt.date, dt.date | None]  # suspended / cancelled, from, until (None: for good)
Regional = dict[int, list[tuple[str | None, Stretch]]]  # physician → (registration region, stretch)


def _stretches_at(regional: Regional, pid: int, county: str) -> list[Stretch]:
    """The physician's suspensions and cancellations that stop practice in ``county``: those of
    the registration whose region holds it (a registration in another province, 增加注册,
    does not), and those for every registration (region None)."""
    return [
        stretch
        for region, stretch in regional.get(pid, ())
        if region is None or ids.region_contains(region, county)
    ]


def _inactive_on(stretches: list[tuple[str, dt.date, dt.date | None]], day: dt.date) -> bool:
    return any(start <= day and (until is None or until >= day) for _s, start, until in stretches)


def _lapse(
    stretches: list[tuple[str, dt.date, dt.date | None]], on: dt.date, validation: dt.date
) -> dt.date | None:
    """The first day after ``on`` from which the physician is inactive through the
    validation day, if such a suspension or cancellation is on record."""
    starts = [
        start
        for _s, start, until in stretches
        if on < start <= validation and (until is None or until >= validation)
    ]
    return min(starts) if starts else None


@dataclass(frozen=True, slots=True)
class Supposing:
    """What a report supposes that is not on record: a contract (its number) ended before the
    day, or a physician's registration in a region (None: every one) suspended from one day
    to another: (physician id, first day, last day, region)."""

    contract: str | None = None
    suspension: tuple[int, dt.date, dt.date, str | None] | None = None

    @property
    def nothing(self) -> bool:
        return self.contract is None and self.suspension is None


AS_ON_RECORD = Supposing()


def _compute(
    registry: Registry,
    on: dt.date,
    institution_ids: list[int] | None,
    supposing: Supposing = AS_ON_RECORD,
    detail: bool = True,
) -> list[InstitutionBase]:
    if not detail and supposing.nothing:
        return _summary(registry, on, institution_ids)
    evaluated = _evaluate(registry, on, institution_ids, supposing, contributors=detail)
    return [e.base for e in evaluated]


class Evaluated(NamedTuple):
    """One institution's base as computed, with what storing it for later needs."""

    id: int
    base: InstitutionBase
    until: dt.date  # the last day nothing on record changes it
    policy_key: str
    county: str
    detailed: bool = True  # contributors and risks listed: its JSON document can be kept


@dataclass(frozen=True, slots=True)
class _Inputs:
    """What the bases of some institutions are counted from, read in one transaction."""

    institutions: list[store.InstitutionRow]
    contributions: list[store.ContributionRow]  # the agreements in force on the date
    regional: Regional  # every suspension and cancellation on record (and a supposed one)
    staffing: dict[tuple[str, str], Staffing]  # the region's own rows (staffing_table)
    people: Mapping[int, Person]  # the practitioners of the contributions
    next_starts: Mapping[int, dt.date]  # per institution, the next agreement to start


def _read_inputs(
    s: Session,
    on: dt.date,
    institution_ids: list[int] | None,
    supposing: Supposing = AS_ON_RECORD,
    institutions: list[store.InstitutionRow] | None = None,
) -> _Inputs:
    """Read in the transaction ``s`` (``institutions``: those rows, read already)."""
    if institutions is None:
        institutions = store.institutions(s, institution_ids)
    rows = store.contributions(s, on, institution_ids, supposing.contract)
    regional: dict[int, list[tuple[str | None, Stretch]]] = defaultdict(list)
    for pid, region, status, start, until in store.inactivities(s):
        regional[pid].append((region, (status, start, until)))
    if supposing.suspension is not None:
        pid, start, until, within = supposing.suspension
        regional[pid].append((within, ("suspended", start, until)))
    stored = staffing_table(queries.staffing_rows(s))
    # region-wide, the practitioners in force are most of the physicians on file
    people = store.physicians(s, {row[1] for row in rows}, most=institution_ids is None)
    starts = store.next_starts(s, institution_ids, on)
    return _Inputs(institutions, rows, dict(regional), stored, people, starts)


@dataclass(slots=True)
class _Site:
    """The practitioners in force at one institution on the date, and the last day nothing
    on record changes them (an agreement ending, a suspension starting or ending)."""

    stakes: dict[int, _Stake] = field(default_factory=dict)
    holds: dt.date = dt.date.max


def _sites(inputs: _Inputs, on: dt.date) -> dict[int, _Site]:
    """The agreements in force grouped by institution and practitioner; a practitioner
    suspended or cancelled there on ``on`` counts nothing and is left out."""
    county_of = {i.id: i.county for i in inputs.institutions}
    regional = inputs.regional
    sites: dict[int, _Site] = {}
    for inst_id, pid, contract, role, end, minutes in inputs.contributions:
        site = sites.get(inst_id)
        if site is None:
            site = sites[inst_id] = _Site()
        if end < site.holds:
            site.holds = end
        if pid in regional and (stretches := _stretches_at(regional, pid, county_of[inst_id])):
            site.holds = min(site.holds, _steady(stretches, on))
            if _inactive_on(stretches, on):
                continue
        stake = site.stakes.get(pid)
        if stake is None:  # most practitioners hold one agreement at an institution
            site.stakes[pid] = _Stake(
                pid, [(contract, role, end, minutes)], minutes, role == PRIMARY
            )
        else:
            stake.add(contract, role, end, minutes)
    return sites


class _Standard(NamedTuple):
    """What one institution is held to on the date."""

    kind: Kind
    policy: Policy  # its province's counting policy
    staffing: Staffing | None  # None: no staffing row for the kind
    required: float
    minima: Mapping[str, int]  # title minima
    validation: dt.date  # the next validation day
    share: Callable[[int, bool], float]  # the policy's share_of (see sharer)
    portions: Portions  # the same share as two integers (see portions)
    week: float  # fte: the standard week in minutes


class _Province(NamedTuple):
    """A province's counting policy with its functions, looked up once per report."""

    policy: Policy
    share: Callable[[int, bool], float]
    portions: Portions
    week: float


def _provinces(s: Session, institutions: Iterable[store.InstitutionRow]) -> dict[str, _Province]:
    found = {}
    for province in sorted({i.county[:2] + "0000" for i in institutions}):
        policy = Registry.policy_in(s, province)
        found[province] = _Province(policy, sharer(policy), portions(policy), week_minutes(policy))
    return found


def _standard(
    inst: store.InstitutionRow,
    on: dt.date,
    policies: Mapping[str, _Province],
    stored: dict[tuple[str, str], Staffing],
    vocabulary: Any,
) -> _Standard:
    kind = vocabulary.kind(inst.kind)
    staffing = staffing_for(inst.kind, inst.county, stored)
    beds = inst.beds or 0
    province = policies[inst.county[:2] + "0000"]
    return _Standard(
        kind,
        province.policy,
        staffing,
        staffing.required(beds) if staffing else 0.0,
        staffing.title_minimum if staffing else {},
        next_validation(inst.licensed_on, beds, on, kind),
        province.share,
        province.portions,
        province.week,
    )


@dataclass(slots=True)
class _Tally:
    """The count at one institution: the physicians' base and title holders, nurses apart."""

    physicians: dict[int, _Stake] = field(default_factory=dict)  # nurses left out
    shares: dict[int, float] = field(default_factory=dict)  # the physicians'
    excluded: set[int] = field(default_factory=set)  # physicians shown, not counted
    whole: int = 0  # the physicians' count: whole shares and minutes of shares below one
    minutes: int = 0
    counted_titles: list[str] = field(default_factory=list)  # of the physicians counted
    nurse_whole: int = 0
    nurse_minutes: int = 0
    counts_from: dt.date = dt.date.max  # a physician shown, not counted, counts from that day
    contributors: list[Contributor] = field(default_factory=list)  # when asked for


def _contributor(
    person: Person, stake: _Stake, share: float, missing: str = "", profession: str = "physician"
) -> Contributor:
    return Contributor(
        person.cert, person.name, "primary" if stake.primary else "additional",
        round(stake.minutes / 60, 2), round(share, 4), person.title, missing, profession,
    )  # fmt: skip


def _tally(
    site: _Site, standard: _Standard, people: Mapping[int, Person], on: dt.date, listed: bool
) -> _Tally:
    """Each practitioner's share under the policy; a physician the kind's minimum does not
    count (GP-only, five years of practice) is shown with a share of 0."""
    tally = _Tally()
    kind = standard.kind
    share_of_stake, portions_of = standard.share, standard.portions
    everyone_counts = kind.counts not in NOT_COUNTED  # no GP-only or five-year minimum
    for pid, stake in site.stakes.items():
        person = people.get(pid, NOBODY)
        if person.profession == NURSE:
            share = share_of_stake(stake.minutes, stake.primary)
            whole, minutes = portions_of(stake.minutes, stake.primary)
            tally.nurse_whole += whole
            tally.nurse_minutes += minutes
            if listed:
                tally.contributors.append(_contributor(person, stake, share, "", NURSE))
            continue
        tally.physicians[pid] = stake
        missing = "" if everyone_counts else not_counted(kind, person, on)
        if missing:
            tally.excluded.add(pid)
            starts = practising_from(kind, person.level, person.practising_since)
            if starts is not None and on < starts < tally.counts_from:
                tally.counts_from = starts
            share = 0.0
        else:
            share = share_of_stake(stake.minutes, stake.primary)
            whole, minutes = portions_of(stake.minutes, stake.primary)
            tally.whole += whole
            tally.minutes += minutes
            if share > 0:
                tally.counted_titles.append(person.title)
        tally.shares[pid] = share
        if listed:
            tally.contributors.append(_contributor(person, stake, share, missing))
    return tally


def _until(
    holds: dt.date, counts_from: dt.date, standard: _Standard, next_start: dt.date | None
) -> dt.date:
    """The last day the result holds: nothing on record changes it before (an agreement ending
    or starting, a suspension starting or ending, a physician starting to count, the
    validation day). ``holds``: the site's; ``counts_from``: the first day a physician shown
    there starts to count (``date.max``: none)."""
    until = min(holds, standard.validation)
    if counts_from != dt.date.max:
        until = min(until, counts_from - ONE_DAY)
    if next_start is not None:
        until = min(until, next_start - ONE_DAY)
    return until


def _short_of(minima: Mapping[str, int], titles: Mapping[str, int]) -> list[str]:
    """The titles whose minimum the counted holders miss."""
    return [title for title, least in minima.items() if titles[title] < least]


def _status(counted: float, standard: _Standard, short_titles: Sequence[str]) -> str:
    return "meets" if counted + EPSILON >= standard.required and not short_titles else "short"


def _base(
    inst: store.InstitutionRow,
    standard: _Standard,
    counted: float,
    titles: Mapping[str, int],
    short_titles: list[str],
    nurses: tuple[float, int],  # counted, how many
    contributor_count: int,
    contributors: Sequence[Contributor] = (),
    risks: Sequence[Risk] = (),
    risk_count: int = 0,
    risk_from: dt.date | None = None,
) -> InstitutionBase:
    """One institution's result from its count: what the staffing table asks of it beside."""
    staffing, required = standard.staffing, standard.required
    return InstitutionBase(
        inst.code, inst.name, inst.kind, inst.beds or 0, required, standard.minima, counted,
        round(max(0.0, required - counted), 4), _status(counted, standard, short_titles),
        standard.validation, contributors, risks, staffing.confirmed if staffing else False,
        standard.policy.counting, contributor_count=contributor_count, risk_count=risk_count,
        risk_from=risk_from, title_counts=titles, title_short=short_titles, county=inst.county,
        nurse_required=staffing.nurses_required(counted) if staffing else 0.0,
        nurse_counted=nurses[0],
        nurse_confirmed=staffing.nurse_confirmed if staffing else True,
        nurse_count=nurses[1],
    )  # fmt: skip


def _evaluate_one(
    inst: store.InstitutionRow,
    site: _Site,
    standard: _Standard,
    inputs: _Inputs,
    on: dt.date,
    listed: bool,
) -> Evaluated:
    """One institution's base: the count, the title minima, the losses at risk."""
    tally = _tally(site, standard, inputs.people, on, listed)
    counted = count_of(tally.whole, tally.minutes, standard.week)
    minima = standard.minima
    titles = title_counts(minima, tally.counted_titles) if minima else {}
    short_titles = _short_of(minima, titles)
    regional = inputs.regional
    stretches = {
        pid: _stretches_at(regional, pid, inst.county)
        for pid in tally.physicians
        if pid in regional
    }
    risks = _risks(
        tally.physicians, tally.shares, titles, stretches, standard.share, on,
        standard.validation, counted, standard.required, minima, inputs.people, tally.excluded,
    )  # fmt: skip
    found = tally.contributors
    found.sort(
        key=lambda c: (c.profession != "physician", -c.share, c.role != "primary", c.physician)
    )
    nurses = (
        count_of(tally.nurse_whole, tally.nurse_minutes, standard.week),
        len(site.stakes) - len(tally.physicians),
    )
    base = _base(
        inst, standard, counted, titles, short_titles, nurses, len(tally.physicians), found,
        risks, len(risks), risks[0].ends_on + ONE_DAY if risks else None,
    )  # fmt: skip
    until = _until(site.holds, tally.counts_from, standard, inputs.next_starts.get(inst.id))
    return Evaluated(inst.id, base, until, policy_key(standard.policy), inst.county, listed)


NO_SITE = _Site()


def _evaluate(
    registry: Registry,
    on: dt.date,
    institution_ids: list[int] | None,
    supposing: Supposing = AS_ON_RECORD,
    *,
    contributors: bool = True,
) -> list[Evaluated]:
    """The base of each institution, with the last day the result holds unchanged (the
    first change on record: an agreement ending or starting, a suspension starting or
    ending, the validation day) and the policy it was counted under. ``contributors=False``
    lists no contributors (the counts, title minima and risks stay): the database then sums
    the counts (:func:`_evaluate_counts`) of many institutions, unless a contract or a
    suspension is supposed; a few (a day's changes) are counted from their agreement rows,
    which costs less than the one statement's setting up."""
    many = institution_ids is None or len(institution_ids) >= SUMMED_FROM
    if many and not contributors and supposing.nothing:
        return _evaluate_counts(registry, on, institution_ids)
    return _evaluate_rows(registry, on, institution_ids, supposing, contributors=contributors)


def _evaluate_rows(
    registry: Registry,
    on: dt.date,
    institution_ids: list[int] | None,
    supposing: Supposing = AS_ON_RECORD,
    *,
    contributors: bool = True,
) -> list[Evaluated]:
    """:func:`_evaluate` from the agreement rows, read into Python and counted here."""
    with _collector_paused(), registry.db.read() as s:
        inputs = _read_inputs(s, on, institution_ids, supposing)
        policies = _provinces(s, inputs.institutions)
        return _evaluate_all(inputs, policies, on, contributors)


def _evaluate_all(
    inputs: _Inputs, policies: Mapping[str, _Province], on: dt.date, contributors: bool
) -> list[Evaluated]:
    vocabulary = shipped()
    sites = _sites(inputs, on)
    out = []
    for inst in inputs.institutions:
        standard = _standard(inst, on, policies, inputs.staffing, vocabulary)
        site = sites.get(inst.id, NO_SITE)
        out.append(_evaluate_one(inst, site, standard, inputs, on, contributors))
    return out


# --- the region's table counted by the database ------------------------------------------------

RULES = {counts: n for n, counts in enumerate(COUNTS)}  # as storage.counts numbers them
# From this many institutions the database sums the counts (300 recounted after a day's
# changes on the 60k region: 0.17 s from their rows, 0.24 s summed on SQLite; 0.23 / 0.29 s
# on PostgreSQL; every institution, 8,000: 1.5x faster summed, both engines).
SUMMED_FROM = 2000
# Parts counted at once (threads, each with a connection): the processors this process may
# run on, at most 8 (60k region, 8,000 institutions, two cores at a load of 6: PostgreSQL
# 1.58 s in one part, 0.94 s in two, 1.11 s in four; SQLite 2.33 / 1.93 / 2.29 s).
PARTS = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))
MODES = {"fte": 0, "headcount": 1, "primary_only": 2}
PRACTISING = Kind("", counts="practising_physicians")


def _practised_by(on: dt.date) -> dt.date:
    """The last start of practice from which an 执业医师 counts on ``on`` where years of
    practice are asked for (as :func:`practising_from` dates it, 29 February included)."""
    try:
        day = on.replace(year=on.year - 5)
    except ValueError:  # 29 February
        day = on.replace(year=on.year - 5, day=28)
    while (practising_from(PRACTISING, LEVELS[0], day + ONE_DAY) or dt.date.max) <= on:
        day += ONE_DAY
    while (practising_from(PRACTISING, LEVELS[0], day) or dt.date.max) > on:
        day -= ONE_DAY
    return day


def _evaluate_counts(
    registry: Registry, on: dt.date, institution_ids: list[int] | None
) -> list[Evaluated]:
    """The region's table (counts, title minima, risks; no contributors listed) with the
    count summed by the database (``storage.counts``): the agreement rows stay there. Where a
    practitioner has a suspension or cancellation not over by then, or the losses before the
    validation day could leave the institution short one at a time (see
    :func:`_counted_base`), the institution is counted here from its agreement rows, as the
    detailed report counts. Both ways sum the same integers (:func:`portions`): the results
    are equal."""
    vocabulary = shipped()
    with _collector_paused(), registry.db.read() as s:
        institutions = store.institutions(s, institution_ids)
        policies = _provinces(s, institutions)
        stored = staffing_table(queries.staffing_rows(s))
        standards = [_standard(i, on, policies, stored, vocabulary) for i in institutions]
        params = [
            store.CountParams(
                inst.id, standard.validation, RULES.get(standard.kind.counts, 0),
                MODES[standard.policy.counting], standard.week, least_minutes(standard.policy),
            )
            for inst, standard in zip(institutions, standards, strict=True)
        ]  # fmt: skip
        with ThreadPoolExecutor(PARTS) as pool:
            counting = _count_in_parts(pool, registry, on, params, every=institution_ids is None)
            starts = store.next_starts(s, institution_ids, on)  # meanwhile
            found = {c.institution_id: c for part in counting for c in part.result()}
        out, walked = [], []
        for inst, standard in zip(institutions, standards, strict=True):
            count = found.get(inst.id)
            evaluated = None
            if count is None or not count.inactive:
                evaluated = _counted_base(inst, standard, count, starts.get(inst.id), on)
            if evaluated is None:
                walked.append(inst)
            else:
                out.append(evaluated)
        if walked:
            ids = [inst.id for inst in walked]
            inputs = _read_inputs(s, on, ids, institutions=walked)
            out.extend(_evaluate_all(inputs, policies, on, contributors=False))
    out.sort(key=lambda e: e.base.institution)
    return out


def _count_in_parts(
    pool: Executor, registry: Registry, on: dt.date, params: list[store.CountParams], every: bool
) -> list[Future[list[store.Counted]]]:
    """``storage.counts`` of ``params`` in ``PARTS`` parts of consecutive institutions, each
    in a thread with a transaction of its own: the database sums the parts at once (the
    driver lets go of the interpreter while it waits; a PostgreSQL server counts each part
    in a process of its own; an in-memory SQLite database, one part). ``every``: ``params``
    name every institution, so each part reads its range of the agreements' index. A part
    counted from a later snapshot than another is as right: anything written after the
    report read the ``base_stale`` marks leaves a mark of its own, and its institutions are
    recounted by the next report."""
    ordered = sorted(params)
    n, k = len(ordered), 1 if registry.db.in_memory else PARTS
    parts = [ordered[i * n // k : (i + 1) * n // k] for i in range(k)]
    practised_by = _practised_by(on)

    def count(part: list[store.CountParams]) -> list[store.Counted]:
        span = (part[0].id, part[-1].id) if every else None
        with registry.db.read() as s:
            return store.counts(
                s, on, part, span=span, practised_by=practised_by, level=LEVELS[0],
                scope=GENERAL_PRACTICE, nurse=NURSE, ranks=TITLE_RANK,
            )  # fmt: skip

    return [pool.submit(count, part) for part in parts if part]


def _safe(count: store.Counted, standard: _Standard, on: dt.date) -> bool:
    """What stays on the validation day at least (every physician losing an agreement before
    it losing all they count there) meets the minimum, and every title minimum: no loss can
    leave it short. With a margin for the losses' walk (:func:`_risks`), which rounds its
    count to four decimals after each day of losses: at most half of 0.0001 a day."""
    left = count_of(count.whole_v, count.minutes_v, standard.week)
    walk = ((standard.validation - on).days + 1) * 0.00005
    return left >= standard.required + walk + SAFETY and all(
        count.ranks_v[TITLE_RANK[title]] >= least for title, least in standard.minima.items()
    )


def _counted_base(
    inst: store.InstitutionRow,
    standard: _Standard,
    count: store.Counted | None,
    next_start: dt.date | None,
    on: dt.date,
) -> Evaluated | None:
    """One institution's table row from the database's count (None: nobody practises there),
    as :func:`_evaluate_one` makes it from the agreement rows; None when its losses before
    the validation day must be walked one by one (:func:`_risks`). Short already, every loss
    of a physician counted is a risk (the count only goes down): with one agreement each,
    one risk each, the first on the first of their last days."""
    count = count or NO_COUNT
    value = count_of(count.whole, count.minutes, standard.week)
    minima = standard.minima
    titles = {title: count.ranks[TITLE_RANK[title]] for title in minima}
    short_titles = _short_of(minima, titles)
    status = _status(value, standard, short_titles)
    risks, first_risk = 0, None
    if count.lost or count.lost_many:
        if status == "meets" and not _safe(count, standard, on):
            return None
        if status == "short":
            if count.lost_many:  # a physician's share may stay whole as one of several ends
                return None
            risks, first_risk = count.lost, count.first_loss
    nurses = count_of(count.nurse_whole, count.nurse_minutes, standard.week), count.nurses
    base = _base(
        inst, standard, value, titles, short_titles, nurses, count.physicians, [], [],
        risk_count=risks, risk_from=first_risk + ONE_DAY if first_risk else None,
    )  # fmt: skip
    counts_from = dt.date.max
    if count.later is not None:  # the earliest an 执业医师 shown there starts to count
        starts = practising_from(standard.kind, LEVELS[0], count.later)
        if starts is not None and starts > on:
            counts_from = starts
    until = _until(count.holds, counts_from, standard, next_start)
    return Evaluated(inst.id, base, until, policy_key(standard.policy), inst.county, False)


NO_COUNT = store.Counted(
    0, 0, 0, 0, 0, 0, 0, (0, 0, 0, 0), 0, 0, (0, 0, 0, 0), 0, False, None, dt.date.max, None,
    False,
)  # fmt: skip


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off meanwhile: a recount allocates a few objects per
    agreement row, all kept to the end, and the collector walking them again and again took
    ~40% of a cold recount's processor time, finding nothing (they hold no cycles). It is
    switched back on (if it was on) however the recount ends."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _steady(stretches: list[tuple[str, dt.date, dt.date | None]] | None, on: dt.date) -> dt.date:
    """The last day from ``on`` on which the physician's suspensions and cancellations on
    record leave their standing as it is on ``on``."""
    last = dt.date.max
    for _status, start, until in stretches or ():
        if start > on:
            last = min(last, start - dt.timedelta(days=1))
        elif until is not None and until >= on:
            last = min(last, until)
    return last


def title_counts(minima: Mapping[str, int], titles: Iterable[str]) -> dict[str, int]:
    """For each title of the minima, the physicians counted who hold it or a higher one."""
    ranks = [TITLE_RANK.get(t, -1) for t in titles]
    return {t: sum(1 for r in ranks if r >= TITLE_RANK[t]) for t in minima}


# Bump when the computation changes: stored results of an older version are then stale.
# 4: GP-only and 5-year minima, cycles by kind; 5: a suspension stops counting only within
# its registration's region; 6: the stored document names the county and its region;
# 7: nurses count toward the nurse minimum, not the physician base; 8: shares summed as
# whole shares and minutes (exact, the same in SQL)
COMPUTATION = 8


def policy_key(policy: Policy) -> str:
    """What a stored base was counted under: the counting policy, this module's version and
    the shipped staffing table (any of them changing, as in an upgrade, makes it stale)."""
    return (
        f"{policy.counting}/{policy.standard_week_hours:g}/{policy.min_weekly_hours:g}"
        f"/v{COMPUTATION}/{defaults_digest()}"
    )


def _summary(
    registry: Registry, on: dt.date, institution_ids: list[int] | None
) -> list[InstitutionBase]:
    """The region-wide table without contributor lists, from ``base_cache`` where it holds
    for ``on``; the rest is computed from the agreements and stored for next time."""
    with registry.db.read() as s:  # one transaction: a few round trips, as the floor's one
        keys = _policy_keys(s)
        marks = store.stale_marks(s)  # before any data the results are computed from
        stored = staffing_table(queries.staffing_rows(s))
        # one policy and the shipped staffing table: the county changes nothing
        uniform = len(set(keys.values())) == 1 and not stored
        rows, missing = store.report_rows(s, on, keys, marks, institution_ids)
    counting = {prefix: key.partition("/")[0] for prefix, key in keys.items()}
    only = next(iter(counting.values()), "fte")
    known: dict[tuple[str, str | None], tuple[Mapping[str, int], bool, str, bool]] = {}

    def rule(kind: str, county: str | None) -> tuple[Mapping[str, int], bool, str, bool]:
        """Title minima, whether confirmed, counting mode, whether the nurse minimum is
        confirmed: per (kind, county), once."""
        if county is None:
            staffing, mode = staffing_defaults().get(kind), only
        else:
            staffing, mode = staffing_for(kind, county, stored), counting[county[:2]]
        if staffing is None:
            known[kind, county] = (NO_TITLES, False, mode, True)
        else:
            known[kind, county] = (
                staffing.title_minimum, staffing.confirmed, mode, staffing.nurse_confirmed
            )  # fmt: skip
        return known[kind, county]

    iso = dt.date.fromisoformat
    get = known.get
    # one expression per row: this loop is half the report's time at 40,000 institutions
    out = [
        InstitutionBase(
            code, name, kind, beds, required,
            (r := get((kind, (c := None if uniform else county))) or rule(kind, c))[0],
            counted, round(required - counted, 4) if required - counted > 0 else 0.0,
            "short" if required - counted > EPSILON or short else "meets", iso(validation), (),
            (), r[1], r[2], contributors, risks, iso(risk_from) if risk_from else None,
            NO_TITLES, tuple(short.split(",")) if short else (), county, nurse_required or 0.0,
            nurse_counted or 0.0, r[3],
        )
        for (
            _id, code, name, kind, beds, county, required, counted, contributors, validation,
            risks, risk_from, short, nurse_required, nurse_counted,
        ) in rows
    ]  # fmt: skip
    if missing:
        # none held (a cold report): every institution, read whole rather than by their ids
        asked = None if institution_ids is None and not rows else missing
        fresh = _refresh(
            registry, on, asked, marks, covered_all=institution_ids is None, detail=False
        )
        for e in fresh:  # as the stored rows read: counts, no lists
            e.base.contributors, e.base.at_risk, e.base.title_counts = (), (), NO_TITLES
        out.extend(e.base for e in fresh)
        out.sort(key=attrgetter("institution"))
    return out


def _policy_keys(s: Session) -> dict[str, str]:
    """Per province on file (two-digit prefix), what its results must be counted under."""
    return {code[:2]: policy_key(Registry.policy_in(s, code)) for code in store.provinces(s)}


def risk_label(base: InstitutionBase) -> str:
    """The *at risk* cell: meeting its minimum, the first day a loss on record leaves it short
    and how many losses do; short already, how many losses take more away."""
    if not base.risk_count:
        return ""
    if base.status == "short":
        return f"({base.risk_count})"
    return f"{base.risk_from} ({base.risk_count})"


def _refresh(
    registry: Registry,
    on: dt.date,
    missing: list[int] | None,
    marks: store.StaleMarks,
    *,
    covered_all: bool,
    detail: bool,
) -> list[Evaluated]:
    """Compute the institutions without a stored result that holds (None: every one), and
    keep them. The table (``detail=False``) lists no contributors and keeps no JSON document:
    `base --json` computes the documents it finds missing, and keeps them."""
    fresh = _evaluate(registry, on, missing, contributors=detail)
    _keep(registry, on, fresh, marks, covered_all=covered_all)
    return fresh


def report_json(registry: Registry, on: dt.date | None = None) -> bytes:
    """``base --json`` for every institution as one UTF-8 JSON text."""
    return b"".join(report_json_chunks(registry, on))


def report_json_chunks(registry: Registry, on: dt.date | None = None) -> Iterator[bytes]:
    """``base --json`` for every institution (SPEC §6: with its contributors), as UTF-8
    pieces of one JSON text to write out in turn: the stored documents that hold for ``on``
    (default today), as they are (never decoded); the others computed and stored first."""
    on = on or dt.date.today()
    with registry.db.read() as s:
        keys = _policy_keys(s)
        marks = store.stale_marks(s)  # before any data the results are computed from
        rows, missing = store.report_documents(s, on, keys, marks)
    unpack = store.unpack
    if missing:
        asked = missing if rows else None  # none held: every institution, read whole
        fresh = _refresh(registry, on, asked, marks, covered_all=True, detail=True)
        coded = [(code, unpack(packed)) for _id, code, packed in rows]
        coded += [(e.base.institution, _document(e.base).encode()) for e in fresh]
        coded.sort(key=itemgetter(0))
        documents: list[bytes] = [document for _code, document in coded]
    else:  # unpacked as written out: the packed documents are a third of the size
        documents = [packed for _id, _code, packed in rows]
    yield b"["
    separator = b"\n"
    for start in range(0, len(documents), REPORT_PIECE):
        piece = documents[start : start + REPORT_PIECE]
        yield separator + b",\n".join(piece if missing else map(unpack, piece))
        separator = b",\n"
    yield b"\n]"


REPORT_PIECE = 256  # documents per piece of `base --json` written out (~1 MB at most)


def _document(base: InstitutionBase) -> str:
    return json.dumps(base.as_json(), ensure_ascii=False, separators=(",", ":"))


NOBODY = Person("", "", "")
ONE_DAY = dt.timedelta(days=1)


def not_counted(kind: Kind, person: Person, on: dt.date) -> str:
    """ "" when the physician counts toward the kind's minimum on ``on``, else the kind's
    requirement they miss (``general_practitioners``, ``practising_physicians``)."""
    if counts_toward_minimum(kind, person.level, person.scopes, person.practising_since, on):
        return ""
    return kind.counts


NO_TITLES: Mapping[str, int] = MappingProxyType({})


def cache_rows(fresh: list[Evaluated], on: dt.date) -> list[dict[str, Any]]:
    """``base_cache`` rows for computed bases (a result that would change before its first
    day is not kept)."""
    return [
        {
            "institution_id": e.id,
            "valid_from": on,
            "valid_until": e.until,
            "policy_key": e.policy_key,
            "code": e.base.institution,
            "name": e.base.name,
            "kind": e.base.kind,
            "beds": e.base.beds,
            "county_code": e.county,
            "required": e.base.required,
            "counted": e.base.counted,
            "contributors": e.base.contributor_count,
            "next_validation": e.base.next_validation,
            "risk_count": e.base.risk_count,
            "risk_from": e.base.risk_from,
            "title_short": ",".join(e.base.title_short) or None,
            "nurse_required": e.base.nurse_required,
            "nurse_counted": e.base.nurse_counted,
            "packed": store.pack(_document(e.base)) if e.detailed else None,
        }
        for e in fresh
        if e.until >= on
    ]


def _keep(
    registry: Registry,
    on: dt.date,
    fresh: list[Evaluated],
    marks: store.StaleMarks,
    *,
    covered_all: bool,
) -> None:
    """Store computed bases for the next report and drop the stale marks, read before they
    were computed, that they answer. Best effort: a read-only database, a role without write
    rights, a lock not had within a second, an institution deleted meanwhile: nothing is
    kept, and the report is right all the same."""
    rows = cache_rows(fresh, on)
    kept = {row["institution_id"] for row in rows}
    answered = marks.answered_by(kept, covered_all=covered_all and len(kept) == len(fresh))
    try:
        with registry.db.write_briefly(1000) as s:
            store.save_cache(s, rows, answered)
    except DBAPIError:
        pass


def _risks(
    stakes: dict[int, _Stake],
    shares: Mapping[int, float],
    titled: Mapping[str, int],
    stretches: dict[int, list[tuple[str, dt.date, dt.date | None]]],
    share_of_stake: Callable[[int, bool], float],  # the policy's (sharer)
    on: dt.date,
    validation: dt.date,
    counted: float,
    required: float,
    minima: Mapping[str, int],
    people: Mapping[int, Person],
    excluded: frozenset[int] | set[int] = frozenset(),
) -> list[Risk]:
    """Losses before ``validation`` in date order, with the base left after each. A risk is
    a loss that takes something away (share, or a title counted toward a title minimum) and
    leaves the institution below its minimum or below a title minimum. ``shares`` and
    ``titled`` are the count on ``on``: each physician's share, the title minima's holders."""
    losses: list[tuple[dt.date, int, str, str | None, int]] = []  # day, kind order, …
    for pid, stake in stakes.items():
        for contract, _role, end, _minutes in stake.agreements:
            if end < validation:
                losses.append((end, 0, "agreement_ends", contract, pid))
        lapse = _lapse(stretches[pid], on, validation) if pid in stretches else None
        if lapse is not None:
            losses.append((lapse - dt.timedelta(days=1), 1, "registration_lapses", None, pid))
    if not losses:
        return []
    losers = {loss[4] for loss in losses}  # only their shares and titles ever change
    rank = {pid: TITLE_RANK.get(people.get(pid, NOBODY)[2], -1) for pid in losers}
    if _never_short(losses, shares, rank, titled, counted, required, minima):
        return []

    def share(pid: int, minutes: int, primary: bool) -> float:
        return 0.0 if pid in excluded else share_of_stake(minutes, primary)

    current = {pid: shares[pid] for pid in losers}
    titled = dict(titled)
    losses.sort(key=lambda x: (x[0], x[1], x[3] or "", x[4]))
    remaining = {pid: {a[0]: a for a in stakes[pid].agreements} for pid in losers}
    total = counted
    out: list[Risk] = []
    # the losses of one day happen together: which of them is listed first changes nothing
    for day, same_day in groupby(losses, key=itemgetter(0)):
        todays = list(same_day)
        before = {pid: current[pid] for *_rest, pid in todays}
        for _day, _order, reason, lost, pid in todays:
            if reason == "agreement_ends":
                remaining[pid].pop(lost or "", None)
            else:
                remaining[pid].clear()
        losing = set()
        for pid, was in before.items():
            left = remaining[pid].values()
            after = (
                share(pid, sum(a[3] for a in left), any(a[1] == "primary" for a in left))
                if left
                else 0.0
            )
            current[pid] = after
            total = round(total - (was - after), 4)
            if was - after > EPSILON:
                losing.add(pid)
            if was > 0 and after <= 0:  # no longer counted toward the title minima
                losing.add(pid)
                for title in titled:
                    if rank[pid] >= TITLE_RANK[title]:
                        titled[title] -= 1
        below = total + EPSILON < required or any(titled[t] < n for t, n in minima.items())
        if below:
            for _day, _order, reason, lost, pid in todays:
                if pid in losing:
                    cert = people.get(pid, NOBODY)[0]
                    out.append(Risk(reason, lost, cert, day, max(total, 0.0)))
    return out


def _never_short(
    losses: list[tuple[dt.date, int, str, str | None, int]],
    current: Mapping[int, float],
    rank: Mapping[int, int],
    titled: Mapping[str, int],
    counted: float,
    required: float,
    minima: Mapping[str, int],
) -> bool:
    """Whether the institution meets its minimum and its title minima even after every
    physician with a loss on record has lost all they count (then no loss is a risk: a
    share or a title only ever goes down as the losses come)."""
    losing = {loss[4] for loss in losses}
    if counted - sum(current[pid] for pid in losing) < required + SAFETY:
        return False
    counted_losing = [rank[pid] for pid in losing if current[pid] > 0]
    return all(
        titled[title] - sum(1 for r in counted_losing if r >= TITLE_RANK[title]) >= n
        for title, n in minima.items()
    )


SAFETY = 1e-6  # well above the rounding of a walk through the losses (EPSILON, 4 decimals)


# --- the API -----------------------------------------------------------------------------------


def _institution_ids(registry: Registry, code: str | None) -> list[int] | None:
    if code is None:
        return None
    with registry.db.read() as s:
        found = store.institution_id(s, ids.clean(code))
    if found is None:
        raise ServiceError(_("Unknown institution {code}.").format(code=code))
    return [found]


def _contract(registry: Registry, contract_no: str) -> tuple[int, int, str]:
    with registry.db.read() as s:
        found = store.agreement_key(s, contract_no.strip())
    if found is None:
        raise ServiceError(_("Unknown contract {contract}.").format(contract=contract_no))
    return found


def validation_base(
    registry: Registry,
    on: dt.date | None = None,
    institution: str | None = None,
    without: str | None = None,
    *,
    detail: bool = True,
) -> list[InstitutionBase]:
    """医师基数 of every institution (or one) on ``on`` (default today), ordered by code.

    ``without`` names a contract treated as ended before ``on``. ``detail=False`` leaves out
    contributors and risks (the region-wide summary table).
    """
    on = on or dt.date.today()
    wanted = _institution_ids(registry, institution)
    contract = _contract(registry, without)[2] if without is not None else None
    return _compute(registry, on, wanted, Supposing(contract=contract), detail=detail)


def impact_of_termination(
    registry: Registry, contract_no: str, on: dt.date
) -> list[tuple[InstitutionBase, InstitutionBase]]:
    """(before, after) for the institution of the contract if it ended before ``on``."""
    inst_id, _pid, contract = _contract(registry, contract_no)
    before = _compute(registry, on, [inst_id])
    after = _compute(registry, on, [inst_id], Supposing(contract=contract))
    return list(zip(before, after, strict=True))


def impact_of_suspension(
    registry: Registry, cert: str, start: dt.date, until: dt.date, region: str | None = None
) -> list[tuple[InstitutionBase, InstitutionBase]]:
    """(before, after) on ``start`` for every institution where the physician practises,
    if their registration in ``region`` (every registration without it) were suspended from
    ``start`` to ``until``."""
    if until < start:
        raise ServiceError(
            _("The suspension ends on {until}, before it starts on {start}.").format(
                until=until.isoformat(), start=start.isoformat()
            )
        )
    with registry.db.read() as s:
        pid = store.physician_id(s, ids.clean(cert))
        if pid is None:
            raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
        where = store.institution_ids_of(s, pid)
    if not where:
        return []
    before = _compute(registry, start, where)
    after = _compute(registry, start, where, Supposing(suspension=(pid, start, until, region)))
    return [(b, a) for b, a in zip(before, after, strict=True) if b.contributors or a.contributors]
