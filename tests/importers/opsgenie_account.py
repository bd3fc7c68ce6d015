"""An Opsgenie account with 3 teams, 5 schedules and 4 escalation policies, in Opsgenie's
documented shapes, with the odd cases: restrictions across midnight and across the end of
the week, schedules in zones that change to summer time, an override, escalation to a
schedule and to a team, a round robin, a repeat, an unmappable integration."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.importers.opsgenie_standin import Account, iso

NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]


def _user(name: str, i: int) -> dict[str, Any]:
    email = f"{name}@acme.example.com"
    contacts = [{"id": f"c-{name}", "method": "email", "to": email,
                 "status": {"enabled": True}}]
    rules: list[dict[str, Any]] = []
    if name == "alice":
        contacts.append({"id": "c-alice-sms", "method": "sms", "to": "49-1701234567",
                         "status": {"enabled": True}})
        contacts.append({"id": "c-alice-2", "method": "email", "to": "alice@home.example.org",
                         "status": {"enabled": True}})
        rules = [{"id": "r-alice", "name": "New alert", "actionType": "create-alert",
                  "order": 1, "enabled": True, "steps": [
                      {"id": "s1", "enabled": True, "sendAfter": {"timeAmount": 0,
                                                                  "timeUnit": "minutes"},
                       "contact": {"method": "email", "to": email}},
                      {"id": "s2", "enabled": True, "sendAfter": {"timeAmount": 5,
                                                                  "timeUnit": "minutes"},
                       "contact": {"method": "email", "to": "alice@home.example.org"}}]},
                 {"id": "r-alice-close", "name": "Closed", "actionType": "close-alert",
                  "order": 2, "enabled": True, "steps": []}]
    return {"id": f"u-{name}", "username": email, "fullName": name.title(),
            "role": {"id": "r", "name": "Admin" if i == 0 else "User"},
            "timeZone": ["Europe/Berlin", "America/New_York", "Asia/Kolkata"][i % 3],
            "locale": "en_US", "blocked": False, "verified": True,
            "createdAt": "2025-01-01T00:00:00Z", "contacts": contacts, "rules": rules}


def _ref(name: str) -> dict[str, Any]:
    return {"type": "user", "id": f"u-{name}", "username": f"{name}@acme.example.com"}


def _rotation(rid: str, kind: str, length: int, start: datetime, people: list[str],
              restriction: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rid, "name": rid, "startDate": iso(start), "type": kind,
                           "length": length, "participants": [_ref(p) for p in people]}
    if restriction:
        out["timeRestriction"] = restriction
    return out


def _span(d1: str, h1: int, d2: str, h2: int) -> dict[str, Any]:
    return {"startDay": d1, "startHour": h1, "startMin": 0, "endDay": d2, "endHour": h2,
            "endMin": 0}


def _rule(minutes: int, kind: str, rid: str, notify: str = "default") -> dict[str, Any]:
    return {"condition": "if-not-acked", "notifyType": notify,
            "delay": {"timeAmount": minutes, "timeUnit": "minutes"},
            "recipient": {"type": kind, "id": rid}}


def build(key: str, anchor: datetime) -> Account:
    """`anchor`: a Monday 00:00 UTC a week or so before the import runs."""
    users = [_user(n, i) for i, n in enumerate(NAMES)]
    teams = [
        {"id": "t-platform", "name": "Platform", "description": "Core platform",
         "members": [{"user": {"id": "u-alice", "username": "alice@acme.example.com"}, "role": "admin"},
                     {"user": {"id": "u-bob", "username": "bob@acme.example.com"}, "role": "user"},
                     {"user": {"id": "u-carol", "username": "carol@acme.example.com"}, "role": "user"}],
         "routingRules": [{"id": "rr1", "name": "Default", "order": 0, "isDefault": True,
                           "notify": {"type": "escalation", "id": "e-platform",
                                      "name": "Platform escalation"}}]},
        {"id": "t-payments", "name": "Payments", "description": "",
         "members": [{"user": {"id": f"u-{n}", "username": f"{n}@acme.example.com"}, "role": "user"}
                     for n in ("dave", "erin", "frank")],
         "routingRules": [{"id": "rr2", "name": "Default", "order": 1, "isDefault": True,
                           "notify": {"type": "escalation", "id": "e-payments",
                                      "name": "Payments escalation"}},
                          {"id": "rr3", "name": "P1 to execs", "order": 0, "isDefault": False,
                           "criteria": {"type": "match-all-conditions", "conditions": []},
                           "notify": {"type": "escalation", "id": "e-exec"}}]},
        {"id": "t-data", "name": "Data", "description": "Warehouse and pipelines",
         "members": [{"user": {"id": f"u-{n}", "username": f"{n}@acme.example.com"}, "role": "user"}
                     for n in ("grace", "heidi", "alice")],
         "routingRules": [{"id": "rr4", "name": "Default", "order": 0, "isDefault": True,
                           "notify": {"type": "escalation", "id": "e-data"}}]},
    ]
    # Handoffs at 09:00 local; Berlin is UTC+1 in winter (+2 in summer), London UTC+0 (+1).
    schedules = [
        {"id": "s-platform", "name": "Platform weekly", "description": "primary",
         "timezone": "Europe/Berlin", "enabled": True,
         "ownerTeam": {"id": "t-platform", "name": "Platform"},
         "rotations": [_rotation("weekly", "weekly", 1, anchor + timedelta(hours=8),
                                 ["alice", "bob", "carol"])], "overrides": []},
        {"id": "s-nights", "name": "Platform nights", "description": "",
         "timezone": "America/New_York", "enabled": True,
         "ownerTeam": {"id": "t-platform", "name": "Platform"},
         "rotations": [_rotation("nights", "daily", 1, anchor + timedelta(hours=14),
                                 ["bob", "carol"], {"type": "time-of-day", "restriction": {
                                     "startHour": 22, "startMin": 0, "endHour": 6,
                                     "endMin": 0}})], "overrides": []},
        {"id": "s-payments", "name": "Payments business hours", "description": "",
         "timezone": "Europe/London", "enabled": True,
         "ownerTeam": {"id": "t-payments", "name": "Payments"},
         "rotations": [
             _rotation("weekdays", "weekly", 1, anchor + timedelta(hours=9), ["dave", "erin"],
                       {"type": "weekday-and-time-of-day",
                        "restrictions": [_span("monday", 9, "friday", 17)]}),
             _rotation("weekend", "weekly", 1, anchor + timedelta(hours=9), ["frank", "dave"],
                       {"type": "weekday-and-time-of-day",
                        "restrictions": [_span("friday", 17, "monday", 9)]})],
         "overrides": []},
        {"id": "s-secondary", "name": "Payments secondary", "description": "",
         "timezone": "Asia/Kolkata", "enabled": True,
         "ownerTeam": {"id": "t-payments", "name": "Payments"},
         "rotations": [_rotation("late", "daily", 2, anchor - timedelta(hours=5, minutes=30),
                                 ["frank", "dave", "erin"],
                                 {"type": "weekday-and-time-of-day",
                                  "restrictions": [_span("sunday", 22, "monday", 2),
                                                   _span("wednesday", 20, "thursday", 4)]})],
         "overrides": []},
        {"id": "s-data", "name": "Data hourly", "description": "", "timezone": "UTC",
         "enabled": True, "ownerTeam": {"id": "t-data", "name": "Data"},
         "rotations": [_rotation("halfdays", "hourly", 12, anchor, ["grace", "heidi"])],
         "overrides": [{"alias": "ov-1", "user": _ref("alice"),
                        "startDate": iso(anchor + timedelta(days=16, hours=3)),
                        "endDate": iso(anchor + timedelta(days=17, hours=3)),
                        "rotations": []}]},
    ]
    escalations = [
        {"id": "e-platform", "name": "Platform escalation", "description": "",
         "ownerTeam": {"id": "t-platform", "name": "Platform"},
         "rules": [_rule(0, "schedule", "s-platform"), _rule(5, "schedule", "s-nights", "next"),
                   _rule(15, "team", "t-platform", "users")],
         "repeat": {"waitInterval": 10, "count": 2, "resetRecipientStates": False,
                    "closeAlertAfterAll": False}},
        {"id": "e-payments", "name": "Payments escalation", "description": "money",
         "ownerTeam": {"id": "t-payments", "name": "Payments"},
         "rules": [_rule(0, "schedule", "s-payments"), _rule(0, "schedule", "s-secondary"),
                   _rule(10, "user", "u-dave"), _rule(30, "team", "t-payments", "random")]},
        {"id": "e-data", "name": "Data escalation", "description": "",
         "ownerTeam": {"id": "t-data", "name": "Data"},
         "rules": [_rule(0, "schedule", "s-data"), _rule(20, "team", "t-data")]},
        {"id": "e-exec", "name": "Exec escalation", "description": "",
         "rules": [_rule(0, "user", "u-alice"), _rule(60, "user", "u-dave")]},
    ]
    services = [{"id": f"svc-{n.lower()}", "name": n, "teamId": team, "description": "",
                 "tags": []}
                for n, team in [("API", "t-platform"), ("Checkout", "t-payments"),
                                ("Warehouse", "t-data"), ("Ledger", "t-payments")]]
    integrations = [
        {"id": "i-prom", "name": "Prometheus Platform", "type": "Prometheus", "enabled": True,
         "teamId": "t-platform", "version": "v1"},
        {"id": "i-api", "name": "Payments API", "type": "API", "enabled": True,
         "teamId": "t-payments", "version": "v1"},
        {"id": "i-dd", "name": "Datadog", "type": "Datadog", "enabled": True,
         "teamId": "t-data", "version": "v1"},
    ]
    maintenance = [{"id": "m-1", "status": "planned", "description": "Payments DB upgrade",
                    "time": {"type": "schedule",
                             "startDate": iso(anchor + timedelta(days=18)),
                             "endDate": iso(anchor + timedelta(days=18, hours=2))},
                    "rules": [{"state": "disabled",
                               "entity": {"id": "i-api", "type": "integration"}}]}]
    return Account(key=key, users=users, teams=teams, schedules=schedules,
                   escalations=escalations, services=services, integrations=integrations,
                   maintenance=maintenance)
