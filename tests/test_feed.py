"""The feed server over a real socket: Uvicorn on a free loopback port, fetched with httpx.

Every body fetched is parsed by ``icalendar`` + ``recurring-ical-events`` and compared with
the schedule algebra's expansion (helpers shared with ``test_ical_export``).
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime

import httpx2 as httpx
import pytest
import uvicorn

from multisite.feed import create_app, etag_matches
from multisite.ical import etag_for
from multisite.services import Registry
from multisite.services.calendars import Calendars, IssuedFeed
from tests.factories import CLINIC, DR_LI, DR_ZHANG, HOSPITAL, agreement, primary
from tests.test_ical_export import (
    FRIDAY,
    assert_matches_algebra,
    events,
    parse,
    zhang_schedule,
)

BASE = "http://127.0.0.1"


class LiveServer:
    """Uvicorn serving the feed app in a thread on 127.0.0.1 and a free port."""

    def __init__(self, registry: Registry, recheck_seconds: float) -> None:
        self.calendars = Calendars(registry)
        app = create_app(self.calendars, recheck_seconds=recheck_seconds)
        # IPPROTO_TCP explicitly, so asyncio sets TCP_NODELAY on accepted connections.
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

    def issue(self, cert: str | None = None, institution: str | None = None) -> str:
        issued: IssuedFeed = self.calendars.issue_feed(cert, institution, base=BASE)
        assert issued.https_url.startswith(BASE + "/feeds/")
        return issued.https_url[len(BASE) :]


@pytest.fixture
def live(registry: Registry) -> Iterator[LiveServer]:
    zhang_schedule(registry)
    with LiveServer(registry, recheck_seconds=0) as server:
        yield server


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
    return response.status_code, response.content, headers


def test_get_serves_the_calendar_with_type_etag_and_last_modified(
    live: LiveServer, registry: Registry
) -> None:
    path = live.issue(DR_ZHANG)
    response = live.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    body = response.content
    assert body == live.calendars.physician_calendar(DR_ZHANG).body
    etag = response.headers["etag"]
    assert etag == etag_for(body) and not etag.startswith("W/")
    modified = parsedate_to_datetime(response.headers["last-modified"])
    assert modified.tzinfo is not None and modified <= dt.datetime.now(dt.UTC)
    assert int(response.headers["content-length"]) == len(body)
    assert_matches_algebra(registry, body, [DR_ZHANG], {CLINIC: FRIDAY})


def test_head_has_the_headers_of_get_and_no_body(live: LiveServer) -> None:
    path = live.issue(DR_ZHANG)
    got = live.client.get(path)
    head = live.client.head(path)
    assert head.status_code == 200 and head.content == b""
    for name in ("content-type", "content-length", "etag", "last-modified"):
        assert head.headers[name] == got.headers[name]


def test_if_none_match_gets_304_without_a_body(live: LiveServer) -> None:
    path = live.issue(DR_ZHANG)
    etag = live.client.get(path).headers["etag"]
    for header in (etag, f'"nope", {etag}', f"W/{etag}", "*"):
        response = live.client.get(path, headers={"If-None-Match": header})
        assert response.status_code == 304 and response.content == b""
        assert response.headers["etag"] == etag
    assert live.client.head(path, headers={"If-None-Match": etag}).status_code == 304
    assert live.client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_edited_session_changes_etag_keeps_uid_and_raises_sequence(
    live: LiveServer, registry: Registry
) -> None:
    path = live.issue(DR_ZHANG)
    before = live.client.get(path)
    registry.save_agreement(agreement("A-1", CLINIC, "TU 18:00-21:30; FR 20:00-08:00"))
    after = live.client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.headers["etag"] != before.headers["etag"]
    old, new = events(before.content), events(after.content)
    uid = "ag2-s1-1800@multisite"
    assert set(old) == set(new)
    assert int(new[uid]["SEQUENCE"]) > int(old[uid]["SEQUENCE"])
    assert_matches_algebra(registry, after.content, [DR_ZHANG], {CLINIC: FRIDAY})


def test_terminated_agreement_shows_on_the_next_fetch(live: LiveServer, registry: Registry) -> None:
    path = live.issue(DR_ZHANG)
    before = events(live.client.get(path).content)
    registry.terminate_agreement("A-1", dt.date(2026, 10, 15), "诊所停业")
    response = live.client.get(path)
    after = events(response.content)
    uid = "ag2-s4-2000@multisite"
    assert after[uid]["RRULE"]["UNTIL"][0] < before[uid]["RRULE"]["UNTIL"][0]
    assert_matches_algebra(registry, response.content, [DR_ZHANG], {CLINIC: FRIDAY})


def test_revoked_and_unknown_tokens_get_the_same_404(live: LiveServer, registry: Registry) -> None:
    path = live.issue(DR_ZHANG)
    assert live.client.get(path).status_code == 200
    Calendars(registry).revoke_feeds(DR_ZHANG)
    revoked = live.client.get(path)
    unknown = live.client.get("/feeds/" + "A" * 43 + ".ics")
    assert revoked.status_code == 404
    assert comparable(revoked) == comparable(unknown)
    assert comparable(live.client.head(path)) == comparable(live.client.head(unknown.url.path))
    assert comparable(live.client.get("/feeds/x.ics")) == comparable(unknown)
    assert comparable(live.client.get("/somewhere/else")) == comparable(unknown)


def test_other_methods_and_paths_are_refused(live: LiveServer) -> None:
    path = live.issue(DR_ZHANG)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert live.client.request(method, path).status_code == 405
    assert live.client.get(path[:-4]).status_code == 404
    assert live.client.get("/feeds/").status_code == 404
    assert live.client.get("/").status_code == 404


def test_a_physician_feed_holds_only_that_physicians_schedule(
    live: LiveServer, registry: Registry
) -> None:
    primary(registry, physician=DR_LI, contract="P-2", sessions="FR 08:00-12:00")
    li = live.client.get(live.issue(DR_LI)).content
    contracts = {str(e["DESCRIPTION"]).rsplit("：", 1)[1] for e in parse(li).walk("VEVENT")}
    assert contracts == {"P-2"}
    assert "张伟" not in li.decode()
    assert_matches_algebra(registry, li, [DR_LI], {})


def test_an_institution_feed_has_its_own_token(live: LiveServer, registry: Registry) -> None:
    primary(registry, physician=DR_LI, contract="P-2", sessions="FR 08:00-12:00")
    hospital = live.issue(institution=HOSPITAL)
    zhang = live.issue(DR_ZHANG)
    assert hospital != zhang
    body = live.client.get(hospital).content
    assert body == live.calendars.institution_calendar(HOSPITAL).body
    contracts = {str(e["DESCRIPTION"]).rsplit("：", 1)[1] for e in parse(body).walk("VEVENT")}
    assert contracts == {"P-1", "P-2"}
    Calendars(registry).revoke_feeds(institution=HOSPITAL)
    assert live.client.get(hospital).status_code == 404
    assert live.client.get(zhang).status_code == 200


def test_warm_feed_is_served_from_memory_within_the_recheck_window(registry: Registry) -> None:
    zhang_schedule(registry)
    with LiveServer(registry, recheck_seconds=3600) as server:
        path = server.issue(DR_ZHANG)
        first = server.client.get(path)
        registry.save_agreement(agreement("A-1", CLINIC, "TU 18:00-21:30; FR 20:00-08:00"))
        Calendars(registry).revoke_feeds(DR_ZHANG)
        # documented staleness: nothing changes until the window is over
        assert comparable(server.client.get(path)) == comparable(first)


def test_etag_matching_follows_rfc_9110() -> None:
    assert etag_matches('"a"', '"a"')
    assert etag_matches('W/"a"', '"a"')
    assert etag_matches(' "b" , "a"', '"a"')
    assert etag_matches("*", '"a"')
    assert not etag_matches('"b"', '"a"')
    assert not etag_matches("a", '"a"')
