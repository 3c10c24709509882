"""Defects found by using the product as a commission's administrators do (helper trial2):
each test failed before its fix."""

from __future__ import annotations

import json

import sqlalchemy as sa

from multisite.cli.main import main
from multisite.services.backup import backup
from multisite.storage.models import Clerk

from .factories import CLINIC, agreement, build_region, primary
from .test_backup import fingerprint, fresh_target


def _filled_backup(registry, database, tmp_path):
    build_region(registry)
    primary(registry)
    registry.save_agreement(agreement("B-1", CLINIC, "SA 09:00-12:00"))
    return backup(database, tmp_path / "registry.backup").path


def test_a_supervisor_or_a_clerk_may_not_replace_the_registry_with_a_backup(
    registry, database, tmp_path, capsys
):
    path = _filled_backup(registry, database, tmp_path)
    with database.write() as s:  # on PostgreSQL add_clerk needs server roles
        s.add_all([Clerk(name="督查员", region_code="450000", role="supervisor"),
                   Clerk(name="经办员", region_code="450103", role="clerk")])  # fmt: skip
    registry.save_agreement(agreement("LATER", CLINIC, "SU 09:00-12:00"))
    before = {k: v for k, v in fingerprint(database).items() if k != "audit_entry"}
    for who in ("督查员", "经办员"):
        args = ["--lang", "en", "--db", database.url, "--clerk", who, "restore", "--force"]
        assert main([*args, str(path)]) == 2
        err = capsys.readouterr().err
        assert "only an admin may do this" in err and err.count("\n") == 1
        after = {k: v for k, v in fingerprint(database).items() if k != "audit_entry"}
        assert after == before  # LATER is still there: nothing was restored
    with database.engine.connect() as connection:
        refusals = connection.execute(
            sa.text("SELECT clerk FROM audit_entry WHERE action = 'refuse'")
        ).scalars()
        assert {"督查员", "经办员"} <= set(refusals)
    assert main(["--db", database.url, "restore", "--force", str(path)]) == 0  # the admin may


def test_restore_into_another_applications_database_needs_force(
    registry, database, tmp_path, capsys
):
    path = _filled_backup(registry, database, tmp_path)
    url, drop = fresh_target(database, tmp_path)  # a wrong --db: another application's data
    other = sa.create_engine(url)
    try:
        with other.begin() as connection:
            options = str(sa.make_url(url).query.get("options", ""))
            if options.startswith("-csearch_path="):  # PostgreSQL: the URL's schema
                schema = options.removeprefix("-csearch_path=")
                connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
            connection.execute(sa.text("CREATE TABLE customers (id INTEGER, name TEXT)"))
            connection.execute(sa.text("INSERT INTO customers VALUES (1, 'precious')"))
        assert main(["--lang", "en", "--db", url, "restore", str(path)]) == 2
        err = capsys.readouterr().err
        assert "not the registry's (customers)" in err and err.count("\n") == 1
        with other.connect() as connection:
            names = sa.inspect(connection).get_table_names()
            assert names == ["customers"]
            assert connection.execute(sa.text("SELECT name FROM customers")).scalar() == "precious"
    finally:
        other.dispose()
        if drop:
            drop()


def test_policy_show_for_a_county_is_its_provinces_policy(registry, database, capsys):
    build_region(registry)
    registry.set_policy("330000", {"counting": "headcount"})
    capsys.readouterr()
    for region in ("330106", "330100"):
        assert main(["--db", database.url, "policy", "show", "--region", region, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["counting"] == "headcount", region
