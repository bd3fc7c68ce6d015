"""A strict stand-in for Opsgenie's REST API on loopback, in its documented response shapes:
`data` lists with `paging` links, `took` and `requestId`, `GenieKey` authentication, 429
with `Retry-After`, and a schedule timeline computed here, independently of Tocsin, from
the rotation data (hour arithmetic on wall-clock minutes, not Tocsin's layer code).

It serves at most PAGE items per page whatever `limit` asks, so paging is exercised."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

PAGE = 3
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Query parameters each path accepts (Opsgenie's documented ones); anything else is a 422.
ALLOWED = {
    "/v2/users": {"limit", "offset", "sort", "order", "query"},
    "/v1/services": {"limit", "offset", "sort", "order", "query"},
    "/v2/schedules": {"expand"},
    "/v1/maintenance": {"type"},
    "timeline": {"identifierType", "expand", "interval", "intervalUnit", "date"},
    "overrides": {"scheduleIdentifierType"},
    "team": {"identifierType"},
    "routing": {"teamIdentifierType"},
}


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


@dataclass
class Account:
    key: str
    users: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    schedules: list[dict[str, Any]]
    escalations: list[dict[str, Any]]
    services: list[dict[str, Any]]
    integrations: list[dict[str, Any]]
    maintenance: list[dict[str, Any]]
    throttle_once: set[str] = field(default_factory=set)  # paths answered 429 once
    fail_once: set[str] = field(default_factory=set)  # paths answered 500 until hit once
    log: list[str] = field(default_factory=list)


# ---- the independent on-call computation ------------------------------------------------------

def _active(rotation: dict[str, Any], local: datetime) -> bool:
    tr = rotation.get("timeRestriction")
    if not tr:
        return True
    minute = local.hour * 60 + local.minute
    if tr["type"] == "time-of-day":
        r = tr["restriction"]
        s, e = r["startHour"] * 60 + r["startMin"], r["endHour"] * 60 + r["endMin"]
        return s <= minute < e if s < e else (minute >= s or minute < e)
    week_minute = local.weekday() * 1440 + minute
    for r in tr["restrictions"]:
        s = DAYS.index(r["startDay"]) * 1440 + r["startHour"] * 60 + r["startMin"]
        e = DAYS.index(r["endDay"]) * 1440 + r["endHour"] * 60 + r["endMin"]
        if (s <= week_minute < e) if s < e else (week_minute >= s or week_minute < e):
            return True
    return False


def on_call(schedule: dict[str, Any], rotation: dict[str, Any], at: datetime) -> str | None:
    tz = ZoneInfo(schedule["timezone"])
    for o in schedule["overrides"]:
        if _time(o["startDate"]) <= at < _time(o["endDate"]):
            return str(o["user"]["id"])
    start = _time(rotation["startDate"])
    if at < start:
        return None
    local = at.astimezone(tz).replace(tzinfo=None)
    if not _active(rotation, local):
        return None
    people = [p["id"] for p in rotation["participants"]]
    if rotation["type"] == "hourly":
        step = int((at - start).total_seconds() // (3600 * rotation["length"]))
    else:
        days = rotation["length"] * (7 if rotation["type"] == "weekly" else 1)
        local_start = start.astimezone(tz).replace(tzinfo=None)
        step = int((local - local_start).total_seconds() // (days * 86400))
    return str(people[step % len(people)])


def timeline(schedule: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    rotations = []
    for rotation in schedule["rotations"]:
        periods: list[dict[str, Any]] = []
        at = start
        while at < end:
            who = on_call(schedule, rotation, at)
            nxt = at + timedelta(minutes=30)
            if who is not None:
                if periods and periods[-1]["recipient"]["id"] == who \
                        and periods[-1]["endDate"] == iso(at):
                    periods[-1]["endDate"] = iso(nxt)
                else:
                    periods.append({"startDate": iso(at), "endDate": iso(nxt),
                                    "type": "default",
                                    "recipient": {"id": who, "type": "user"}})
            at = nxt
        rotations.append({"id": rotation["id"], "name": rotation["name"], "order": 1.0,
                          "periods": periods})
    return {"_parent": {"id": schedule["id"], "name": schedule["name"], "enabled": True},
            "startDate": iso(start), "endDate": iso(end),
            "finalTimeline": {"rotations": rotations}}


# ---- the HTTP server ----------------------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    account: Account
    base: str

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None,
              ) -> None:
        body = {**body, "took": 0.01, "requestId": str(uuid.uuid4())}
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:
        a = self.account
        parts = urlsplit(self.path)
        path, query = parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()}
        a.log.append(path)
        if self.headers.get("Authorization") != f"GenieKey {a.key}":
            self._send(401, {"message": "Could not authenticate"})
            return
        if path in a.throttle_once:
            a.throttle_once.discard(path)
            self._send(429, {"message": "Too many requests"}, {"Retry-After": "1"})
            return
        if path in a.fail_once:
            a.fail_once.discard(path)
            self._send(500, {"message": "Internal server error"})
            return
        try:
            status, body = self._route(path, query)
        except KeyError as exc:
            status, body = 404, {"message": f"not found: {exc}"}
        except ValueError as exc:
            status, body = 422, {"message": str(exc)}
        self._send(status, body)

    def _strict(self, query: dict[str, str], kind: str) -> None:
        unknown = set(query) - ALLOWED.get(kind, set())
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)}")

    def _paged(self, path: str, items: list[dict[str, Any]], query: dict[str, str],
               ) -> dict[str, Any]:
        self._strict(query, path)
        offset, limit = int(query.get("offset", 0)), min(int(query.get("limit", 20)), PAGE)
        body: dict[str, Any] = {"data": items[offset:offset + limit],
                                "totalCount": len(items), "paging": {
                                    "first": f"{self.base}{path}?limit={limit}&offset=0"}}
        if offset + limit < len(items):
            body["paging"]["next"] = f"{self.base}{path}?limit={limit}&offset={offset + limit}"
        return body

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        a = self.account
        seg = path.strip("/").split("/")
        if path == "/v2/account":
            return 200, {"data": {"name": "acme", "userCount": len(a.users),
                                  "plan": {"maxUserCount": 100, "name": "Standard",
                                           "isYearly": True}}}
        if path == "/v2/users":
            summary = [{k: v for k, v in u.items() if k not in ("contacts", "rules")}
                       for u in a.users]
            return 200, self._paged(path, summary, query)
        if seg[:2] == ["v2", "users"] and len(seg) >= 4:
            user = next(u for u in a.users if u["id"] == seg[2]) if any(
                u["id"] == seg[2] for u in a.users) else {}[seg[2]]
            if seg[3] == "contacts" and len(seg) == 4:
                return 200, {"data": user["contacts"]}
            if seg[3] == "notification-rules" and len(seg) == 4:
                return 200, {"data": [{k: v for k, v in r.items() if k != "steps"}
                                      for r in user["rules"]]}
            if seg[3] == "notification-rules" and len(seg) == 6 and seg[5] == "steps":
                rule = next(r for r in user["rules"] if r["id"] == seg[4])
                return 200, {"data": rule["steps"]}
        if path == "/v2/teams":
            return 200, {"data": [{"id": t["id"], "name": t["name"],
                                   "description": t["description"]} for t in a.teams]}
        if seg[:2] == ["v2", "teams"] and len(seg) in (3, 4):
            team = {t["id"]: t for t in a.teams}[seg[2]]
            if len(seg) == 3:
                self._strict(query, "team")
                return 200, {"data": {k: v for k, v in team.items() if k != "routingRules"}}
            if seg[3] == "routing-rules":
                self._strict(query, "routing")
                return 200, {"data": team["routingRules"]}
        if path == "/v2/schedules":
            self._strict(query, path)
            if query.get("expand") != "rotation":
                return 200, {"data": [{k: v for k, v in s.items()
                                       if k not in ("rotations", "overrides")}
                                      for s in a.schedules]}
            return 200, {"data": [{k: v for k, v in s.items() if k != "overrides"}
                                  for s in a.schedules]}
        if seg[:2] == ["v2", "schedules"] and len(seg) == 4:
            schedule = {s["id"]: s for s in a.schedules}[seg[2]]
            if seg[3] == "overrides":
                self._strict(query, "overrides")
                return 200, {"data": schedule["overrides"]}
            if seg[3] == "timeline":
                self._strict(query, "timeline")
                if query.get("intervalUnit") not in ("days", "weeks", "months"):
                    raise ValueError("intervalUnit must be days, weeks or months")
                start = _time(query["date"])
                unit = {"days": 1, "weeks": 7, "months": 30}[query["intervalUnit"]]
                end = start + timedelta(days=unit * int(query.get("interval", 1)))
                return 200, {"data": timeline(schedule, start, end)}
        if path == "/v2/escalations":
            return 200, {"data": a.escalations}
        if path == "/v1/services":
            return 200, self._paged(path, a.services, query)
        if path == "/v2/integrations":
            return 200, {"data": a.integrations}
        if path == "/v1/maintenance":
            self._strict(query, path)
            return 200, {"data": [{k: v for k, v in m.items() if k != "rules"}
                                  for m in a.maintenance]}
        if seg[:2] == ["v1", "maintenance"] and len(seg) == 3:
            return 200, {"data": {m["id"]: m for m in a.maintenance}[seg[2]]}
        raise KeyError(path)


@contextmanager
def serve(account: Account) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    handler = type("Handler", (_Handler,), {"account": account, "base": base})
    server.RequestHandlerClass = handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
