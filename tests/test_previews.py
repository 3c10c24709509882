"""A contract's check as the clerk types it (the TUI's live preview), on SQLite and PostgreSQL.

The TUI runs each preview in a worker thread of its own that ends with it. The check reads
with one statement on connections it keeps between reads: previews from many such threads
must share a few connections (not open one each, nor keep one per ended thread), and each
must see what another clerk committed just before.
"""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import event

from multisite.domain.rules import Violation
from multisite.services import Registry
from multisite.storage import Database

from .factories import CENTRE, CLINIC, DR_ZHANG, agreement, build_region, primary


def _in_a_thread_of_its_own(check: object) -> list[Violation]:
    """``check()`` in a new thread, as a Textual thread worker runs it."""
    found: list[list[Violation]] = []
    worker = threading.Thread(target=lambda: found.append(check()))  # type: ignore[operator]
    worker.start()
    worker.join(timeout=60)
    assert found, "the preview did not finish"
    return found[0]


def test_previews_from_short_lived_threads_share_connections_and_see_new_contracts(
    registry: Registry, database: Database
) -> None:
    build_region(registry)
    primary(registry)  # Monday to Thursday mornings at the hospital
    typed = agreement("PREVIEW-1", CLINIC, "FR 13:00-17:00")
    engine = database._statement_engine()
    opened: list[object] = []
    event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
    for _ in range(30):
        assert _in_a_thread_of_its_own(lambda: registry.preview_agreement(typed)) == []
    assert len(opened) <= 1, f"{len(opened)} connections opened for 30 previews"
    assert engine.pool.checkedout() <= 1  # the spare, in use by nobody

    # another clerk, on a connection of their own, files Friday afternoons at the centre
    other = Database(database.url)
    try:
        Registry(other, clerk="另一位经办人").save_agreement(
            agreement("ELSEWHERE-1", CENTRE, "FR 14:00-16:00", physician=DR_ZHANG)
        )
    finally:
        other.dispose()
    found = _in_a_thread_of_its_own(lambda: registry.preview_agreement(typed))
    assert {v.code for v in found} == {"OVERLAP"}, found
    assert "ELSEWHERE-1" in found[0].message

    database.dispose()  # the spares go with the pool
    assert engine.pool.checkedout() == 0
    assert {v.code for v in registry.preview_agreement(typed)} == {"OVERLAP"}


def test_a_preview_typed_again_sees_every_write_in_between(registry: Registry) -> None:
    """The contract form checks the same physician at every keystroke; what it read is kept
    only until anyone commits (SQLite: the connection's data_version; PostgreSQL reads every
    time). Each write below lands between two identical previews and must show in the second:
    the registry's own save, its own termination, and another clerk's save."""
    build_region(registry)
    primary(registry)  # Monday to Thursday mornings at the hospital
    typed = agreement("PREVIEW-2", CLINIC, "FR 13:00-17:00")
    assert registry.preview_agreement(typed) == []
    assert registry.preview_agreement(typed) == []  # typed again: nothing changed

    registry.save_agreement(agreement("FRIDAY-1", CENTRE, "FR 14:00-16:00"))
    assert {v.code for v in registry.preview_agreement(typed)} == {"OVERLAP"}

    registry.terminate_agreement("FRIDAY-1", dt.date(2026, 1, 4), "合同解除")  # before it began
    assert registry.preview_agreement(typed) == []

    other = Database(registry.db.url)
    try:
        Registry(other, clerk="另一位经办人").save_agreement(
            agreement("ELSEWHERE-2", CENTRE, "FR 15:00-16:00", physician=DR_ZHANG)
        )
    finally:
        other.dispose()
    found = registry.preview_agreement(typed)
    assert {v.code for v in found} == {"OVERLAP"} and "ELSEWHERE-2" in found[0].message
