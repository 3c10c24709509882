"""The credit register (诚信/黑名单): dated listings of physicians and institutions on the
dishonesty list, and points for misconduct (不良执业行为记分).

A listing is a decision of an authority: it is recorded whatever it does to the agreements
on file, and the CREDIT rule then applies to the days it covers — nothing before it. What the
new listing makes wrong is returned with it (the agreements in force while listed), so the
clerk sees it at once; ``check`` reports it from then on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.inputs import UNKNOWN, ListingInput
from ..domain.text import FREE_TEXT, IDENTIFIER_TEXT
from ..i18n import _
from ..storage import credit as credit_store
from ..storage import queries as q
from ..storage.audit import snapshot
from ..storage.models import CreditListing, CreditPoints, Physician
from .registry import (
    Abandon,
    BatchResult,
    Commit,
    FieldError,
    RegistryCore,
    ServiceError,
    checked_rows,
    stored_texts,
)

SUBJECTS = ("physician", "institution")
# One record's points: a scoring cycle is 12; the bound keeps a typo (or a number past the
# database's integer) a sentence instead of an internal error.
MAX_POINTS = 100


@dataclass(frozen=True, slots=True)
class ListingView:
    """失信/黑名单: one dated listing as a clerk reads it."""

    id: int
    subject: str  # physician / institution
    key: str  # certificate number or credit code
    name: str
    start: dt.date
    until: dt.date | None
    reason: str
    authority: str
    decision: str
    profession: str | None = None  # a listed practitioner's: physician / nurse

    def in_force_on(self, day: dt.date) -> bool:
        return self.start <= day and (self.until is None or day <= self.until)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "subject": self.subject,
            "profession": self.profession,
            "key": self.key,
            "name": self.name,
            "from": self.start.isoformat(),
            "to": self.until.isoformat() if self.until else None,
            "reason": self.reason,
            "authority": self.authority,
            "decision": self.decision,
        }


@dataclass(frozen=True, slots=True)
class PointsView:
    """不良执业行为记分: points recorded against a physician."""

    id: int
    cert: str
    name: str
    on: dt.date
    points: int
    reason: str
    authority: str
    decision: str
    profession: str = "physician"  # or nurse

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "physician": self.cert,
            "profession": self.profession,
            "name": self.name,
            "on": self.on.isoformat(),
            "points": self.points,
            "reason": self.reason,
            "authority": self.authority,
            "decision": self.decision,
        }


@dataclass(frozen=True, slots=True)
class CreditRecord:
    """The listings and points on file (for one physician or institution, or all)."""

    listings: tuple[ListingView, ...]
    points: tuple[PointsView, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "listings": [x.as_json() for x in self.listings],
            "points": [x.as_json() for x in self.points],
        }


@dataclass(frozen=True, slots=True)
class ListingChange:
    """A listing recorded or ended, with the CREDIT violations it leaves on file."""

    listing: ListingView
    outcome: str  # created / updated / unchanged
    violations: tuple[rules.Violation, ...]


def check_listing(data: ListingInput) -> None:
    """The fields of a listing, or one sentence naming the wrong one (FieldError)."""
    if data.subject not in SUBJECTS:
        raise FieldError(
            _("A listing names a physician or an institution, not {subject}.").format(
                subject=data.subject
            ),
            "cert",
        )
    if data.until is not None and data.until < data.start:
        raise FieldError(
            _("The listing ends on {until}, before it begins on {start}.").format(
                until=data.until.isoformat(), start=data.start.isoformat()
            ),
            "to",
        )
    if not data.reason.strip():
        raise FieldError(_("A listing needs a reason."), "reason")
    if not data.authority.strip():
        raise FieldError(_("A listing needs the authority that decided it."), "authority")
    _decision_texts(data.reason, data.authority, data.decision)


def _decision_texts(reason: str, authority: str, decision: str) -> None:
    """The free texts of a listing or of points, checked as every stored text is."""
    stored_texts(
        ("reason", FREE_TEXT, _("The reason"), reason, "free_text"),
        ("authority", FREE_TEXT, _("The authority"), authority, "free_text"),
        ("decision", IDENTIFIER_TEXT, _("The decision number"), decision, "decision"),
    )


class Credit(RegistryCore):
    def add_listing(self, data: ListingInput) -> ListingChange:
        """Record a listing (the same subject, start, authority and decision again changes
        its end and reason instead of adding a second)."""
        check_listing(data)
        with self.db.write() as s:
            row, outcome = self._store_listing(s, data)
            assert row is not None
            return ListingChange(_view(s, row), outcome, self._credit_violations(s, row))

    def save_listings(
        self, items: Iterable[tuple[int, ListingInput]], *, commit: Commit = "all"
    ) -> BatchResult:
        """Record many listings in one transaction (an import of a listing file); ``items``
        are (row, input). A row equal to what is stored is ``unchanged``; each stored row is
        told the CREDIT violations it leaves on file (warnings)."""
        result = BatchResult()

        def check(row: int, data: ListingInput) -> tuple[str, ListingInput]:
            check_listing(data)
            key = (data.subject, ids.clean(data.key), data.start, data.authority.strip(),
                   data.decision.strip())  # fmt: skip
            return repr(key), data

        def duplicate(_key: str, row: int) -> str:
            return _("The same listing already appears on row {row} of this file.").format(row=row)

        checked = list(checked_rows(items, result, check, "from", duplicate))
        with self._batch_session(commit) as s:
            for row, _key, data in checked:
                try:
                    stored, outcome = self._store_listing(s, data, write=commit != "none")
                except FieldError as error:
                    result.reject(row, error.field, error.code, str(error))
                    continue
                result.count(row, outcome)
                if stored is not None and outcome != "unchanged":
                    for v in self._credit_violations(s, stored):
                        result.warn(row, "from", v.code, v.message, v)
            if commit != "none" and not result.may_store(commit):
                raise Abandon  # all or nothing: a rejected row takes the rest back with it
            result.committed = commit != "none"
        return result

    def _store_listing(
        self, s: Session, data: ListingInput, *, write: bool = True
    ) -> tuple[CreditListing | None, str]:
        """Store one listing (or, not ``write``, say what storing it would do)."""
        physician_id, institution_id = _subject(s, data.subject, data.key, lock=write)
        if write:
            key = ids.clean(data.key)
            self._guard(
                s, "credit_listing", key, physician=key if physician_id else None,
                institution=key if institution_id else None,
            )  # fmt: skip
        same = credit_store.same_listing(
            s, physician_id, institution_id, data.start, data.authority.strip(),
            data.decision.strip(),
        )  # fmt: skip
        values = {"until": data.until, "reason": data.reason.strip()}
        cert, code = _keys(data)
        if same is not None:
            if all(getattr(same, k) == v for k, v in values.items()):
                return same, "unchanged"
            if not write:
                return None, "updated"
            before = snapshot(same)
            for k, v in values.items():
                setattr(same, k, v)
            s.flush()
            self._audit(
                s, "update", "credit_listing", str(same.id), before, snapshot(same),
                physician=cert, institution=code,
            )  # fmt: skip
            return same, "updated"
        if not write:
            return None, "created"
        row = CreditListing(
            physician_id=physician_id,
            institution_id=institution_id,
            start=data.start,
            authority=data.authority.strip(),
            decision=data.decision.strip(),
            **values,
        )
        s.add(row)
        s.flush()
        self._audit(
            s, "create", "credit_listing", str(row.id), None, snapshot(row),
            physician=cert, institution=code,
        )  # fmt: skip
        return row, "created"

    def end_listing(self, listing_id: int, on: dt.date) -> ListingChange:
        """The listing's last day is ``on``."""
        with self.db.write() as s:
            row = s.get(CreditListing, listing_id)
            if row is None:
                raise ServiceError(_("Unknown listing {id}.").format(id=listing_id))
            if on < row.start:
                raise ServiceError(
                    _("The listing would end on {on}, before it begins on {start}.").format(
                        on=on.isoformat(), start=row.start.isoformat()
                    )
                )
            if row.until is not None and row.until <= on:
                raise ServiceError(
                    _("Listing {id} already ends on {until}.").format(
                        id=listing_id, until=row.until.isoformat()
                    )
                )
            before = snapshot(row)
            row.until = on
            s.flush()
            view = _view(s, row)
            self._audit(
                s, "end", "credit_listing", str(row.id), before, snapshot(row),
                physician=view.key if view.subject == "physician" else None,
                institution=view.key if view.subject == "institution" else None,
            )  # fmt: skip
            return ListingChange(view, "updated", self._credit_violations(s, row))

    def add_points(
        self,
        cert: str,
        on: dt.date,
        points: int,
        reason: str,
        authority: str,
        decision: str = "",
    ) -> PointsView:
        """不良执业行为记分: record points against a physician."""
        if points <= 0:
            raise ServiceError(_("Points must be a whole number above 0."))
        if points > MAX_POINTS:  # 99999999999999999999 was an internal error
            raise ServiceError(
                _("Points must be at most {most} in one record.").format(most=MAX_POINTS)
            )
        if not reason.strip():
            raise ServiceError(_("Points need a reason."))
        if not authority.strip():
            raise ServiceError(_("Points need the authority that recorded them."))
        _decision_texts(reason, authority, decision)
        with self.db.write() as s:
            physician_id, _none = _subject(s, "physician", cert, lock=True)
            self._guard(s, "credit_points", ids.clean(cert), physician=ids.clean(cert))
            assert physician_id is not None
            row = CreditPoints(
                physician_id=physician_id,
                on=on,
                points=points,
                reason=reason.strip(),
                authority=authority.strip(),
                decision=decision.strip(),
            )
            s.add(row)
            s.flush()
            phys = s.get(Physician, physician_id)
            assert phys is not None
            self._audit(
                s, "create", "credit_points", str(row.id), None, snapshot(row),
                physician=phys.cert_no,
            )  # fmt: skip
            return PointsView(
                row.id, phys.cert_no, phys.name, row.on, row.points, row.reason, row.authority,
                row.decision, phys.profession,
            )  # fmt: skip

    def credit_record(
        self, physician: str | None = None, institution: str | None = None
    ) -> CreditRecord:
        """The listings and points of a physician, of an institution, or of everyone."""
        with self.db.read() as s:
            physician_id = _subject(s, "physician", physician)[0] if physician is not None else None
            institution_id = (
                _subject(s, "institution", institution)[1] if institution is not None else None
            )
            found, scored = credit_store.record(
                s, physician_id, institution_id,
                everyone=physician is None and institution is None,
            )  # fmt: skip
            people = credit_store.physician_names(s, [r.physician_id for r in found])
            places = credit_store.institution_names(s, [r.institution_id for r in found])
            people.update(credit_store.physician_names(s, [r.physician_id for r in scored]))
            trades = credit_store.professions(s, people)
            return CreditRecord(
                tuple(_view_of(r, people, places, trades) for r in found),
                tuple(_points_view(r, people, trades) for r in scored),
            )

    def _credit_violations(self, s: Session, row: CreditListing) -> tuple[rules.Violation, ...]:
        """The CREDIT violations on file of the physicians the listing concerns."""
        s.flush()
        if row.physician_id is not None:
            concerned = [row.physician_id]
        else:
            assert row.institution_id is not None
            concerned = q.physician_ids_at(s, row.institution_id)
        found = [
            v
            for facts in q.all_physician_facts(s, concerned)
            for v in self.evaluate_fully(facts)
            if v.code == "CREDIT"
        ]
        return tuple(found)


def _keys(data: ListingInput) -> tuple[str | None, str | None]:
    key = ids.clean(data.key)
    return (key, None) if data.subject == "physician" else (None, key)


def _subject(
    s: Session, subject: str, key: str, *, lock: bool = False
) -> tuple[int | None, int | None]:
    """(physician id, None) or (None, institution id) of a listing's subject."""
    if subject == "physician":
        phys = q.physician_by_cert(s, ids.clean(key), lock=lock)
        if phys is None:
            raise FieldError(_("Unknown physician {cert}.").format(cert=key), "cert", UNKNOWN)
        return phys.id, None
    inst = q.institution_by_code(s, ids.clean(key))
    if inst is None:
        raise FieldError(_("Unknown institution {code}.").format(code=key), "institution", UNKNOWN)
    return None, inst.id


def _view_of(
    row: CreditListing,
    people: dict[int, tuple[str, str]],
    places: dict[int, tuple[str, str]],
    trades: dict[int, str],
) -> ListingView:
    profession = None
    if row.physician_id is not None:
        subject, (key, name) = "physician", people[row.physician_id]
        profession = trades.get(row.physician_id, "physician")
    else:
        assert row.institution_id is not None
        subject, (key, name) = "institution", places[row.institution_id]
    return ListingView(
        row.id, subject, key, name, row.start, row.until, row.reason, row.authority, row.decision,
        profession,
    )  # fmt: skip


def _points_view(
    row: CreditPoints, people: dict[int, tuple[str, str]], trades: dict[int, str]
) -> PointsView:
    cert, name = people[row.physician_id]
    return PointsView(
        row.id, cert, name, row.on, row.points, row.reason, row.authority, row.decision,
        trades.get(row.physician_id, "physician"),
    )  # fmt: skip


def _view(s: Session, row: CreditListing) -> ListingView:
    people = credit_store.physician_names(s, [row.physician_id])
    places = credit_store.institution_names(s, [row.institution_id])
    return _view_of(row, people, places, credit_store.professions(s, people))
