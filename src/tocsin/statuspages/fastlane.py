"""The public files from a per-process copy, through two front doors: a fast route on the main
port (api/fastlane.py, in front of the FastAPI app) and the status listener
(api/listener.py, `statuspage_port`), which answers nothing else. One copy and one
revalidation rule serve both, so a busy status page costs little more than a static server.

A copy is checked against the database (its ETag only, one primary-key read) at most every
`REVALIDATE` seconds per file, so a published update is served by every API process within
that time; a path that is not a file is remembered as such for as long. On the main port,
paths that are not a rendered file (subscribe, confirm, unsubscribe, unknown pages) are
declined and answered by the app, as are non-GET methods. The listener answers them itself:
the subscriber paths with a 308 to the app's `base_url` when one is set, the rest 404.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from tocsin.api.fastlane import FastRoute
from tocsin.api.listener import Reply, reply, text_reply
from tocsin.runtime import Runtime
from tocsin.statuspages.api import app_origin, file_headers, not_modified
from tocsin.statuspages.models import StatusPage, StatusRender

REVALIDATE = 0.25  # seconds
PREFIX = "/status/"
# Paths of a page that the app answers (subscribing): the listener redirects them there.
APP_PATHS = frozenset({"subscribe", "confirm", "unsubscribe"})
MAX_MISSES = 10_000  # remembered non-files, per process (forgotten all at once past this)
CONDITIONAL = (b"if-none-match", b"if-modified-since")

NOT_FOUND = text_reply(404, "Not Found", "not found\n")
NOT_ALLOWED = text_reply(405, "Method Not Allowed", "method not allowed\n",
                         [("Allow", "GET, HEAD")])


@dataclass
class _Copy:
    etag: str
    modified: float  # Last-Modified as a timestamp
    body: bytes
    checked: float
    asgi_ok: list[tuple[bytes, bytes]]  # the main port's 200 headers
    asgi_unchanged: list[tuple[bytes, bytes]]  # its 304 headers
    ok: Reply  # the listener's 200
    unchanged: Reply  # the listener's 304


class PublicFiles:
    """The rendered files of every page, as this process last read them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.copies: dict[tuple[str, str], _Copy] = {}
        self.misses: dict[tuple[str, str], float] = {}
        self._app = app_origin(runtime.settings)
        self._etag = (select(StatusRender.etag).join(StatusPage, StatusPage.id ==
                                                     StatusRender.page_id))

    def get(self, slug: str, name: str) -> _Copy | None:
        """The file's copy, read again when its last check is over `REVALIDATE` old;
        None when there is no such file."""
        key = (slug, name)
        copy = self.copies.get(key)
        now = time.monotonic()
        if copy is not None:
            if now - copy.checked <= REVALIDATE:
                return copy
        else:
            missed = self.misses.get(key)
            if missed is not None and now - missed <= REVALIDATE:
                return None
        copy = self._load(slug, name, copy, now)
        if copy is None:
            if len(self.misses) >= MAX_MISSES:
                self.misses.clear()
            self.misses[key] = now
        else:
            self.misses.pop(key, None)
        return copy

    def _load(self, slug: str, name: str, held: _Copy | None, now: float) -> _Copy | None:
        with self.runtime.read_sessions() as session:
            etag = session.scalar(self._etag.where(StatusPage.slug == slug,
                                                   StatusRender.name == name))
            if etag is None:
                self.copies.pop((slug, name), None)
                return None
            if held is not None and held.etag == etag:
                held.checked = now
                return held
            row = session.scalars(select(StatusRender).join(
                StatusPage, StatusPage.id == StatusRender.page_id).where(
                StatusPage.slug == slug, StatusRender.name == name)).first()
            if row is None:
                return None
            headers = list(file_headers(row, self.runtime.settings.statuspage_max_age_seconds,
                                        self._app).items())
            asgi = [(k.lower().encode(), v.encode()) for k, v in headers]
            copy = _Copy(
                row.etag, row.rendered_at.replace(microsecond=0).timestamp(), row.body, now,
                [*asgi, (b"content-type", row.content_type.encode()),
                 (b"content-length", str(len(row.body)).encode())], asgi,
                reply(200, "OK", [*headers, ("Content-Type", row.content_type)], row.body),
                reply(304, "Not Modified", headers))
        self.copies[(slug, name)] = copy
        return copy

    # -- the main port's door: a fast route in front of the app
    async def handle(self, scope: Scope, receive: Receive, send: Send, rest: str) -> bool:
        slug, _, name = rest.partition("/")
        if not slug or not _:
            return False
        copy = self.get(slug, name or "index.html")
        if copy is None:
            return False  # not a file: the app answers (confirm links, 404s)
        request_headers = {k.decode("latin-1"): v.decode("latin-1")
                           for k, v in scope["headers"] if k in CONDITIONAL}
        if request_headers and not_modified(request_headers, copy.etag, copy.modified):
            await send({"type": "http.response.start", "status": 304,
                        "headers": copy.asgi_unchanged})
            await send({"type": "http.response.body", "body": b""})
            return True
        body = b"" if scope["method"] == "HEAD" else copy.body
        await send({"type": "http.response.start", "status": 200, "headers": copy.asgi_ok})
        await send({"type": "http.response.body", "body": body})
        return True


class StatusDoor:
    """The status listener's door (api/listener.py): the public files and nothing else."""

    wanted = frozenset(CONDITIONAL)

    def __init__(self, files: PublicFiles) -> None:
        self.files = files
        base = files.runtime.settings.base_url
        self.app_url = base.rstrip("/") if base else None

    def __call__(self, method: str, path: str, query: bytes,
                 headers: MutableMapping[bytes, bytes]) -> Reply:
        if not path.startswith(PREFIX):
            return NOT_FOUND
        slug, slash, name = path[len(PREFIX):].partition("/")
        if not slug or not slash:
            return NOT_FOUND
        if name.partition("/")[0] in APP_PATHS:
            return self._to_app(path, query)
        if method != "GET" and method != "HEAD":
            return NOT_ALLOWED
        copy = self.files.get(slug, name or "index.html")
        if copy is None:
            return NOT_FOUND
        if headers and _not_modified(headers, copy):
            return copy.unchanged
        return copy.ok

    def _to_app(self, path: str, query: bytes) -> Reply:
        """308 keeps the method and body: the page's subscribe form posts on to the app."""
        if self.app_url is None:
            return NOT_FOUND
        location = self.app_url + quote(path, safe="/:@!$&'()*+,;=-._~")
        if query:
            location += "?" + query.decode("latin-1")
        return text_reply(308, "Permanent Redirect", f"moved to {location}\n",
                          [("Location", location)])


def _not_modified(headers: Mapping[bytes, bytes], copy: _Copy) -> bool:
    return not_modified({k.decode("latin-1"): v.decode("latin-1") for k, v in headers.items()},
                        copy.etag, copy.modified)


def fast_routes(files: PublicFiles) -> list[FastRoute]:
    return [FastRoute(PREFIX, frozenset({"GET", "HEAD"}), files.handle)]
