"""A second, tiny HTTP/1.1 listener for answers that are already bytes in memory.

uvicorn spends most of a small request's time in its ASGI machinery (the scope dict, the
receive/send coroutines, header lists), which no handler can avoid. A `Listener` answers from
a synchronous `Door` instead: the request line and the headers the door asks for in, a ready
`Reply` (its status line and headers already encoded) out, written straight to the socket. It
runs on the server's own event loop (uvloop under `tocsin serve`), started and stopped with
the app's lifespan (`with_listener`).

Parsing is httptools (llhttp, the parser uvicorn itself uses): nothing here reads HTTP by
hand. Replies are written in request order as each request completes, so pipelined requests
are answered in order. A malformed request is answered 400 and its connection closed;
oversized heads or bodies 431/413 and closed; idle keep-alive connections are closed after
`KEEP_ALIVE_SECONDS`, and one whose request does not arrive whole within `REQUEST_SECONDS`
(a request trickled in byte by byte); a client that does not read its replies stops being
read (flow control).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from email.utils import formatdate
from typing import Any, Protocol, cast
from urllib.parse import unquote

import httptools

log = logging.getLogger("tocsin.listener")

KEEP_ALIVE_SECONDS = 5.0  # an idle connection is closed after this
REQUEST_SECONDS = 30.0  # a request must arrive whole within this of its first byte
MAX_HEAD_BYTES = 16 * 1024  # request line and headers
MAX_BODY_BYTES = 64 * 1024  # no door reads a body; this only bounds what is skipped


@dataclass(frozen=True)
class Reply:
    """`head`: the status line and header lines, each ending CRLF, without `Date`,
    `Connection` or the blank line (the listener adds them). `body` is left out for HEAD;
    the head must carry its Content-Length."""

    head: bytes
    body: bytes


def reply(status: int, reason: str, headers: list[tuple[str, str]], body: bytes = b"") -> Reply:
    """A reply with `Content-Length` added (left out for 304, which has no body)."""
    lines = [f"HTTP/1.1 {status} {reason}\r\n"]
    lines += [f"{name}: {value}\r\n" for name, value in headers]
    if status != 304:
        lines.append(f"Content-Length: {len(body)}\r\n")
    return Reply("".join(lines).encode("latin-1"), body)


def text_reply(status: int, reason: str, text: str,
               headers: list[tuple[str, str]] | None = None) -> Reply:
    return reply(status, reason, [("Content-Type", "text/plain; charset=utf-8"),
                                  ("Cache-Control", "no-store"), *(headers or [])],
                 text.encode())


BAD_REQUEST = text_reply(400, "Bad Request", "bad request\n")
TOO_LARGE = text_reply(413, "Content Too Large", "request body too large\n")
HEAD_TOO_LARGE = text_reply(431, "Request Header Fields Too Large", "request head too large\n")


class Door(Protocol):
    """What a listener serves. `headers` holds only the (lower-case) names in `wanted`, the
    path is percent-decoded, the query raw. Called on the event loop: must not wait long."""

    wanted: frozenset[bytes]

    def __call__(self, method: str, path: str, query: bytes,
                 headers: MutableMapping[bytes, bytes]) -> Reply: ...


class _Closing(Exception):
    """Raised from a parser callback: answer `reply` and close the connection."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply


class _Clock:
    """The `Date` header line, formatted once a second."""

    def __init__(self) -> None:
        self._second = 0
        self._line = b""

    def date_line(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second = now
            self._line = f"Date: {formatdate(now, usegmt=True)}\r\n".encode()
        return self._line


class _Connection(asyncio.Protocol):
    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.door = listener.door
        self.wanted = listener.door.wanted
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: dict[bytes, bytes] = {}
        self.head_size = 0
        self.body_size = 0
        self.out: list[bytes] = []
        self.close_after = False
        self.last_active = 0.0
        self.begun: float | None = None  # when the request being read began

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.last_active = time.monotonic()
        self.listener.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.connections.discard(self)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        try:
            self.parser.feed_data(data)
        except _Closing as closing:
            self._answer_and_close(closing.reply)
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            self._answer_and_close(cause.reply if isinstance(cause, _Closing) else BAD_REQUEST)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._answer_and_close(BAD_REQUEST)
        else:
            self._flush()

    def pause_writing(self) -> None:  # the client is not reading: stop reading its requests
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None:
            self.transport.resume_reading()

    # -- httptools callbacks
    def on_message_begin(self) -> None:
        self.begun = self.last_active
        self.url = b""
        self.headers = {}
        self.head_size = 0
        self.body_size = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_size += len(url)
        if self.head_size > MAX_HEAD_BYTES:
            raise _Closing(HEAD_TOO_LARGE)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value)
        if self.head_size > MAX_HEAD_BYTES:
            raise _Closing(HEAD_TOO_LARGE)
        name = name.lower()
        if name in self.wanted:
            self.headers[name] = value

    def on_body(self, body: bytes) -> None:
        self.body_size += len(body)
        if self.body_size > MAX_BODY_BYTES:
            raise _Closing(TOO_LARGE)

    def on_message_complete(self) -> None:
        self.begun = None
        parser = self.parser
        method = parser.get_method().decode("ascii")
        try:
            parsed = httptools.parse_url(self.url)
            path = unquote(parsed.path.decode("ascii"))
        except (httptools.HttpParserInvalidURLError, UnicodeDecodeError):
            raise _Closing(BAD_REQUEST) from None
        answer = self.door(method, path, parsed.query or b"", self.headers)
        keep_alive = parser.should_keep_alive() and not parser.should_upgrade()
        out = self.out
        out.append(answer.head)
        out.append(self.listener.clock.date_line())
        if not keep_alive:
            out.append(b"Connection: close\r\n\r\n")
            self.close_after = True
        elif parser.get_http_version() == "1.0":
            out.append(b"Connection: keep-alive\r\n\r\n")
        else:
            out.append(b"\r\n")
        if method != "HEAD":
            out.append(answer.body)
        if not keep_alive:
            # Whatever follows on this connection is not answered.
            raise _Closing(Reply(b"", b""))

    # -- writing
    def _flush(self) -> None:
        if self.out and self.transport is not None:
            self.transport.write(b"".join(self.out))
        self.out.clear()
        if self.close_after and self.transport is not None:
            self.transport.close()

    def _answer_and_close(self, answer: Reply) -> None:
        if answer.head:
            self.out += [answer.head, self.listener.clock.date_line(),
                         b"Connection: close\r\n\r\n", answer.body]
        self.close_after = True
        self._flush()

    def close_if_idle(self, now: float) -> None:
        if self.transport is not None and (
                now - self.last_active > KEEP_ALIVE_SECONDS
                or (self.begun is not None and now - self.begun > REQUEST_SECONDS)):
            self.transport.close()


class Listener:
    """`door` served on host:port. `reuse_port`: several processes listen on the same port
    and the kernel spreads connections among them (`tocsin api --workers N`)."""

    def __init__(self, door: Door, *, host: str, port: int, reuse_port: bool = False,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.door = door
        self.host, self.port, self.reuse_port, self.ssl = host, port, reuse_port, ssl_context
        self.connections: set[_Connection] = set()
        self.clock = _Clock()
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.TimerHandle | None = None

    @property
    def bound_port(self) -> int:
        """The port listened on (`port` 0 binds an ephemeral one)."""
        assert self._server is not None
        sockets = self._server.sockets
        port: int = sockets[0].getsockname()[1]
        return port

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), self.host, self.port, reuse_port=self.reuse_port,
            ssl=self.ssl, backlog=1024)
        self._sweep()
        log.info("status listener on %s:%s", self.host, self.bound_port)

    def _sweep(self) -> None:
        now = time.monotonic()
        for connection in list(self.connections):
            connection.close_if_idle(now)
        self._sweeper = asyncio.get_running_loop().call_later(1.0, self._sweep)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._server is None:
            return
        self._server.close()
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        await self._server.wait_closed()
        self._server = None


def with_listener(app: Any, listener: Listener) -> Any:
    """`app` (ASGI) whose lifespan also starts and stops `listener`: it listens once the app
    has started, until the server shuts down. A port that cannot be bound fails the
    server's startup (uvicorn then exits)."""

    async def wrapped(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return

        async def receive_and_stop() -> MutableMapping[str, Any]:
            message: MutableMapping[str, Any] = await receive()
            if message["type"] == "lifespan.shutdown":
                await listener.stop()
            return message

        async def start_and_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "lifespan.startup.complete":
                try:
                    await listener.start()
                except OSError as exc:
                    message = {"type": "lifespan.startup.failed",
                               "message": f"the status listener cannot listen on "
                               f"{listener.host}:{listener.port}: {exc}"}
            await send(message)

        await app(scope, receive_and_stop, start_and_send)

    return wrapped
