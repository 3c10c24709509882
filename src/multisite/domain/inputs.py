"""What a clerk, a file or the demo says about an entity: the typed inputs of the service's writes.

The TUI's forms, the CLI, the import's rows and the demo all build these and hand them to the
service (``multisite.services``), which checks them, runs the rules and stores them. Pure data.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .schedule import Slot

# Codes of row problems that are not rules of DOMAIN.md.
INVALID = "INVALID"  # a value cannot be read, or fails an identifier, vocabulary or range check
UNKNOWN = "UNKNOWN"  # the row names a physician or institution the registry does not know
DUPLICATE = "DUPLICATE"  # the key appears on an earlier row of the same batch
KEY_CONFLICT = "KEY_CONFLICT"  # the contract belongs to another physician, or is terminated
CHECKSUM = "CHECKSUM"  # a credit code fails its check character (warning, kept)
RETIRED = "RETIRED"  # a region code GB/T 2260 no longer lists (warning, kept)
PROFESSION = "PROFESSION"  # a row of one profession carries the other's certificate, title, scope


class Keep(enum.Enum):
    """A value the write does not name: what is stored stays (an import has no such column)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(slots=True)
class InstitutionInput:
    """医疗机构: ``code`` is the 统一社会信用代码, ``county_code`` a six-digit GB/T 2260 code."""

    code: str
    name: str
    kind: str
    county_code: str
    beds: int = 0
    departments: Sequence[str] = ()
    grassroots: bool = False
    address: str = ""
    makeup_follows: int | Literal[Keep.KEEP] | None = None  # 调休: the weekday followed, or none
    notes: dict[str, Any] = field(default_factory=dict)
    licensed_on: dt.date | None = None  # 登记日期 (the 校验 cycles run from it); None keeps


@dataclass(slots=True)
class PhysicianInput:
    """A physician and their registration (医师执业注册) in ``region_code``.

    ``status`` is ``registered`` (注册), ``suspended`` (暂停, from ``status_from`` to
    ``status_to``) or ``cancelled`` (注销, from ``status_from`` for good), with its reason: a
    registry migrated from elsewhere carries it as the registration's status history.
    """

    cert_no: str
    name: str
    level: str
    category: str
    scopes: Sequence[str]
    title: str
    region_code: str
    main_institution: str  # credit code
    registered_on: dt.date
    status: str = "registered"
    id_number: str | None = None
    practising_since: dt.date | None = None  # 执业起始日期 (the eligibility gate); None keeps
    notes: dict[str, Any] = field(default_factory=dict)
    status_from: dt.date | None = None
    status_to: dt.date | None = None
    status_reason: str = ""
    profession: str = "physician"  # or nurse (护士): no level, category or scopes of its own


def nurse_input(
    cert_no: str,
    name: str,
    title: str,
    region_code: str,
    main_institution: str,
    registered_on: dt.date,
    **more: Any,
) -> PhysicianInput:
    """A nurse (护士执业注册) as the service takes it: a practitioner with the nurse's title,
    level 注册护士, no category and no scopes."""
    return PhysicianInput(
        cert_no, name, "注册护士", "", (), title, region_code, main_institution, registered_on,
        profession="nurse", **more,
    )  # fmt: skip


# The contract terms seed 004 asks every agreement to fix (工作任务、医疗责任、薪酬、相关保险、人事关系).
TERMS = ("tasks", "liability", "pay", "insurance", "employment")


@dataclass(slots=True)
class AgreementInput:
    """合同/协议: ``contract_no`` is the key; the terms are free text kept verbatim.

    A term left ``None`` is not named by this write and keeps what is stored (an edit or a
    re-import that does not carry the terms never erases them).
    """

    contract_no: str
    physician: str  # certificate number
    institution: str  # credit code
    role: str
    department: str
    start: dt.date
    end: dt.date
    slots: Sequence[Slot]
    weekly_hours: float = 0.0
    consent: bool | None = None
    liability: str | None = None
    pay: str | None = None
    insurance: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    tasks: str | None = None
    employment: str | None = None


@dataclass(slots=True)
class ListingInput:
    """A listing on the dishonesty list (失信/黑名单): ``subject`` is ``physician`` (``key`` a
    certificate number) or ``institution`` (``key`` a credit code), from ``start`` to
    ``until`` (inclusive; None: open), with the reason, the deciding authority and its
    decision number (决定文号)."""

    subject: str
    key: str
    start: dt.date
    reason: str
    authority: str
    until: dt.date | None = None
    decision: str = ""
