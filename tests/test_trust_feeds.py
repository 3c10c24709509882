"""Feeds follow the registry (#19): a suspension cancels the suspended days' sessions (EXDATE)
and a cancellation (注销) revokes the physician's subscriptions and ends their series — read
back with an independent parser (icalendar + recurring-ical-events)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events

from multisite.services import Registry
from multisite.services.calendars import Calendars, hash_token
from multisite.storage import Database

from .clerk_cli import DR_LU, DR_WEI, Cli, guangxi_office

BUILD_REGISTRY = guangxi_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The Guangxi office (``BUILD_REGISTRY``), a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def occurrences(cli: Cli, cert: str, lo: dt.date, hi: dt.date) -> list[dt.date]:
    path = cli.folder / f"{cert}.ics"
    cli.ok("ical", "physician", cert, "-o", str(path))
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    found = recurring_ical_events.of(calendar).between(lo, hi)
    return sorted(e["DTSTART"].dt.date() for e in found)


def test_a_suspension_cancels_the_suspended_days_in_the_calendar(cli: Cli):
    lo, hi = dt.date(2026, 2, 1), dt.date(2026, 6, 1)
    before = occurrences(cli, DR_WEI, lo, hi)
    assert any(dt.date(2026, 3, 1) <= d <= dt.date(2026, 4, 30) for d in before)
    cli.ok("physician", "suspend", DR_WEI, "--from", "2026-03-01", "--to", "2026-04-30",
           "--reason", "考核不合格")  # fmt: skip
    after = occurrences(cli, DR_WEI, lo, hi)
    assert after == [d for d in before if not dt.date(2026, 3, 1) <= d <= dt.date(2026, 4, 30)]


def test_a_cancellation_revokes_the_feed_and_ends_the_series(cli: Cli):
    db = Database(cli.db_url)
    calendars = Calendars(Registry(db))
    issued = calendars.issue_feed(DR_LU)
    assert calendars.refresh_feed(hash_token(issued.token), None) is not None
    cli.ok("physician", "cancel", DR_LU, "--on", "2026-09-01", "--reason", "调离")
    assert calendars.refresh_feed(hash_token(issued.token), None) is None  # 404, like unknown
    later = occurrences(cli, DR_LU, dt.date(2026, 9, 1), dt.date(2028, 1, 1))
    assert later == []
    assert occurrences(cli, DR_LU, dt.date(2026, 8, 1), dt.date(2026, 9, 1))
    db.dispose()
