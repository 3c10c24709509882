"""Filings (备案) as a lifecycle: filed, extended, renewed, ended — each step audited.

A contract's save files, extends or renews the filing it needs (``domain.filings.plan``,
applied here by :meth:`Filings._apply_filing` in the saving transaction). The clerk renews a
filing explicitly (``filing renew``: needed after ``filing end`` or a decision, 撤销) and ends
one (``filing end``); the agreements at that institution past its end then fail PERIOD,
which the change returns so the clerk sees it at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.filings import DAY, EXTEND, FILE, RENEW, FilingPlan
from ..domain.filings import state as filing_state
from ..domain.text import FREE_TEXT, IDENTIFIER_TEXT
from ..i18n import N_, _
from ..storage import batch as store
from ..storage import bulk
from ..storage import queries as q
from ..storage.audit import audit_row, snapshot
from ..storage.models import Filing, FilingEvent, Physician
from .registry import RegistryCore, ServiceError, stored_texts

# A filing's state on a day, and the actions of its history.
STATES = (N_("in force"), N_("not yet valid"), N_("lapsed"), N_("ended"))
ACTIONS = {FILE: N_("filed"), EXTEND: N_("extended"), RENEW: N_("renewed"), "end": N_("ended")}
AUDIT_ACTIONS = {FILE: "create", EXTEND: N_("extend"), RENEW: N_("renew"), "end": N_("end")}


@dataclass(frozen=True, slots=True)
class FilingEventView:
    action: str  # filed / extended / renewed / ended
    on: dt.date
    valid_from: dt.date
    valid_to: dt.date
    authority: str
    number: str
    reason: str
    contract_no: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "on": self.on.isoformat(),
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "authority": self.authority,
            "number": self.number,
            "reason": self.reason,
            "contract_no": self.contract_no,
        }


@dataclass(frozen=True, slots=True)
class FilingView:
    """备案 of a physician at an institution, with its history."""

    id: int
    cert: str
    institution_code: str
    institution_name: str
    region: str  # of the registration it is filed under
    scope: str
    valid_from: dt.date
    valid_to: dt.date
    authority: str
    filed_on: dt.date | None
    number: str
    ended_on: dt.date | None
    end_reason: str
    history: tuple[FilingEventView, ...]

    def state_on(self, day: dt.date) -> str:
        """in force, not yet valid, lapsed or ended — by date (``domain.filings.state``)."""
        return filing_state(self.valid_from, self.valid_to, self.ended_on, day)

    def as_json(self, today: dt.date | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "physician": self.cert,
            "institution": {"code": self.institution_code, "name": self.institution_name},
            "region": self.region,
            "scope": self.scope,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat(),
            "authority": self.authority,
            "filed_on": self.filed_on.isoformat() if self.filed_on else None,
            "number": self.number,
            "ended_on": self.ended_on.isoformat() if self.ended_on else None,
            "end_reason": self.end_reason,
            "state": self.state_on(today or dt.date.today()),
            "history": [e.as_json() for e in self.history],
        }


@dataclass(frozen=True, slots=True)
class FilingChange:
    """A filing renewed or ended, with the PERIOD violations on file it leaves (agreements at
    that institution outside every filing)."""

    filing: FilingView
    violations: tuple[rules.Violation, ...]


def describe(planned: FilingPlan) -> str:
    """What a save will do to the filing, in one sentence (the preview, a dry run)."""
    texts = {
        FILE: _("This will file {contract} at {institution} from {start} until {end}."),
        EXTEND: _("This will extend the filing at {institution} to {start} until {end}."),
        RENEW: _("This will renew the lapsed filing at {institution} until {end}."),
    }
    return _filing_text(texts[planned.action], planned)


def done(planned: FilingPlan) -> str:
    """What a save did to the filing, in one sentence (the result, an import's report)."""
    texts = {
        FILE: _("Filed {contract} at {institution} from {start} until {end}."),
        EXTEND: _("Extended the filing at {institution} to {start} until {end}."),
        RENEW: _("Renewed the lapsed filing at {institution} until {end}."),
    }
    return _filing_text(texts[planned.action], planned)


def _filing_text(text: str, planned: FilingPlan) -> str:
    return text.format(
        contract=planned.contract_no,
        institution=planned.institution_name,
        start=planned.valid_from.isoformat(),
        end=planned.valid_to.isoformat(),
    )


class _Who(NamedTuple):
    id: int
    cert_no: str


@dataclass
class FilingWrites:
    """The filings of a batch's saves, read and numbered (``Filings._filing_writes``):
    ``created`` new filings (plan, physician, registration id) with their ``ids``, ``changed``
    stored ones extended or renewed (stored already)."""

    created: list[tuple[FilingPlan, _Who, int]]
    changed: list[tuple[FilingPlan, _Who, store.StoredFiling]]
    ids: list[int]
    now: dt.datetime

    def build(
        self, clerk: str, audits: list[dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The new filings' rows and every filing's history step (file, extend, renew); the
        audit row of each step is appended to ``audits``."""
        now, today = self.now, self.now.date()
        filings: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []

        def record(filing_id: int, p: FilingPlan, who: _Who, start: dt.date, end: dt.date,
                   before: dict[str, Any] | None) -> None:  # fmt: skip
            events.append({
                "filing_id": filing_id, "action": ACTIONS[p.action], "on": today,
                "valid_from": start, "valid_to": end, "authority": "", "number": "",
                "reason": "", "contract_no": p.contract_no, "recorded_at": now,
            })  # fmt: skip
            after = {"institution_id": p.institution_id, "valid_from": start.isoformat(),
                     "valid_to": end.isoformat(), "action": ACTIONS[p.action],
                     "contract_no": p.contract_no}  # fmt: skip
            audits.append(
                audit_row(clerk, AUDIT_ACTIONS[p.action], "filing", str(filing_id),
                          before, after, physician=who.cert_no,
                          institution=p.institution_code, at=now)
            )  # fmt: skip

        for filing_id, (p, who, rid) in zip(self.ids, self.created, strict=True):
            filings.append({
                "id": filing_id, "registration_id": rid, "institution_id": p.institution_id,
                "scope": p.scope, "valid_from": p.valid_from, "valid_to": p.valid_to,
                "authority": "", "filed_on": today, "number": "", "ended_on": None,
                "end_reason": "",
            })  # fmt: skip
            record(filing_id, p, who, p.valid_from, p.valid_to, None)
        for p, who, old in self.changed:
            before = {
                "valid_from": old.valid_from.isoformat(),
                "valid_to": old.valid_to.isoformat(),
            }
            start, end = min(old.valid_from, p.valid_from), max(old.valid_to, p.valid_to)
            record(old.id, p, who, start, end, before)
        return filings, events


class Filings(RegistryCore):
    def filings(self, cert: str) -> list[FilingView]:
        """Every filing of a physician, newest validity last per institution."""
        with self.db.read() as s:
            phys = q.physician_by_cert(s, ids.clean(cert))
            if phys is None:
                raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
            return _views(s, phys)

    def renew_filing(
        self,
        cert: str,
        institution: str,
        until: dt.date,
        *,
        authority: str | None = None,
        number: str | None = None,
        start: dt.date | None = None,
    ) -> FilingChange:
        """Renew the physician's filing at ``institution`` until ``until``.

        A filing not ended is made valid until then (it may have lapsed); an ended one (a
        decision, 撤销, or ``filing end``) gets a new filing from ``start`` (default: the day
        after it ended).
        """
        stored_texts(
            ("authority", FREE_TEXT, _("The authority"), authority, "free_text"),
            ("number", IDENTIFIER_TEXT, _("The filing's number"), number, "filing_number"),
        )
        with self.db.write() as s:
            phys, filing = self._newest(s, cert, institution)
            if filing.ended_on is None:
                if until < filing.valid_from:
                    raise ServiceError(
                        _(
                            "The renewal until {until} ends before the filing at {institution} "
                            "starts on {start}."
                        ).format(
                            until=until.isoformat(), institution=institution,
                            start=filing.valid_from.isoformat(),
                        )
                    )  # fmt: skip
                if until <= filing.valid_to:
                    raise ServiceError(
                        _("The filing at {institution} is already valid until {valid_to}.").format(
                            institution=institution, valid_to=filing.valid_to.isoformat()
                        )
                    )
                if start is not None and start != filing.valid_from:
                    raise ServiceError(
                        _(
                            "The filing at {institution} is not ended: a renewal keeps its "
                            "start ({start}); leave out --from."
                        ).format(institution=institution, start=filing.valid_from.isoformat())
                    )
                before = snapshot(filing)
                filing.valid_to = until
            else:
                first = start or filing.ended_on + DAY
                if until < first:
                    raise ServiceError(
                        _(
                            "The renewal until {until} ends before the renewed filing at "
                            "{institution} starts on {start}."
                        ).format(
                            until=until.isoformat(), institution=institution,
                            start=first.isoformat(),
                        )
                    )  # fmt: skip
                if first <= filing.ended_on:
                    raise ServiceError(
                        _(
                            "The filing at {institution} was ended on {ended}: its renewal "
                            "starts after that day."
                        ).format(institution=institution, ended=filing.ended_on.isoformat())
                    )
                before = None
                filing = Filing(
                    registration_id=filing.registration_id,
                    institution_id=filing.institution_id,
                    scope=filing.scope,
                    valid_from=first,
                    valid_to=until,
                )
                s.add(filing)
            if authority is not None:
                filing.authority = authority.strip()
            if number is not None:
                filing.number = number.strip()
            filing.filed_on = dt.date.today()
            s.flush()
            self._event(s, phys, filing, RENEW, filing.filed_on, before)
            return FilingChange(self._view(s, phys, filing), self._period_violations(s, phys))

    def end_filing(self, cert: str, institution: str, on: dt.date, reason: str) -> FilingChange:
        """End the physician's filing at ``institution`` on ``on`` (its last day)."""
        if not reason.strip():
            raise ServiceError(_("Ending a filing needs a reason."))
        stored_texts(("reason", FREE_TEXT, _("The reason"), reason, "free_text"))
        with self.db.write() as s:
            phys, filing = self._newest(s, cert, institution)
            if filing.ended_on is not None:
                raise ServiceError(
                    _("The filing at {institution} already ended on {ended}.").format(
                        institution=institution, ended=filing.ended_on.isoformat()
                    )
                )
            if on < filing.valid_from:
                raise ServiceError(
                    _(
                        "The filing at {institution} starts on {start}: it cannot end on {on}, "
                        "before that."
                    ).format(
                        institution=institution, start=filing.valid_from.isoformat(),
                        on=on.isoformat(),
                    )
                )  # fmt: skip
            before = snapshot(filing)
            filing.ended_on = on
            filing.valid_to = min(filing.valid_to, on)
            filing.end_reason = reason.strip()
            s.flush()
            self._event(s, phys, filing, "end", on, before, reason=reason.strip())
            return FilingChange(self._view(s, phys, filing), self._period_violations(s, phys))

    # -- the write path's part: a contract's save files, extends or renews --

    def _filing_writes(
        self, s: Session, plans: list[tuple[FilingPlan, _Who]], now: dt.datetime
    ) -> FilingWrites:
        """The filings a batch's saves planned (``domain.filings.plan``), ready to be stored:
        the registrations and stored filings read, the new filings' ids drawn and the stored
        ones extended or renewed (executemany) — every statement of the write but the
        inserts, so that the writer may build the rows (:meth:`FilingWrites.build`) while the
        database stores what it sent before (``storage.bulk``)."""
        if not plans:
            return FilingWrites([], [], [], now)
        regs, stored = store.registrations_and_filings(s, sorted({who.id for _p, who in plans}))
        created: list[tuple[FilingPlan, _Who, int]] = []
        changed: list[tuple[FilingPlan, _Who, store.StoredFiling]] = []
        for planned, who in plans:
            rid = next(r for r, region in regs[who.id] if region == planned.region_code)
            old = stored.get((rid, planned.institution_id))
            if planned.action == FILE or old is None:
                created.append((planned, who, rid))
            else:
                changed.append((planned, who, old))
        ids = store.filing_ids(s, len(created))
        store.widen_filings(
            s,
            [
                (old.id, min(old.valid_from, p.valid_from), max(old.valid_to, p.valid_to))
                for p, _who, old in changed
            ],
        )
        return FilingWrites(created, changed, ids, now)

    def _store_filings(
        self, s: Session, rows: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    ) -> None:
        """Insert the new filings and every filing's history step (:meth:`FilingWrites.build`)."""
        filings, events = rows
        store.insert_filings(s, filings)
        bulk.insert_rows(s, FilingEvent, events)

    # -- shared --

    def _newest(self, s: Session, cert: str, institution: str) -> tuple[Physician, Filing]:
        phys = q.physician_by_cert(s, ids.clean(cert), lock=True)
        if phys is None:
            raise ServiceError(_("Unknown physician {cert}.").format(cert=cert))
        inst = q.institution_by_code(s, ids.clean(institution))
        if inst is None:
            raise ServiceError(_("Unknown institution {code}.").format(code=institution))
        self._guard(s, "filing", phys.cert_no, physician=phys.cert_no, institution=inst.code)
        found = [
            f
            for r in q.registrations_of(s, phys.id)
            for f in r.filings
            if f.institution_id == inst.id
        ]
        if not found:
            raise ServiceError(
                _(
                    "{cert} has no filing at {institution}: saving a contract there files it."
                ).format(cert=phys.cert_no, institution=inst.name)
            )
        return phys, max(found, key=lambda f: (f.valid_to, f.valid_from, f.id))

    def _event(
        self,
        s: Session,
        phys: Physician,
        filing: Filing,
        action: str,
        on: dt.date,
        before: dict[str, Any] | None,
        *,
        reason: str = "",
        contract: str | None = None,
    ) -> None:
        s.add(
            FilingEvent(
                filing_id=filing.id,
                action=ACTIONS[action],
                on=on,
                valid_from=filing.valid_from,
                valid_to=filing.valid_to,
                authority=filing.authority,
                number=filing.number,
                reason=reason,
                contract_no=contract,
            )
        )
        inst = q.institutions_by_id(s, [filing.institution_id])[filing.institution_id]
        after = snapshot(filing) | {"action": ACTIONS[action]}
        if contract:
            after["contract_no"] = contract
        self._audit(
            s, AUDIT_ACTIONS[action], "filing", str(filing.id), before, after,
            physician=phys.cert_no, institution=inst.code,
        )  # fmt: skip

    def _view(self, s: Session, phys: Physician, filing: Filing) -> FilingView:
        s.flush()
        s.refresh(filing)
        return next(v for v in _views(s, phys) if v.id == filing.id)

    def _period_violations(self, s: Session, phys: Physician) -> tuple[rules.Violation, ...]:
        found = self.evaluate_fully(q.physician_fact(s, phys))
        return tuple(v for v in found if v.code == "PERIOD")


def _views(s: Session, phys: Physician) -> list[FilingView]:
    regs = q.registrations_of(s, phys.id)
    filings = [(r.region_code, f) for r in regs for f in r.filings]
    places = q.institutions_by_id(s, [f.institution_id for _r, f in filings])
    out = [
        FilingView(
            f.id, phys.cert_no, places[f.institution_id].code, places[f.institution_id].name,
            region, f.scope, f.valid_from, f.valid_to, f.authority, f.filed_on, f.number,
            f.ended_on, f.end_reason,
            tuple(
                FilingEventView(
                    e.action, e.on, e.valid_from, e.valid_to, e.authority, e.number, e.reason,
                    e.contract_no,
                )
                for e in f.events
            ),
        )
        for region, f in filings
    ]  # fmt: skip
    out.sort(key=lambda v: (v.institution_code, v.valid_from, v.id))
    return out
