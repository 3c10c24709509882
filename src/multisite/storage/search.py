"""Search SELECTs for the clerks' UI: one page of physicians or institutions, never the table.

Physicians are found by certificate-number prefix (digits), pinyin-initials prefix (Latin
letters, ``张伟`` → ``zw``) or name substring (anything else). The two prefix searches are
range scans of an index (``cert_no`` unique, ``initials`` indexed), written as ``>= p AND < p'``
so both SQLite (whose LIKE ignores indexes) and PostgreSQL (any collation) use the index.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from .models import Institution, Physician, Registration


def _upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _prefix(column: Any, prefix: str) -> Any:
    return (column >= prefix) & (column < _upper_bound(prefix))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def classify(text: str) -> str:
    """``cert`` for digits, ``initials`` for Latin letters, ``name`` for the rest."""
    if text.isdigit():
        return "cert"
    if text.isascii() and text.isalpha():
        return "initials"
    return "name"


def physician_page_query(text: str, limit: int, offset: int) -> Select[Any]:
    """The SELECT of one page of physicians matching ``text`` (already stripped, non-empty)."""
    # One row a practitioner: the main institution of the first registration (a physician with
    # an added registration in another province, 增加注册, has two; a join listed them twice).
    main = (
        select(Institution.name)
        .join(Registration, Registration.main_institution_id == Institution.id)
        .where(Registration.physician_id == Physician.id)
        .order_by(Registration.registered_on, Registration.id)
        .limit(1)
        .correlate(Physician)
        .scalar_subquery()
    )
    query = select(
        Physician.cert_no,
        Physician.name,
        Physician.initials,
        Physician.title,
        Physician.category,
        Physician.status,
        main,
        Physician.profession,
    )
    kind = classify(text)
    if kind == "cert":
        query = query.where(_prefix(Physician.cert_no, text)).order_by(Physician.cert_no)
    elif kind == "initials":
        query = query.where(_prefix(Physician.initials, text.lower())).order_by(
            Physician.initials, Physician.id
        )
    else:
        query = query.where(Physician.name.like(f"%{_like_escape(text)}%", escape="\\")).order_by(
            Physician.id
        )
    paged: Select[Any] = query.limit(limit).offset(offset)
    return paged


def physicians(s: Session, text: str, limit: int, offset: int = 0) -> list[tuple[Any, ...]]:
    """Rows (cert, name, initials, title, category, status, main institution name, profession)."""
    return [tuple(row) for row in s.execute(physician_page_query(text, limit, offset))]


def institutions(s: Session, text: str, limit: int, offset: int = 0) -> list[tuple[Any, ...]]:
    """Rows (code, name, kind, departments) by code prefix or name substring, by name."""
    query = select(Institution.code, Institution.name, Institution.kind, Institution.departments)
    if text:
        query = query.where(
            or_(
                _prefix(Institution.code, text.upper()),
                Institution.name.like(f"%{_like_escape(text)}%", escape="\\"),
            )
        )
    query = query.order_by(Institution.name, Institution.code).limit(limit).offset(offset)
    return [tuple(row) for row in s.execute(query)]
