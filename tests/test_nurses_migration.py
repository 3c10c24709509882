"""An existing registry upgrades to nurses (revision ``*_nurses``) with ``multisite init`` and
loses nothing: a database built at the previous revision — a Guizhou region's institutions,
physicians with registrations and a suspension, agreements with sessions, a filing, feed
tokens and audit rows — keeps every row as it was, every physician stays a physician, and the
registry works on it (show, check, the feed, a nurse filed next to them)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from multisite.services.calendars import hash_token
from multisite.storage import _alembic_config, head_revision
from multisite.storage.audit import append_audit, audit_row
from multisite.storage.models import (
    Agreement,
    FeedToken,
    Filing,
    Institution,
    Region,
    Registration,
    RegistrationEvent,
    WorkSession,
)

from .clerk_cli import Cli, credit_code

TABLES = ("region", "institution", "physician", "registration", "registration_event",
          "filing", "agreement", "work_session", "feed_token", "audit_entry")  # fmt: skip
HOSPITAL = credit_code("520102", 301)
CLINIC = credit_code("520103", 302)
DOCTORS = ("152520000000101", "152520000000102", "152520000000103")
TOKEN = "old-subscriber-token-0123456789abcdef"


def previous_revision() -> str:
    """The revision before ``*_nurses`` (whatever its number once renumbered)."""
    script = ScriptDirectory.from_config(_alembic_config(None))
    for revision in script.walk_revisions():
        if revision.module.__name__.endswith("_nurses") or (
            revision.doc and revision.doc.startswith("Nurses")
        ):
            assert isinstance(revision.down_revision, str)
            return revision.down_revision
    raise AssertionError("no *_nurses revision")


def build_previous(engine: Engine) -> None:
    """The registry as the previous revision stored it (the physician row without any
    profession: raw SQL; the other tables did not change). Each executemany names the same
    keys on every row (the first row's keys are the statement's columns)."""
    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), previous_revision())
    day = dt.datetime(2025, 6, 1, 9, 0)
    with engine.begin() as c:
        c.execute(insert(Region), [
            {"code": "520000", "name": "贵州省", "level": "province"},
            {"code": "520100", "name": "贵阳市", "level": "city"},
            {"code": "520102", "name": "南明区", "level": "county"},
            {"code": "520103", "name": "云岩区", "level": "county"},
        ])  # fmt: skip
        c.execute(insert(Institution), [
            {"id": 1, "code": HOSPITAL, "name": "南明区人民医院", "kind": "一级综合医院", "beds": 60,
             "departments": ["内科"], "county_code": "520102", "updated_at": day},
            {"id": 2, "code": CLINIC, "name": "云岩区综合门诊部", "kind": "综合门诊部", "beds": 0,
             "departments": ["内科"], "county_code": "520103", "updated_at": day},
        ])  # fmt: skip
        for n, cert in enumerate(DOCTORS, start=1):
            c.execute(
                text(
                    "INSERT INTO physician (id, cert_no, name, initials, level, category, scopes, "
                    "title, status, notes, updated_at) VALUES (:id, :cert, :name, 'ygm', "
                    "'执业医师', '临床', '[\"内科\"]', '主治医师', 'registered', '{}', :at)"
                ),
                {"id": n, "cert": cert, "name": f"杨医生{n}", "at": day},
            )
        c.execute(insert(Registration), [
            {"id": n, "physician_id": n, "region_code": "520000", "main_institution_id": 1,
             "registered_on": dt.date(2015, 3, 1), "status": "registered"}
            for n in (1, 2, 3)
        ])  # fmt: skip
        c.execute(insert(RegistrationEvent), [
            {"registration_id": 3, "status": "suspended", "on": dt.date(2026, 3, 1),
             "until": dt.date(2026, 5, 31), "reason": "定期考核不合格", "recorded_at": day},
        ])  # fmt: skip
        c.execute(insert(Filing), [
            {"id": 1, "registration_id": 1, "institution_id": 2, "scope": "内科",
             "valid_from": dt.date(2025, 1, 1), "valid_to": dt.date(2026, 12, 31)},
        ])  # fmt: skip
        c.execute(insert(Agreement), [
            {"id": 1, "contract_no": "GZ-P-1", "physician_id": 1, "institution_id": 1,
             "role": "primary", "department": "内科", "start": dt.date(2025, 1, 1),
             "end": dt.date(2026, 12, 31), "weekly_hours": 8, "consent": None,
             "pattern": "MO 08:00-16:00",
             "weekly_minutes": 480, "updated_at": day},
            {"id": 2, "contract_no": "GZ-A-1", "physician_id": 1, "institution_id": 2,
             "role": "additional", "department": "内科", "start": dt.date(2025, 1, 1),
             "end": dt.date(2026, 12, 31), "weekly_hours": 4, "consent": True,
             "pattern": "SA 08:00-12:00", "weekly_minutes": 240, "updated_at": day},
        ])  # fmt: skip
        c.execute(insert(WorkSession), [
            {"agreement_id": 1, "physician_id": 1, "institution_id": 1, "weekday": 0,
             "start_minute": 480, "end_minute": 960, "start_date": dt.date(2025, 1, 1),
             "end_date": dt.date(2026, 12, 31)},
            {"agreement_id": 2, "physician_id": 1, "institution_id": 2, "weekday": 5,
             "start_minute": 480, "end_minute": 720, "start_date": dt.date(2025, 1, 1),
             "end_date": dt.date(2026, 12, 31)},
        ])  # fmt: skip
        c.execute(insert(FeedToken), [
            {"token_hash": hash_token(TOKEN), "physician_id": 1, "created_at": day,
             "revoked_at": None},
            {"token_hash": hash_token("revoked"), "physician_id": 2, "created_at": day,
             "revoked_at": day},
        ])  # fmt: skip
        with Session(bind=c) as s:  # the audit rows on the hash chain, as every writer adds them
            append_audit(s, [
                audit_row("窗口一", "create", "physician", cert, None, {"cert_no": cert},
                          physician=cert, at=day)
                for cert in DOCTORS
            ])  # fmt: skip
            s.flush()
        if c.dialect.name == "postgresql":  # the explicit ids above: move the sequences on
            for table in ("institution", "physician", "registration", "filing", "agreement"):
                c.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )


def rows(engine: Engine, columns: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Every row of the registry's tables (the columns given, else all), in id order."""
    found: dict[str, Any] = {}
    with engine.connect() as c:
        for table in TABLES:
            names = "*" if columns is None else ", ".join(f'"{n}"' for n in columns[table])
            result = c.execute(text(f"SELECT {names} FROM {table} ORDER BY 1"))
            found[table] = (list(result.keys()), [tuple(r) for r in result])
    return found


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    return Cli(db_url, capsys, tmp_path)


def test_an_existing_registry_upgrades_to_nurses_and_loses_nothing(cli: Cli):
    engine = create_engine(cli.db_url)
    try:
        build_previous(engine)
        before = rows(engine)
        assert len(before["physician"][1]) == 3 and len(before["audit_entry"][1]) == 3
        cli.ok("init")
        with engine.connect() as c:
            revision = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
            professions = c.execute(text("SELECT DISTINCT profession FROM physician")).all()
        assert revision == head_revision()
        assert professions == [("physician",)]
        after = rows(engine, {table: names for table, (names, _rows) in before.items()})
        assert after == before
    finally:
        engine.dispose()
    assert cli("audit", "verify").code == 0  # the chain of the old rows still holds
    shown = cli.ok("physician", "show", DOCTORS[0], "--json").json()
    assert shown["profession"] == "physician"
    assert [a["contract_no"] for a in shown["agreements"]] == ["GZ-P-1", "GZ-A-1"]
    assert not [v for v in cli.violations() if v["severity"] == "error"]
    from multisite.services import Registry
    from multisite.services.calendars import Calendars
    from multisite.storage import Database

    database = Database(cli.db_url)
    try:
        feed = Calendars(Registry(database, clerk="测试员")).refresh_feed(hash_token(TOKEN), None)
        assert feed is not None and b"GZ-A-1" in feed.export.body
        revoked = Calendars(Registry(database, clerk="测试员")).refresh_feed(
            hash_token("revoked"), None
        )
        assert revoked is None
    finally:
        database.dispose()
    # a nurse is filed beside the physicians who were there before
    headers = ("护士执业证书编号", "姓名", "职称", "注册地", "主要执业机构", "注册日期")
    cli.load(
        "nurses", headers, [("201652000009", "龙梅", "护师", "520000", HOSPITAL, "2016-07-01")]
    )
    assert cli.ok("nurse", "show", "201652000009", "--json").json()["profession"] == "nurse"


def _schema_objects(engine: Engine) -> set[tuple[str, str]]:
    """(kind, name) of every trigger and index (the base_stale triggers live on tables the
    revision alters: an ALTER done as SQLite's copy-and-move would drop them)."""
    with engine.connect() as c:
        if c.dialect.name == "sqlite":
            query = "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'index')"
        else:
            query = (
                "SELECT 'trigger', tgname FROM pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = r.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname = current_schema() "
                "UNION SELECT 'index', indexname FROM pg_indexes WHERE schemaname = current_schema()"
            )
        return {(kind, name) for kind, name in c.execute(text(query))}


def test_the_upgrade_keeps_every_trigger_and_index(db_url: str):
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), previous_revision())
        before = _schema_objects(engine)
        assert ("trigger", "base_stale_staffing_minimum_update") in before
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
        assert before <= _schema_objects(engine)
    finally:
        engine.dispose()
