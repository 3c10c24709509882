"""Feed server: a warm physician feed against a fixed byte string of the same size.

One server process (this file run as a script: the product's Starlette app from
:func:`multisite.feed.create_app` with one extra route, ``/bench/fixed.ics``, used only here,
returning a constant body of the feed's size with the same content type), one load
generator (a bounded asyncio keep-alive client in the benchmark process: ``CONNECTIONS``
connections, ``REQUESTS`` requests per measurement, 127.0.0.1 only). Both figures come from
the same server and client in the same run, alternating (feed, fixed, feed, fixed …) so that other load on the machine
falls on both; each figure is the best rate seen, the ratio is feed rate / fixed rate.

The physician is the one with the most weekly sessions (a multi-site physician), so the feed
is among the region's largest. "Warm": the feed was fetched once before timing; the server
runs with its default staleness window (``recheck_seconds`` = 1 s).
"""

from __future__ import annotations

import asyncio
import atexit
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CONNECTIONS = 16
REQUESTS = 3000
ROUNDS = 3
_LENGTH = re.compile(rb"(?i)\r\ncontent-length: *(\d+)")


# --- the load generator ------------------------------------------------------------------------


async def _worker(port: int, path: str, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if head[9:12] != b"200":
                raise RuntimeError(f"{path}: {head[:40]!r}")
            match = _LENGTH.search(head)
            assert match is not None
            await reader.readexactly(int(match.group(1)))
    finally:
        writer.close()


async def _load(port: int, path: str, total: int, connections: int) -> float:
    share = [
        total // connections + (1 if i < total % connections else 0) for i in range(connections)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(_worker(port, path, n) for n in share))
    return total / (time.perf_counter() - started)


def rate(port: int, path: str, total: int = REQUESTS, connections: int = CONNECTIONS) -> float:
    """Requests per second for ``path`` over ``connections`` keep-alive connections."""
    return asyncio.run(_load(port, path, total, connections))


# --- the case ----------------------------------------------------------------------------------


def cases(env: Any) -> list[Any]:
    from run import Case  # type: ignore[import-not-found,unused-ignore]
    from sqlalchemy import func, select

    from multisite.services import Registry
    from multisite.services.calendars import Calendars
    from multisite.storage import Database
    from multisite.storage.models import Physician, WorkSession

    state: dict[str, Any] = {}

    def start() -> None:
        if "port" in state:
            return
        url, _path = env.fresh_copy("feed")
        db = Database(url)
        with db.read() as s:
            physician_id = s.execute(
                select(WorkSession.physician_id)
                .group_by(WorkSession.physician_id)
                .order_by(func.count().desc(), WorkSession.physician_id)
                .limit(1)
            ).scalar_one()
            physician = s.get(Physician, physician_id)
            assert physician is not None
            cert = physician.cert_no
        calendars = Calendars(Registry(db, "bench"))
        size = len(calendars.physician_calendar(cert).body)
        issued = calendars.issue_feed(cert, base="http://127.0.0.1")
        db.dispose()
        server = subprocess.Popen(
            [env.python, str(Path(__file__).resolve()), url, str(size)],
            stdout=subprocess.PIPE,
            text=True,
        )
        atexit.register(server.terminate)
        assert server.stdout is not None
        port = int(server.stdout.readline())
        state.update(port=port, size=size, feed=f"/feeds/{issued.token}.ics")
        rate(port, state["feed"], 200, 4)  # warm: the body is cached now
        rate(port, "/bench/fixed.ics", 200, 4)

    samples: dict[str, list[float]] = {"feed": [], "fixed": []}

    def alternate() -> None:
        """Feed and fixed body in alternating rounds, so load from elsewhere on the machine
        falls on both alike; each call of either side adds to both sample lists."""
        start()
        for _ in range(ROUNDS):
            samples["feed"].append(rate(state["port"], state["feed"]))
            samples["fixed"].append(rate(state["port"], "/bench/fixed.ics"))

    def product() -> float:
        alternate()
        return max(samples["feed"])

    def baseline() -> float:
        alternate()
        return max(samples["fixed"])

    return [
        Case(
            "serving a physician's feed (warm)",
            product,
            baseline,
            target=0.8,
            kind="rate",
            note=(
                f"baseline: a fixed body of the same size from the same server; {CONNECTIONS} "
                f"keep-alive connections, {REQUESTS} requests per measurement, feed and "
                "baseline alternating; best rate of each"
            ),
        )
    ]


# --- the server process --------------------------------------------------------------------------


def _serve(url: str, size: int) -> None:
    import logging

    import uvicorn
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from multisite.feed import CONTENT_TYPE, create_app, server_config
    from multisite.services import Registry
    from multisite.services.calendars import Calendars
    from multisite.storage import Database

    fixed = (b"BEGIN:VCALENDAR\r\n" + b"X" * size)[:size]

    async def fixed_body(request: Request) -> Response:
        return Response(fixed, media_type=CONTENT_TYPE)

    app = create_app(
        Calendars(Registry(Database(url), "bench")),
        extra_routes=[Route("/bench/fixed.ics", fixed_body, methods=["GET", "HEAD"])],
    )
    # As `multisite serve` runs it (guarded protocol, bounded logging), on a free port.
    config, sock = server_config(app, "127.0.0.1", 0, log_level=logging.WARNING)
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]))
