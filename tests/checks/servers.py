"""Misbehaving and well-behaved HTTP servers on loopback, built on raw sockets.

Raw sockets because the interesting targets are the broken ones: a server that never
answers, one that resets the connection, one that streams forever, one that sends garbage.
"""

from __future__ import annotations

import json
import socket
import socketserver
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

STOP = threading.Event()


def _response(status: str, body: bytes, extra: str = "",
              content_type: str = "text/plain") -> bytes:
    head = (f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n")
    return head.encode() + body


class Handler(socketserver.BaseRequestHandler):
    request: socket.socket
    server: LoopbackServer

    def handle(self) -> None:
        sock = self.request
        sock.settimeout(30)
        if isinstance(sock, ssl.SSLSocket):
            try:
                sock.do_handshake()
            except (ssl.SSLError, OSError):
                return  # the client rejected our certificate: often the test's point
        while True:  # keep-alive: several requests per connection
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    data += chunk
            except OSError:
                return
            path = data.split(b" ", 2)[1].decode()
            self.server.hits.append(path)
            if path == "/echo":
                self.echo(sock, data)
            elif not self.respond(sock, path):
                return

    def echo(self, sock: socket.socket, data: bytes) -> None:
        """Answer with the request as received (head and body): what the client sent."""
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            body += sock.recv(65536)
        sock.sendall(_response("200 OK", head + b"\r\n\r\n" + body))

    def respond(self, sock: socket.socket, path: str) -> bool:
        if path == "/ok":
            sock.sendall(_response("200 OK", b"hello world, all systems go"))
        elif path == "/json":
            body = json.dumps({"status": {"db": "ok", "items": [1, 2]}}).encode()
            sock.sendall(_response("200 OK", body, content_type="application/json"))
        elif path == "/by-source":
            # Down for some client addresses only: a partial outage seen from some locations.
            if self.client_address[0] in self.server.failing_sources:
                sock.sendall(_response("503 Service Unavailable", b"down from here"))
            else:
                sock.sendall(_response("200 OK", b"fine from here"))
        elif path == "/fail":
            sock.sendall(_response("503 Service Unavailable", b"maintenance"))
        elif path == "/redirect":
            sock.sendall(_response("302 Found", b"", "Location: /ok\r\n"))
        elif path == "/slow":
            time.sleep(0.3)
            sock.sendall(_response("200 OK", b"slow but fine"))
        elif path == "/hang":
            STOP.wait(120)  # accept, read the request, never answer (a daemon thread)
            return False
        elif path == "/stall-body":
            # Headers and the start of the body, then nothing: stuck while reading the body.
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            STOP.wait(120)
            return False
        elif path == "/reset":
            # SO_LINGER with a zero timeout turns close() into a TCP RST.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return False
        elif path == "/endless":
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"x" * 16384
            try:
                while not STOP.is_set():
                    sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            except OSError:
                pass
            return False
        elif path == "/garbage":
            sock.sendall(b"\x00\xff\xfeTHIS IS NOT HTTP\r\n\r\n\x01\x02")
            return False
        else:
            sock.sendall(_response("404 Not Found", b"no"))
        return True


class LoopbackServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: list[str] = []
        self.context = context
        self.failing_sources: set[str] = set()

    def get_request(self) -> tuple[socket.socket, object]:
        sock, addr = super().get_request()
        if self.context is not None:
            # The handshake happens in the handler's thread, not in the accept loop.
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def url(self, path: str) -> str:
        scheme = "https" if self.context else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"


@contextmanager
def serve(context: ssl.SSLContext | None = None) -> Iterator[LoopbackServer]:
    server = LoopbackServer(context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nobody listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port
