"""Header vocabularies of SPEC §7 (表头词汇): which header text means which column.

Each import kind (``institutions``, ``physicians``, ``contracts``, ``credit``) has a fixed set of canonical
column names. A header cell matches a column when its *key* (NFKC, case-folded, without
whitespace, ``_ - . *`` and, as a second try, without a trailing parenthetical remark such as
``(统一社会信用代码)`` or ``（小时）``) equals the key of one of the column's names.

This module is pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..domain import vocabulary

KINDS = ("institutions", "physicians", "nurses", "contracts", "credit")


@dataclass(frozen=True, slots=True)
class Column:
    """One canonical column: ``name`` (English, canonical), ``label`` (Chinese), aliases."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.label, *self.aliases)

    def display(self) -> str:
        """``contract_no/合同编号``: how a column is named in messages."""
        return f"{self.name}/{self.label}"


# A practitioner's registration, the same for physicians and nurses.
REGISTRATION = (
    Column(
        "region",
        "注册地",
        ("region_code", "注册地代码", "注册地区划代码", "执业地点"),
        required=True,
    ),
    Column(
        "main_institution",
        "主要执业机构",
        ("primary_institution", "主要执业机构代码", "第一执业机构"),
        required=True,
    ),
    Column("registered", "注册日期", ("registration_date", "registered_on")),
    Column("status", "状态", ("注册状态",)),
    Column("status_from", "状态起始日期", ("status_start", "暂停起始日期", "注销日期")),
    Column("status_to", "状态终止日期", ("status_end", "status_until", "暂停终止日期")),
    Column("status_reason", "状态原因", ("reason", "暂停原因", "注销原因")),
    Column("practising_since", "执业起始日期", ("practice_start", "开始执业日期")),
)

VOCABULARIES: dict[str, tuple[Column, ...]] = {
    "institutions": (
        Column(
            "code",
            "机构代码",
            ("institution_code", "统一社会信用代码", "社会信用代码", "机构编码", "credit_code"),
            required=True,
        ),
        Column("name", "机构名称", ("institution_name", "名称"), required=True),
        Column("kind", "机构类别", ("type", "机构类型", "类别"), required=True),
        Column("beds", "床位数", ("床位", "核定床位", "核定床位数")),
        Column(
            "region",
            "行政区划代码",
            ("region_code", "区划代码", "行政区划", "所在地区划代码"),
            required=True,
        ),
        Column("departments", "诊疗科目", ("科目",)),
        Column("grassroots", "基层", ("是否基层", "基层医疗机构", "基层医疗卫生机构")),
        Column("address", "地址", ("机构地址",)),
        Column(
            "licensed_on",
            "登记日期",
            ("licence_date", "license_date", "执业许可证登记日期", "发证日期", "校验起始日期"),
        ),
    ),
    "physicians": (
        Column(
            "cert",
            "执业证书编码",
            (
                "certificate",
                "certificate_no",
                "cert_no",
                "执业证书编号",
                "医师执业证书编码",
                "证书编码",
            ),
            required=True,
        ),
        Column("name", "姓名", ("physician_name", "医师姓名"), required=True),
        Column("level", "医师级别", ("级别",), required=True),
        Column("category", "执业类别", ("类别",), required=True),
        Column("scopes", "执业范围", ("scope",), required=True),
        Column("title", "职称", ()),
        *REGISTRATION,
        Column(
            "id_number",
            "身份证号",
            ("national_id", "id_no", "身份证号码", "身份证", "公民身份号码", "居民身份证号"),
        ),
    ),
    "nurses": (
        Column(
            "cert",
            "护士执业证书编号",
            ("nurse_cert", "护士执业证书编码", "护士证书编号", "护士执业证书号"),
            required=True,
        ),
        Column("name", "姓名", ("nurse_name", "护士姓名"), required=True),
        Column("title", "职称", ("护理职称",)),
        *REGISTRATION,
        # a physician's columns, known so that a value in them is a row error, not a note
        Column("scopes", "执业范围", ("scope",)),
        Column("category", "执业类别", ("类别",)),
    ),
    "contracts": (
        Column(
            "contract_no",
            "合同编号",
            ("contract", "contract_number", "agreement_no", "协议编号", "合同号", "合同(协议)编号"),
            required=True,
        ),
        Column(
            "physician",
            "执业证书编码",
            (
                *("cert", "certificate", "医师执业证书编码", "执业证书编号", "证书编码"),
                *("nurse", "nurse_cert", "护士执业证书编号", "护士执业证书编码"),
            ),
            required=True,
        ),
        Column(
            "institution",
            "机构代码",
            ("institution_code", "统一社会信用代码", "执业机构代码", "机构编码"),
            required=True,
        ),
        Column("role", "执业类型", ("类型", "执业机构类型"), required=True),
        Column("department", "科室", ("执业科室", "科别"), required=True),
        Column("start", "起始日期", ("start_date", "开始日期", "生效日期"), required=True),
        Column("end", "终止日期", ("end_date", "结束日期", "截止日期", "到期日期"), required=True),
        Column("sessions", "排班", ("schedule", "时间安排", "排班时间", "出诊时间"), required=True),
        Column("weekly_hours", "约定周工时", ("hours", "周工时", "每周工时", "约定每周工时")),
        Column("consent", "主要机构同意", ("主要执业机构同意", "主要机构意见", "是否同意")),
        Column("tasks", "工作任务", ("task", "duties")),
        Column("liability", "医疗责任", ("医疗责任承担",)),
        Column("pay", "薪酬", ("salary", "remuneration", "报酬")),
        Column("insurance", "相关保险", ("保险",)),
        Column("employment", "人事关系", ("personnel",)),
    ),
    "credit": (
        Column(
            "cert",
            "执业证书编码",
            ("physician", "certificate", "cert_no", "医师执业证书编码", "执业证书编号", "证书编码"),
        ),
        Column(
            "institution",
            "机构代码",
            ("institution_code", "统一社会信用代码", "社会信用代码", "机构编码", "credit_code"),
        ),
        Column(
            "from",
            "列入日期",
            ("start", "listed_on", "起始日期", "列入起始日期", "认定日期", "列入时间"),
            required=True,
        ),
        Column(
            "to", "移出日期", ("end", "until", "终止日期", "截止日期", "列入截止日期", "移出时间")
        ),
        Column("reason", "列入原因", ("原因", "事由", "失信行为", "失信事由"), required=True),
        Column(
            "authority",
            "认定机关",
            ("决定机关", "作出决定机关", "认定部门", "决定部门"),
            required=True,
        ),
        Column("decision", "决定文号", ("decision_no", "文号", "决定书文号", "决定书编号")),
    ),
}

# Value vocabularies of SPEC §7 (canonical value → accepted spellings besides itself).
ROLE_VALUES: Mapping[str, tuple[str, ...]] = {
    "primary": ("主要", "主要执业机构", "主要机构", "第一执业地点"),
    "additional": ("其他", "其它", "其他执业机构", "备案", "多点", "additional"),
}
LEVEL_VALUES: Mapping[str, tuple[str, ...]] = {"执业医师": (), "执业助理医师": ("助理医师",)}
TITLE_VALUES: Mapping[str, tuple[str, ...]] = {
    "住院医师": (),
    "主治医师": (),
    "副主任医师": (),
    "主任医师": (),
}
NURSE_TITLE_VALUES: Mapping[str, tuple[str, ...]] = {
    "护士": (),
    "护师": (),
    "主管护师": (),
    "副主任护师": (),
    "主任护师": (),
}
ANY_TITLE_VALUES: Mapping[str, tuple[str, ...]] = {**TITLE_VALUES, **NURSE_TITLE_VALUES}
"""A title of either profession: the service says which profession's it is."""
STATUS_VALUES: Mapping[str, tuple[str, ...]] = {"注册": ("正常",), "暂停": (), "注销": ()}

INSTITUTION_KINDS = vocabulary.INSTITUTION_KINDS
_STRIP = re.compile(r"[\s_\-./*·]+")
_REMARK = re.compile(r"\([^()]*\)$")


def header_key(text: object) -> str:
    """The comparison key of a header cell (empty for an empty cell)."""
    if text is None:
        return ""
    key = unicodedata.normalize("NFKC", str(text)).casefold()
    return _STRIP.sub("", key)


def _build_index() -> dict[str, dict[str, str]]:
    index: dict[str, dict[str, str]] = {}
    for kind, columns in VOCABULARIES.items():
        table: dict[str, str] = {}
        for column in columns:
            for name in column.names:
                key = header_key(name)
                if table.get(key, column.name) != column.name:  # pragma: no cover - a typo here
                    raise AssertionError(f"{kind}: header {name!r} is ambiguous")
                table[key] = column.name
        index[kind] = table
    return index


_INDEX = _build_index()


def columns(kind: str) -> tuple[Column, ...]:
    """The columns of ``kind``; ``ValueError`` for an unknown kind."""
    try:
        return VOCABULARIES[kind]
    except KeyError:
        raise ValueError(f"unknown import kind {kind!r}: use one of {', '.join(KINDS)}") from None


def column(kind: str, name: str) -> Column:
    for candidate in columns(kind):
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def required_columns(kind: str) -> tuple[str, ...]:
    return tuple(c.name for c in columns(kind) if c.required)


def match_header(kind: str, text: object) -> str | None:
    """The canonical column that header ``text`` names in ``kind``, or None."""
    columns(kind)
    table = _INDEX[kind]
    key = header_key(text)
    if not key:
        return None
    found = table.get(key)
    if found is None:
        stripped = _REMARK.sub("", key)
        if stripped and stripped != key:
            found = table.get(stripped)
    return found


def map_headers(kind: str, headers: Sequence[object]) -> tuple[dict[str, list[int]], list[int]]:
    """Map header cells: (canonical name → every index naming it, indexes of unknown headers).

    Empty header cells are neither mapped nor unknown.
    """
    mapped: dict[str, list[int]] = {}
    unknown: list[int] = []
    for index, text in enumerate(headers):
        if not header_key(text):
            continue
        name = match_header(kind, text)
        if name is None:
            unknown.append(index)
        else:
            mapped.setdefault(name, []).append(index)
    return mapped, unknown


def match_choice(value: str, choices: Mapping[str, Iterable[str]]) -> str | None:
    """The canonical value whose spelling equals ``value`` (NFKC, case-insensitive), or None."""
    key = header_key(value)
    for canonical, spellings in choices.items():
        if key == header_key(canonical) or any(key == header_key(s) for s in spellings):
            return canonical
    return None
