"""A loopback stand-in for an ntfy server's publish API, strict about what it accepts.

It speaks the JSON publishing documented at https://docs.ntfy.sh/publish/ ("Publish as
JSON"): POST to the server root with a JSON object naming `topic`; optional title, message,
tags, priority 1..5, click, and up to three `actions`, each `view` (label, url), `broadcast`
or `http` (label, url, optional method, headers, body, clear). Anything else is a 400, as a
typo in a field name would silently lose a button on a real phone. Neither Debian nor PyPI
ships the ntfy server (a Go program), so this is what the tests run against.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")
FIELDS = {"topic", "message", "title", "tags", "priority", "actions", "click", "attach",
          "markdown", "icon", "filename", "delay", "email", "call"}
ACTION_FIELDS = {"view": {"action", "label", "url", "clear"},
                 "broadcast": {"action", "label", "intent", "extras", "clear"},
                 "http": {"action", "label", "url", "method", "headers", "body", "clear"}}


def problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["body is not a JSON object"]
    out = [f"unknown field {k}" for k in sorted(set(body) - FIELDS)]
    if not isinstance(body.get("topic"), str) or not TOPIC.match(body["topic"]):
        out.append("topic missing or invalid")
    if "priority" in body and body["priority"] not in (1, 2, 3, 4, 5):
        out.append("priority must be 1..5")
    actions = body.get("actions", [])
    if not isinstance(actions, list) or len(actions) > 3:
        return [*out, "actions: a list of at most 3"]
    for a in actions:
        kind = a.get("action") if isinstance(a, dict) else None
        if kind not in ACTION_FIELDS:
            out.append(f"unknown action {kind!r}")
            continue
        out += [f"action {kind}: unknown field {k}" for k in sorted(set(a) - ACTION_FIELDS[kind])]
        if not a.get("label"):
            out.append(f"action {kind}: label missing")
        if kind in ("view", "http") and not str(a.get("url", "")).startswith(("http://",
                                                                             "https://")):
            out.append(f"action {kind}: url must be http(s)")
        if kind == "http" and a.get("method", "POST") not in ("GET", "POST", "PUT"):
            out.append("action http: bad method")
    return out


@contextmanager
def ntfy_server() -> Iterator[tuple[list[dict[str, Any]], int]]:
    """Yields (published messages, port)."""
    got: list[dict[str, Any]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            wrong = ["publish as JSON goes to /"] if self.path != "/" else problems(body)
            if wrong:
                answer = {"code": 40001, "http": 400, "error": "; ".join(wrong)}
                self._answer(400, answer)
                return
            with lock:
                got.append(body)
                n = len(got)
            self._answer(200, {"id": f"msg{n}", "time": 1765000000 + n, "event": "message",
                               "topic": body["topic"], "message": body.get("message", "")})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield got, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
