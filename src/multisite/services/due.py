"""Reminders (到期提醒): what falls due within a window of days — ``multisite due``.

Five kinds of item, each with the day it is due:

* ``contract_end``: an agreement's last day in force (its end, or the day it was terminated);
* ``filing_lapse``: the last day of a filing's validity (备案有效期), unless it was ended;
* ``suspension_end``: the last day of a suspension (暂停), unless the registration is cancelled
  by then;
* ``validation_apply``: the day an institution must apply for its licence validation
  (医疗机构校验申请): three months before the validation date that the validation-base report
  computes (:func:`~multisite.services.validation_base.next_validation`). An institution whose
  licence date is unknown has no such item;
* ``listing_end``: the last day of a credit listing (失信/黑名单).

An item is listed when its day is within ``[on, on + within]`` (both included), and nothing
else. ``due_items(..., institution=CODE)`` gives one institution's items (its contracts, its
filings, the suspensions of the physicians whose main institution it is, its validation, its
own listings): the calendar feed its HR office subscribes to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..domain import identifiers as ids
from ..domain.vocabulary import shipped
from ..i18n import N_, _
from ..storage import due as sq
from ..storage import queries as q
from . import Registry, ServiceError
from .validation_base import apply_by, next_validation

DEFAULT_WITHIN = 30
MAX_WITHIN = 3660
KINDS = {
    "contract_end": N_("contract ends"),
    "filing_lapse": N_("filing lapses"),
    "suspension_end": N_("suspension ends"),
    "validation_apply": N_("apply for validation"),
    "listing_end": N_("listing ends"),
}
DAY = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class DueItem:
    """One thing due on ``due``: what (``kind``), about whom or where, and its reference
    (contract number, filing or listing id, region, validation date)."""

    kind: str
    due: dt.date
    reference: str
    physician: str | None
    physician_name: str | None
    institution: str | None
    institution_name: str | None
    profession: str | None = None  # the practitioner's (physician / nurse), with ``physician``

    @property
    def label(self) -> str:
        return _(KINDS[self.kind])

    def describe(self, translate: Callable[[str], str] = _) -> str:
        """One sentence for a clerk (in the language of ``translate``)."""
        who = self.physician_name or self.institution_name or ""
        where = self.institution_name or ""
        texts = {
            "contract_end": N_("Contract {ref} of {who} at {where} ends on {due}."),
            "filing_lapse": N_("The filing of {who} at {where} lapses after {due}."),
            "suspension_end": N_("The suspension of {who} in {ref} ends on {due}."),
            "validation_apply": N_("{where} must apply by {due} for its validation on {ref}."),
            "listing_end": N_("Listing {ref} of {who} ends on {due}."),
        }
        return translate(texts[self.kind]).format(
            ref=self.reference, who=who, where=where, due=self.due.isoformat()
        )

    def uid(self) -> str:
        """A stable identifier (the VTODO's UID): kind, reference and subject."""
        subject = self.physician or self.institution or ""
        return f"due-{self.kind}-{self.reference}-{subject}@multisite"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "due": self.due.isoformat(),
            "reference": self.reference,
            "physician": self.physician,
            "physician_name": self.physician_name,
            "profession": self.profession,
            "institution": self.institution,
            "institution_name": self.institution_name,
            "message": self.describe(),
        }


def window(on: dt.date, within: int) -> tuple[dt.date, dt.date]:
    if not 0 <= within <= MAX_WITHIN:
        raise ServiceError(
            _("--within must be a number of days from 0 to {most}.").format(most=MAX_WITHIN)
        )
    return on, on + dt.timedelta(days=within)


def due_items(
    registry: Registry,
    within: int = DEFAULT_WITHIN,
    on: dt.date | None = None,
    institution: str | None = None,
) -> list[DueItem]:
    """Every item due from ``on`` (default today) to ``within`` days later, by day."""
    first, last = window(on or dt.date.today(), within)
    items: list[DueItem] = []
    with registry.db.read() as s:
        inst_id: int | None = None
        if institution is not None:
            inst = q.institution_by_code(s, ids.clean(institution))
            if inst is None:
                raise ServiceError(_("Unknown institution {code}.").format(code=institution))
            inst_id = inst.id
        for no, end, terminated, *about in sq.agreements_ending(s, first, last, inst_id):
            last_day = terminated if terminated is not None and terminated < end else end
            items.append(DueItem("contract_end", last_day, no, *about))
        for fid, valid_to, *about in sq.filings_lapsing(s, first, last, inst_id):
            items.append(DueItem("filing_lapse", valid_to, str(fid), *about))
        for _rid, region, until, *about in sq.suspensions_ending(s, first, last, inst_id):
            items.append(DueItem("suspension_end", until, region, *about))
        for lid, until, *about in sq.listings_ending(s, first, last, inst_id):
            items.append(DueItem("listing_end", until, str(lid), *about))
        institutions = sq.institutions_licensed(s, inst_id)
    vocabulary = shipped()
    for code, name, kind, beds, licensed_on in institutions:
        if licensed_on is None:
            continue
        entry = vocabulary.kind(kind)
        validation = next_validation(licensed_on, beds or 0, first, entry)
        while (applied := apply_by(validation)) <= last:
            if applied >= first:
                items.append(
                    DueItem(
                        "validation_apply", applied, validation.isoformat(), None, None, code, name
                    )
                )
            validation = next_validation(licensed_on, beds or 0, validation + DAY, entry)
    items.sort(key=lambda x: (x.due, list(KINDS).index(x.kind), x.reference, x.physician or ""))
    return items
