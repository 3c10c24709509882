"""The public pages: a search by name, against the raw driver running one indexed SELECT of the
same page of physicians (the ``physician.name`` index, a prefix range).

Two product lines: the search document the page and ``/search.json`` are built from
(``services.public.search``: the page of physicians and their main institutions), and the whole
HTML page through the ASGI app in this process (routing, rate limit, template, ETag; driven by
``httpx.ASGITransport``, whose own overhead is included)."""

from __future__ import annotations

import asyncio

import httpx2 as httpx
from run import Case, Env  # type: ignore[import-not-found]
from sqlalchemy import func, select

from multisite.feed import create_app
from multisite.public import RateLimit, public_routes
from multisite.services import Registry
from multisite.services import public as pages
from multisite.services.calendars import Calendars
from multisite.storage import Database
from multisite.storage.models import Physician


def cases(env: Env) -> list[Case]:
    db = Database(env.url)
    registry = Registry(db, "bench")
    with db.read() as s:
        # the most common two-character name prefix: the largest page a search can give
        prefix = s.execute(
            select(func.substr(Physician.name, 1, 2).label("p"), func.count())
            .group_by("p")
            .order_by(func.count().desc())
            .limit(1)
        ).one()[0]
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    raw = env.raw()
    mark = "?" if env.engine == "sqlite" else "%s"
    # the same index use as the product: a range on SQLite, LIKE 'p%' (text_pattern_ops) on
    # PostgreSQL
    where = f"name >= {mark} AND name < {mark}" if env.engine == "sqlite" else f"name LIKE {mark}"
    one_page = (
        f"SELECT cert_no, name, title, category, id FROM physician WHERE {where} "
        "ORDER BY name, id LIMIT 21"
    )
    bounds = (prefix, upper) if env.engine == "sqlite" else (prefix + "%",)

    def document() -> int:
        return len(pages.search(registry, prefix)["results"])

    def indexed_select() -> int:
        cursor = raw.cursor()
        rows = cursor.execute(one_page, bounds).fetchall()
        cursor.close()
        return len(rows)

    app = create_app(
        Calendars(registry),
        extra_routes=public_routes(registry, RateLimit(burst=10**9, per_second=10**9)),
    )
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")

    def html_page() -> int:
        response = loop.run_until_complete(client.get("/", params={"q": prefix}))
        assert response.status_code == 200, response.status_code
        return len(response.content)

    driver = "sqlite3" if env.engine == "sqlite" else "psycopg"
    note = f"floor: one indexed SELECT of the page, name prefix {prefix!r} ({driver})"
    return [
        Case("public search (document)", document, indexed_select, target=None, repeat=50,
             note=note),
        Case("public search (HTML page via ASGI)", html_page, indexed_select, target=None,
             repeat=50, note=note + "; the issue's target: within 50 ms"),
    ]  # fmt: skip
