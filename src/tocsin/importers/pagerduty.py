"""Read a PagerDuty account with the official `pagerduty` package's REST API v2 client,
which pages through lists (offset/limit/more) and waits out 429 answers itself."""

from __future__ import annotations

import ssl
from datetime import datetime, timedelta
from typing import Any

import pagerduty

from tocsin.importers.vendor import VendorError

US = "https://api.pagerduty.com"
EU = "https://api.eu.pagerduty.com"


class Reader:
    """The official client, with its errors turned into VendorError naming the request."""

    def __init__(self, token: str, base_url: str = US, *, sleep_timer: float = 1.5,
                 ca_file: str | None = None) -> None:
        extra: dict[str, Any] = ({"verify": ssl.create_default_context(cafile=ca_file)}
                                 if ca_file else {})
        self.client = pagerduty.RestApiV2Client(token, base_url=base_url.rstrip("/"), **extra)
        self.client.sleep_timer = sleep_timer

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
