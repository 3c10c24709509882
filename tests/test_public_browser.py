"""The public pages in a real browser: Playwright driving Debian's Chromium (never a downloaded
browser) against ``serve --public``'s app on a loopback port, on an Inner Mongolia region
imported into an empty database. Search by name, open the physician, follow to the main
institution, switch language, and read a page at 375 px.

With ``MULTISITE_SCREENSHOTS=DIR`` the test also saves the README's screenshots there.
Chromium is ``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it);
without it the test is skipped, unless ``MULTISITE_REQUIRE_BROWSER`` is set (CI).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from multisite.feed import create_app
from multisite.public import public_routes
from multisite.services import Registry
from multisite.services.calendars import Calendars
from multisite.storage import Database

from .disclosure_region import BATER, CENTRE, HOSPITAL, inner_mongolia_office

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

BUILD_REGISTRY = inner_mongolia_office


@pytest.fixture
def site(built_registry_url: str) -> Iterator[str]:
    """The Inner Mongolia office (``BUILD_REGISTRY``, a copy for each test) served."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("MULTISITE_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (MULTISITE_REQUIRE_BROWSER) but not installed")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    db = Database(built_registry_url)
    registry = Registry(db)
    app = create_app(Calendars(registry), extra_routes=public_routes(registry))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    sock.close()
    db.dispose()


def test_a_person_finds_a_physician_and_every_institution_they_may_practise_at(
    site: str, db_url: str
):
    if not db_url.startswith("sqlite"):
        pytest.skip("the browser's path does not depend on the engine: once is enough")
    from playwright.sync_api import sync_playwright

    shots = os.environ.get("MULTISITE_SCREENSHOTS")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(
                viewport={"width": 1000, "height": 800}, java_script_enabled=False
            )
            page.goto(site + "/")
            page.fill("#q", "巴特")
            page.click("button[type=submit]")
            assert page.locator("#results li").count() == 1
            if shots:
                page.screenshot(path=f"{shots}/public-search.png", full_page=True)
            page.click(f"a[href='/physicians/{BATER}']")
            assert page.locator("#name").inner_text() == "巴特尔"
            body = page.locator("main").inner_text()
            # every institution he may practise at, with validity
            assert "呼和浩特市第一医院" in body and "玉泉区小召社区卫生服务中心" in body
            assert "2026-01-01 至 2027-03-10" in body and "内蒙古自治区" in body
            if shots:
                page.screenshot(path=f"{shots}/public-physician.png", full_page=True)
            page.click("a.main")
            assert page.url.endswith(f"/institutions/{HOSPITAL}")
            assert page.locator("#name").inner_text() == "呼和浩特市第一医院"
            assert page.locator("#registered li").count() == 3
            page.click("#language")
            assert page.url.endswith(f"/institutions/{HOSPITAL}?lang=en")
            english = page.locator("main").inner_text()
            assert (
                "Physicians and nurses registered here" in english and "Next validation" in english
            )
            page.click(f"#registered a[href='/physicians/{BATER}?lang=en']")
            assert "Filed institutions" in page.locator("main").inner_text()
            page.click("#language")
            assert "备案执业机构" in page.locator("main").inner_text()

            phone = browser.new_page(
                viewport={"width": 375, "height": 740}, java_script_enabled=True
            )
            phone.goto(f"{site}/institutions/{CENTRE}")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"the page is {width} px wide at 375 px"
            assert phone.locator("#filed li").count() == 1
            font = phone.evaluate("getComputedStyle(document.body).fontSize")
            assert font == "16px"
            if shots:
                phone.goto(f"{site}/physicians/{BATER}")
                phone.screenshot(path=f"{shots}/public-phone.png", full_page=True)
        finally:
            browser.close()
