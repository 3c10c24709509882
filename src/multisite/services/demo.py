"""A realistic synthetic region for demonstrations, tests and the benchmark (演示数据).

One province (浙江省, real city and county codes) with clinics, outpatient departments,
level 1–3 hospitals, community health centres and township hospitals; physicians with
Chinese names, categories, scopes and titles; about 20 % of them practise at one or two
further institutions. Every generated agreement is checked with the rules engine before it
is kept, so the region starts free of rule errors. Deterministic for a seed. :func:`build`
makes the rows in memory; :func:`generate` draws the same region and writes it through the
service's batch writes, the same path as an import, a chunk of practitioners at a time (a
region of a million in bounded memory).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.facts import AgreementFact, InstitutionFact, PhysicianFact, RegistrationFact
from ..domain.holidays import HolidayDay
from ..domain.inputs import AgreementInput, InstitutionInput, PhysicianInput
from ..domain.schedule import Slot, slots_text
from ..domain.sweep import Sweeper
from ..domain.sweep import evaluate as evaluate_quickly
from ..domain.vocabulary import NURSE, NURSE_LEVEL
from ..i18n import _
from ..storage import batch as store
from ..storage.models import (
    Agreement,
    Filing,
    Institution,
    Physician,
    Region,
    Registration,
    RegistrationEvent,
    WorkSession,
    utcnow,
)
from ..storage.models import HolidayDay as HolidayRow
from . import Registry, ServiceError, initials
from .calendars import Calendars
from .registry import BatchResult

PROVINCE = ("330000", "浙江省")
CITIES = {
    "330100": (
        "杭州市",
        {
            "330102": "上城区",
            "330105": "拱墅区",
            "330106": "西湖区",
            "330108": "滨江区",
            "330109": "萧山区",
            "330110": "余杭区",
            "330122": "桐庐县",
            "330127": "淳安县",
        },
    ),
    "330200": (
        "宁波市",
        {
            "330203": "海曙区",
            "330205": "江北区",
            "330212": "鄞州区",
            "330225": "象山县",
            "330226": "宁海县",
        },
    ),
    "330300": (
        "温州市",
        {"330302": "鹿城区", "330303": "龙湾区", "330324": "永嘉县", "330327": "苍南县"},
    ),
    "330600": ("绍兴市", {"330602": "越城区", "330603": "柯桥区", "330624": "新昌县"}),
    "331000": ("台州市", {"331002": "椒江区", "331082": "临海市", "331023": "天台县"}),
}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志文斌宇浩凯婷雪琳晨欣怡"
    "子涵梓轩一诺思远嘉怡雨桐俊杰晓东海燕春梅建华国庆卫东红霞丽萍振华家豪立新永刚"
)
STREETS = (
    "解放路",
    "中山路",
    "人民路",
    "建设路",
    "文化路",
    "学院路",
    "凤起路",
    "延安路",
    "湖滨路",
    "新华路",
)
TOWNS = ("城关", "新安", "白石", "临江", "青山", "东溪", "南塘", "桥头", "大溪", "横街")
KINDS = (  # kind, share, beds range, departments
    ("诊所", 0.42, (0, 0), ("内科", "全科医学", "外科", "儿科", "皮肤病与性病")),
    ("口腔诊所", 0.08, (0, 0), ("口腔专业",)),
    ("中医诊所", 0.06, (0, 0), ("中医", "中西医结合")),
    ("综合门诊部", 0.07, (0, 10), ("内科", "外科", "妇产科", "儿科", "全科医学", "医学检验、病理")),
    ("中医门诊部", 0.03, (0, 10), ("中医", "中西医结合", "康复医学")),
    (
        "一级综合医院",
        0.05,
        (20, 99),
        ("内科", "外科", "妇产科", "儿科", "全科医学", "急救医学", "中医"),
    ),
    (
        "二级综合医院",
        0.03,
        (100, 499),
        (
            "内科",
            "外科",
            "妇产科",
            "儿科",
            "眼耳鼻咽喉科",
            "急救医学",
            "医学影像和放射治疗",
            "医学检验、病理",
            "康复医学",
            "中医",
            "口腔专业",
            "皮肤病与性病",
        ),
    ),
    (
        "三级综合医院",
        0.01,
        (500, 2500),
        (
            "内科",
            "外科",
            "妇产科",
            "儿科",
            "眼耳鼻咽喉科",
            "急救医学",
            "医学影像和放射治疗",
            "医学检验、病理",
            "康复医学",
            "精神卫生",
            "中医",
            "中西医结合",
            "口腔专业",
            "皮肤病与性病",
        ),
    ),
    ("专科医院", 0.03, (50, 400), ("精神卫生", "康复医学", "儿科", "妇产科", "眼耳鼻咽喉科")),
    (
        "社区卫生服务中心",
        0.12,
        (0, 60),
        ("全科医学", "内科", "儿科", "预防保健", "中医", "口腔专业", "公共卫生类别专业"),
    ),
    ("社区医院", 0.03, (20, 99), ("全科医学", "内科", "外科", "中医", "康复医学")),
    (
        "乡镇卫生院",
        0.07,
        (10, 99),
        ("全科医学", "内科", "外科", "中医", "预防保健", "公共卫生类别专业"),
    ),
)
GRASSROOTS = {"诊所", "口腔诊所", "中医诊所", "社区卫生服务中心", "社区医院", "乡镇卫生院"}
HOSPITALS = {"一级综合医院", "二级综合医院", "三级综合医院", "专科医院", "社区医院"}
TITLE_SHARES = (("住院医师", 0.35), ("主治医师", 0.35), ("副主任医师", 0.2), ("主任医师", 0.1))
SCOPE_CHOICES = {
    "临床": (
        "内科",
        "外科",
        "妇产科",
        "儿科",
        "全科医学",
        "眼耳鼻咽喉科",
        "急救医学",
        "医学影像和放射治疗",
        "医学检验、病理",
        "康复医学",
        "皮肤病与性病",
        "精神卫生",
        "预防保健",
    ),
    "中医": ("中医", "中西医结合"),
    "口腔": ("口腔专业",),
    "公共卫生": ("公共卫生类别专业",),
}


def _hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _slots(spec: str) -> tuple[Slot, ...]:
    """``"0,1,2 08:00-17:30; 4 08:00-12:00"`` → slots (weekday numbers, 0 = Monday)."""
    out: list[Slot] = []
    for part in spec.split(";"):
        days, times = part.split()
        start, end = times.split("-")
        out.extend(Slot(int(d), _hm(start), _hm(end)) for d in days.split(","))
    return tuple(out)


HOSPITAL_PATTERNS = tuple(
    _slots(s)
    for s in (
        "0,1,2,3 08:00-17:30",
        "0,2,4 08:00-18:00",
        "1,3 08:00-18:00; 5 08:00-12:00",
        "0,4 08:00-17:30; 2 20:00-08:00",
        "0,1,3,4 08:00-17:00",
    )
)
CLINIC_PATTERNS = tuple(
    _slots(s)
    for s in (
        "0,2,4 08:00-17:00",
        "1,3,5 08:00-17:00",
        "0,1,2 08:30-17:30",
        "2,3,4 08:00-16:30",
    )
)
EXTRA_PATTERNS = tuple(
    _slots(s)
    for s in (
        "5 08:30-12:30",
        "5 13:30-17:30",
        "4 08:30-12:30",
        "1 19:00-21:00",
        "3 19:00-21:00",
        "0 19:00-21:00",
        "2 08:30-12:00; 5 08:30-11:30",
        "3 13:30-17:00",
        "1 08:30-12:00",
    )
)
DEMO_2027 = (  # an estimate loaded as demo data until the State Council notice for 2027 arrives
    ("2027-01-01", "元旦"),
    ("2027-02-05", "春节"),
    ("2027-02-08", "春节"),
    ("2027-02-09", "春节"),
    ("2027-02-10", "春节"),
    ("2027-02-11", "春节"),
    ("2027-02-12", "春节"),
    ("2027-04-05", "清明节"),
    ("2027-05-03", "劳动节"),
    ("2027-05-04", "劳动节"),
    ("2027-05-05", "劳动节"),
    ("2027-06-09", "端午节"),
    ("2027-09-15", "中秋节"),
    ("2027-10-01", "国庆节"),
    ("2027-10-04", "国庆节"),
    ("2027-10-05", "国庆节"),
    ("2027-10-06", "国庆节"),
    ("2027-10-07", "国庆节"),
)


@dataclass
class Built:
    regions: list[dict[str, Any]]
    institutions: list[dict[str, Any]]
    physicians: list[dict[str, Any]]
    registrations: list[dict[str, Any]]
    events: list[dict[str, Any]]
    filings: list[dict[str, Any]]
    agreements: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    holidays: list[dict[str, Any]]


def credit_code(rng: random.Random, county: str, prefix: str) -> str:
    alphabet = ids.CREDIT_ALPHABET
    body = prefix + county + "".join(rng.choice(alphabet[:10] + alphabet[10:]) for _ in range(9))
    return body + ids.credit_check_char(body)


def _weighted(rng: random.Random, pairs: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([p for p, _w in pairs], [w for _p, w in pairs])[0]


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


@dataclass
class _Institutions:
    """The generated institutions, and where a physician of a scope can work."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[int, InstitutionFact] = field(default_factory=dict)
    by_scope: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(list))
    by_scope_all: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))


def build(physicians: int, seed: int, today: dt.date, nurses_per_physician: float = 0.0) -> Built:
    """Generate the rows of a region in memory (no database): the physicians, then
    ``round(nurses_per_physician × physicians)`` nurses (drawn after the physicians, so a
    seed's physicians are the same with or without nurses). Every row is held: for a region
    of a million, :func:`generate` writes it in chunks instead."""
    rng = random.Random(seed)
    places = _institutions(rng, _institution_count(physicians))
    built = Built(_regions(), places.rows, [], [], [], [], [], [], _holidays())
    for drawn in _practitioners(rng, physicians, nurses_per_physician, places, today):
        _keep_rows(drawn, built)
    return built


def _institution_count(physicians: int) -> int:
    return max(12, physicians * 2 // 15)


@dataclass(slots=True)
class _Drawn:
    """One practitioner as drawn: their facts, registration and the agreements kept."""

    fact: PhysicianFact
    registration: RegistrationFact
    agreements: list[AgreementFact]


def _practitioners(
    rng: random.Random,
    physicians: int,
    nurses_per_physician: float,
    places: _Institutions,
    today: dt.date,
) -> Iterator[_Drawn]:
    """The region's practitioners one at a time, in the order ``rng`` draws them: the
    physicians (ids 1…), then the nurses. Contracts are numbered on across them. What is
    held between two practitioners is small (serial counters), whatever the region's size."""
    sweeper = Sweeper(rules.RuleContext(_demo_policy()), {}, set(), lambda _year: True)
    serial: dict[str, int] = defaultdict(int)
    numbered = 0
    for pid in range(1, physicians + 1):
        fact, registration = _physician(rng, pid, places, serial)
        kept = _agreements(rng, fact, registration, places, today, sweeper, numbered)
        numbered += len(kept)
        yield _Drawn(fact, registration, kept)
    nurses = round(max(nurses_per_physician, 0.0) * physicians)
    mains = sorted(places.facts)
    # A nurse's serial is her id while every id fits six digits (the regions built so far
    # keep their numbers); a larger region numbers each year of first registration from 1.
    serials: dict[int, int] | None = None if physicians + nurses <= NURSE_SERIALS else {}
    for pid in range(physicians + 1, physicians + nurses + 1):
        fact, registration = _nurse(rng, pid, places, mains, serials)
        kept = _agreements(rng, fact, registration, places, today, sweeper, numbered)
        numbered += len(kept)
        yield _Drawn(fact, registration, kept)


def _keep_rows(drawn: _Drawn, built: Built) -> None:
    """The rows of one drawn practitioner, added to ``built``: physician (or nurse),
    registration, its event, then each agreement's rows."""
    fact, registration = drawn.fact, drawn.registration
    pid, registered_on = fact.id, registration.registered_on
    assert pid is not None
    row: dict[str, Any] = {
        "id": pid,
        "cert_no": fact.cert_no,
        "name": fact.name,
        "initials": initials(fact.name),
        "level": fact.level,
        "category": fact.category,
        "scopes": sorted(fact.scopes),
        "title": fact.title,
        "status": "registered",
        "id_digest": None,
        "practising_since": registered_on,
        "failed_assessment_on": None,
        "notes": {},
        "updated_at": utcnow(),
    }
    if fact.profession == NURSE:
        row["profession"] = NURSE
    built.physicians.append(row)
    built.registrations.append(
        {
            "id": pid,
            "physician_id": pid,
            "region_code": registration.region_code,
            "main_institution_id": registration.main_institution_id,
            "registered_on": registered_on,
            "status": "registered",
        }
    )
    built.events.append(
        {
            "registration_id": pid,
            "status": "registered",
            "on": registered_on,
            "until": None,
            "reason": "",
            "recorded_at": utcnow(),
        }
    )
    for a in drawn.agreements:
        _keep_agreement(a, pid, built)


NURSE_TITLE_SHARES = (
    ("护士", 0.3), ("护师", 0.35), ("主管护师", 0.25), ("副主任护师", 0.07), ("主任护师", 0.03),
)  # fmt: skip


NURSE_SERIALS = 999_999  # a 护士执业证书编号 ends in a six-digit serial


def _nurse(
    rng: random.Random,
    pid: int,
    places: _Institutions,
    mains: list[int],
    serials: dict[int, int] | None,
) -> tuple[PhysicianFact, RegistrationFact]:
    """One nurse (护士) registered for the province at a main institution (one of ``mains``,
    the institution ids in order), like a physician but without category or scopes. Her
    certificate's serial is ``pid``, or with ``serials`` the next of her year."""
    main_id = rng.choice(mains)
    year = rng.randint(1998, 2024)
    number = pid
    if serials is not None:
        number = serials[year] = serials.get(year, 0) + 1
    if number > NURSE_SERIALS:
        raise ServiceError(
            _("The demo cannot number more than {n} nurses a year.").format(n=NURSE_SERIALS)
        )
    cert = f"{year}{PROVINCE[0][:2]}{number:06d}"
    registered_on = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
    name = _name(rng)
    title = _weighted(rng, NURSE_TITLE_SHARES)
    registration = RegistrationFact(PROVINCE[0], main_id, registered_on)
    fact = PhysicianFact(
        pid, cert, name, NURSE_LEVEL, "", frozenset(), title,
        registrations=(registration,), profession=NURSE,
    )  # fmt: skip
    return fact, registration


def _regions() -> list[dict[str, Any]]:
    regions = [{"code": PROVINCE[0], "name": PROVINCE[1], "level": "province"}]
    for city, (name, cs) in CITIES.items():
        regions.append({"code": city, "name": name, "level": "city"})
        regions.extend({"code": c, "name": n, "level": "county"} for c, n in cs.items())
    return regions


def _holidays() -> list[dict[str, Any]]:
    return [
        {"day": dt.date.fromisoformat(d), "kind": "holiday", "name": f"{n}（演示估计）"}
        for d, n in DEMO_2027
    ]


def _institutions(rng: random.Random, count: int) -> _Institutions:
    """``count`` institutions, every kind at least once, spread over the counties."""
    counties = {c: name for _city, (_n, cs) in CITIES.items() for c, name in cs.items()}
    county_list = sorted(counties)
    out = _Institutions()
    codes: set[str] = set()
    kinds = list(KINDS)
    for iid in range(1, count + 1):
        kind, _share, beds_range, depts = rng.choices(kinds, [k[1] for k in kinds])[0]
        if iid <= len(kinds):  # every kind at least once
            kind, _share, beds_range, depts = kinds[iid - 1]
        county = rng.choice(county_list)
        code = credit_code(rng, county, "12" if kind in HOSPITALS else rng.choice(("52", "91")))
        while code in codes:
            code = credit_code(rng, county, "91")
        codes.add(code)
        place = counties[county]
        name = _institution_name(rng, kind, place, iid)
        chosen = sorted(rng.sample(depts, k=rng.randint(min(2, len(depts)), len(depts))))
        if kind in ("诊所",) and len(chosen) > 2:
            chosen = chosen[:2]
        out.rows.append(
            {
                "id": iid,
                "code": code,
                "name": name,
                "kind": kind,
                "beds": rng.randint(*beds_range),
                "departments": chosen,
                "grassroots": kind in GRASSROOTS,
                "county_code": county,
                "address": f"{CITIES[county[:4] + '00'][0]}{place}{rng.choice(STREETS)}{rng.randint(1, 999)}号",
                "makeup_follows": None,
                "notes": {},
                "updated_at": utcnow(),
                "licensed_on": dt.date(
                    rng.randint(1995, 2024), rng.randint(1, 12), rng.randint(1, 28)
                ),
            }
        )
        out.facts[iid] = InstitutionFact(
            iid, code, name, kind, county, frozenset(chosen), kind in GRASSROOTS
        )
        for d in chosen:
            out.by_scope[(county, d)].append(iid)
            out.by_scope_all[d].append(iid)
    return out


def _physician(
    rng: random.Random, pid: int, places: _Institutions, serial: dict[str, int]
) -> tuple[PhysicianFact, RegistrationFact]:
    """One physician with their registration at a main institution of their scope, as facts
    (no agreements yet)."""
    category = rng.choices(("临床", "中医", "口腔", "公共卫生"), (0.76, 0.12, 0.08, 0.04))[0]
    scope = rng.choice(SCOPE_CHOICES[category])
    hosts = places.by_scope_all.get(scope)
    if not hosts:
        category, scope = "临床", "内科"
        hosts = places.by_scope_all[scope]
    main_id = rng.choice(hosts)
    main = places.facts[main_id]
    assistant = rng.random() < 0.08 and main.kind in GRASSROOTS
    level = "执业助理医师" if assistant else "执业医师"
    region_code = main.county_code if assistant else PROVINCE[0]
    title = "住院医师" if assistant else _weighted(rng, TITLE_SHARES)
    year = rng.randint(1998, 2024)
    serial_key = f"{region_code}{year}"
    serial[serial_key] += 1
    cert = f"{1 if level == '执业医师' else 2}{main.county_code}{year}{serial[serial_key]:04d}"
    if len(cert) != 15 or serial[serial_key] > 9999:
        cert = f"{3}{pid:014d}"
    registered_on = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
    name = _name(rng)
    registration = RegistrationFact(region_code, main_id, registered_on)
    fact = PhysicianFact(
        pid, cert, name, level, category, frozenset([scope]), title,
        registrations=(registration,),
    )  # fmt: skip
    return fact, registration


def _nurse_department(main: InstitutionFact) -> str:
    """The department a nurse's contracts name (no scope of practice to choose from): 内科
    where the main institution has one, else its first department."""
    if not main.departments or "内科" in main.departments:
        return "内科"
    return min(main.departments)


def _agreements(
    rng: random.Random,
    physician: PhysicianFact,
    registration: RegistrationFact,
    places: _Institutions,
    today: dt.date,
    sweeper: Sweeper,
    numbered: int,
) -> list[AgreementFact]:
    """The physician's primary agreement at their main institution and, for about a fifth of
    them, one or two more elsewhere — each kept only if the rules raise nothing but CONSENT
    (the rules whose precondition the facts do not clear: ``sweep.evaluate``, as the service
    evaluates them). Contracts are numbered on from ``numbered``."""
    main = places.facts[registration.main_institution_id]
    (scope,) = physician.scopes or (_nurse_department(main),)
    assistant = physician.level == "执业助理医师"
    start = max(
        registration.registered_on, dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 700))
    )
    end = dt.date(2027, 12, 31)
    if rng.random() < 0.03:
        end = today + dt.timedelta(days=rng.randint(10, 90))
    patterns = HOSPITAL_PATTERNS if main.kind in HOSPITALS else CLINIC_PATTERNS
    primary_slots = rng.choice(patterns)
    seq = numbered + 1
    kept = [
        AgreementFact(
            seq, f"HT{start.year}-{seq:07d}", main, "primary", scope, start, end,
            round(sum(s.duration for s in primary_slots) / 60, 1), True, primary_slots,
        )
    ]  # fmt: skip
    if rng.random() >= 0.21:
        return kept
    candidates = (
        places.by_scope[(main.county_code, scope)] if assistant else places.by_scope_all[scope]
    )
    wanted = 2 if rng.random() < 0.2 else 1
    for _attempt in range(4):
        if len(kept) > wanted:
            break
        other = places.facts[rng.choice(candidates)]
        if other.id in {a.institution.id for a in kept}:
            continue
        extra = rng.choice(EXTRA_PATTERNS)
        a_start = start + dt.timedelta(days=rng.randint(0, 180))
        a_end = min(end, a_start + dt.timedelta(days=rng.choice((365, 540, 730))))
        if a_start > a_end:
            continue
        seq = numbered + len(kept) + 1
        candidate = AgreementFact(
            seq, f"HT{a_start.year}-{seq:07d}", other, "additional", scope, a_start, a_end,
            round(sum(s.duration for s in extra) / 60, 1), rng.random() > 0.03, extra,
        )  # fmt: skip
        trial = replace(physician, agreements=(*kept, candidate))
        found = rules.touching(evaluate_quickly(trial, sweeper), candidate.contract_no)
        if all(v.code == "CONSENT" for v in found):
            kept.append(candidate)
    return kept


def _keep_agreement(a: AgreementFact, pid: int, built: Built) -> None:
    """The agreement's rows: the agreement with the terms seed 004 asks for, its sessions and,
    away from the main institution, its filing."""
    built.agreements.append(
        {
            "id": a.id,
            "contract_no": a.contract_no,
            "physician_id": pid,
            "institution_id": a.institution.id,
            "role": a.role,
            "department": a.department,
            "start": a.start,
            "end": a.end,
            "weekly_hours": a.weekly_hours,
            "consent": a.consent,
            **_terms(a.role),
            "status": "active",
            "terminated_on": None,
            "revision": 0,
            "pattern": slots_text(a.slots),
            "weekly_minutes": a.scheduled_minutes,
            "warnings": [],
            "notes": {},
            "updated_at": utcnow(),
        }
    )
    for slot in a.slots:
        built.sessions.append(
            {
                "id": len(built.sessions) + 1,
                "agreement_id": a.id,
                "physician_id": pid,
                "institution_id": a.institution.id,
                "weekday": slot.weekday,
                "start_minute": slot.start,
                "end_minute": slot.end,
                "start_date": a.start,
                "end_date": a.end,
                "revision": 0,
            }
        )
    if a.role == "additional":
        built.filings.append(
            {
                "registration_id": pid,
                "institution_id": a.institution.id,
                "scope": a.department,
                "valid_from": a.start,
                "valid_to": a.end,
            }
        )


def _demo_policy() -> Any:
    from ..domain.policy import defaults

    return defaults()


def _institution_name(rng: random.Random, kind: str, place: str, iid: int) -> str:
    short = place[:-1] if len(place) > 2 else place
    if kind == "诊所":
        return f"{short}{rng.choice(SURNAMES)}{rng.choice(('氏', ''))}{rng.choice(('内科', '全科', '综合'))}诊所{iid}"
    if kind == "口腔诊所":
        return f"{short}{rng.choice(('美齿', '博爱', '康泰', '贝佳'))}口腔诊所{iid}"
    if kind == "中医诊所":
        return f"{short}{rng.choice(SURNAMES)}氏中医诊所{iid}"
    if kind == "综合门诊部":
        return f"{short}{rng.choice(('仁和', '康华', '瑞安', '同济'))}综合门诊部{iid}"
    if kind == "中医门诊部":
        return f"{short}{rng.choice(('国医堂', '杏林', '仁心'))}中医门诊部{iid}"
    if kind == "社区卫生服务中心":
        return f"{place}{rng.choice(STREETS)[:-1]}街道社区卫生服务中心{iid}"
    if kind == "乡镇卫生院":
        return f"{place}{rng.choice(TOWNS)}镇卫生院{iid}"
    if kind == "社区医院":
        return f"{place}{rng.choice(TOWNS)}社区医院{iid}"
    if kind == "专科医院":
        return f"{place}{rng.choice(('妇幼保健', '精神卫生', '康复', '眼科', '儿童'))}医院{iid}"
    order = {"一级综合医院": "第三", "二级综合医院": "第二", "三级综合医院": "第一"}[kind]
    return f"{place}{order}人民医院{iid}"


TABLES = (
    (Region, "regions"),
    (Institution, "institutions"),
    (Physician, "physicians"),
    (Registration, "registrations"),
    (RegistrationEvent, "events"),
    (Filing, "filings"),
    (Agreement, "agreements"),
    (WorkSession, "sessions"),
    (HolidayRow, "holidays"),
)


CHUNK = 50_000
"""Practitioners :func:`generate` draws, stores (physicians, then their agreements) and
forgets at a time: its memory is bounded by this and the institutions, not the region."""


def generate(
    registry: Registry,
    physicians: int,
    seed: int,
    progress: bool = False,
    today: dt.date | None = None,
    nurses_per_physician: float = 0.0,
    *,
    chunk: int = CHUNK,
    rows: bool = True,
) -> Built:
    """Fill an empty registry with a demo region, written through the service's batch writes
    (the rules run again as they store it; every row gets its audit row): the institutions,
    then ``chunk`` practitioners at a time (physicians and registrations, then their
    agreements, a transaction each), then the holidays. The same seed gives the same
    region whatever the chunk. ``nurses_per_physician`` (``multisite demo``: 1.2) adds nurses
    through the same writes. ``progress`` reports each chunk on stderr.

    The returned rows carry the ids they were stored under. Without ``rows`` (a large
    region) only the regions, institutions and holidays are returned: the practitioners'
    lists stay empty and nothing of a stored chunk is held."""
    if physicians < 1:
        raise ServiceError(_("A demo region needs at least one physician."))
    existing = registry.summary()
    if existing.get("physicians") or existing.get("institutions"):
        raise ServiceError(
            _("The demo fills an empty database; this one already has {n} physicians.").format(
                n=existing.get("physicians", 0)
            )
        )
    if progress:
        sys.stderr.write(_("Generating {n} physicians…").format(n=physicians) + "\n")
    rng = random.Random(seed)
    places = _institutions(rng, _institution_count(physicians))
    built = Built(_regions(), places.rows, [], [], [], [], [], [], _holidays())
    step = max(chunk, 1)
    for start in range(0, len(places.rows), step):  # a million physicians: 133,333 of them
        some = places.rows[start : start + step]
        _stored(registry.save_institutions(enumerate(_institution_inputs(some), start + 1)))
    drawn = _practitioners(rng, physicians, nurses_per_physician, places, today or dt.date.today())
    total = physicians + round(max(nurses_per_physician, 0.0) * physicians)
    done = contracts = 0
    started = time.monotonic()
    while batch := list(islice(drawn, step)):
        _stored(registry.save_physicians(enumerate(_physician_inputs(batch, places), done + 1)))
        deals = _agreement_inputs(batch)
        _stored(registry.save_agreements(enumerate(deals, contracts + 1)))
        done += len(batch)
        contracts += sum(len(d.agreements) for d in batch)
        if rows:
            for one in batch:
                _keep_rows(one, built)
        del batch, deals
        if progress:
            _report(done, total, contracts, time.monotonic() - started)
    Calendars(registry).import_holidays(
        [HolidayDay(h["day"], h["kind"], h["name"]) for h in built.holidays]
    )
    _renumber(registry, built)
    return built


def _report(done: int, total: int, contracts: int, seconds: float) -> None:
    """One line on stderr after each chunk."""
    line = _(
        "Stored {done} of {total} practitioners and {contracts} contracts "
        "({rate} practitioners a second)."
    ).format(
        done=f"{done:,}", total=f"{total:,}", contracts=f"{contracts:,}",
        rate=f"{done / max(seconds, 1e-9):,.0f}",
    )  # fmt: skip
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _stored(result: BatchResult) -> None:
    """A generated row the service refuses is a bug of the generator: say which."""
    errors = [i for i in result.issues if i.severity == rules.ERROR]
    if errors or not result.committed:
        first = errors[0].message if errors else "-"
        raise ServiceError(
            _("The demo region was refused by the registry's checks: {problem}").format(
                problem=first
            )
        )


def _institution_inputs(rows: list[dict[str, Any]]) -> Iterator[InstitutionInput]:
    for i in rows:
        yield InstitutionInput(
            i["code"], i["name"], i["kind"], i["county_code"], i["beds"], i["departments"],
            i["grassroots"], i["address"], licensed_on=i["licensed_on"],
        )  # fmt: skip


def _physician_inputs(batch: list[_Drawn], places: _Institutions) -> Iterator[PhysicianInput]:
    for one in batch:
        p, reg = one.fact, one.registration
        yield PhysicianInput(
            p.cert_no, p.name, p.level, p.category, sorted(p.scopes), p.title, reg.region_code,
            places.facts[reg.main_institution_id].code, reg.registered_on,
            practising_since=reg.registered_on, profession=p.profession,
        )  # fmt: skip


def _agreement_inputs(batch: list[_Drawn]) -> Iterator[AgreementInput]:
    for one in batch:
        for a in one.agreements:
            terms = _terms(a.role)
            yield AgreementInput(
                a.contract_no, one.fact.cert_no, a.institution.code, a.role, a.department,
                a.start, a.end, a.slots, a.weekly_hours, a.consent, liability=terms["liability"],
                pay=terms["pay"], insurance=terms["insurance"], tasks=terms["tasks"],
                employment=terms["employment"],
            )  # fmt: skip


def _terms(role: str) -> dict[str, str]:
    """The terms every demo contract states (seed 004's), by its role."""
    return {
        "liability": "医疗责任由执业机构承担，已购买医疗责任险",
        "pay": "按次结算" if role == "additional" else "月薪",
        "insurance": "医疗责任保险",
        "tasks": "门诊诊疗" if role == "additional" else "门诊、住院诊疗",
        "employment": "人事关系在主要执业机构",
    }


def _renumber(registry: Registry, built: Built) -> None:
    """Give the returned rows the ids the registry stored them under."""
    with registry.db.read() as s:
        institutions = {code: f.id for code, f in store.institution_facts(s).items()}
        people = store.physician_ids(s, (p["cert_no"] for p in built.physicians))
        contracts = store.agreements_by_contract(s, (a["contract_no"] for a in built.agreements))
    moved = {i["id"]: institutions[i["code"]] for i in built.institutions}
    persons = {p["id"]: people[p["cert_no"]] for p in built.physicians}
    deals = {a["id"]: contracts[a["contract_no"]].id for a in built.agreements}
    for i in built.institutions:
        i["id"] = moved[i["id"]]
    for p in built.physicians:
        p["id"] = persons[p["id"]]
    for r in built.registrations:
        r["physician_id"] = persons[r["physician_id"]]
        r["main_institution_id"] = moved[r["main_institution_id"]]
    for rows, key in ((built.agreements, "institution_id"), (built.sessions, "institution_id"),
                      (built.filings, "institution_id")):  # fmt: skip
        for row in rows:
            row[key] = moved[row[key]]
    for a in built.agreements:
        a["physician_id"] = persons[a["physician_id"]]
        a["id"] = deals[a["id"]]
    for x in built.sessions:
        x["physician_id"] = persons[x["physician_id"]]
        x["agreement_id"] = deals[x["agreement_id"]]
