"""An institution's due items as a calendar feed (VTODO with DUE) for its HR office, issued with
``feed issue --institution CODE --due`` and served by the feed server; read back with an
independent parser (``icalendar``) and compared with ``due --json``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
from starlette.testclient import TestClient

from multisite.feed import create_app
from multisite.services import Registry
from multisite.services.calendars import Calendars
from multisite.storage import Database

from .clerk_cli import CONTRACT_HEADERS, Cli
from .disclosure_region import BATER, CENTRE, HOSPITAL, inner_mongolia_office

BUILD_REGISTRY = inner_mongolia_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    cli = Cli(built_registry_url, capsys, tmp_path)  # the office (BUILD_REGISTRY), a copy
    today = dt.date.today()
    # a Sunday clinic of 巴特尔 at the centre that ends in 20 days (the feed follows the clock)
    cli.load("contracts", CONTRACT_HEADERS, [
        ("NM-A-SOON", BATER, CENTRE, "其他", "内科", (today - dt.timedelta(days=30)).isoformat(),
         (today + dt.timedelta(days=20)).isoformat(), "周日 08:00-12:00", 4, "是"),
    ])  # fmt: skip
    return cli


def todos(body: bytes) -> list[tuple[str, dt.date, str]]:
    calendar = icalendar.Calendar.from_ical(body)
    return [(str(c["UID"]), c["DUE"].dt, str(c["SUMMARY"])) for c in calendar.walk("VTODO")]


def test_the_due_feed_holds_the_institutions_items_as_todos(cli: Cli):
    url = cli.ok("feed", "issue", "--institution", CENTRE, "--due").out.splitlines()[0]
    token_path = "/" + url.split("/", 3)[3]
    db = Database(cli.db_url)
    app = create_app(Calendars(Registry(db)), recheck_seconds=0)
    with TestClient(app) as web:
        first = web.get(token_path)
        assert first.status_code == 200 and first.headers["content-type"].startswith(
            "text/calendar"
        )
        found = todos(first.content)
        expected = cli.ok("due", "--json", "--institution", CENTRE, "--within", "90").json()
        assert [(t[1].isoformat()) for t in found] == [x["due"] for x in expected]
        soon = dt.date.today() + dt.timedelta(days=20)
        assert [t for t in found if t[1] == soon and "合同到期" in t[2] and "巴特尔" in t[2]]
        assert all(isinstance(t[1], dt.date) and not isinstance(t[1], dt.datetime) for t in found)
        again = web.get(token_path, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304
        # the hospital's items are not in the centre's feed; its schedule is not in it either
        assert "VEVENT" not in first.text and HOSPITAL not in first.text
        cli.ok("feed", "revoke", "--institution", CENTRE)
        assert web.get(token_path).status_code == 404
    db.dispose()


def test_a_due_feed_needs_an_institution(cli: Cli):
    assert "--institution" in cli.refused("feed", "issue", BATER, "--due")
