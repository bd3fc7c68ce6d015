"""The public files as a fast route (api/fastlane.py): answered from a per-process copy in
front of the FastAPI app, so a busy status page costs little more than a static server.

A copy is checked against the database (its ETag only, one primary-key read) at most every
`REVALIDATE` seconds per file, so a published update is served by every API process within
that time. Paths that are not a rendered file (subscribe, confirm, unsubscribe, unknown
pages) are declined and answered by the app, as are non-GET methods.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from starlette.types import Receive, Scope, Send

from tocsin.api.fastlane import FastRoute
from tocsin.runtime import Runtime
from tocsin.statuspages.api import file_headers, not_modified
from tocsin.statuspages.models import StatusPage, StatusRender

REVALIDATE = 0.25  # seconds


@dataclass
class _Copy:
    etag: str
    headers: list[tuple[bytes, bytes]]
    modified: float  # Last-Modified as a timestamp
    body: bytes
    checked: float


class PublicFiles:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.copies: dict[tuple[str, str], _Copy] = {}
        self._etag = (select(StatusRender.etag).join(StatusPage, StatusPage.id ==
                                                     StatusRender.page_id))

    def _load(self, slug: str, name: str) -> _Copy | None:
        now = time.monotonic()
        held = self.copies.get((slug, name))
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
            headers = file_headers(row, self.runtime.settings.statuspage_max_age_seconds)
            copy = _Copy(row.etag, [(k.lower().encode(), v.encode()) for k, v in headers.items()]
                         + [(b"content-type", row.content_type.encode())],
                         row.rendered_at.replace(microsecond=0).timestamp(), row.body, now)
        self.copies[(slug, name)] = copy
        return copy

    async def handle(self, scope: Scope, receive: Receive, send: Send, rest: str) -> bool:
        slug, _, name = rest.partition("/")
        if not slug or not _:
            return False
        name = name or "index.html"
        copy = self.copies.get((slug, name))
        if copy is None or time.monotonic() - copy.checked > REVALIDATE:
            copy = self._load(slug, name)
            if copy is None:
                return False  # not a file: the app answers (confirm links, 404s)
        request_headers = {k.decode("latin-1"): v.decode("latin-1")
                           for k, v in scope["headers"]
                           if k in (b"if-none-match", b"if-modified-since")}
        if not_modified(request_headers, copy.etag, copy.modified):
            await send({"type": "http.response.start", "status": 304,
                        "headers": [h for h in copy.headers if h[0] != b"content-type"]})
            await send({"type": "http.response.body", "body": b""})
            return True
        body = b"" if scope["method"] == "HEAD" else copy.body
        await send({"type": "http.response.start", "status": 200, "headers": [
            *copy.headers, (b"content-length", str(len(copy.body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return True


def fast_routes(runtime: Runtime) -> list[FastRoute]:
    return [FastRoute("/status/", frozenset({"GET", "HEAD"}), PublicFiles(runtime).handle)]
