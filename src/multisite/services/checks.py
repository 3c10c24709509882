"""The region sweep (``multisite check``): every rule over the stored region."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ..domain import identifiers as ids
from ..domain import rules
from ..domain.sweep import FullCheck, SweepAgreement, Sweeper, candidates
from ..i18n import _
from ..storage import Database
from ..storage import queries as q
from ..storage import sweep as sweep_queries
from .registry import (
    RegistryCore,
    ServiceError,
)


class Checks(RegistryCore):
    def check(
        self, physician: str | None = None, institution: str | None = None
    ) -> list[rules.Violation]:
        """Sweep the region (or one physician / one institution's physicians) for violations,
        each agreement under the policy of its province."""
        calendar = self.holiday_calendar()
        context_for = self.contexts(calendar)
        with self.db.read() as s:
            selected: Iterable[int]
            if physician:
                phys = q.physician_by_cert(s, ids.clean(physician))
                if phys is None:
                    raise ServiceError(_("Unknown physician {cert}.").format(cert=physician))
                selected = [phys.id]
            elif institution:
                inst = q.institution_by_code(s, ids.clean(institution))
                if inst is None:
                    raise ServiceError(_("Unknown institution {code}.").format(code=institution))
                selected = q.physician_ids_at(s, inst.id)
            else:
                sites = sweep_queries.sites(s)
                buffers = set(self._buffers)
                sweeper = ProvincialSweeper(
                    lambda province: Sweeper(context_for(province), sites, buffers, calendar.known)
                )
                selected = sweep_candidates(self.db, s, sweeper, sweep_queries.always_full(s))
            found: list[rules.Violation] = []
            for facts in q.all_physician_facts(s, selected):
                found.extend(self.evaluate_fully(facts, context_for))
            if institution:
                code = ids.clean(institution)
                found = [v for v in found if code in v.institutions or not v.institutions]
            return found


class ProvincialSweeper:
    """The sweep's shortcut under the policy of each physician's province: a physician the
    shortcut tests has one registration (several are always evaluated in full), whose
    region is on each of their agreement rows."""

    def __init__(self, make: Callable[[str], Sweeper]) -> None:
        self._make = make
        self._sweepers: dict[str, Sweeper] = {}

    def needs_full_check(self, rows: Sequence[SweepAgreement]) -> bool:
        province = ids.province_of(rows[0].region)
        sweeper = self._sweepers.get(province)
        if sweeper is None:
            sweeper = self._sweepers[province] = self._make(province)
        return sweeper.needs_full_check(rows)


PARALLEL_SWEEP = 50_000  # agreements from which the sweep's two halves run in two processes


def sweep_candidates(db: Database, s: Session, sweeper: FullCheck, always: set[int]) -> list[int]:
    """The physicians the region sweep must evaluate in full.

    From ``PARALLEL_SWEEP`` agreements on (and where ``fork`` exists), the physicians are split
    in two by id and a forked process reads and tests the upper half on its own connection
    while this one does the lower half: the sweep is CPU-bound Python, and a province's
    server has more than one core. Each half sees its own consistent snapshot.
    """
    low, high, count = sweep_queries.physician_span(s)
    if count < PARALLEL_SWEEP or not hasattr(os, "fork") or threading.active_count() > 1:
        # (forking a process that runs other threads, such as the TUI's, is not safe)
        return candidates(sweep_queries.agreement_rows(s), sweeper, always)
    middle = (low + high) // 2
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(
        target=_sweep_half, args=(db.url, sweeper, middle + 1, high, sender), daemon=True
    )
    worker.start()
    sender.close()
    lower = candidates(sweep_queries.agreement_rows(s, low, middle), sweeper, always)
    try:
        upper = receiver.recv()
    except EOFError:  # the worker died: do its half here
        upper = None
    worker.join()
    if not isinstance(upper, list):
        upper = candidates(sweep_queries.agreement_rows(s, middle + 1, high), sweeper, always)
    return sorted(set(lower) | set(upper) | always)


def _sweep_half(url: str, sweeper: FullCheck, first: int, last: int, sender: Any) -> None:
    """The forked half of :func:`sweep_candidates`, on a connection of its own."""
    try:
        db = Database(url)
        with db.read() as s:
            sender.send(candidates(sweep_queries.agreement_rows(s, first, last), sweeper, set()))
        db.dispose()
    except Exception as error:  # reported to the parent, which then does this half itself
        sender.send(repr(error))
    finally:
        sender.close()
