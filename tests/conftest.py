"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

A test that asks for ``database`` (or ``registry``) gets a copy of a registry migrated once per
test worker: on SQLite a copy of the migrated file, on PostgreSQL a database created from a
migrated template database (``CREATE DATABASE … TEMPLATE …``); each copy gets its own
national-ID key file, as ``multisite init`` gives a new registry. A test that asks for
``built_registry_url`` gets, the same way, a copy of the registry its module's
``BUILD_REGISTRY(url, folder)`` built once per test worker and engine on a migrated one (an
office's files imported, a demo region), with the key file it was built with: the state the
module's tests start from is set up once, not in every test. A test that asks only for
``db_url`` gets an empty database (PostgreSQL: a fresh schema in the ``test`` database), so
``init`` and the migrations themselves still run from nothing. Everything a test creates is
dropped afterwards. PostgreSQL tests are skipped when no server is reachable, unless
``MULTISITE_REQUIRE_PG`` is set (CI), in which case an unreachable server fails them.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from multisite import i18n
from multisite.services import Registry
from multisite.storage import Database, keys, upgrade

PG_SERVER = os.environ.get("MULTISITE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# the schema of the migrated PostgreSQL template, and so of every copy of it
TEMPLATE_SCHEMA = "registry"


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


def _pg_database_url(name: str, schema: str | None = None) -> str:
    url = sa.make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    return f"{url}?options=-csearch_path%3D{schema}" if schema else url


class MigratedRegistries:
    """Registries at the newest schema revision, migrated once per test worker and copied for
    each test (built on first use: a worker that runs no storage test migrates nothing)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_template: Path | None = None
        self.pg_template: str | None = None
        # registries built by a module's BUILD_REGISTRY: its name → (file or database, key file)
        self.sqlite_built: dict[str, tuple[Path, Path]] = {}
        self.pg_built: dict[str, tuple[str, Path]] = {}
        self._admin: sa.Engine | None = None
        self._drops: queue.Queue[str | None] = queue.Queue()
        self._dropper: threading.Thread | None = None

    # --- SQLite: a copy of the migrated file ---------------------------------------------

    def sqlite_copy(self, path: Path) -> None:
        if self.sqlite_template is None:
            template = self.folder / "template.db"
            db = Database(f"sqlite:///{template}")
            upgrade(db.engine)
            db.dispose()  # the last connection closed: the WAL is checkpointed into the file
            assert not Path(f"{template}-wal").exists()
            template.with_name(template.name + keys.SUFFIX).unlink()  # each copy gets its own
            self.sqlite_template = template
        shutil.copy2(self.sqlite_template, path)  # the mode too: owner only (0600), as init

    def sqlite_built_copy(self, path: Path, build: Build) -> None:
        """A copy of the registry ``build`` made from a migrated one, with its key file."""
        name = _build_name(build)
        if name not in self.sqlite_built:
            folder = self.folder / f"built-{len(self.sqlite_built)}-sqlite"
            folder.mkdir()
            template = folder / "registry.db"
            self.sqlite_copy(template)
            url = f"sqlite:///{template}"
            key = keys.ensure_key(url)
            assert key is not None
            build(url, folder)
            db = Database(url)
            with db.engine.connect() as connection:  # everything in the file, nothing in a WAL
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            db.dispose()  # the last connection closed (the build's own closed theirs)
            assert not Path(f"{template}-wal").exists()
            self.sqlite_built[name] = (template, key)
        template, key = self.sqlite_built[name]
        shutil.copy2(template, path)
        shutil.copy2(key, path.with_name(path.name + keys.SUFFIX))

    # --- PostgreSQL: a database created from a migrated template database -----------------

    @property
    def admin(self) -> sa.Engine:
        if self._admin is None:
            self._admin = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        return self._admin

    def _pg_template(self) -> str:
        if self.pg_template is None:
            name = f"ms_template_{uuid.uuid4().hex[:12]}"
            with self.admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            self.pg_template = name
            owner = sa.create_engine(_pg_database_url(name), isolation_level="AUTOCOMMIT")
            with owner.connect() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
            owner.dispose()
            key = self.folder / "template-pg-id.key"  # upgrade makes the key a variable names
            previous = os.environ.get(keys.ENV_KEY_FILE)
            os.environ[keys.ENV_KEY_FILE] = str(key)
            try:
                db = Database(_pg_database_url(name, TEMPLATE_SCHEMA))
                upgrade(db.engine)
                db.dispose()  # CREATE DATABASE … TEMPLATE needs nobody connected to it
            finally:
                if previous is None:
                    os.environ.pop(keys.ENV_KEY_FILE, None)
                else:
                    os.environ[keys.ENV_KEY_FILE] = previous
        return self.pg_template

    def _pg_built(self, build: Build) -> tuple[str, Path]:
        name = _build_name(build)
        if name not in self.pg_built:
            template = f"ms_built_{uuid.uuid4().hex[:12]}"
            with self.admin.connect() as connection:
                connection.exec_driver_sql(
                    f'CREATE DATABASE "{template}" TEMPLATE "{self._pg_template()}"'
                )
            folder = self.folder / f"built-{len(self.pg_built)}-postgresql"
            folder.mkdir()
            key = folder / "pg-id.key"
            url = _pg_database_url(template, TEMPLATE_SCHEMA)
            previous = os.environ.get(keys.ENV_KEY_FILE)
            os.environ[keys.ENV_KEY_FILE] = str(key)
            try:
                keys.ensure_key(url)
                build(url, folder)
            finally:
                if previous is None:
                    os.environ.pop(keys.ENV_KEY_FILE, None)
                else:
                    os.environ[keys.ENV_KEY_FILE] = previous
            with self.admin.connect() as connection:  # a template has nobody connected to it
                connection.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{template}' AND pid <> pg_backend_pid()"
                )
            self.pg_built[name] = (template, key)
        return self.pg_built[name]

    @contextmanager
    def pg_copy(self, build: Build | None = None, key_file: Path | None = None) -> Iterator[str]:
        """A database created from the migrated template, or from the registry ``build``
        made (its key file copied to ``key_file``)."""
        if build is None:
            template = self._pg_template()
        else:
            template, key = self._pg_built(build)
            assert key_file is not None
            shutil.copy2(key, key_file)
        name = f"t_{uuid.uuid4().hex[:12]}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            yield _pg_database_url(name, TEMPLATE_SCHEMA)
        finally:
            self._drop_later(name)

    def _drop_later(self, name: str) -> None:
        """Dropped by a thread of its own: a DROP DATABASE waits on the disk, the next test
        need not."""
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_all, daemon=True)
            self._dropper.start()
        self._drops.put(name)

    def _drop_all(self) -> None:
        while (name := self._drops.get()) is not None:
            with self.admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        if self._dropper is not None:
            self._drops.put(None)
            self._dropper.join()
        for name in [*(template for template, _key in self.pg_built.values()), self.pg_template]:
            if name is not None:
                with self.admin.connect() as connection:
                    connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self._admin is not None:
            self._admin.dispose()


Build = Callable[[str, Path], object]


def _build_name(build: Build) -> str:
    return f"{build.__module__}.{build.__qualname__}"


def _build_wanted(request: pytest.FixtureRequest) -> Build | None:
    """The module's ``BUILD_REGISTRY`` when the test asks for ``built_registry_url``."""
    if "built_registry_url" not in request.fixturenames:
        return None
    build: Build | None = getattr(request.module, "BUILD_REGISTRY", None)
    if build is None:  # a fixture taken from another module brings that module's build along
        pytest.fail(f"{request.module.__name__} asks for built_registry_url: import BUILD_REGISTRY")
    return build


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedRegistries]:
    registries = MigratedRegistries(tmp_path_factory.mktemp("migrated"))
    try:
        yield registries
    finally:
        registries.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path,
    pg_reason,
    monkeypatch: pytest.MonkeyPatch,
    migrated: MigratedRegistries,
) -> Iterator[str]:
    """A URL of a database, on each backend in turn: empty, or (for a test that uses
    ``database``) a copy of a migrated registry. A PostgreSQL registry's national-ID key file is
    named in the environment, as a deployment does; SQLite keeps it beside the database file."""
    schema_wanted = "database" in request.fixturenames
    build = _build_wanted(request)
    if request.param == "sqlite":
        path = tmp_path / "registry.db"
        if build is not None:
            migrated.sqlite_built_copy(path, build)
        elif schema_wanted:
            migrated.sqlite_copy(path)
        yield f"sqlite:///{path}"
        return
    if pg_reason is not None:
        if os.environ.get("MULTISITE_REQUIRE_PG"):
            pytest.fail(
                f"PostgreSQL is required (MULTISITE_REQUIRE_PG) but unreachable: {pg_reason}"
            )
        pytest.skip(f"PostgreSQL unreachable: {pg_reason}")
    key_file = tmp_path / "pg-id.key"
    monkeypatch.setenv(keys.ENV_KEY_FILE, str(key_file))
    if build is not None:
        with migrated.pg_copy(build, key_file) as url:
            yield url
        return
    with migrated.pg_copy() if schema_wanted else fresh_pg_schema() as url:
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
    """A registry at the newest schema revision (see ``db_url``), with its own key file."""
    keys.ensure_key(db_url)
    db = Database(db_url)
    yield db
    db.dispose()


@pytest.fixture
def registry(database: Database) -> Registry:
    return Registry(database, clerk="测试员")


@pytest.fixture
def registry_url(database: Database) -> str:
    """The URL of a migrated registry (``database``'s), for tests that drive the command line
    from ``init`` on: there ``init`` finds the newest revision and only checks it."""
    return database.url


@pytest.fixture
def built_registry_url(database: Database) -> str:
    """The URL of a copy of the registry the test module's ``BUILD_REGISTRY(url, folder)``
    built, once per test worker and engine, from a migrated one (see ``db_url``)."""
    return database.url
