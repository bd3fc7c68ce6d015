"""A strict stand-in for PagerDuty's REST API v2 on loopback: `Token token=` auth, the
versioned Accept header, classic pagination (`limit`, `offset`, `more`, `total`), a 429
with `Retry-After`, and a schedule's `final_schedule` computed here from the layers,
independently of Tocsin (layers highest priority first, as PagerDuty lists them)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.intake.conftest import make_cert

PAGE = 2
ACCEPT = "application/vnd.pagerduty+json;version=2"


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


@dataclass
class Account:
    token: str
    users: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    schedules: list[dict[str, Any]]
    policies: list[dict[str, Any]]
    services: list[dict[str, Any]]
    windows: list[dict[str, Any]]
    throttle_once: set[str] = field(default_factory=set)
    retry_after: str = "1"  # the Retry-After sent with a throttled answer
    throttle_always: set[str] = field(default_factory=set)  # paths that always answer 429
    log: list[str] = field(default_factory=list)


def _in(minute: int, start: int, length: int, period: int) -> bool:
    return (minute - start) % period < length


def _layer_user(layer: dict[str, Any], tz: ZoneInfo, at: datetime) -> str | None:
    vstart = _time(layer["rotation_virtual_start"])
    if at < _time(layer["start"]):
        return None
    local = at.astimezone(tz)
    for r in layer.get("restrictions", []):
        hh, mm, _ss = (int(x) for x in r["start_time_of_day"].split(":"))
        length = r["duration_seconds"] // 60
        if r["type"] == "daily_restriction":
            ok = _in(local.hour * 60 + local.minute, hh * 60 + mm, length, 1440)
        else:
            ok = _in(local.weekday() * 1440 + local.hour * 60 + local.minute,
                     (r["start_day_of_week"] - 1) * 1440 + hh * 60 + mm, length, 10080)
        if ok:
            break
    else:
        if layer.get("restrictions"):
            return None
    turn = layer["rotation_turn_length_seconds"]
    if turn % 86400:
        step = int((at - vstart).total_seconds() // turn)
    else:
        wall = local.replace(tzinfo=None) - vstart.astimezone(tz).replace(tzinfo=None)
        step = int(wall.total_seconds() // turn)
    users = layer["users"]
    return str(users[step % len(users)]["user"]["id"])


def final_schedule(s: dict[str, Any], start: datetime, end: datetime) -> list[dict[str, Any]]:
    tz = ZoneInfo(s["time_zone"])
    entries: list[dict[str, Any]] = []
    at = start
    while at < end:
        who = next((str(o["user"]["id"]) for o in s["overrides"]
                    if _time(o["start"]) <= at < _time(o["end"])), None)
        if who is None:
            who = next((u for layer in s["schedule_layers"]
                        if (u := _layer_user(layer, tz, at)) is not None), None)
        nxt = at + timedelta(minutes=30)
        if who is not None:
            if entries and entries[-1]["user"]["id"] == who and entries[-1]["end"] == iso(at):
                entries[-1]["end"] = iso(nxt)
            else:
                entries.append({"start": iso(at), "end": iso(nxt),
                                "user": {"id": who, "type": "user_reference"}})
        at = nxt
    return entries


class _Handler(BaseHTTPRequestHandler):
    account: Account

    def log_message(self, *args: Any) -> None:
        return

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None,
              ) -> None:
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
        path, query = parts.path, parse_qs(parts.query)
        a.log.append(path)
        if self.headers.get("Authorization") != f"Token token={a.token}":
            self._send(401, {"error": {"message": "Unauthorized", "code": 2006}})
            return
        if self.headers.get("Accept") != ACCEPT:
            self._send(406, {"error": {"message": "Unsupported Accept header", "code": 2001}})
            return
        if path in a.throttle_once or path in a.throttle_always:
            a.throttle_once.discard(path)
            self._send(429, {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
                       {"Retry-After": a.retry_after})
            return
        try:
            self._send(200, self._route(path, {k: v[-1] for k, v in query.items()}))
        except (KeyError, StopIteration):
            self._send(404, {"error": {"message": "Not Found", "code": 2100}})

    def _list(self, key: str, items: list[dict[str, Any]], q: dict[str, str]) -> dict[str, Any]:
        offset, limit = int(q.get("offset", 0)), min(int(q.get("limit", 25)), PAGE)
        return {key: items[offset:offset + limit], "limit": limit, "offset": offset,
                "more": offset + limit < len(items), "total": None}

    def _route(self, path: str, q: dict[str, str]) -> dict[str, Any]:
        a = self.account
        seg = path.strip("/").split("/")
        if path == "/users":
            return self._list("users", a.users, q)
        if path == "/teams":
            return self._list("teams", [{k: v for k, v in t.items() if k != "members"}
                                        for t in a.teams], q)
        if seg[0] == "teams" and len(seg) == 3 and seg[2] == "members":
            team = next(t for t in a.teams if t["id"] == seg[1])
            return self._list("members", team["members"], q)
        if path == "/schedules":
            return self._list("schedules", [{"id": s["id"], "name": s["name"],
                                             "type": "schedule"} for s in a.schedules], q)
        if seg[0] == "schedules" and len(seg) in (2, 3):
            s = next(x for x in a.schedules if x["id"] == seg[1])
            if len(seg) == 3 and seg[2] == "overrides":
                return {"overrides": s["overrides"]}
            body = {k: v for k, v in s.items() if k != "overrides"}
            if "since" in q:
                body["final_schedule"] = {"name": "Final Schedule", "rendered_schedule_entries":
                                          final_schedule(s, _time(q["since"]),
                                                         _time(q["until"]))}
            return {"schedule": body}
        if path == "/escalation_policies":
            return self._list("escalation_policies", a.policies, q)
        if path == "/services":
            return self._list("services", a.services, q)
        if path == "/maintenance_windows":
            if q.get("filter") != "open":
                raise KeyError("filter")
            return self._list("maintenance_windows", a.windows, q)
        raise KeyError(path)


@contextmanager
def serve(account: Account, directory: Path) -> Iterator[tuple[str, Path]]:
    """HTTPS (the official client insists on it) with a throwaway certificate; yields the
    base URL and the certificate to trust."""
    cert, key = make_cert(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.RequestHandlerClass = type("Handler", (_Handler,), {"account": account})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", cert
    finally:
        server.shutdown()
        server.server_close()
