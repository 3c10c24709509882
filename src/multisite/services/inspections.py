"""Random inspections (双随机、一公开): inspectors drawn at random for institutions drawn at random.

The commission keeps a list of inspectors (``inspect inspectors add|list|disable``). A draw
(``inspect draw --institutions N --inspectors M [--seed S] [--region CODE]``) picks ``N``
institutions of the region and, for each, ``M`` of the active inspectors of the region, of the
regions that hold it (a province's inspectors inspect its counties) and of those within it, with Python's
``random.Random(seed)`` over the lists sorted by credit code and inspector id: the same seed on
the same lists gives the same draw. The seed (given, or 64 random bits), the region, who drew
and when are stored with the draw and in the audit log, in the same transaction. A clerk draws
only institutions of their own region (an admin anywhere): a draw that would pick one outside
it is refused as a whole, audited, and stores nothing. ``inspect
record`` stores each institution's result (date, outcome, findings), audited; the public pages
show recorded results where the province's policy ``publish_inspections`` holds (default).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from typing import Any

from ..domain import identifiers as ids
from ..domain.text import FREE_TEXT, NAME_TEXT
from ..i18n import N_, _
from ..storage import inspections as sq
from ..storage import queries as q
from ..storage.models import Inspection, InspectionDraw, Inspector, utcnow
from . import Registry, ServiceError, require_region_code
from .registry import stored_texts

OUTCOMES = {
    "compliant": N_("compliant"),
    "rectify": N_("ordered to rectify"),
    "non_compliant": N_("non-compliant"),
}
OUTCOME_WORDS = {"合格": "compliant", "责令整改": "rectify", "不合格": "non_compliant"}


@dataclass(frozen=True, slots=True)
class InspectorView:
    id: int
    name: str
    unit: str
    region: str
    active: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "unit": self.unit, "region": self.region,
                "active": self.active}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DrawnInspection:
    institution: str
    institution_name: str
    inspectors: tuple[InspectorView, ...]
    inspected_on: dt.date | None
    outcome: str | None
    findings: str

    def as_json(self) -> dict[str, Any]:
        return {
            "institution": self.institution,
            "institution_name": self.institution_name,
            "inspectors": [x.as_json() for x in self.inspectors],
            "inspected_on": self.inspected_on.isoformat() if self.inspected_on else None,
            "outcome": self.outcome,
            "findings": self.findings,
        }


@dataclass(frozen=True, slots=True)
class DrawView:
    id: int
    seed: str
    region: str | None
    drawn_at: dt.datetime
    drawn_by: str
    inspections: tuple[DrawnInspection, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seed": self.seed,
            "region": self.region,
            "drawn_at": self.drawn_at.isoformat(),
            "drawn_by": self.drawn_by,
            "inspections": [x.as_json() for x in self.inspections],
        }


def _view(x: Inspector) -> InspectorView:
    return InspectorView(x.id, x.name, x.unit, x.region_code, x.active)


def draw_lots(
    seed: str, institutions: list[str], inspectors: list[int], n: int, m: int
) -> list[tuple[str, list[int]]]:
    """The draw itself, pure: ``n`` of ``institutions`` and ``m`` of ``inspectors`` for each,
    from ``seed`` (the lists in the order given: sorted by the caller)."""
    rng = random.Random(seed)
    chosen = rng.sample(institutions, n)
    return [(code, sorted(rng.sample(inspectors, m))) for code in chosen]


class Inspections:
    """The inspectors list, draws and results of one registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.db = registry.db

    def add_inspector(self, name: str, unit: str, region: str) -> InspectorView:
        require_region_code(region)
        stored_texts(
            ("name", NAME_TEXT, _("The inspector's name"), name, "physician_name"),
            ("unit", NAME_TEXT, _("The inspector's unit"), unit, "institution_name"),
        )
        name, unit = name.strip(), unit.strip()
        if not name or not unit:
            raise ServiceError(_("An inspector needs a name and a unit."))
        with self.db.write() as s:
            if not self.registry.region_known(region):
                raise ServiceError(_("Unknown region {code}.").format(code=region))
            if sq.same_inspector(s, region, name, unit) is not None:
                raise ServiceError(
                    _("{name} of {unit} is already on the inspectors list.").format(
                        name=name, unit=unit
                    )
                )
            row = Inspector(name=name, unit=unit, region_code=region, active=True,
                            created_at=utcnow(), created_by=self.registry.clerk)  # fmt: skip
            sq.add(s, row)
            self.registry._audit(s, "create", "inspector", str(row.id), None, _view(row).as_json())
            return _view(row)

    def disable_inspector(self, inspector_id: int) -> InspectorView:
        with self.db.write() as s:
            row = sq.inspector(s, inspector_id)
            if row is None:
                raise ServiceError(_("Unknown inspector {id}.").format(id=inspector_id))
            before = _view(row).as_json()
            row.active = False
            s.flush()
            self.registry._audit(
                s, "disable", "inspector", str(row.id), before, _view(row).as_json()
            )
            return _view(row)

    def inspectors(self, region: str | None = None) -> list[InspectorView]:
        with self.db.read() as s:
            return [_view(x) for x in sq.inspectors(s, region)]

    def draw(
        self,
        institutions: int,
        inspectors: int,
        seed: str | None = None,
        region: str | None = None,
    ) -> DrawView:
        """Draw, store and audit: one transaction, nothing stored when the draw is impossible."""
        if institutions < 1 or inspectors < 1:
            raise ServiceError(_("A draw needs at least one institution and one inspector."))
        if region is not None:
            require_region_code(region)
        if seed is None:
            seed = str(secrets.randbits(64))
        seed = seed.strip()
        if not seed or len(seed) > 32 or not seed.isprintable():
            raise ServiceError(_("A seed is 1 to 32 printable characters."))
        with self.db.write() as s:
            places = sq.institution_codes(s, region)
            # the region's own inspectors, those of the regions around it and within it
            people = [
                p
                for p in sq.inspectors(s, None, active_only=True)
                if region is None
                or ids.region_contains(p.region_code, region)
                or ids.region_contains(region, p.region_code)
            ]
            where = region or _("the registry")
            if institutions > len(places):
                raise ServiceError(
                    _(
                        "Cannot draw {n} institutions: {region} has only {count}; nothing was "
                        "stored."
                    ).format(n=institutions, region=where, count=len(places))
                )
            if inspectors > len(people):
                raise ServiceError(
                    _(
                        "Cannot draw {n} inspectors: {region} has only {count} active on the "
                        "list; nothing was stored."
                    ).format(n=inspectors, region=where, count=len(people))
                )
            by_code = {code: (iid, name) for iid, code, name in places}
            lots = draw_lots(
                seed, [c for _i, c, _n in places], [p.id for p in people], institutions,
                inspectors,
            )  # fmt: skip
            for code, _chosen in lots:  # a clerk draws only among their region's institutions
                self.registry._guard(s, "inspection_draw", seed[:64], institution=code)
            row = InspectionDraw(seed=seed, region_code=region, institutions=institutions,
                                 inspectors=inspectors, drawn_at=utcnow(),
                                 drawn_by=self.registry.clerk)  # fmt: skip
            sq.add(s, row)
            for code, chosen in lots:
                s.add(Inspection(draw_id=row.id, institution_id=by_code[code][0],
                                 inspector_ids=chosen))  # fmt: skip
            s.flush()
            self.registry._audit(
                s, "draw", "inspection_draw", str(row.id), None,
                {"seed": seed, "region": region, "institutions": [c for c, _x in lots],
                 "inspectors": [x for _c, x in lots], "drawn_at": row.drawn_at.isoformat()},
            )  # fmt: skip
            return self._draw_view(s, row)

    def show(self, draw_id: int) -> DrawView:
        with self.db.read() as s:
            row = sq.draw(s, draw_id)
            if row is None:
                raise ServiceError(_("Unknown draw {id}.").format(id=draw_id))
            return self._draw_view(s, row)

    def record(
        self, draw_id: int, institution: str, on: dt.date, outcome: str, findings: str = ""
    ) -> DrawnInspection:
        """Store the result of the drawn institution's inspection, audited. A result already
        published (recorded while the province's policy has ``publish_inspections``) stands:
        recording another over it is refused and stores nothing — the registry has no
        correction of a published result. One not published may be replaced (both audited)."""
        key = OUTCOME_WORDS.get(outcome.strip(), outcome.strip())
        if key not in OUTCOMES:
            raise ServiceError(
                _("The outcome must be one of {choices}.").format(
                    choices=", ".join([*OUTCOMES, *OUTCOME_WORDS])
                )
            )
        stored_texts(("findings", FREE_TEXT, _("The findings"), findings, "free_text"))
        if on > dt.date.today():  # a result is of an inspection done: it is published as such
            raise ServiceError(
                _("The inspection on {on} has not happened yet: record its result once it has.")
                .format(on=on.isoformat())
            )  # fmt: skip
        with self.db.write() as s:
            row = sq.draw(s, draw_id)
            if row is None:
                raise ServiceError(_("Unknown draw {id}.").format(id=draw_id))
            code = ids.clean(institution)
            place = q.institution_by_code(s, code)
            found = sq.inspection_at(s, draw_id, place.id) if place else None
            if found is None:
                raise ServiceError(
                    _("Institution {code} was not drawn in draw {id}.").format(
                        code=institution, id=draw_id
                    )
                )
            assert place is not None
            province = ids.province_of(place.county_code)
            if (
                found.outcome is not None
                and self.registry.policy_in(s, province).publish_inspections
            ):
                raise ServiceError(
                    _(
                        "The result of draw {id}'s inspection of {name} ({code}) is published "
                        "already ({outcome}, inspected on {on}): a published result is not "
                        "replaced, and nothing was stored."
                    ).format(
                        id=draw_id, name=place.name, code=code,
                        outcome=_(OUTCOMES.get(found.outcome, found.outcome)),
                        on=found.inspected_on.isoformat() if found.inspected_on else "-",
                    )
                )  # fmt: skip
            if on < row.drawn_at.date():
                raise ServiceError(
                    _("The inspection on {on} would come before its draw on {drawn}.").format(
                        on=on.isoformat(), drawn=row.drawn_at.date().isoformat()
                    )
                )
            before = {"inspected_on": found.inspected_on.isoformat() if found.inspected_on
                      else None, "outcome": found.outcome, "findings": found.findings}  # fmt: skip
            found.inspected_on, found.outcome, found.findings = on, key, findings.strip()
            found.recorded_at, found.recorded_by = utcnow(), self.registry.clerk
            s.flush()
            self.registry._audit(
                s, "record", "inspection", str(found.id), before,
                {"draw": draw_id, "inspected_on": on.isoformat(), "outcome": key,
                 "findings": found.findings},
                institution=code,
            )  # fmt: skip
            view = self._draw_view(s, row)
            return next(x for x in view.inspections if x.institution == code)

    def _draw_view(self, s: Any, row: InspectionDraw) -> DrawView:
        people = {x.id: _view(x) for x in sq.inspectors(s, None)}
        return DrawView(
            row.id, row.seed, row.region_code, row.drawn_at, row.drawn_by,
            tuple(
                DrawnInspection(code, name, tuple(people[i] for i in x.inspector_ids),
                                x.inspected_on, x.outcome, x.findings)
                for x, code, name in sq.inspections_of(s, row.id)
            ),
        )  # fmt: skip
