"""The rules on who may practise where: registration, region, scope, the main institution,
the period and its filing, the site cap, the dishonesty list and the 2014 eligibility gate.

Each rule's sweep precondition reads the agreement rows alone; the physician-level facts
the rows do not carry (several registrations, suspensions, the dishonesty list of the
physician, filings) send a physician to the full rules before any precondition runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from ...i18n import N_, _
from ..facts import AgreementFact, PhysicianFact, RegistrationFact
from ..filings import covered
from ..identifiers import region_contains
from .core import (
    ERROR,
    PHYSICIANS_ONLY,
    Rule,
    RuleContext,
    Shortcuts,
    SweepAgreement,
    Violation,
    add_years,
    live_agreements,
    violation,
)

INTERMEDIATE_TITLES = frozenset({"主治医师", "副主任医师", "主任医师"})


def registration(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """REGISTRATION: no active registration covering the agreement's period."""
    for a in live_agreements(p):
        regs = [
            r for r in p.registrations if region_contains(r.region_code, a.institution.county_code)
        ]
        regs = regs or list(p.registrations)
        gaps = [r.first_gap(a.start, a.end) for r in regs]
        if not regs or all(g is not None for g in gaps):
            first = min((g for g in gaps if g is not None), default=a.start)
            yield violation(
                "REGISTRATION",
                ERROR,
                p,
                [a],
                first,
                _days_uncovered(regs, a.start, a.end),
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
    for a in live_agreements(p):
        if not any(
            region_contains(r.region_code, a.institution.county_code) for r in p.registrations
        ):
            regions = ", ".join(r.region_code for r in p.registrations) or "-"
            yield violation(
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
    for a in live_agreements(p):
        if a.department not in p.scopes:
            yield violation(
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
            yield violation(
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


def _registration_of(p: PhysicianFact, a: AgreementFact) -> RegistrationFact | None:
    """The registration an agreement belongs to: the one whose region holds the institution."""
    county = a.institution.county_code
    return next((r for r in p.registrations if region_contains(r.region_code, county)), None)


def primary(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """PRIMARY: per registration (region), additional agreements need one primary agreement
    with its main institution over the same period, and never two at once. A physician with
    an added registration (增加注册) in a second province has a main institution there too."""
    live = live_agreements(p)
    region = {a.contract_no: _registration_of(p, a) for a in live}
    primaries = [a for a in live if a.role == "primary"]
    mains = {r.main_institution_id for r in p.registrations}
    for a in primaries:
        reg = region[a.contract_no]
        main = {reg.main_institution_id} if reg is not None else mains
        if main and a.institution.id not in main:
            yield violation(
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
            if region[a.contract_no] != region[b.contract_no]:
                continue  # one main institution per registration
            start, end = max(a.start, b.start), min(a.end, b.end)
            if start <= end:
                yield violation(
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
        home = region[a.contract_no]  # outside every region (OUT_OF_REGION): any primary
        cover = [(b.start, b.end) for b in primaries if home in (None, region[b.contract_no])]
        first = _first_uncovered(a.start, a.end, cover)
        if first is not None:
            yield violation(
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


def _days_uncovered(regs: Sequence[RegistrationFact], start: dt.date, end: dt.date) -> int:
    """The days of [start, end] on which none of ``regs`` is active (all of them without
    any): a suspension that ends before the agreement does leaves only its own days."""
    if start > end:
        return 0
    left = [(start, end)]
    for r in regs:  # what no registration so far covers, narrowed by each one's gaps
        left = [
            (max(a, c), min(b, d))
            for a, b in left
            for c, d in r.gaps(start, end)
            if max(a, c) <= min(b, d)
        ]
    return sum((b - a).days + 1 for a, b in left)


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
            yield violation(
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
        if a.role == "additional" and filings and not covered(filings, a.start, a.end):
            ended = [f.ended_on for f in filings if f.ended_on is not None and f.ended_on < a.end]
            text = (
                _(
                    "{contract} ({start} to {end}) lies outside its filing at {institution}, "
                    "which was ended on {ended}: renew the filing first (filing renew)."
                )
                if ended
                else _(
                    "{contract} ({start} to {end}) lies outside its filing at {institution}: "
                    "saving the agreement again renews the filing (or: filing renew)."
                )
            )
            yield violation(
                "PERIOD",
                ERROR,
                p,
                [a],
                a.start,
                1,
                "agreement",
                text.format(
                    contract=a.contract_no,
                    start=a.start.isoformat(),
                    end=a.end.isoformat(),
                    institution=a.institution.name,
                    ended=max(ended).isoformat() if ended else "",
                ),
            )


def site_limit(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """SITE_LIMIT: more institutions at once than ``max_institutions``."""
    cap = ctx.policy.max_institutions
    if cap is None:
        return
    live = live_agreements(p)
    for day in sorted({a.start for a in live}):
        current = [a for a in live if a.start <= day <= a.end]
        sites = {a.institution.id for a in current}
        if len(sites) > cap:
            yield violation(
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
    """CREDIT: an agreement whose days intersect a dated listing of its physician or its
    institution on the dishonesty list (失信/黑名单); days before the listing are not affected."""
    for a in live_agreements(p):
        hits = [
            (first, listing, who)
            for listings, who in (
                (p.listings, p.name),
                (a.institution.listings, a.institution.name),
            )
            for listing in listings
            if (first := listing.first_day_within(a.start, a.end)) is not None
        ]
        if not hits:
            continue
        first, listing, who = min(hits, key=lambda hit: hit[0])
        yield violation(
            "CREDIT",
            ERROR,
            p,
            [a],
            first,
            listing.days_within(a.start, a.end),
            "d",
            _(
                "{who} is on the dishonesty list from {listed}; {contract} runs on {first} "
                "while listed."
            ).format(
                who=who, listed=listing.start.isoformat(), contract=a.contract_no,
                first=first.isoformat(),
            ),
        )  # fmt: skip


def eligibility(p: PhysicianFact, ctx: RuleContext) -> Iterator[Violation]:
    """ELIGIBILITY (off by default): the 2014 gate for additional sites."""
    if not ctx.policy.eligibility_gate:
        return
    years = ctx.policy.eligibility_min_years
    for a in live_agreements(p):
        if a.role != "additional":
            continue
        reasons = []
        if p.title not in INTERMEDIATE_TITLES:
            reasons.append(_("title {title} is below 主治医师").format(title=p.title))
        since = p.practice_start
        if since is None or add_years(since, years) > a.start:
            reasons.append(_("fewer than {years} years of practice").format(years=years))
        failed = p.failed_assessment_on
        if failed is not None and failed > add_years(a.start, -6):
            reasons.append(_("a failed assessment in the last two cycles"))
        if reasons:
            yield violation(
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


# --- sweep preconditions ----------------------------------------------------------------------


def registered_before(rows: Sequence[SweepAgreement], _s: Shortcuts) -> bool:
    for r in rows:
        if r.registered_on > r.start:
            return False
    return True


def within_region(rows: Sequence[SweepAgreement], s: Shortcuts) -> bool:
    for r in rows:
        county = s.sites[r.institution_id].county_code
        region = r.region
        if region[:2] != county[:2]:
            return False
        if not region.endswith("0000") and not region_contains(region, county):
            return False
    return True


def within_scope(rows: Sequence[SweepAgreement], s: Shortcuts) -> bool:
    for r in rows:
        department = r.department
        if department not in s.scopes(r.scopes):
            return False
        departments = s.sites[r.institution_id].departments
        if departments and department not in departments:
            return False
    return True


def one_primary(rows: Sequence[SweepAgreement], _s: Shortcuts) -> bool:
    """Every primary at the main institution, no two at once, and each additional agreement
    inside one primary's period."""
    primaries = []
    for r in rows:
        if r.role == "primary":
            if r.institution_id != r.main_institution_id:
                return False
            primaries.append((r.start, r.end))
    if len(primaries) == len(rows) == 1:
        return True
    for i, (a_start, a_end) in enumerate(primaries):
        for b_start, b_end in primaries[i + 1 :]:
            if a_start <= b_end and b_start <= a_end:
                return False
    for r in rows:
        if r.role != "primary" and not any(
            start <= r.start and r.end <= end for start, end in primaries
        ):
            return False
    return True


def ordered_period(rows: Sequence[SweepAgreement], _s: Shortcuts) -> bool:
    """Start on or before end (the filings are the physician-level test's)."""
    for r in rows:
        if r.start > r.end:
            return False
    return True


def within_site_cap(rows: Sequence[SweepAgreement], s: Shortcuts) -> bool:
    cap = s.policy.max_institutions
    return cap is None or len({r.institution_id for r in rows}) <= cap


def institutions_honest(rows: Sequence[SweepAgreement], s: Shortcuts) -> bool:
    """No institution of the rows was ever listed (the physician's own listings are the
    physician-level test's)."""
    sites = s.sites
    for r in rows:
        if sites[r.institution_id].listed:
            return False
    return True


def gate_open(rows: Sequence[SweepAgreement], s: Shortcuts) -> bool:
    if not s.policy.eligibility_gate:
        return True
    return all(r.role == "primary" for r in rows)


REGISTRATION = Rule(
    "REGISTRATION",
    ERROR,
    registration,
    registered_before,
    "physician",
    N_("no active registration covering the agreement period"),
)
OUT_OF_REGION = Rule(
    "OUT_OF_REGION",
    ERROR,
    out_of_region,
    within_region,
    "institution",
    N_("the institution lies outside the physician's registered region"),
)
SCOPE = Rule(
    "SCOPE",
    ERROR,
    scope,
    within_scope,
    "department",
    N_("the department is outside the physician's scope or the institution's departments"),
    PHYSICIANS_ONLY,
)
PRIMARY = Rule(
    "PRIMARY",
    ERROR,
    primary,
    one_primary,
    "role",
    N_(
        "per registration (region): additional agreements without one active primary "
        "agreement, or two primaries at once"
    ),
)
PERIOD = Rule(
    "PERIOD",
    ERROR,
    period,
    ordered_period,
    "start",
    N_("start after end, or an agreement outside its filing's validity"),
)
SITE_LIMIT = Rule(
    "SITE_LIMIT",
    ERROR,
    site_limit,
    within_site_cap,
    "institution",
    N_("more institutions at once than max_institutions"),
)
CREDIT = Rule(
    "CREDIT",
    ERROR,
    credit,
    institutions_honest,
    "physician",
    N_("an agreement over days on which its physician or institution is on the dishonesty list"),
)
ELIGIBILITY = Rule(
    "ELIGIBILITY",
    ERROR,
    eligibility,
    gate_open,
    "physician",
    N_("the 2014 gate (off by default): 中级 title, 5 years, no failed 考核 in two cycles"),
    PHYSICIANS_ONLY,
)
