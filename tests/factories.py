"""A small hand-made region filed through the service layer, for named tests."""

from __future__ import annotations

import datetime as dt

from multisite.domain.identifiers import credit_check_char, id_check_char
from multisite.domain.sessions_text import parse_sessions
from multisite.services import AgreementInput, InstitutionInput, PhysicianInput, Registry


def credit(county: str, body: str) -> str:
    first = "12" + county + body
    return first + credit_check_char(first)


HOSPITAL = credit("330106", "47000001X")  # 三级综合医院, 西湖区
CLINIC = credit("330106", "47000002X")  # 诊所, 西湖区
CENTRE = credit("330108", "47000003X")  # 社区卫生服务中心, 滨江区 (grassroots)
OUTSIDE = credit("320102", "47000004X")  # 江苏, outside the province
DR_ZHANG = "110330000000001"
DR_LI = "110330000000002"
ID_NUMBER = "11010519491231002" + id_check_char("11010519491231002")


def build_region(registry: Registry, gp: bool = False) -> None:
    """Four institutions, 张伟 and 李娜 (``gp``: both also general practitioners, 全科医学, so
    they count toward a 社区卫生服务中心's minimum)."""
    scopes = ["内科", "全科医学"] if gp else ["内科"]
    for code, name, kind, county, beds, depts, grassroots in (
        (
            HOSPITAL,
            "浙江省第一人民医院",
            "三级综合医院",
            "330106",
            1200,
            ["内科", "外科", "儿科"],
            False,
        ),
        (CLINIC, "西湖张氏内科诊所", "诊所", "330106", 0, ["内科"], True),
        (
            CENTRE,
            "滨江区长河街道社区卫生服务中心",
            "社区卫生服务中心",
            "330108",
            40,
            ["全科医学", "内科"],
            True,
        ),
        (OUTSIDE, "南京市玄武区门诊部", "综合门诊部", "320102", 0, ["内科"], False),
    ):
        registry.file_institution(
            InstitutionInput(code, name, kind, county, beds, depts, grassroots, address="某路1号")
        )
    registry.register_physician(
        PhysicianInput(
            DR_ZHANG,
            "张伟",
            "执业医师",
            "临床",
            scopes,
            "主治医师",
            "330000",
            HOSPITAL,
            dt.date(2015, 3, 1),
            id_number=ID_NUMBER,
        )
    )
    registry.register_physician(
        PhysicianInput(
            DR_LI,
            "李娜",
            "执业医师",
            "临床",
            scopes,
            "副主任医师",
            "330000",
            HOSPITAL,
            dt.date(2012, 5, 1),
        )
    )


TERMS_FIXED = {
    "tasks": "门诊诊疗",
    "liability": "医疗责任由执业机构承担",
    "pay": "按次结算",
    "insurance": "医疗责任保险",
    "employment": "人事关系在主要执业机构",
}  # what every contract fixes (TERMS)


def agreement(
    contract: str,
    institution: str,
    sessions: str,
    *,
    physician: str = DR_ZHANG,
    role: str = "additional",
    start: dt.date = dt.date(2026, 1, 5),
    end: dt.date = dt.date(2026, 12, 31),
    hours: float = 0,
    consent: bool | None = True,
    department: str = "内科",
) -> AgreementInput:
    return AgreementInput(
        contract,
        physician,
        institution,
        role,
        department,
        start,
        end,
        parse_sessions(sessions),
        hours,
        consent,
        **TERMS_FIXED,
    )


def primary(
    registry: Registry,
    physician: str = DR_ZHANG,
    contract: str = "P-1",
    sessions: str = "MO-TH 08:00-12:00",
) -> None:
    registry.save_agreement(
        agreement(
            contract,
            HOSPITAL,
            sessions,
            physician=physician,
            role="primary",
            start=dt.date(2025, 1, 1),
            end=dt.date(2026, 12, 31),
        )
    )


def assert_patterns_match_sessions(registry: Registry) -> None:
    """The sweep and the validation base read agreement.pattern / weekly_minutes instead of the
    session rows: every writer must keep them in step."""
    from sqlalchemy import select

    from multisite.domain.schedule import Slot, slots_text
    from multisite.storage.models import Agreement

    with registry.db.read() as s:
        for agreement in s.scalars(select(Agreement)):
            slots = [Slot(x.weekday, x.start_minute, x.end_minute) for x in agreement.sessions]
            assert agreement.pattern == slots_text(slots), agreement.contract_no
            assert agreement.weekly_minutes == sum(x.duration for x in slots), agreement.contract_no
