"""The schema comes only from the Alembic revisions in db/, and they match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from multisite.storage import Database, current_revision, head_revision, upgrade
from multisite.storage.models import Base


def test_upgraded_schema_matches_the_models(database: Database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_init_twice_is_a_no_op(database: Database):
    assert current_revision(database.engine) == head_revision()
    before, after = upgrade(database.engine)
    assert before == after == head_revision()
