"""The public pages (``serve --public``) on an Inner Mongolia region imported into an empty
database: search, a physician, an institution, the listings; HTML in zh and en and the same
documents as JSON; bad requests, hardening, caching, rate limiting, hostile stored text."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from multisite.feed import create_app
from multisite.public import RateLimit, public_routes
from multisite.services import Registry
from multisite.services.calendars import Calendars
from multisite.storage import Database

from .clerk_cli import INSTITUTION_HEADERS, PHYSICIAN_HEADERS, Cli, credit_code
from .disclosure_region import BATER, CENTRE, CLINIC, HOSPITAL, QIQIGE, ZHANG, inner_mongolia_office

BUILD_REGISTRY = inner_mongolia_office


@pytest.fixture
def cli(built_registry_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    """The Inner Mongolia office (``BUILD_REGISTRY``), a copy for each test."""
    return Cli(built_registry_url, capsys, tmp_path)


def client_for(db_url: str, limit: RateLimit | None = None) -> Iterator[TestClient]:
    db = Database(db_url)
    registry = Registry(db, clerk="public")
    app = create_app(Calendars(registry), extra_routes=public_routes(registry, limit))
    with TestClient(app, base_url="http://testserver") as client:
        yield client
    db.dispose()


@pytest.fixture
def web(cli: Cli) -> Iterator[TestClient]:
    yield from client_for(cli.db_url)


def text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_search_by_name_finds_the_physician_and_links_to_the_page(web: TestClient):
    page = web.get("/", params={"q": "巴特"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f'href="/physicians/{BATER}"' in page.text and "呼和浩特市第一医院" in page.text
    assert web.get("/search.json", params={"q": "巴特"}).json()["results"] == [
        {"cert": BATER, "name": "巴特尔", "title": "副主任医师", "category": "临床",
         "profession": "physician", "main_institutions": ["呼和浩特市第一医院"]}
    ]  # fmt: skip
    by_cert = web.get("/search.json", params={"q": BATER[:12]}).json()
    assert by_cert["by"] == "cert" and len(by_cert["results"]) == 5


def test_a_physician_page_shows_region_main_institution_filings_status_and_listings(
    web: TestClient,
):
    doc = web.get(f"/physicians/{BATER}.json").json()
    (reg,) = doc["registrations"]
    assert (reg["region"], reg["region_name"]) == ("150000", "内蒙古自治区")
    assert reg["main_institution"] == {"code": HOSPITAL, "name": "呼和浩特市第一医院"}
    assert [(f["institution"]["code"], f["valid_from"], f["valid_to"]) for f in reg["filings"]] == [
        (CENTRE, "2026-01-01", "2027-03-10")
    ]
    assert doc["schedule"] is None  # the province does not publish schedules by default
    html = web.get(f"/physicians/{BATER}").text
    assert "玉泉区小召社区卫生服务中心" in html and "2027-03-10" in html and "内蒙古自治区" in html
    assert "周六" not in html and "08:00" not in html
    suspended = web.get(f"/physicians/{QIQIGE}.json").json()
    history = suspended["registrations"][0]["history"]
    assert {"status": "suspended", "from": "2027-01-01", "to": "2027-03-31"} in history
    assert "定期考核" not in web.get(f"/physicians/{QIQIGE}").text  # no reasons of a suspension
    listed = web.get(f"/physicians/{ZHANG}.json").json()["listings"]
    assert [(x["from"], x["to"], x["decision"]) for x in listed] == [
        ("2026-06-01", "2027-03-05", "呼卫监〔2026〕3号")
    ]


def test_accept_json_gives_the_same_document_as_the_json_path(web: TestClient):
    by_header = web.get(f"/physicians/{BATER}", headers={"accept": "application/json"})
    assert by_header.headers["content-type"] == "application/json"
    assert by_header.json() == web.get(f"/physicians/{BATER}.json").json()


def test_the_schedule_is_shown_where_the_province_publishes_it(cli: Cli):
    cli.ok("policy", "set", "150000", "publish_schedule=true")
    web = next(client_for(cli.db_url))
    doc = web.get(f"/physicians/{BATER}.json").json()
    assert {(a["institution"]["code"], tuple(a["sessions"])) for a in doc["schedule"]} == {
        (HOSPITAL, ("TU 08:00-12:00",)), (CENTRE, ("SA 08:00-12:00",)),
    }  # fmt: skip


NURSE = "201815000007"  # 护士执业证书编号: year, province (15), serial
NURSE_HEADERS = ("护士执业证书编号", "姓名", "职称", "注册地", "主要执业机构", "注册日期")


def test_nurses_are_found_and_listed_as_nurses(cli: Cli, db_url: str):
    cli.load(
        "nurses", NURSE_HEADERS, [(NURSE, "巴特玛", "主管护师", "150000", HOSPITAL, "2018-09-01")]
    )
    for client in client_for(db_url):
        found = client.get("/search.json", params={"q": "巴特"}).json()["results"]
        assert {(r["name"], r["profession"]) for r in found} == {
            ("巴特尔", "physician"), ("巴特玛", "nurse"),
        }  # fmt: skip
        page = text(client.get("/", params={"q": "巴特玛"}).text)
        assert re.search(r"护士\s+· 主管护师", page)
        nurse = client.get(f"/physicians/{NURSE}")
        assert nurse.status_code == 200
        assert re.search(r'id="profession">护士<', nurse.text)
        assert "执业类别" not in text(nurse.text)  # a nurse has no category or scopes
        english = client.get(f"/physicians/{NURSE}", params={"lang": "en"}).text
        assert re.search(r'id="profession">nurse<', english)
        physician = client.get(f"/physicians/{BATER}").text
        assert re.search(r'id="profession">医师<', physician)
        hospital = client.get(f"/institutions/{HOSPITAL}.json").json()
        assert {(p["cert"], p["profession"]) for p in hospital["registered"]} >= {
            (NURSE, "nurse"), (BATER, "physician"),
        }  # fmt: skip
        assert "巴特玛</a> · 护士 · 主管护师" in client.get(f"/institutions/{HOSPITAL}").text


def test_an_institution_page_lists_who_is_registered_and_filed_there(web: TestClient):
    doc = web.get(f"/institutions/{CENTRE}.json").json()
    assert (doc["kind"], doc["address"], doc["licensed_on"]) == (
        "社区卫生服务中心", "大召前街3号", "2019-06-01",
    )  # fmt: skip
    today = dt.date.today()
    expected = dt.date(today.year, 6, 1)
    if expected < today:
        expected = dt.date(today.year + 1, 6, 1)
    assert doc["next_validation"] == expected.isoformat()  # yearly, on the licence's day
    assert [p["cert"] for p in doc["registered"]] == ["115150000000005"]
    assert [(p["cert"], p["valid_from"], p["valid_to"]) for p in doc["filed"]] == [
        (BATER, "2026-01-01", "2027-03-10")
    ]
    hospital = web.get(f"/institutions/{HOSPITAL}").text
    assert hospital.count('href="/physicians/') == 3 and "新华大街1号" in hospital
    clinic = web.get(f"/institutions/{CLINIC}.json").json()
    assert [x["reason"] for x in clinic["listings"]] == ["超范围执业"]


def test_the_listings_page_is_newest_first(web: TestClient):
    doc = web.get("/listings.json").json()
    assert [x["subject"]["key"] for x in doc["listings"]] == [CLINIC, ZHANG]
    assert doc["more"] is False
    assert "超范围执业" in web.get("/listings").text


def test_english_on_request_and_chinese_by_default(web: TestClient):
    zh = web.get(f"/physicians/{BATER}")
    assert zh.headers["content-language"] == "zh-CN" and "主要执业机构" in zh.text
    assert f'href="/physicians/{BATER}?lang=en"' in zh.text
    en = web.get(f"/physicians/{BATER}", params={"lang": "en"})
    assert en.headers["content-language"] == "en" and "Main institution" in en.text
    assert "主要执业机构" not in en.text
    assert f'href="/institutions/{HOSPITAL}?lang=en"' in en.text  # links keep the language


def test_bad_requests_get_a_clear_page_and_a_4xx(web: TestClient):
    short = web.get("/", params={"q": "巴"})
    assert short.status_code == 400 and "至少" in short.text
    assert web.get("/search.json", params={"q": "巴"}).json()["error"] == "short"
    assert web.get("/", params={"q": "巴特", "page": "99"}).status_code == 400
    unknown = web.get("/physicians/115150000000099")
    assert unknown.status_code == 404 and "没有" in unknown.text
    assert web.get("/institutions/nope.json").json()["error"] == "no_institution"
    assert web.get("/nowhere").status_code == 404
    assert web.post("/", data={"q": "巴特"}).status_code == 405
    assert web.delete(f"/physicians/{BATER}").status_code == 405
    flood = web.get("/", params={"q": "巴" * 3_000})  # shown back as far as the field takes it
    assert flood.status_code == 400 and "巴" * 64 in flood.text and "巴" * 65 not in flood.text
    assert web.get("/search.json", params={"q": "巴" * 3_000}).json()["query"] == "巴" * 64


def test_pages_carry_etags_and_cache_headers_and_answer_304(web: TestClient):
    first = web.get(f"/institutions/{HOSPITAL}")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=60"
    assert first.headers["vary"] == "Accept"
    assert "script-src" not in first.headers["content-security-policy"]
    again = web.get(f"/institutions/{HOSPITAL}", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    assert web.head(f"/institutions/{HOSPITAL}").status_code == 200


def test_search_is_rate_limited_per_client_address(cli: Cli):
    web = next(client_for(cli.db_url, RateLimit(burst=3, per_second=0.01)))
    codes = [web.get("/", params={"q": "巴特"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = web.get("/search.json", params={"q": "巴特"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert web.get(f"/physicians/{BATER}").status_code == 200  # pages are not searches


def test_hostile_stored_names_render_inert(cli: Cli):
    evil_code = credit_code("150102", 299)
    evil = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    cli.load("institutions", INSTITUTION_HEADERS,
             [(evil_code, evil, "诊所", 0, "150102", "内科", "是", '"><svg onload=alert(3)>')])  # fmt: skip
    cli.load("physicians", PHYSICIAN_HEADERS,
             [("115150000000009", "<b>巴特</b>", "执业医师", "临床", "内科", "主治医师", "150000",
               evil_code, "2020-01-01")])  # fmt: skip
    web = next(client_for(cli.db_url))
    for path in (f"/institutions/{evil_code}", "/physicians/115150000000009"):
        html = web.get(path).text
        assert "<script>" not in html and "<img" not in html and "<svg" not in html
        assert "<b>" not in html
    assert "&lt;script&gt;" in web.get(f"/institutions/{evil_code}").text
    assert "&lt;b&gt;巴特&lt;/b&gt;" in web.get("/", params={"q": "<b>"}).text


def test_no_national_id_on_any_page(cli: Cli, db_url: str):
    web = next(client_for(db_url))
    for path in (f"/physicians/{BATER}.json", f"/institutions/{HOSPITAL}.json"):
        assert "id_digest" not in web.get(path).text


def test_the_real_server_serves_public_pages_only_when_asked(cli: Cli):
    from multisite.cli.main import build_parser

    args = build_parser().parse_args(["serve"])
    assert args.public is False
    assert build_parser().parse_args(["serve", "--public"]).public is True
    db = Database(cli.db_url)
    app = create_app(Calendars(Registry(db)))  # what `serve` without --public builds
    with TestClient(app) as plain:
        assert plain.get("/", params={"q": "巴特"}).status_code == 404
    db.dispose()
    _ = httpx  # the test client is httpx's


# The documents' keys as the README's schemas give them (kept stable: clients read them).
SCHEMAS = {
    "search": {"query", "by", "page", "page_size", "more", "capped", "results"},
    "search.results": {"cert", "name", "title", "category", "profession", "main_institutions"},
    "physician": {"cert", "name", "profession", "level", "category", "scopes", "title", "status",
                  "registrations", "listings", "schedule"},
    "registration": {"region", "region_name", "main_institution", "registered_on", "status",
                     "history", "filings"},
    "filing": {"institution", "scope", "valid_from", "valid_to", "ended_on", "state"},
    "institution": {"code", "name", "kind", "address", "region", "region_name", "licensed_on",
                    "next_validation", "registered", "filed", "listings", "inspections"},
    "registered": {"cert", "name", "profession", "title", "registered_on", "status"},
    "filed": {"cert", "name", "profession", "title", "scope", "valid_from", "valid_to", "ended_on",
              "state"},
    "listings": {"page", "page_size", "more", "listings"},
    "listing": {"id", "subject", "from", "to", "reason", "authority", "decision"},
    "error": {"error", "message"},
}  # fmt: skip


def test_the_json_documents_keep_the_readme_schemas(web: TestClient):
    search = web.get("/search.json", params={"q": "巴特"}).json()
    assert set(search) == SCHEMAS["search"]
    assert set(search["results"][0]) == SCHEMAS["search.results"]
    physician = web.get(f"/physicians/{BATER}.json").json()
    assert set(physician) == SCHEMAS["physician"]
    (registration,) = physician["registrations"]
    assert set(registration) == SCHEMAS["registration"]
    assert set(registration["filings"][0]) == SCHEMAS["filing"]
    institution = web.get(f"/institutions/{CENTRE}.json").json()
    assert set(institution) == SCHEMAS["institution"]
    assert set(institution["registered"][0]) == SCHEMAS["registered"]
    assert set(institution["filed"][0]) == SCHEMAS["filed"]
    listings = web.get("/listings.json").json()
    assert set(listings) == SCHEMAS["listings"]
    assert set(listings["listings"][0]) == SCHEMAS["listing"]
    assert set(listings["listings"][0]["subject"]) == {"kind", "key", "name"}
    assert set(web.get("/physicians/0.json").json()) == SCHEMAS["error"]
