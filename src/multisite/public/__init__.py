"""The public pages (信息公开), served by the feed server with ``multisite serve --public``.

Server-rendered HTML (Jinja2, autoescaped; no JavaScript), Chinese by default and English
with ``?lang=en``, readable on a 375 px phone:

* ``/`` — search by name (starting with at least two characters) or certificate number,
  ``?q=…&page=N``, capped at ``MAX_PAGES`` pages; ``/search.json?q=…`` the same as JSON;
* ``/physicians/{cert}`` — region, main institution, filings with validity, status with its
  dates, credit listings (the weekly schedule only where the province publishes it);
* ``/institutions/{code}`` — kind, address, licence date, next validation, physicians
  registered and filed there with validity, listings, published inspection results;
* ``/listings`` — every credit listing, newest first, paged.

Every page is also JSON: the same path with ``.json`` or ``Accept: application/json``
(schemas in the README). Search is rate-limited per client address (a token bucket; ``429``
with ``Retry-After``). Responses carry a strong ``ETag`` (``304`` on ``If-None-Match``),
``Cache-Control: public, max-age=60``, ``Vary: Accept`` and a content security policy that
allows no script. Unknown paths are 404 and other methods 405, as for the feeds; the server's
guards (bounded request heads, connection cap) are :mod:`multisite.serving`'s.
"""

from __future__ import annotations

import gettext
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FunctionLoader, StrictUndefined
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .. import i18n
from ..escaping import printable
from ..feed import etag_matches
from ..i18n import N_
from ..services import Registry
from ..services import public as pages
from ..services.inspections import OUTCOMES

LANGUAGES = ("zh", "en")
CACHE_CONTROL = "public, max-age=60"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}

# Every word of the pages, translated per request (the zh catalogue: disclosure.po).
LABELS = {
    "site": N_("Physicians and nurses: public register lookup"),
    "search": N_("Search"),
    "search_hint": N_("Name (at least two characters) or certificate number"),
    "results": N_("Physicians found"),
    "no_results": N_("No physician found."),
    "more": N_("Next page"),
    "previous": N_("Previous page"),
    "capped": N_("Only the first pages are shown: add to the name to narrow the search."),
    "physician": N_("Physician"),
    "cert": N_("Certificate number"),
    "profession": N_("Profession"),
    "level": N_("Level"),
    "category": N_("Category"),
    "scopes": N_("Scope of practice"),
    "title": N_("Title"),
    "status": N_("Status"),
    "registration": N_("Registration"),
    "region": N_("Region"),
    "main_institution": N_("Main institution"),
    "registered_on": N_("Registered on"),
    "history": N_("Status history"),
    "filings": N_("Filed institutions (multi-site practice)"),
    "no_filings": N_("No filed institutions."),
    "valid": N_("Valid"),
    "scope": N_("Scope"),
    "listings": N_("Credit listings (dishonesty list)"),
    "no_listings": N_("No credit listings."),
    "reason": N_("Reason"),
    "authority": N_("Authority"),
    "decision": N_("Decision"),
    "open": N_("open-ended"),
    "schedule": N_("Weekly schedule"),
    "institution": N_("Institution"),
    "kind": N_("Kind"),
    "address": N_("Address"),
    "licensed_on": N_("Licence date"),
    "next_validation": N_("Next validation"),
    "unknown": N_("unknown"),
    "registered_here": N_("Physicians and nurses registered here (main institution)"),
    "filed_here": N_("Physicians and nurses filed here (multi-site practice)"),
    "nobody": N_("None."),
    "inspections": N_("Random inspections (双随机)"),
    "no_inspections": N_("No inspection results published."),
    "outcome": N_("Outcome"),
    "inspectors": N_("Inspectors"),
    "all_listings": N_("All credit listings"),
    "subject": N_("Subject"),
    "language": N_("English"),
    "home": N_("Search physicians and nurses"),
    "not_found": N_("Not found"),
    "no_physician": N_("No physician or nurse has this certificate number."),
    "no_institution": N_("No institution has this code."),
    "short": N_("Type at least two characters of the name, or a certificate number."),
    "long": N_("The search text is too long."),
    "page": N_("There is no such page."),
    "too_many": N_("Too many searches from your address: wait a minute and try again."),
    "json": N_("as JSON"),
    "to": N_("to"),
}
# Stored values shown on the pages (statuses, filing states, outcomes)
VALUES = (
    N_("registered"), N_("suspended"), N_("cancelled"), N_("reinstated"), N_("changed"),
    N_("in force"), N_("not yet valid"), N_("lapsed"), N_("ended"), N_("physician"), N_("nurse"),
)  # fmt: skip


def _template(name: str) -> str | None:
    folder = resources.files("multisite.public").joinpath("templates")
    path = folder.joinpath(name)
    return path.read_text(encoding="utf-8") if path.is_file() else None


@dataclass(frozen=True)
class _Language:
    code: str
    translate: Callable[[str], str]
    labels: dict[str, str]


def _languages() -> dict[str, _Language]:
    found = {}
    for code in LANGUAGES:
        catalogue: gettext.NullTranslations = i18n.catalogue(code)
        found[code] = _Language(
            code,
            catalogue.gettext,
            {k: catalogue.gettext(v) for k, v in LABELS.items()},
        )
    return found


class RateLimit:
    """A token bucket per client address: ``burst`` requests at once, then ``per_second``;
    at most ``max_clients`` addresses remembered (the longest idle forgotten first)."""

    def __init__(self, burst: int = 30, per_second: float = 0.5, max_clients: int = 10_000):
        self.burst, self.per_second, self.max_clients = burst, per_second, max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.per_second if self.per_second > 0 else 60.0
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def _printable(value: Any) -> Any:
    """Every value a page shows, without control characters (autoescaping leaves ESC, NUL
    or a bidirectional override as they are: a search for ``\x1b[31m…`` came back in the
    search box as it was typed)."""
    if isinstance(value, Markup):
        return Markup(printable(value))
    if isinstance(value, str):
        return printable(value)
    return value


def public_routes(registry: Registry, rate_limit: RateLimit | None = None) -> list[BaseRoute]:
    """The routes of the public pages, to be served beside the feeds."""
    env = Environment(
        loader=FunctionLoader(_template),
        autoescape=True,
        finalize=_printable,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    languages = _languages()
    limit = rate_limit or RateLimit()
    css = (resources.files("multisite.public") / "templates" / "public.css").read_bytes()

    def language(request: Request) -> _Language:
        return languages.get(request.query_params.get("lang", "zh"), languages["zh"])

    def wants_json(request: Request, key: str) -> tuple[str, bool]:
        if key.endswith(".json"):
            return key[: -len(".json")], True
        accept = request.headers.get("accept", "")
        return key, "application/json" in accept and "text/html" not in accept

    def answer(
        request: Request,
        lang: _Language,
        template: str,
        document: Any,
        as_json: bool,
        status: int = 200,
        extra: dict[str, str] | None = None,
    ) -> Response:
        if as_json:
            body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
            media = "application/json"
        else:

            def link(path: str, **params: Any) -> str:
                wanted = {k: v for k, v in params.items() if v not in (None, "")}
                if lang.code != "zh":
                    wanted["lang"] = lang.code
                return path + ("?" + urlencode(wanted) if wanted else "")

            other = "en" if lang.code == "zh" else "zh"
            switch = dict(request.query_params) | {"lang": other}
            if other == "zh":
                switch.pop("lang")
            html = env.get_template(template).render(
                d=document, t=lang.labels, v=lang.translate, lang=lang.code, link=link,
                outcomes=OUTCOMES,
                switch=request.url.path + ("?" + urlencode(switch) if switch else ""),
                json_link=request.url.path.rstrip("/") + ".json" if template != "search.html"
                else link("/search.json", q=request.query_params.get("q", "")),
            )  # fmt: skip
            body = html.encode("utf-8")
            media = "text/html; charset=utf-8"
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        headers = {
            "etag": etag,
            "cache-control": CACHE_CONTROL if status == 200 else "no-store",
            "vary": "Accept",
            "content-language": "zh-CN" if lang.code == "zh" else "en",
            **SECURITY_HEADERS,
            **(extra or {}),
        }
        inm = request.headers.get("if-none-match")
        if status == 200 and inm is not None and etag_matches(inm, etag):
            return Response(status_code=304, headers=headers)
        return Response(body, status_code=status, media_type=media, headers=headers)

    def problem(request: Request, lang: _Language, key: str, as_json: bool, status: int,
                extra: dict[str, str] | None = None) -> Response:  # fmt: skip
        document = {"error": key, "message": lang.labels[key]}
        return answer(request, lang, "problem.html", document, as_json, status, extra)

    async def search(request: Request, as_json: bool) -> Response:
        lang = language(request)
        text = request.query_params.get("q")
        if text is not None:  # no stored name holds one: the page shows what was searched
            text = printable(text)
        if text is None:
            if as_json:
                return problem(request, lang, "short", True, 400)
            return answer(request, lang, "search.html", None, False)
        client = request.client.host if request.client else "unknown"
        wait = limit.take(client)
        if wait > 0:
            retry = {"retry-after": str(max(1, int(wait + 0.999)))}
            return problem(request, lang, "too_many", as_json, 429, retry)
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 0
        try:
            document = await run_in_threadpool(pages.search, registry, text, page)
        except pages.BadQuery as bad:  # shown back as far as the field takes it, not whole
            shown = text[: pages.MAX_QUERY]
            document = {"error": bad.problem, "message": lang.labels[bad.problem], "query": shown}
            return answer(request, lang, "search.html", document, as_json, 400)
        return answer(request, lang, "search.html", document, as_json)

    async def home(request: Request) -> Response:
        _key, as_json = wants_json(request, "")
        return await search(request, as_json)

    async def search_json(request: Request) -> Response:
        return await search(request, True)

    async def one(
        request: Request, key: str, build: Callable[..., Any], template: str, missing: str
    ) -> Response:
        """The page of one physician or institution, or the 404 that says none has ``key``."""
        lang = language(request)
        key, as_json = wants_json(request, key)
        try:
            document = await run_in_threadpool(build, registry, key)
        except pages.PublicNotFound:
            return problem(request, lang, missing, as_json, 404)
        return answer(request, lang, template, document, as_json)

    async def physician(request: Request) -> Response:
        cert = request.path_params["cert"]
        return await one(request, cert, pages.physician_page, "physician.html", "no_physician")

    async def institution(request: Request) -> Response:
        code = request.path_params["code"]
        return await one(
            request, code, pages.institution_page, "institution.html", "no_institution"
        )

    async def listings(request: Request) -> Response:
        lang = language(request)
        _key, as_json = wants_json(request, request.url.path)
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            page = 0
        try:
            document = await run_in_threadpool(pages.listings_page, registry, page)
        except pages.BadQuery:
            return problem(request, lang, "page", as_json, 400)
        return answer(request, lang, "listings.html", document, as_json)

    async def stylesheet(request: Request) -> Response:
        headers = {"cache-control": "public, max-age=3600", **SECURITY_HEADERS}
        return Response(css, media_type="text/css; charset=utf-8", headers=headers)

    get = ["GET", "HEAD"]
    return [
        Route("/", home, methods=get),
        Route("/search.json", search_json, methods=get),
        Route("/physicians/{cert}", physician, methods=get),
        Route("/institutions/{code}", institution, methods=get),
        Route("/listings", listings, methods=get),
        Route("/listings.json", listings, methods=get),
        Route("/static/public.css", stylesheet, methods=get),
    ]
