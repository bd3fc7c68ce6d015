"""Real servers on loopback for paging tests: SMTP (aiosmtpd), an HTTP receiver, and one
that never answers."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Inbox:
    messages: list[Message] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted"

    def to(self, address: str) -> list[Message]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]


def body_of(msg: Message) -> str:
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError("no text part")


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived


class Server(ThreadingHTTPServer):
    # A listen backlog like real servers' (the default 5 drops the SYNs of a burst of new
    # connections, and each dropped one waits a second to be sent again).
    request_queue_size = 128


@contextmanager
def http_receiver(status: int = 200, delay: float = 0.0,
                  on_post: Callable[[], None] | None = None,
                  ) -> Iterator[tuple[list[Received], str]]:
    """A loopback HTTP server recording every POST; answers `status` after `delay` s (and
    after calling `on_post`, e.g. to move a frozen clock as if the exchange took time)."""
    got: list[Received] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            arrived = Received(self.path, dict(self.headers.items()), body)
            if delay:
                time.sleep(delay)
            if on_post is not None:
                on_post()
            with lock:
                got.append(arrived)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return None

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield got, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def hanging_receiver() -> Iterator[tuple[list[float], str]]:
    """A loopback server that accepts every connection, reads the request and never
    answers: a receiver stuck until the sender's timeout. Yields (when each connection
    first sent something, its URL); every connection is closed on exit."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    arrived: list[float] = []
    conns: list[socket.socket] = []
    lock = threading.Lock()

    def hold(conn: socket.socket) -> None:
        try:
            if conn.recv(65536):
                with lock:
                    arrived.append(time.monotonic())
            while conn.recv(65536):  # keeps reading; answers nothing
                pass
        except OSError:
            pass

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with lock:
                conns.append(conn)
            threading.Thread(target=hold, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield arrived, f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        with lock:
            for conn in conns:
                with suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
