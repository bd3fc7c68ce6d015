"""Refuse NUL characters anywhere in a request, before any handler sees them.

PostgreSQL cannot store or even compare text holding NUL (`\\u0000`), so a title, a
search or a `?status=` with one answered 500 there and was stored on SQLite. One guard for
every route keeps the two databases alike: the path, the query string and the body
(a JSON `\\u0000` escape, a form's `%00`, or a raw NUL byte) are checked, and the request
is answered 422 (`application/problem+json`) with nothing stored.

Intake endpoints are left to their own parsers, which refuse NUL in their sender's error
shape (`tocsin.intake.formats.fields`), and heartbeat pings to theirs, which keep the output.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.api.problems import problem
from tocsin.limits import NUL_MESSAGE

# Sender-facing intake paths answer in their sender's shape (the inbox API is ours);
# heartbeat pings keep a script's output whatever it holds (heartbeats/recording.py).
SENDER_PREFIXES = ("/v2/", "/api/v1/intake/alertmanager/", "/api/v1/intake/grafana/",
                   "/api/v1/intake/generic/", "/ping/")
_JSON_NUL = b"\\u0000"
_FORM_NUL = b"%00"


class NulRefused(HTTPException):
    """Raised while reading the body; FastAPI passes HTTPExceptions from a body read on
    unchanged, so the problem handler answers it."""

    def __init__(self, where: str) -> None:
        super().__init__(422, f"{where}: {NUL_MESSAGE}")


def has_nul(scope: Scope) -> str | None:
    """Where the request line carries a NUL, or None."""
    if "\x00" in scope.get("path", ""):
        return "path"
    query: bytes = scope.get("query_string", b"")
    if b"\x00" in query or (b"%00" in query and b"\x00" in unquote_to_bytes(query)):
        return "query"
    return None


def _markers(scope: Scope) -> tuple[bytes, ...]:
    content_type = ""
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            content_type = value.decode("latin-1").lower()
    if content_type.startswith("application/x-www-form-urlencoded"):
        return (b"\x00", _FORM_NUL)
    if content_type.startswith("multipart/"):
        return (b"\x00",)
    return (b"\x00", _JSON_NUL)


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SENDER_PREFIXES):
            await self.app(scope, receive, send)
            return
        where = has_nul(scope)
        if where is not None:
            await self._refuse(scope, receive, send, where)
            return
        markers = _markers(scope)
        longest = max(len(m) for m in markers)
        tail = b""

        async def checked_receive() -> Message:
            nonlocal tail
            message = await receive()
            if message["type"] == "http.request":
                # A marker may straddle two chunks: look at the end of the previous one too.
                window = tail + message.get("body", b"")
                if any(m in window for m in markers):
                    raise NulRefused("body")
                tail = window[-(longest - 1):]
            return message

        await self.app(scope, checked_receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, where: str) -> None:
        response = problem(422, "Invalid request", f"{where}: {NUL_MESSAGE}")
        await response(scope, receive, send)
