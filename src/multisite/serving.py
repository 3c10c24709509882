"""Uvicorn under hostile connections (服务器防护): what ``multisite serve`` runs the feed app on.

Uvicorn's HTTP/1.1 protocol (h11) is kept; :func:`guarded_protocol` adds what a public feed
server needs and Uvicorn leaves out:

* **a deadline for every request head**: a connection has ``head_timeout`` seconds, from
  when it opens or its last response ends, to deliver a complete request line and headers;
  bytes trickled one at a time do not extend it (slowloris). Past it the connection is closed.
  A request body the app never reads gets the same deadline after the response.
* **a cap on open connections**: past ``max_connections``, a new connection closes the one that
  has waited longest for its request head (an idle keep-alive or a slow client), never one
  whose request is being answered. When every connection is busy answering, the request gets a
  ``503`` with ``Retry-After`` and the connection closes.
* **a client's malformed request is one log line**: a protocol error after the request head
  (a broken chunked body) no longer lets the app's answer crash into a traceback.

:func:`bounded_logging` writes every record on one line and at most ``burst`` records of a
kind per ``window`` seconds (and ``total`` of any kind), so a flood of bad requests, or of
"Too many open files", cannot fill the disk. :func:`raise_fd_limit` lifts the soft limit on
open files to the hard one, and :func:`connection_cap` keeps the cap below it with room for
the database and the thread pool, so accepting never runs out of descriptors.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import itertools
import logging
import os
import resource
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

DEFAULT_MAX_CONNECTIONS = 4096
DEFAULT_HEAD_TIMEOUT = 10.0
DEFAULT_KEEP_ALIVE = 5
FD_RESERVE = 256  # descriptors kept free for the database, the thread pool and the log
RETRY_AFTER_SECONDS = 5

_BUSY_BODY = b"Service Unavailable: too many connections, try again later.\n"
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: %d\r\nretry-after: %d\r\nconnection: close\r\n\r\n%s"
    % (len(_BUSY_BODY), RETRY_AFTER_SECONDS, _BUSY_BODY)
)


async def _overloaded(scope: Any, receive: Any, send: Any) -> None:
    """The answer to a request that arrives while every other connection is being served."""
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(_BUSY_BODY)).encode("ascii")),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode("ascii")),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _BUSY_BODY, "more_body": False})


class _Guard:
    """State shared by the connections of one server."""

    def __init__(self, max_connections: int, head_timeout: float) -> None:
        self.max_connections = max(1, max_connections)
        self.head_timeout = head_timeout
        self.live: set[GuardedH11Protocol] = set()  # open and not being closed by us
        # Connections waiting for a request head, the longest-waiting first.
        self.waiting: dict[GuardedH11Protocol, None] = {}
        self.evicted = 0  # closed to make room for a newcomer
        self.timed_out = 0  # closed at the request-head deadline
        self.refused = 0  # answered 503
        self.starved = 0  # accepts that found no descriptor free


class GuardedH11Protocol(H11Protocol):
    """Uvicorn's h11 protocol with a request-head deadline and a connection cap."""

    guard: ClassVar[_Guard]
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        guard = self.guard
        guard.live.add(self)
        if len(guard.live) > guard.max_connections and guard.waiting:
            victim = next(iter(guard.waiting))
            guard.evicted += 1
            victim._close()
        self._wait()

    def connection_lost(self, exc: Exception | None) -> None:
        self._busy()
        self.guard.live.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        try:
            super().data_received(data)
        except Exception as error:  # the last guard: one line, the connection closed
            self.logger.warning("Closed a connection after a protocol error: %s", error)
            self._close()

    def handle_events(self) -> None:
        guard = self.guard
        busy = len(guard.live) - len(guard.waiting)
        self.app = _overloaded if busy >= guard.max_connections else self.config.loaded_app
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a complete request head arrived
            guard.refused += self.app is _overloaded
            if not self.cycle.response_complete:
                self._busy()  # it is being answered

    def on_response_complete(self) -> None:
        super().on_response_complete()  # may start a pipelined request (handle_events)
        if not self.transport.is_closing() and (self.cycle is None or self.cycle.response_complete):
            self._wait()

    def send_400_response(self, msg: str) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            # The head was fine and the app is answering; the body is broken. The app's answer
            # is dropped (it would crash into h11's error state and log a traceback).
            cycle.disconnected = True
            cycle.message_event.set()
        if self.conn.our_state is h11.SEND_RESPONSE:
            super().send_400_response(msg)
        else:
            self.transport.close()

    def _wait(self) -> None:
        """Start the request-head deadline (the connection waits for the client)."""
        self._busy()
        guard = self.guard
        guard.waiting[self] = None
        self._deadline = self.loop.call_later(guard.head_timeout, self._expire)

    def _busy(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.guard.waiting.pop(self, None)

    def _expire(self) -> None:
        self._deadline = None
        self.guard.timed_out += 1
        self._close()

    def _close(self) -> None:
        self._busy()
        self.guard.live.discard(self)
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.close()


def guarded_protocol(
    max_connections: int = DEFAULT_MAX_CONNECTIONS, head_timeout: float = DEFAULT_HEAD_TIMEOUT
) -> type[GuardedH11Protocol]:
    """A protocol class for ``uvicorn.Config(http=...)`` with its own shared state."""
    return type(
        "GuardedH11Protocol",
        (GuardedH11Protocol,),
        {"guard": _Guard(max_connections, head_timeout)},
    )


# --- file descriptors and the listening socket -------------------------------------------------


def raise_fd_limit(wanted: int = 65536) -> int:
    """Lift the soft limit on open files towards ``wanted`` (never above the hard limit);
    the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else wanted


@dataclass(frozen=True)
class Limits:
    """How many connections may be open, and how many are accepted in one burst.

    asyncio accepts up to ``backlog`` connections each time the socket is readable, before
    any of them can close an older one; the descriptors kept in reserve cover such a burst
    plus the database's and the thread pool's, so accepting never runs out of descriptors."""

    max_connections: int
    backlog: int
    fd_limit: int

    @classmethod
    def fitting(cls, requested: int, fd_limit: int) -> Limits:
        backlog = max(8, min(1024, fd_limit // 8))
        reserve = backlog + min(FD_RESERVE, fd_limit // 4)
        return cls(max(1, min(requested, fd_limit - reserve)), backlog, fd_limit)


class GuardedListener(socket.socket):
    """The listening socket. When accepting fails for want of descriptors anyway, it closes
    connections waiting for a request head, or (none waiting) answers one newcomer ``503``
    through a spare descriptor, and tells asyncio to try on its next turn: asyncio's own
    handling of that error (Python 3.11) logs and re-arms once per connection queued."""

    guard: _Guard
    spare: int = -1

    def accept(self) -> tuple[socket.socket, Any]:
        try:
            return super().accept()
        except OSError as error:
            if error.errno not in (errno.EMFILE, errno.ENFILE):
                raise
        guard = self.guard
        guard.starved += 1
        waiting = list(itertools.islice(guard.waiting, 16))
        for victim in waiting:  # their descriptors are free on the loop's next turn
            guard.evicted += 1
            victim._close()
        logging.getLogger("uvicorn.error").warning(
            "No file descriptor free to accept a connection: closed %d waiting for a request "
            "head (raise the open files limit or lower --max-connections)",
            len(waiting),
        )
        if not waiting and self.spare >= 0:
            os.close(self.spare)
            try:
                conn, _address = super().accept()
                with contextlib.suppress(OSError):
                    conn.send(_BUSY_RESPONSE, socket.MSG_DONTWAIT)
                conn.close()
                guard.refused += 1
            except OSError:
                pass
            finally:
                self.spare = os.open(os.devnull, os.O_RDONLY)
        raise BlockingIOError(errno.EAGAIN, "no descriptor free: accept on the next turn")


def listen(
    host: str, port: int, protocol: type[GuardedH11Protocol], backlog: int = 128
) -> GuardedListener:
    """A listening TCP socket on ``host``/``port`` sharing the guard of ``protocol``;
    connections queue from now on, until Uvicorn accepts them."""
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = GuardedListener(family, kind, proto or socket.IPPROTO_TCP)
    sock.guard = protocol.guard
    sock.spare = os.open(os.devnull, os.O_RDONLY)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


# --- logging --------------------------------------------------------------------------------------


class OneLineFormatter(logging.Formatter):
    """Time, level and message on one line; an exception as ``Type: message``, never a
    traceback (``MULTISITE_DEBUG=1`` shows tracebacks)."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message = f"{message.strip()} ({type(error).__name__}: {error})"
        line = " ".join(message.split())  # newlines and control characters of a client's bytes
        line = line.encode("ascii", "backslashreplace").decode("ascii")[:500]
        stamp = self.formatTime(record)
        return f"{stamp} {record.levelname} {record.name}: {line}"


class BoundedLog(logging.Filter):
    """At most ``burst`` records of one kind (logger and message template) per ``window``
    seconds, and at most ``total`` of all kinds; the first record let through in a new window
    says how many were dropped in the windows before."""

    def __init__(self, burst: int = 10, total: int = 60, window: float = 60.0) -> None:
        super().__init__()
        self.burst, self.total, self.window = burst, total, window
        self.started = time.monotonic()
        self.passed: dict[tuple[str, str], int] = {}
        self.passed_total = 0
        self.dropped = 0  # since the last record that said so

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self.started >= self.window:
            self.started, self.passed, self.passed_total = now, {}, 0
        kind = (record.name, str(record.msg))
        if self.passed.get(kind, 0) >= self.burst or self.passed_total >= self.total:
            self.dropped += 1
            return False
        self.passed[kind] = self.passed.get(kind, 0) + 1
        self.passed_total += 1
        if self.dropped and self.passed_total == 1:
            record.msg = f"{record.msg} [{self.dropped} records before this were not logged]"
            self.dropped = 0
        return True


def bounded_logging(level: int = logging.INFO) -> logging.Logger:
    """One stderr handler for Uvicorn's and asyncio's loggers: one line a record, bounded.
    Returns Uvicorn's error logger (the server's own log)."""
    handler = logging.StreamHandler(sys.stderr)
    if not os.environ.get("MULTISITE_DEBUG"):
        handler.setFormatter(OneLineFormatter())
    handler.addFilter(BoundedLog())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "asyncio"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True  # feed URLs are secrets
    return logging.getLogger("uvicorn.error")
