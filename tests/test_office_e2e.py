"""From an empty database to a working registry, as a new commission starts: `init`, then the
files its offices send (tests/offices.py: 四川省, 24 counties never seen before, every kind of
institution, 注册/暂停/注销, contracts that conflict with each other and with stored ones),
then `check`, `base`, `ical` and the clerks' UI — on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest
import recurring_ical_events
import sqlalchemy as sa
from multisite.tui.app import MultisiteApp
from multisite.tui.screens.physician import PhysicianScreen
from sqlalchemy import select

from multisite.cli.main import main
from multisite.services import Registry, ServiceError
from multisite.storage import Database, upgrade
from multisite.storage.models import (
    Agreement,
    AuditEntry,
    Filing,
    Institution,
    Physician,
    Region,
    Registration,
    RegistrationEvent,
    WorkSession,
)
from tests.conftest import fresh_pg_schema
from tests.offices import COUNTIES, Office, certificates, make_office
from tests.test_tui_flows import settle, type_into

TABLES = (Region, Institution, Physician, Registration, RegistrationEvent, Filing, Agreement,
          WorkSession)  # fmt: skip


@pytest.fixture(scope="module")
def office() -> Office:
    return make_office()


def cli(url: str, *args: str) -> int:
    return main(["--db", url, "--clerk", "四川窗口", *args])


def refused(report: Path) -> dict[int, set[str]]:
    """Spreadsheet row → codes of its errors, from an import's --report CSV."""
    found: dict[int, set[str]] = {}
    with report.open(encoding="utf-8-sig", newline="") as handle:
        for line in csv.DictReader(handle):
            if line["severity"] == "error":
                found.setdefault(int(line["row"]), set()).add(line["code"])
    return found


def import_all(url: str, paths: dict[str, Path], tmp_path: Path) -> dict[str, dict[int, set[str]]]:
    outcome = {}
    for kind, command in (("institutions", "institutions"), ("physicians", "physicians"),
                          ("contracts", "contracts"), ("contracts_more", "contracts")):  # fmt: skip
        report = tmp_path / f"{kind}-report.csv"
        code = cli(url, "import", command, str(paths[kind]), "--partial", "--report", str(report))
        outcome[kind] = refused(report)
        assert code == (1 if outcome[kind] else 0), kind
    return outcome


def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.read() as s:
            return {
                model.__tablename__: int(s.scalar(select(sa.func.count()).select_from(model)) or 0)
                for model in (*TABLES, AuditEntry)
            }
    finally:
        db.dispose()


def test_an_office_from_an_empty_database_to_check_base_ical_and_the_ui(
    db_url: str, office: Office, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = office.write(tmp_path)
    assert cli(db_url, "init") == 0
    outcome = import_all(db_url, paths, tmp_path)

    # every row is stored but those the rules refuse, and those for the reasons built in
    assert outcome["institutions"] == {} and outcome["physicians"] == {}
    for kind in ("contracts", "contracts_more"):
        assert set(outcome[kind]) == set(office.expected[kind]), kind
        for row, codes in office.expected[kind].items():
            assert codes & outcome[kind][row], (kind, row, outcome[kind][row])
    stored = counts(db_url)
    accepted = (len(office.contracts) - len(office.expected["contracts"])
                + len(office.contracts_more) - len(office.expected["contracts_more"]))  # fmt: skip
    assert stored["institution"] == len(office.institutions)
    assert stored["physician"] == len(office.physicians)
    assert stored["agreement"] == accepted
    assert stored["region"] == len(COUNTIES) + 3  # the counties, 成都市, 绵阳市, 四川省

    # rerunning the office's files stores nothing new
    capsys.readouterr()
    assert import_all(db_url, paths, tmp_path) == outcome
    assert counts(db_url) == stored

    # the region sweep finds no error (the refused rows were never stored)
    capsys.readouterr()
    assert cli(db_url, "check", "--json") in (0, 1)
    violations = json.loads(capsys.readouterr().out)
    assert [v for v in violations if v["severity"] == "error"] == []

    # the validation base covers every institution, and counts where contracts are
    assert cli(db_url, "base", "--json") == 0
    bases = {b["institution"]: b for b in json.loads(capsys.readouterr().out)}
    assert set(bases) == {i["机构代码"] for i in office.institutions}
    primaries = {c["机构代码"] for c in office.contracts if c["执业类型"] == "主要"}
    assert any(bases[code]["counted"] > 0 for code in primaries)

    # a physician's calendar holds exactly their stored sessions, as an independent parser reads it
    cert = next(certificates(office))
    out = tmp_path / "calendar.ics"
    assert cli(db_url, "ical", "physician", cert, "-o", str(out)) == 0
    calendar = icalendar.Calendar.from_ical(out.read_bytes())
    db = Database(db_url)
    try:
        with db.read() as s:
            sessions = s.scalars(
                select(WorkSession).join(Physician).where(Physician.cert_no == cert)
            ).all()
            expected = {(x.weekday, x.start_minute) for x in sessions if x.start_date <= x.end_date}
    finally:
        db.dispose()
    found = recurring_ical_events.of(calendar).between(dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert {(e["DTSTART"].dt.weekday(), e["DTSTART"].dt.hour * 60 + e["DTSTART"].dt.minute)
            for e in found} == expected  # fmt: skip

    # the clerks' UI on the same database: find a physician by certificate number, open them
    asyncio.run(open_in_the_ui(db_url, cert))


async def open_in_the_ui(url: str, cert: str) -> None:
    db = Database(url)
    try:
        app = MultisiteApp(Registry(db, "四川窗口"), today=dt.date(2026, 9, 1))
        async with app.run_test(size=(100, 40)) as pilot:
            await type_into(pilot, "#query", cert)
            await settle(pilot, 0.3)
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, PhysicianScreen) and screen.cert == cert
            assert screen.card is not None
            assert screen.card.registrations[0].region_name == "四川省"
            assert screen.card.agreements
    finally:
        db.dispose()


# --- the same input through the import and through the service ------------------------------


@pytest.fixture
def twin_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A second empty database on the same backend."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'twin.db'}"
        return
    with fresh_pg_schema() as url:
        yield url


VOLATILE = {"updated_at", "recorded_at", "at", "id"}


def _canonical(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def snapshot_of(url: str) -> dict[str, Any]:
    """Every stored row (without ids and times) and every audit entry, comparable."""
    db = Database(url)
    try:
        with db.read() as s:
            found: dict[str, Any] = {}
            for model in TABLES:
                table = model.__table__
                rows = [
                    {k: v for k, v in r._mapping.items() if k not in VOLATILE and k != "warnings"}
                    for r in s.execute(table.select())
                ]
                found[table.name] = sorted(rows, key=_canonical)
            found["audit"] = sorted(
                _canonical([e.clerk, e.action, e.entity, e.entity_key, e.physician_cert,
                            e.institution_code, e.before, e.after])
                for e in s.scalars(select(AuditEntry))
            )  # fmt: skip
            return found
    finally:
        db.dispose()


def test_the_import_and_the_service_leave_the_same_rows_and_audit_entries(
    db_url: str, twin_url: str, office: Office, tmp_path: Path
) -> None:
    """One clerk imports the office's files; another types the same rows in one by one
    (file_institution, register_physician, save_agreement). A row's own id and time are left
    out (a batch numbers status events after its physicians, one at a time between them), the
    ids it refers to are compared. Agreement warnings are left out too: a contract saved alone
    is checked without the rows after it, one in a batch with them, so a warning can name
    another row."""
    paths = office.write(tmp_path)
    assert cli(db_url, "init") == 0
    import_all(db_url, paths, tmp_path)

    database = Database(twin_url)
    upgrade(database.engine)
    registry = Registry(database, "四川窗口")
    writes = (("institutions", registry.file_institution),
              ("physicians", registry.register_physician),
              ("contracts", registry.save_agreement),
              ("contracts_more", registry.save_agreement))  # fmt: skip
    refused_rows: dict[str, set[int]] = {}
    for kind, write in writes:
        for row, data in office.inputs(kind):
            try:
                write(data)  # type: ignore[operator]
            except ServiceError:
                refused_rows.setdefault(kind, set()).add(row)
    database.dispose()
    assert refused_rows == {k: set(v) for k, v in office.expected.items() if v}
    assert snapshot_of(twin_url) == snapshot_of(db_url)


@pytest.mark.skipif(not os.environ.get("MULTISITE_OFFICE_PHYSICIANS"), reason="a larger office")
def test_a_larger_office(db_url: str, tmp_path: Path) -> None:
    """``MULTISITE_OFFICE_PHYSICIANS=2000`` runs the first test's imports on a larger office."""
    office = make_office(int(os.environ["MULTISITE_OFFICE_PHYSICIANS"]))
    assert cli(db_url, "init") == 0
    outcome = import_all(db_url, office.write(tmp_path), tmp_path)
    assert set(outcome["contracts"]) == set(office.expected["contracts"])
