"""Random inspections (双随机) on an Inner Mongolia region imported into an empty database: the
inspectors list, a draw reproducible from its seed and audited, results recorded and shown on
the public pages where the policy publishes them; an impossible draw stores nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from multisite.feed import create_app
from multisite.public import public_routes
from multisite.services import Registry
from multisite.services.calendars import Calendars
from multisite.services.inspections import draw_lots
from multisite.storage import Database

from .clerk_cli import Cli
from .disclosure_region import CENTRE, CLINIC, DENTAL, HOSPITAL, inner_mongolia
from .test_trust import roles as clerk_roles  # noqa: F401 (a fixture: the clerks' roles)

TODAY = dt.date.today().isoformat()  # a result is recorded once the inspection is done
CODES = sorted([HOSPITAL, CLINIC, CENTRE, DENTAL])


def inspected_region(url: str, folder: Path) -> None:
    """The Inner Mongolia office and four inspectors: built once per test worker and engine
    (``BUILD_REGISTRY``), copied for each test."""
    cli = inner_mongolia(Cli(url, None, folder))
    for name, unit in (("王强", "呼和浩特市卫生监督所"), ("赵敏", "呼和浩特市卫生监督所"),
                       ("孙磊", "内蒙古自治区卫生健康委员会"), ("刘洋", "回民区卫生健康局")):  # fmt: skip
        cli.ok("inspect", "inspectors", "add", name, "--unit", unit, "--region", "150000")


BUILD_REGISTRY = inspected_region


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The inspected region, a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def audit_rows(cli: Cli) -> int:
    db = Database(cli.db_url)
    with db.read() as s:
        from multisite.storage.queries import counts

        n = counts(s)["audit_entries"]
    db.dispose()
    return n


def test_a_draw_is_reproducible_from_its_seed_and_audited(cli: Cli):
    first = cli.ok("inspect", "draw", "--institutions", "2", "--inspectors", "2", "--seed",
                   "2027-Q1", "--json").json()  # fmt: skip
    again = cli.ok("inspect", "draw", "--institutions", "2", "--inspectors", "2", "--seed",
                   "2027-Q1", "--json").json()  # fmt: skip
    picked = [(x["institution"], [p["id"] for p in x["inspectors"]]) for x in first["inspections"]]
    assert picked == [(x["institution"], [p["id"] for p in x["inspectors"]])
                      for x in again["inspections"]]  # fmt: skip
    # the same lots as Python's Random(seed) over the sorted lists, independently of the store
    assert [(c, i) for c, i in draw_lots("2027-Q1", CODES, [1, 2, 3, 4], 2, 2)] == picked
    assert first["seed"] == "2027-Q1" and first["drawn_by"] == "窗口一"
    assert len({x["institution"] for x in first["inspections"]}) == 2
    assert all(len(x["inspectors"]) == 2 for x in first["inspections"])
    other = cli.ok("inspect", "draw", "--institutions", "4", "--inspectors", "1", "--seed",
                   "other", "--json").json()  # fmt: skip
    assert sorted(x["institution"] for x in other["inspections"]) == CODES
    db = Database(cli.db_url)
    with db.read() as s:
        from sqlalchemy import select

        from multisite.storage.models import AuditEntry

        rows = s.scalars(select(AuditEntry).where(AuditEntry.entity == "inspection_draw")).all()
        assert [(r.action, r.clerk, r.after["seed"]) for r in rows] == [
            ("draw", "窗口一", "2027-Q1"), ("draw", "窗口一", "2027-Q1"), ("draw", "窗口一", "other"),
        ]  # fmt: skip
        assert rows[0].after["institutions"] == [c for c, _i in picked]
    db.dispose()
    unseeded = cli.ok("inspect", "draw", "--institutions", "1", "--inspectors", "1", "--json")
    assert unseeded.json()["seed"].isdigit()  # a random seed, stored so the draw can be redone


def test_an_impossible_draw_is_one_sentence_and_stores_nothing(cli: Cli):
    before = audit_rows(cli)
    assert "only 4" in cli.refused("inspect", "draw", "--institutions", "5", "--inspectors", "1")
    assert "only 4 active" in cli.refused(
        "inspect", "draw", "--institutions", "1", "--inspectors", "5"
    )
    assert "only 1" in cli.refused(
        "inspect", "draw", "--institutions", "2", "--inspectors", "1", "--region", "150103"
    )
    assert cli.refused("inspect", "draw", "--institutions", "0", "--inspectors", "1")
    zh = cli("inspect", "draw", "--institutions", "9", "--inspectors", "1", lang="zh")
    assert zh.code == 2 and "未保存" in zh.err
    assert audit_rows(cli) == before
    assert "Unknown draw" in cli.refused("inspect", "show", "1")


def test_disabled_inspectors_are_not_drawn(cli: Cli):
    cli.ok("inspect", "inspectors", "disable", "1")
    listed = cli.ok("inspect", "inspectors", "list", "--json").json()
    assert [x["active"] for x in listed] == [False, True, True, True]
    drawn = cli.ok("inspect", "draw", "--institutions", "4", "--inspectors", "3", "--seed", "s",
                   "--json").json()  # fmt: skip
    assert all(1 not in [p["id"] for p in x["inspectors"]] for x in drawn["inspections"])
    assert "only 3 active" in cli.refused(
        "inspect", "draw", "--institutions", "1", "--inspectors", "4"
    )


def test_a_result_dated_after_today_is_refused(cli: Cli):
    cli.ok("inspect", "draw", "--institutions", "4", "--inspectors", "2", "--seed", "q1")
    later = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    refused = cli.refused("inspect", "record", "1", CLINIC, "--on", later, "--outcome", "合格")
    assert "has not happened yet" in refused
    shown = cli.ok("inspect", "show", "1", "--json").json()
    assert all(x["outcome"] is None for x in shown["inspections"])


def test_recorded_results_appear_on_the_public_pages_when_the_policy_publishes_them(cli: Cli):
    cli.ok("inspect", "draw", "--institutions", "4", "--inspectors", "2", "--seed", "q1")
    cli.ok("inspect", "record", "1", CLINIC, "--on", TODAY, "--outcome", "责令整改",
           "--findings", "处方书写不规范")  # fmt: skip
    shown = cli.ok("inspect", "show", "1", "--json").json()
    (clinic,) = [x for x in shown["inspections"] if x["institution"] == CLINIC]
    assert (clinic["inspected_on"], clinic["outcome"], clinic["findings"]) == (
        TODAY, "rectify", "处方书写不规范",
    )  # fmt: skip
    assert "not drawn" in cli.refused("inspect", "record", "1", "X", "--on", TODAY,
                                      "--outcome", "合格")  # fmt: skip
    assert "outcome" in cli.refused("inspect", "record", "1", CLINIC, "--on", TODAY,
                                    "--outcome", "good")  # fmt: skip
    db = Database(cli.db_url)
    registry = Registry(db)
    with TestClient(create_app(Calendars(registry), extra_routes=public_routes(registry))) as web:
        doc = web.get(f"/institutions/{CLINIC}.json").json()
        assert [(x["inspected_on"], x["outcome"]) for x in doc["inspections"]] == [
            (TODAY, "rectify")
        ]
        assert len(doc["inspections"][0]["inspectors"]) == 2
        assert "责令整改" in web.get(f"/institutions/{CLINIC}").text
        assert web.get(f"/institutions/{HOSPITAL}.json").json()["inspections"] == []
    cli.ok("policy", "set", "150000", "publish_inspections=false")
    registry = Registry(db)
    with TestClient(create_app(Calendars(registry), extra_routes=public_routes(registry))) as web:
        assert web.get(f"/institutions/{CLINIC}.json").json()["inspections"] is None
        assert "处方书写不规范" not in web.get(f"/institutions/{CLINIC}").text
    db.dispose()


def test_a_clerk_draws_only_in_their_region(cli: Cli, clerk_roles: dict[str, str]):  # noqa: F811
    from .test_trust import run

    clerk = clerk_roles["xingning"]
    cli.ok("clerk", "add", clerk, "--region", "150103", "--role", "clerk")  # 回民区: the clinic
    code, _out, err = run(cli, clerk, "inspect", "draw", "--institutions", "4",
                          "--inspectors", "1", "--seed", "x")  # fmt: skip
    assert code == 2 and "150103" in err and len(err.strip().splitlines()) == 1
    assert "Unknown draw" in cli.refused("inspect", "show", "1")  # nothing stored
    code, out, err = run(cli, clerk, "inspect", "draw", "--institutions", "1", "--inspectors",
                         "1", "--region", "150103", "--seed", "x", "--json")  # fmt: skip
    assert code == 0, err
    import json

    assert [x["institution"] for x in json.loads(out)["inspections"]] == [CLINIC]
