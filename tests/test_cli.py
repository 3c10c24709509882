"""The command line as a clerk or another program drives it (SPEC §6): run as a real
process from an empty folder, against SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MULTISITE = str(Path(sys.executable).with_name("multisite"))


def run(*args: str, cwd: Path, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MULTISITE_CLERK": "窗口一", "LANG": "C.UTF-8"}
    env.pop("MULTISITE_DEBUG", None)
    return subprocess.run(
        [MULTISITE, "--lang", lang, *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def init_and_demo(db_url: str, folder: Path) -> None:
    """``init``, then a 150-physician demo region, through the command line."""
    assert run("--db", db_url, "init", cwd=folder).returncode == 0
    done = run("--db", db_url, "demo", "--physicians", "150", "--seed", "7", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "150" in done.stdout


@pytest.fixture
def demo_db(db_url: str, tmp_path: Path) -> str:
    """A demo region the command line builds in an empty database, in this test."""
    init_and_demo(db_url, tmp_path)
    return db_url


# The tests that read a demo region start from a copy of one the command line built once per
# test worker and engine (into a migrated registry: init from nothing is demo_db's).
BUILD_REGISTRY = init_and_demo


@pytest.fixture
def demo_copy(built_registry_url: str) -> str:
    """A copy of the demo region the command line built (``BUILD_REGISTRY``)."""
    return built_registry_url


def sample(db_url: str, tmp_path: Path) -> tuple[str, str]:
    from sqlalchemy import text

    from multisite.storage import Database

    db = Database(db_url)
    with db.engine.connect() as c:
        cert = c.execute(
            text("SELECT p.cert_no FROM physician p JOIN agreement a ON a.physician_id = p.id "
                 "WHERE a.role = 'additional' ORDER BY p.id LIMIT 1")
        ).scalar_one()  # fmt: skip
        code = c.execute(text("SELECT code FROM institution ORDER BY id LIMIT 1")).scalar_one()
    db.dispose()
    return cert, code


def test_init_demo_and_show_from_an_empty_folder(demo_db: str, tmp_path: Path):
    cert, code = sample(demo_db, tmp_path)
    shown = run("--db", demo_db, "physician", "show", cert, cwd=tmp_path)
    assert shown.returncode == 0 and cert in shown.stdout and "Agreements" in shown.stdout
    doc = json.loads(run("--db", demo_db, "physician", "show", cert, "--json", cwd=tmp_path).stdout)
    assert doc["cert"] == cert and any(a["role"] == "additional" for a in doc["agreements"])
    inst = json.loads(
        run("--db", demo_db, "institution", "show", code, "--json", cwd=tmp_path).stdout
    )
    assert inst["code"] == code and inst["kind"]
    again = run("--db", demo_db, "init", cwd=tmp_path)
    assert again.returncode == 0 and "up to date" in again.stdout


def test_check_json_is_a_list_of_violations_and_exit_code_follows_findings(demo_copy, tmp_path):
    result = run("--db", demo_copy, "check", "--json", cwd=tmp_path)
    found = json.loads(result.stdout)
    assert isinstance(found, list)
    assert result.returncode == (1 if found else 0)
    assert all(v["severity"] == "warning" for v in found)  # the demo region has no errors
    for v in found:
        assert set(v) >= {"code", "severity", "physician", "agreements", "institutions",
                          "first_date", "measure", "unit", "message"}  # fmt: skip


BAD_INPUT = [
    ("physician", "show", "999999999999999"),
    ("institution", "show", "nonsense"),
    ("check", "--physician", "123"),
    ("demo", "--physicians", "-3"),
    ("nosuchcommand",),
]


def test_bad_input_is_one_sentence_with_exit_code_two(demo_copy, tmp_path):
    # one region for every case: none of them may change it
    for args in BAD_INPUT:
        result = run("--db", demo_copy, *args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr, args
        assert len(result.stderr.strip().splitlines()) == 1, (args, result.stderr)
    assert run("--db", demo_copy, "summary", cwd=tmp_path).stdout.count("150") >= 1


def test_unreachable_database_and_missing_schema(tmp_path: Path):
    down = run("--db", "postgresql+psycopg://x@127.0.0.1:1/none", "summary", cwd=tmp_path)
    assert down.returncode == 2 and "Cannot open the database" in down.stderr
    fresh = run("--db", f"sqlite:///{tmp_path / 'new.db'}", "summary", cwd=tmp_path)
    assert fresh.returncode == 2 and "multisite init" in fresh.stderr
    nowhere = run("--db", "sqlite:////no/such/folder/x.db", "init", cwd=tmp_path)
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr


def test_messages_follow_lang(tmp_path: Path):
    result = run("--db", f"sqlite:///{tmp_path / 'new.db'}", "summary", cwd=tmp_path, lang="zh")
    assert "请先运行" in result.stderr
