"""`base --json`'s stored documents, packed by the client (revision 0015): a registry whose
``base_cache`` holds documents as text upgrades without losing a trigger or an index, the
old documents dropped, and the next report prints the same bytes as before, from documents
it computed and stored packed, then from the stored ones. Both backends."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command

from multisite.services import Registry
from multisite.services.validation_base import report_json
from multisite.storage import Database, _alembic_config, head_revision
from multisite.storage import validation_base as store
from tests.test_nurses_migration import _schema_objects
from tests.test_validation_base import ON, two_sites


def _migrate(database: Database, revision: str, down: bool = False) -> None:
    database.dispose()  # no connection holds a statement prepared against the old columns
    with database.engine.begin() as connection:
        (command.downgrade if down else command.upgrade)(_alembic_config(connection), revision)
    database.dispose()


def _cache(database: Database) -> list[tuple[Any, ...]]:
    with database.engine.connect() as c:
        return [tuple(r) for r in c.execute(sa.text("SELECT * FROM base_cache ORDER BY 1"))]


def test_stored_documents_upgrade_to_packed_and_print_the_same(
    database: Database, registry: Registry
) -> None:
    two_sites(registry)
    expected = report_json(registry, ON)  # computed, stored packed
    assert expected.startswith(b"[\n{") and expected.endswith(b"}\n]")
    assert report_json(registry, ON) == expected  # from the stored documents
    _migrate(database, "0014", down=True)
    # as revision 0014 kept them: each document as text
    with database.engine.begin() as c:
        c.execute(sa.text("UPDATE base_cache SET document = :d"), {"d": '{"old":"文档"}'})
    objects = _schema_objects(database.engine)
    assert any(name.startswith("base_stale_") for kind, name in objects if kind == "trigger")
    kept = [row[:-1] for row in _cache(database)]  # every column but the document
    assert len(kept) == expected.count(b"\n{") > 1
    _migrate(database, "head")
    assert _schema_objects(database.engine) == objects
    columns = {c["name"] for c in sa.inspect(database.engine).get_columns("base_cache")}
    assert "packed" in columns and "document" not in columns
    if database.engine.dialect.name == "postgresql":  # kept as it is, never compressed again
        with database.engine.connect() as c:
            storage = c.execute(
                sa.text(
                    "SELECT attstorage FROM pg_attribute "
                    "WHERE attrelid = 'base_cache'::regclass AND attname = 'packed'"
                )
            ).scalar()
        assert storage == "e"
    after = _cache(database)
    assert [row[:-1] for row in after] == kept
    assert {row[-1] for row in after} == {None}  # the old documents are gone
    with database.engine.connect() as c:
        assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
            head_revision()
        )
    assert report_json(registry, ON) == expected  # computed again, stored packed
    stored = [row[-1] for row in _cache(database)]
    assert all(isinstance(p, bytes) for p in stored)
    documents = expected[2:-2].split(b",\n")  # (compact JSON: no newline inside one)
    assert sorted(store.unpack(p) for p in stored) == sorted(documents)
    assert report_json(registry, ON) == expected  # from the packed documents
