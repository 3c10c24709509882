"""Trust (#19): the audit chain and its verification, clerks limited to their region and role,
the national ID as a keyed hash only — on SQLite and PostgreSQL, from an office's files."""

from __future__ import annotations

import csv
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from multisite.cli.main import main
from multisite.domain import identifiers as ids
from multisite.storage import Database

from .clerk_cli import (
    CONTRACT_HEADERS,
    DR_LU,
    DR_WEI,
    GX_CLINIC,
    GX_HOSPITAL,
    PHYSICIAN_HEADERS,
    Cli,
    guangxi_office,
    write_csv,
)


def national_id(first17: str) -> str:
    return first17 + ids.id_check_char(first17)


ID_WEI = national_id("45010319800101123")
ID_LU = national_id("45010219750615234")
DR_NONG = "145450000000021"  # main institution: the clinic (兴宁区 450102)


BUILD_REGISTRY = guangxi_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The Guangxi office (``BUILD_REGISTRY``), a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


@pytest.fixture
def roles(db_url: str) -> Iterator[dict[str, str]]:
    """The clerks' names: on PostgreSQL LOGIN roles made for the test (and dropped), which the
    clerks authenticate as; on SQLite names an admin acts as (the OS user is the boundary)."""
    names = {"qingxiu": "qingxiu", "xingning": "xingning"}
    if not db_url.startswith("postgresql"):
        yield names
        return
    tag = uuid.uuid4().hex[:8]
    names = {k: f"ms_{tag}_{k}" for k in names}
    admin = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for role in names.values():
            connection.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
    try:
        yield names
    finally:
        with admin.connect() as connection:
            for role in names.values():
                connection.exec_driver_sql(f'DROP OWNED BY "{role}"')
                connection.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def as_role(url: str, role: str) -> str:
    """The URL of the same database logged in as ``role`` (PostgreSQL)."""
    return url.replace("postgres@", f"{role}@", 1)


def run(cli: Cli, clerk: str | None, *args: str) -> tuple[int, str, str]:
    """``multisite`` as ``clerk``: logged in as its role on PostgreSQL; on SQLite the OS user
    (an admin) acting as it with --clerk."""
    cli.capsys.readouterr()
    url = cli.db_url
    if clerk and url.startswith("postgresql") and clerk.startswith("ms_"):
        prefix = ["--db", as_role(url, clerk), "--lang", "en"]
    else:
        prefix = ["--db", url, "--lang", "en"] + (["--clerk", clerk] if clerk else [])
    code = main([*prefix, *args])
    captured = cli.capsys.readouterr()
    return code, captured.out, captured.err


def raw(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def unguard(url: str) -> list[str]:
    """The statements that lift the append-only guard, as the database's owner can."""
    if url.startswith("sqlite"):
        return ["DROP TRIGGER audit_entry_no_update", "DROP TRIGGER audit_entry_no_delete"]
    return ["ALTER TABLE audit_entry DISABLE TRIGGER USER"]


def audit_ids(url: str) -> list[int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = [r[0] for r in connection.exec_driver_sql("SELECT id FROM audit_entry ORDER BY id")]
    engine.dispose()
    return found


# --- the audit chain ---------------------------------------------------------------------------


def test_an_intact_chain_verifies_and_a_raw_update_or_delete_is_refused(cli: Cli):
    assert run(cli, None, "audit", "verify")[0] == 0
    for statement in ("UPDATE audit_entry SET clerk = 'x'", "DELETE FROM audit_entry"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            raw(cli.db_url, statement)
    assert run(cli, None, "audit", "verify")[0] == 0


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder", "cut the end"])
def test_every_tampering_with_raw_sql_is_caught_naming_the_first_bad_row(cli: Cli, tamper: str):
    rows = audit_ids(cli.db_url)
    assert len(rows) > 6
    third, fourth, last = rows[2], rows[3], rows[-1]
    statements = {
        "edit": [f"UPDATE audit_entry SET clerk = 'someone else' WHERE id = {third}"],
        "delete": [f"DELETE FROM audit_entry WHERE id = {third}"],
        "reorder": [  # the two rows swap places (ids), content and hashes kept
            f"UPDATE audit_entry SET id = -1 WHERE id = {third}",
            f"UPDATE audit_entry SET id = {third} WHERE id = {fourth}",
            f"UPDATE audit_entry SET id = {fourth} WHERE id = -1",
        ],
        "cut the end": [f"DELETE FROM audit_entry WHERE id = {last}"],
    }[tamper]
    raw(cli.db_url, *unguard(cli.db_url), *statements)
    code, _out, err = run(cli, None, "audit", "verify")
    assert code == 1
    expected = {"edit": third, "delete": fourth, "reorder": third, "cut the end": last}[tamper]
    assert f"row {expected}" in err and len(err.strip().splitlines()) == 1


# --- clerks and their regions ------------------------------------------------------------------


def clerks_of_two_counties(cli: Cli, roles: dict[str, str]) -> tuple[str, str]:
    """A clerk of 青秀区 (the hospital's county) and one of 兴宁区 (the clinic's), and a
    physician whose main institution is the clinic."""
    cli.ok("clerk", "add", roles["qingxiu"], "--region", "450103", "--role", "clerk")
    cli.ok("clerk", "add", roles["xingning"], "--region", "450102", "--role", "clerk")
    row = (DR_NONG, "农丽", "执业医师", "临床", "内科", "主治医师", "450000", GX_CLINIC,
           "2016-01-01")  # fmt: skip
    cli.load("physicians", PHYSICIAN_HEADERS, [row])
    return roles["qingxiu"], roles["xingning"]


def refusals(url: str) -> list[tuple[str, str, str]]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        found = connection.exec_driver_sql(
            "SELECT clerk, entity, entity_key FROM audit_entry WHERE action = 'refuse' ORDER BY id"
        ).all()
    engine.dispose()
    return [tuple(r) for r in found]  # type: ignore[misc]


def test_a_clerk_writes_only_in_their_region_whatever_the_entry_point(
    cli: Cli, tmp_path: Path, roles: dict[str, str]
):
    qingxiu, xingning = clerks_of_two_counties(cli, roles)
    # the command line: one sentence naming the region, exit 2, and an audit row of it
    code, _out, err = run(
        cli, xingning, "physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to",
        "2026-04-30", "--reason", "考核不合格",
    )  # fmt: skip
    assert code == 2 and "450102" in err and len(err.strip().splitlines()) == 1
    assert refusals(cli.db_url)[-1][0] == xingning
    # an import: the row outside the region is a row error; the region's own row is stored
    changed = [
        (DR_WEI, "韦建国", "执业医师", "临床", "内科", "副主任医师", "450000", GX_HOSPITAL, "2015-03-01"),
        (DR_NONG, "农丽", "执业医师", "临床", "内科", "副主任医师", "450000", GX_CLINIC, "2016-01-01"),
    ]  # fmt: skip
    path = write_csv(tmp_path / "titles.csv", PHYSICIAN_HEADERS, changed)
    code, out, _err = run(cli, xingning, "import", "physicians", str(path), "--partial")
    assert code == 1 and "CLERK_REGION" in out
    contract = [("XN-1", DR_LU, GX_HOSPITAL, "其他", "内科", "2026-01-01", "2026-06-30",
                 "周六 14:00-16:00", 2, "是")]  # fmt: skip
    path = write_csv(tmp_path / "contract.csv", CONTRACT_HEADERS, contract)
    code, out, _err = run(cli, xingning, "import", "contracts", str(path))
    assert code == 1 and "CLERK_REGION" in out
    # the hospital's clerk may
    code, _out, err = run(
        cli, qingxiu, "physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to",
        "2026-04-30", "--reason", "考核不合格",
    )  # fmt: skip
    assert code == 0, err
    # a clerk edits no policy; a clerk may not name another clerk
    assert run(cli, qingxiu, "policy", "set", "450000", "weekly_max_hours=50")[0] == 2
    assert run(cli, qingxiu, "clerk", "disable", xingning)[0] == 2
    assert run(cli, None, "audit", "verify")[0] == 0


def test_clerk_list_and_disable(cli: Cli, roles: dict[str, str]):
    qingxiu = roles["qingxiu"]
    cli.ok("clerk", "add", qingxiu, "--region", "450103", "--role", "supervisor")
    listed = {c["name"]: c for c in cli.ok("clerk", "list", "--json").json()}
    assert listed[qingxiu]["role"] == "supervisor" and listed[qingxiu]["region"] == "450103"
    # a supervisor reads and runs reports, and writes nothing
    assert run(cli, qingxiu, "check", "--json")[0] in (0, 1)
    code, _out, err = run(
        cli, qingxiu, "physician", "cancel", DR_WEI, "--on", "2026-09-01", "--reason", "调离"
    )
    assert code == 2 and "supervisor" in err
    cli.ok("clerk", "disable", qingxiu)
    code, _out, err = run(  # disabled: the name is refused
        cli, qingxiu, "physician", "cancel", DR_WEI, "--on", "2026-09-01", "--reason", "调离"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert cli.refused("clerk", "add", "x", "--region", "45A000", "--role", "clerk")


# --- the national ID --------------------------------------------------------------------------


def all_text(url: str) -> str:
    """Every value of every table, as text (what a dump would show)."""
    engine = sa.create_engine(url)
    found: list[str] = []
    with engine.connect() as connection:
        for table in sa.inspect(connection).get_table_names():
            for row in connection.exec_driver_sql(f'SELECT * FROM "{table}"'):
                found.append(" ".join(str(v) for v in row))
    engine.dispose()
    return "\n".join(found)


def test_national_ids_are_stored_only_as_keyed_hashes_and_shown_masked(cli: Cli, tmp_path: Path):
    headers = (*PHYSICIAN_HEADERS, "身份证号")
    rows = [
        (DR_WEI, "韦建国", "执业医师", "临床", "内科", "主治医师", "450000", GX_HOSPITAL, "2015-03-01",
         ID_WEI),
        (DR_LU, "陆秀兰", "执业医师", "临床", "内科", "副主任医师", "450000", GX_HOSPITAL, "2012-05-01",
         ID_LU),
    ]  # fmt: skip
    path = write_csv(tmp_path / "ids.csv", headers, rows)
    code, out, err = run(cli, None, "import", "physicians", str(path))
    assert code == 0, out + err
    shown = cli.ok("physician", "show", DR_WEI, "--json").json()
    assert shown["id_number"] == ids.id_masked(ID_WEI) == ID_WEI[:6] + "********" + ID_WEI[-4:]
    assert ID_WEI not in cli.ok("physician", "show", DR_WEI).out
    stored = all_text(cli.db_url)
    for number in (ID_WEI, ID_LU, ID_WEI[6:14]):
        assert number not in stored
    assert ids.id_masked(ID_WEI) in stored  # 450103********123x: the masked form only
    # the same number for another physician: a row error that names the holder, not the number
    clash = [(DR_LU, *rows[1][1:9], ID_WEI)]
    path = write_csv(tmp_path / "clash.csv", headers, clash)
    code, out, _err = run(cli, None, "import", "physicians", str(path), "--report",
                          str(tmp_path / "clash-report.csv"))  # fmt: skip
    assert code == 1 and DR_WEI in out and ID_WEI not in out
    report = (tmp_path / "clash-report.csv").read_text(encoding="utf-8-sig")
    assert ID_WEI not in report and ids.id_masked(ID_WEI) in report
    # a bad check character or birth date is one sentence without the number
    for bad in (
        ID_WEI[:17] + ("0" if ID_WEI[17] != "0" else "1"),
        national_id("45010319801301123"),
    ):
        path = write_csv(tmp_path / "bad.csv", headers, [(*rows[0][:9], bad)])
        code, out, _err = run(cli, None, "import", "physicians", str(path))
        assert code == 1 and bad not in out


def test_a_national_id_in_any_other_cell_is_a_row_error_not_a_note(cli: Cli, tmp_path: Path):
    headers = (*PHYSICIAN_HEADERS, "备注")
    row = (DR_NONG, "农丽", "执业医师", "临床", "内科", "主治医师", "450000", GX_CLINIC,
           "2016-01-01", f"身份证 {ID_LU}")  # fmt: skip
    path = write_csv(tmp_path / "notes.csv", headers, [row])
    report = tmp_path / "report.csv"
    code, out, err = run(cli, None, "import", "physicians", str(path), "--report", str(report))
    assert code == 1 and "PERSONAL" in out and ID_LU not in out + err
    assert ID_LU not in report.read_text(encoding="utf-8-sig")
    assert ID_LU not in all_text(cli.db_url)
    # in a contracts file too
    headers = (*CONTRACT_HEADERS, "联系人")
    contract = ("GX-X", DR_LU, GX_HOSPITAL, "其他", "内科", "2026-01-01", "2026-06-30",
                "周六 14:00-16:00", 2, "是", ID_LU)  # fmt: skip
    path = write_csv(tmp_path / "c.csv", headers, [contract])
    code, out, _err = run(cli, None, "import", "contracts", str(path))
    assert code == 1 and "PERSONAL" in out and ID_LU not in out


def test_no_command_hashes_with_a_default_key(tmp_path: Path, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert main(["--db", url, "init"]) == 0
    key = tmp_path / "r.db.idkey"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    assert stat.S_IMODE((tmp_path / "r.db").stat().st_mode) == 0o600  # the file is the boundary
    os.chmod(key, 0o644)
    db = Database(url)
    from multisite.services import Registry

    with pytest.raises(Exception, match="chmod 600"):
        Registry(db).id_key()
    key.unlink()
    with pytest.raises(Exception, match="multisite init"):
        Registry(db).id_key()
    db.dispose()
    monkeypatch.setenv("MULTISITE_ID_KEY_FILE", str(tmp_path / "elsewhere.key"))
    assert main(["--db", url, "init"]) == 0
    assert (tmp_path / "elsewhere.key").exists()


def test_report_rows_keep_cells_but_never_an_id_number(tmp_path: Path):
    from multisite.importing.rows import _redacted

    assert _redacted(["a", f"x{ID_WEI}y", ID_LU], 2) == ["a", f"x{ids.id_masked(ID_WEI)}y",
                                                         ids.id_masked(ID_LU)]  # fmt: skip
    assert ids.holds_id_number(ID_WEI.replace("1980", "１９８０"))
    assert not ids.holds_id_number("145450000000011")
    with (tmp_path / "x.csv").open("w") as handle:
        csv.writer(handle).writerow(["1"])


def test_on_postgresql_the_engine_refuses_what_the_service_would(cli: Cli, roles: dict[str, str]):
    """Defence in depth: a clerk's role, connected directly, changes no row of another region
    (row-level security) and no audit row (grants and the append-only trigger)."""
    if not cli.db_url.startswith("postgresql"):
        pytest.skip("row-level security and roles are PostgreSQL's")
    qingxiu, xingning = clerks_of_two_counties(cli, roles)
    engine = sa.create_engine(as_role(cli.db_url, xingning))
    try:
        with engine.begin() as connection:
            who = connection.exec_driver_sql("SELECT current_user").scalar_one()
            assert who == xingning
            # another county's physician: invisible to a write (0 rows), visible to a read
            changed = connection.exec_driver_sql(
                f"UPDATE physician SET name = 'x' WHERE cert_no = '{DR_WEI}'"
            )
            assert changed.rowcount == 0
            own = connection.exec_driver_sql(
                f"UPDATE physician SET title = title WHERE cert_no = '{DR_NONG}'"
            )
            assert own.rowcount == 1
        for statement in (
            "UPDATE audit_entry SET clerk = 'x'",
            "DELETE FROM audit_entry",
            f"UPDATE institution SET name = 'x' WHERE code = '{GX_HOSPITAL}' RETURNING id",
            "UPDATE registration SET main_institution_id = main_institution_id WHERE "
            f"physician_id = (SELECT id FROM physician WHERE cert_no = '{DR_WEI}')",
            # the hospital's contracts (the clinic's are 兴宁区's own: its clerk may change them)
            "UPDATE agreement SET weekly_hours = 60 WHERE institution_id = "
            f"(SELECT id FROM institution WHERE code = '{GX_HOSPITAL}')",
            "DELETE FROM work_session WHERE institution_id = "
            f"(SELECT id FROM institution WHERE code = '{GX_HOSPITAL}')",
            "UPDATE policy SET version = version",
        ):
            with engine.begin() as connection:
                try:
                    result = connection.exec_driver_sql(statement)
                except sa.exc.DBAPIError as error:
                    assert "permission denied" in str(error.orig)
                else:
                    assert result.rowcount == 0, statement  # every row is another county's
        with engine.begin() as connection, pytest.raises(sa.exc.DBAPIError, match="row-level"):
            connection.exec_driver_sql(  # a new contract for another county's physician
                "INSERT INTO agreement (contract_no, physician_id, institution_id, role, "
                'department, start, "end", weekly_hours, status, revision, weekly_minutes, '
                "warnings, notes, updated_at) SELECT 'RAW-1', p.id, i.id, 'additional', '内科', "
                "'2026-01-01', '2026-06-30', 2, 'active', 0, 120, '[]', '{}', now() FROM "
                f"physician p, institution i WHERE p.cert_no = '{DR_WEI}' AND i.code = "
                f"'{GX_HOSPITAL}'"
            )
    finally:
        engine.dispose()
    # --clerk cannot make a clerk's login someone else
    code, _out, err = run(cli, None, "--db", as_role(cli.db_url, xingning), "--clerk", qingxiu,
                          "physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to",
                          "2026-04-30", "--reason", "考核不合格")  # fmt: skip
    assert code == 2 and "may not act as" in err
    assert run(cli, None, "audit", "verify")[0] == 0


def test_only_an_admin_names_another_clerk():
    from multisite.services.registry import ScopeError, resolve_acting
    from multisite.storage.models import Clerk

    records = {
        "root": Clerk(name="root", role="admin", region_code=None, enabled=True),
        "wang": Clerk(name="wang", role="clerk", region_code="330106", enabled=True),
        "li": Clerk(name="li", role="clerk", region_code="320102", enabled=True),
    }
    assert resolve_acting("wang", None, records).region == "330106"
    assert resolve_acting("root", "li", records).region == "320102"  # the admin acts as li
    with pytest.raises(ScopeError):
        resolve_acting("wang", "li", records)
    assert resolve_acting("nobody", None, records).role is None  # reads only


def test_the_upgrade_chains_the_audit_rows_written_before_it(db_url: str):
    from alembic import command

    from multisite.services import Registry
    from multisite.storage import _alembic_config, connect, upgrade

    db = Database(db_url)
    with connect(db.engine) as connection, connection.begin():
        command.upgrade(_alembic_config(connection), "0010")
        for n in range(3):
            connection.exec_driver_sql(
                "INSERT INTO audit_entry (at, clerk, action, entity, entity_key, before, after) "
                f"VALUES ('2026-01-0{n + 1} 08:00:00', '旧窗口', 'create', 'region', "
                f"'45010{n}', NULL, '{{\"name\": \"x{n}\"}}')"
            )
    upgrade(db.engine)
    registry = Registry(db)
    checked, broken = registry.verify_audit()
    assert (checked, broken) == (3, None)
    registry.add_clerk("qingxiu" if db.dialect == "sqlite" else registry.acting.name,
                       "450103", "admin")  # fmt: skip
    assert registry.verify_audit() == (4, None)
    db.dispose()


def test_init_never_replaces_the_key_of_stored_hashes(tmp_path: Path, capsys):
    from multisite.domain.inputs import PhysicianInput  # noqa: F401  (the input the form passes)

    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert main(["--db", url, "init"]) == 0
    raw(url, "INSERT INTO region (code, name, level) VALUES ('450000', '广西', 'province')",
        "INSERT INTO physician (cert_no, name, initials, level, category, scopes, title, status,"
        " id_digest, notes, updated_at) VALUES ('145450000000099', '甲', 'j', '执业医师', '临床',"
        " '[]', '主治医师', 'registered', 'ab', '{}', '2026-01-01 00:00:00')")  # fmt: skip
    (tmp_path / "r.db.idkey").unlink()
    capsys.readouterr()
    assert main(["--db", url, "init"]) == 2
    assert "restore the key" in capsys.readouterr().err
    assert not (tmp_path / "r.db.idkey").exists()


def test_concurrent_writers_keep_one_intact_chain(cli: Cli):
    """Two clerks' processes appending at once: the head's lock serialises the links."""
    import threading

    from multisite.services import Registry
    from multisite.services.calendars import Calendars

    errors: list[BaseException] = []

    def writer(cert: str) -> None:
        db = Database(cli.db_url)
        try:
            calendars = Calendars(Registry(db))
            for _n in range(12):
                calendars.issue_feed(cert)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            db.dispose()

    threads = [threading.Thread(target=writer, args=(c,)) for c in (DR_WEI, DR_LU)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    code, out, _err = run(cli, None, "audit", "verify")
    assert code == 0 and "intact" in out
    ids_now = audit_ids(cli.db_url)
    assert ids_now == list(range(ids_now[0], ids_now[0] + len(ids_now)))  # no gaps, no forks


def test_a_clerk_issues_feeds_only_for_their_region(cli: Cli, roles: dict[str, str]):
    _qingxiu, xingning = clerks_of_two_counties(cli, roles)
    code, _out, err = run(cli, xingning, "feed", "issue", DR_WEI)
    assert code == 2 and "450102" in err and "Traceback" not in err
    code, out, err = run(cli, xingning, "feed", "issue", DR_NONG)
    assert code == 0 and "/feeds/" in out, err
    assert refusals(cli.db_url)[-1][1] == "feed_token"
