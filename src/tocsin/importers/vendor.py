"""A vendor's REST API read politely: pagination, 429 with `Retry-After`, clear errors.

The importers fetch everything first and write afterwards, so an error here leaves Tocsin
untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from tocsin.errors import TocsinError

MAX_ATTEMPTS = 6
MAX_WAIT_SECONDS = 120.0


class VendorError(TocsinError):
    """The vendor refused or failed a request; the message names the request."""

    status_code = 502
    title = "Vendor error"


def _wait_of(response: httpx.Response, attempt: int) -> float:
    return retry_after(response.headers, attempt)


def retry_after(headers: Mapping[str, str], attempt: int) -> float:
    """Seconds to wait before retry number `attempt`: the vendor's `Retry-After` (capped),
    else a doubling back-off."""
    raw = headers.get("Retry-After", "")
    try:
        return min(max(float(raw), 0.0), MAX_WAIT_SECONDS)
    except ValueError:
        return min(2.0 ** attempt, MAX_WAIT_SECONDS)


class RestReader:
    """GETs against one base URL with one set of headers, retrying 429 and 5xx answers
    after the `Retry-After` the vendor asks for."""

    def __init__(self, *, vendor: str, base_url: str, headers: dict[str, str],
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep, timeout: float = 30.0) -> None:
        self.vendor = vendor
        self.base_url = base_url.rstrip("/")
        self._sleep = sleep
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout,
                                  transport=transport)
        self.requests = 0
        self.retries = 0

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            self.requests += 1
            try:
                response = self._http.get(path, params=params)
            except httpx.HTTPError as exc:
                raise VendorError(f"{self.vendor}: GET {path} failed: {exc}") from None
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == MAX_ATTEMPTS:
                    break
                self.retries += 1
                self._sleep(_wait_of(response, attempt))
                continue
            if response.status_code in (401, 403):
                raise VendorError(f"{self.vendor} refused the credentials "
                                  f"({response.status_code} on GET {path}): "
                                  f"{_message(response)}")
            if response.status_code >= 400:
                raise VendorError(f"{self.vendor}: GET {path} answered "
                                  f"{response.status_code}: {_message(response)}")
            try:
                return response.json()
            except ValueError:
                raise VendorError(f"{self.vendor}: GET {path} did not answer JSON") from None
        raise VendorError(f"{self.vendor}: GET {path} still failing after {MAX_ATTEMPTS} "
                          f"attempts ({response.status_code})")

    def same_host(self, url: str) -> str:
        """The path and query of a `next` link, refused if it points at another host (a
        paging link must not carry the credentials elsewhere)."""
        parts, base = urlsplit(url), urlsplit(self.base_url)
        if parts.netloc and parts.netloc != base.netloc:
            raise VendorError(f"{self.vendor}: paging link points at another host: {url}")
        return parts.path + (f"?{parts.query}" if parts.query else "")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:300]
    return str(body)[:300]


def pages(reader: RestReader, path: str, params: dict[str, Any] | None = None,
          ) -> Iterator[dict[str, Any]]:
    """Every item of an Opsgenie-style list: `data` plus `paging.next` links."""
    body = reader.get(path, params)
    seen = 0
    while True:
        for item in body.get("data") or []:
            seen += 1
            yield item
        link = (body.get("paging") or {}).get("next")
        if not link or seen > 100_000:
            return
        body = reader.get(reader.same_host(link))
