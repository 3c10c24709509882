"""SQL of random inspections (双随机): the inspectors list, draws and their results."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Inspection, InspectionDraw, Inspector, Institution
from .search import _prefix


def inspectors(
    s: Session, region: str | None = None, *, active_only: bool = False
) -> list[Inspector]:
    """The inspectors (of ``region`` and the regions within it), by id."""
    query = select(Inspector).order_by(Inspector.id)
    if region is not None:
        query = query.where(_prefix(Inspector.region_code, region.rstrip("0") or region))
    if active_only:
        query = query.where(Inspector.active.is_(True))
    return list(s.scalars(query))


def inspector(s: Session, inspector_id: int) -> Inspector | None:
    return s.get(Inspector, inspector_id)


def same_inspector(s: Session, region: str, name: str, unit: str) -> Inspector | None:
    query = select(Inspector).where(
        Inspector.region_code == region, Inspector.name == name, Inspector.unit == unit
    )
    return s.scalars(query).one_or_none()


def institution_codes(s: Session, region: str | None = None) -> list[tuple[int, str, str]]:
    """(id, code, name) of the institutions (in ``region``: its counties), by code."""
    query = select(Institution.id, Institution.code, Institution.name).order_by(Institution.code)
    if region is not None:
        query = query.where(_prefix(Institution.county_code, region.rstrip("0") or region))
    return [tuple(r) for r in s.execute(query)]  # type: ignore[misc]


def draw(s: Session, draw_id: int) -> InspectionDraw | None:
    return s.get(InspectionDraw, draw_id)


def inspections_of(s: Session, draw_id: int) -> list[tuple[Inspection, str, str]]:
    """The inspections of a draw with the institutions' code and name, in drawn order."""
    query = (
        select(Inspection, Institution.code, Institution.name)
        .join(Institution, Institution.id == Inspection.institution_id)
        .where(Inspection.draw_id == draw_id)
        .order_by(Inspection.id)
    )
    return [tuple(r) for r in s.execute(query)]  # type: ignore[misc]


def inspection_at(s: Session, draw_id: int, institution_id: int) -> Inspection | None:
    query = select(Inspection).where(
        Inspection.draw_id == draw_id, Inspection.institution_id == institution_id
    )
    return s.scalars(query).one_or_none()


def add(s: Session, row: Any) -> None:
    s.add(row)
    s.flush()
