"""The calendar feed server (订阅服务): ``GET``/``HEAD /feeds/{token}.ics`` on Starlette.

Every other path is 404 and every other method 405. An unknown token and a revoked token
get the very same 404 as any unknown path. Responses carry ``Content-Type: text/calendar;
charset=utf-8``, a strong ``ETag`` (SHA-256 of the body, which is a pure function of the
stored schedule), ``Last-Modified`` (the newest ``updated_at`` behind the body), and a
``304`` answers a matching ``If-None-Match``. The access log is off: feed URLs are secrets.

Warm feeds and the staleness guarantee
--------------------------------------
Bodies are cached in memory per subscription (SHA-256 of the token → body, ETag, headers
and the *fingerprint* of the stored values the body was built from, see
:mod:`multisite.storage.feeds`). A request within ``recheck_seconds`` of the entry's last
check is answered from memory without touching the database. After that, one read
transaction re-reads the token row and the fingerprint; the body is rebuilt only when the
fingerprint differs. Hence:

* any committed change to the schedule, its institution, the physician's name or the loaded
  holidays — and any revocation — shows in responses at most ``recheck_seconds`` (default
  1 s) after commit, plus the time of one refresh;
* within that window a response is a body that was current at the last check;
* at most ``max_entries`` bodies are kept (oldest dropped first), so memory stays bounded.

With ``recheck_seconds=0`` every request checks the database (tests use that); the warm
path still never re-renders an unchanged calendar.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from . import serving
from .services import Registry
from .services.calendars import TOKEN_SHAPE, CachedFeed, Calendars, hash_token

CONTENT_TYPE = "text/calendar; charset=utf-8"
DEFAULT_RECHECK_SECONDS = 1.0
DEFAULT_MAX_ENTRIES = 20_000


@dataclass(frozen=True)
class _Entry:
    feed: CachedFeed
    checked: float  # time.monotonic() of the last database check
    headers: list[tuple[bytes, bytes]]  # 200 and HEAD, encoded once
    headers_304: list[tuple[bytes, bytes]]


class _Prepared(Response):
    """A response whose header lines were encoded once, when the body was cached."""

    def __init__(self, status: int, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = status
        self.body = body
        self.background = None
        self.raw_headers = raw_headers


def _not_found() -> Response:
    """The one 404 of the server (Starlette's own for unknown paths looks the same)."""
    return PlainTextResponse("Not Found", status_code=404)


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison over a list of entity tags, or ``*``."""
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


class FeedCache:
    """Subscription bodies in memory, checked against the database every ``recheck_seconds``."""

    def __init__(
        self,
        calendars: Calendars,
        *,
        recheck_seconds: float = DEFAULT_RECHECK_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        self.calendars = calendars
        self.recheck_seconds = recheck_seconds
        self.max_entries = max(1, max_entries)
        self._entries: dict[str, _Entry] = {}
        self._inflight: dict[str, asyncio.Future[_Entry | None]] = {}

    def fresh(self, token_hash: str) -> _Entry | None:
        """The cached entry if it was checked less than ``recheck_seconds`` ago."""
        entry = self._entries.get(token_hash)
        if entry is not None and time.monotonic() - entry.checked < self.recheck_seconds:
            return entry
        return None

    async def get(self, token_hash: str) -> _Entry | None:
        """The entry, checked against the database first when its window is over."""
        entry = self._entries.get(token_hash)
        if entry is not None and time.monotonic() - entry.checked < self.recheck_seconds:
            return entry
        pending = self._inflight.get(token_hash)
        if pending is not None:  # one database check per subscription at a time
            return await asyncio.shield(pending)
        future: asyncio.Future[_Entry | None] = asyncio.get_running_loop().create_future()
        self._inflight[token_hash] = future
        try:
            fresh = await run_in_threadpool(self._check, token_hash, entry)
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: waiters re-raise it, nobody logs it twice
            raise
        else:
            future.set_result(fresh)
        finally:
            del self._inflight[token_hash]
        if fresh is None:
            self._entries.pop(token_hash, None)
        else:
            if token_hash not in self._entries and len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[token_hash] = fresh
        return fresh

    def _check(self, token_hash: str, entry: _Entry | None) -> _Entry | None:
        started = time.monotonic()
        feed = self.calendars.refresh_feed(token_hash, entry.feed if entry else None)
        if feed is None:
            return None
        if entry is not None and feed is entry.feed:
            return _Entry(feed, started, entry.headers, entry.headers_304)
        export = feed.export
        common = [
            (b"etag", export.etag.encode("ascii")),
            (
                b"last-modified",
                email.utils.format_datetime(export.last_modified, usegmt=True).encode("ascii"),
            ),
            (b"cache-control", b"private, no-cache"),  # the URL is a secret: no shared caches
        ]
        headers = [
            (b"content-type", CONTENT_TYPE.encode("ascii")),
            (b"content-length", str(len(export.body)).encode("ascii")),
            *common,
        ]
        return _Entry(feed, started, headers, common)

    def forget(self) -> None:
        self._entries.clear()


def create_app(
    calendars: Calendars,
    *,
    recheck_seconds: float = DEFAULT_RECHECK_SECONDS,
    max_entries: int = DEFAULT_MAX_ENTRIES,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The feed application; ``extra_routes`` are served beside the feeds (the public pages
    of ``serve --public``, the benchmark's baseline)."""
    cache = FeedCache(calendars, recheck_seconds=recheck_seconds, max_entries=max_entries)

    async def feed(request: Request) -> Response:
        token = request.path_params["token"]
        if TOKEN_SHAPE.fullmatch(token) is None:
            return _not_found()
        token_hash = hash_token(token)
        entry = cache.fresh(token_hash) or await cache.get(token_hash)
        if entry is None:
            return _not_found()
        if_none_match = request.headers.get("if-none-match")
        if if_none_match is not None and etag_matches(if_none_match, entry.feed.export.etag):
            return _Prepared(304, b"", entry.headers_304)
        if request.method == "HEAD":
            return _Prepared(200, b"", entry.headers)
        return _Prepared(200, entry.feed.export.body, entry.headers)

    app = Starlette(
        routes=[Route("/feeds/{token}.ics", feed, methods=["GET", "HEAD"]), *extra_routes]
    )
    app.router.redirect_slashes = False  # "/feeds/x.ics/" is an unknown path: 404, no redirect
    app.state.feed_cache = cache
    return app


def serve(
    registry: Registry,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    recheck_seconds: float = DEFAULT_RECHECK_SECONDS,
    max_connections: int = serving.DEFAULT_MAX_CONNECTIONS,
    head_timeout: float = serving.DEFAULT_HEAD_TIMEOUT,
    extra_routes: Sequence[BaseRoute] = (),
) -> None:
    """Run the feed server until interrupted: Uvicorn with :mod:`multisite.serving`'s guards
    (the guarded h11 protocol, one-line bounded logs, the open-files limit raised and the
    connection cap kept below it); ``extra_routes``: the public pages of ``serve --public``."""
    app = create_app(
        Calendars(registry), recheck_seconds=recheck_seconds, extra_routes=extra_routes
    )
    config, sock = server_config(app, host, port, max_connections, head_timeout)
    uvicorn.Server(config).run(sockets=[sock])


def server_config(
    app: Starlette,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_connections: int = serving.DEFAULT_MAX_CONNECTIONS,
    head_timeout: float = serving.DEFAULT_HEAD_TIMEOUT,
    log_level: int = logging.INFO,
) -> tuple[uvicorn.Config, socket.socket]:
    """Uvicorn's configuration for the feed app and the listening socket it is to serve."""
    logger = serving.bounded_logging(log_level)
    limits = serving.Limits.fitting(max_connections, serving.raise_fd_limit())
    protocol = serving.guarded_protocol(limits.max_connections, head_timeout)
    sock = serving.listen(host, port, protocol, limits.backlog)
    bound = sock.getsockname()
    logger.info(
        "Feed server on http://%s:%d: at most %d connections (open files limit %d), "
        "request heads within %g s",
        f"[{bound[0]}]" if sock.family == socket.AF_INET6 else bound[0],
        bound[1],
        limits.max_connections,
        limits.fd_limit,
        head_timeout,
    )
    config = uvicorn.Config(
        app,
        log_config=None,  # bounded_logging's handler, not Uvicorn's
        access_log=False,
        # h11 (pinned, not left to what is installed) refuses a request whose line and headers
        # exceed 16 KiB (400, connection closed), whatever httptools would allow.
        http=protocol,
        h11_max_incomplete_event_size=16 * 1024,
        timeout_keep_alive=serving.DEFAULT_KEEP_ALIVE,
        backlog=limits.backlog,
    )
    return config, sock
