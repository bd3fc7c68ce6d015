"""Read a PagerDuty account with the official `pagerduty` package's REST API v2 client,
which pages through lists (offset/limit/more).

A 429 waits the `Retry-After` PagerDuty asks for. The client's own retry settings (`retry`,
`sleep_timer`, `sleep_timer_base`, `postprocess`) only give a growing back-off that ignores
the header, so the waiting is done one level down, in the httpx2 transport the client is
built on (the client passes its keyword arguments to `httpx2.Client`)."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx2
import pagerduty

from tocsin.importers.vendor import MAX_ATTEMPTS, VendorError, retry_after

US = "https://api.pagerduty.com"
EU = "https://api.eu.pagerduty.com"


class RetryAfter(httpx2.BaseTransport):
    """Answers 429 by waiting the response's `Retry-After` and sending again, up to
    `attempts` tries; the last answer goes up to the client whatever it is."""

    def __init__(self, inner: httpx2.BaseTransport, *, sleep: Callable[[float], None],
                 attempts: int = MAX_ATTEMPTS) -> None:
        self.inner = inner
        self.sleep = sleep
        self.attempts = attempts
        self.waits: list[float] = []  # every wait, in seconds (the tests read it)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        for attempt in range(1, self.attempts):
            response = self.inner.handle_request(request)
            if response.status_code != 429:
                return response
            wait = retry_after(response.headers, attempt)
            response.read()
            response.close()
            self.waits.append(wait)
            self.sleep(wait)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class Reader:
    """The official client, with its errors turned into VendorError naming the request.
    `sleep` does the waiting after a 429 (tests pass a fake); `sleep_timer` is the client's
    own back-off, left for network errors and a 429 that outlasts our attempts."""

    def __init__(self, token: str, base_url: str = US, *, sleep_timer: float = 1.5,
                 ca_file: str | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        verify: ssl.SSLContext | bool = (ssl.create_default_context(cafile=ca_file)
                                         if ca_file else True)
        self.transport = RetryAfter(httpx2.HTTPTransport(verify=verify), sleep=sleep)
        self.client = pagerduty.RestApiV2Client(token, base_url=base_url.rstrip("/"),
                                                transport=self.transport)
        self.client.sleep_timer = sleep_timer
        # The default retries a 429 forever; after our attempts, once more, then an error.
        self.client.retry[429] = 1

    def close(self) -> None:
        return

    def all(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        try:
            return list(self.client.list_all(path, params=params or {}))
        except pagerduty.Error as exc:
            raise _error(path, exc) from None

    def one(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self.client.rget(path, params=params or {})
        except pagerduty.Error as exc:
            raise _error(path, exc) from None


def _error(path: str, exc: Exception) -> VendorError:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status in (401, 403):
        return VendorError(f"PagerDuty refused the API token ({status} on GET {path}): use a "
                           "REST API key with read access")
    return VendorError(f"PagerDuty: GET {path} failed: {exc}")


def fetch(r: Reader, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now().astimezone()
    since, until = now.isoformat(), (now + timedelta(weeks=8)).isoformat()
    users = r.all("/users", {"include[]": ["contact_methods", "notification_rules"]})
    teams = r.all("/teams")
    for t in teams:
        t["members"] = r.all(f"/teams/{t['id']}/members")
    schedules = []
    for s in r.all("/schedules"):
        full = r.one(f"/schedules/{s['id']}")
        full["overrides"] = r.one(f"/schedules/{s['id']}/overrides",
                                  {"since": since, "until": until})
        schedules.append(full)
    services = r.all("/services", {"include[]": ["integrations"]})
    return {"users": users, "teams": teams, "schedules": schedules,
            "escalation_policies": r.all("/escalation_policies"), "services": services,
            "maintenance_windows": r.all("/maintenance_windows", {"filter": "open"})}


def timeline(r: Reader, schedule_id: str, start: datetime,
             days: int) -> list[tuple[datetime, datetime, str]]:
    """PagerDuty's own final schedule: (start, end, user id) entries."""
    body = r.one(f"/schedules/{schedule_id}", {
        "since": start.isoformat(), "until": (start + timedelta(days=days)).isoformat()})
    entries = (body.get("final_schedule") or {}).get("rendered_schedule_entries") or []
    return [(_time(e["start"]), _time(e["end"]), str(e["user"]["id"])) for e in entries]


def _time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))
