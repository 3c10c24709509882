"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL tests use a fresh schema per test in the ``test`` database (dropped afterwards).
They are skipped when no server is reachable, unless ``MULTISITE_REQUIRE_PG`` is set (CI),
in which case an unreachable server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from multisite import i18n
from multisite.services import Registry
from multisite.storage import Database, upgrade

PG_SERVER = os.environ.get("MULTISITE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_SERVER)
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as error:  # any reason the server cannot be reached
        return str(error).splitlines()[0]


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="session")
def pg_reason() -> str | None:
    return _pg_available()


@pytest.fixture(autouse=True)
def no_developer_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """Nothing of the developer's environment decides a test: no clerk name, no key file, no
    database or key in their home directory (the default data folder is a temporary one)."""
    for name in ("MULTISITE_CLERK", "MULTISITE_ID_KEY_FILE", "MULTISITE_ID_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data-home")))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest, tmp_path, pg_reason, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A URL of an empty database, on each backend in turn (a PostgreSQL registry's national-ID
    key file is named in the environment, as a deployment does; SQLite keeps it beside the
    database file)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.db'}"
        return
    if pg_reason is not None:
        if os.environ.get("MULTISITE_REQUIRE_PG"):
            pytest.fail(
                f"PostgreSQL is required (MULTISITE_REQUIRE_PG) but unreachable: {pg_reason}"
            )
        pytest.skip(f"PostgreSQL unreachable: {pg_reason}")
    monkeypatch.setenv("MULTISITE_ID_KEY_FILE", str(tmp_path / "pg-id.key"))
    with fresh_pg_schema() as url:
        yield url


@contextmanager
def fresh_pg_schema() -> Iterator[str]:
    """The URL of a new, empty schema in the ``test`` database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_SERVER}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = Database(db_url)
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def registry(database: Database) -> Registry:
    return Registry(database, clerk="测试员")
