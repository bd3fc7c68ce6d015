"""A PagerDuty account in REST API v2 shapes: 3 teams, 5 schedules (daily and weekly
restrictions, one past midnight and one past the end of the week, zones with summer time,
an override), 4 escalation policies (to schedules and users, a round robin, loops)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.importers.pagerduty_standin import Account, iso

NAMES = ["ana", "bo", "cy", "di", "ed", "fay"]


def _user(name: str, i: int) -> dict[str, Any]:
    email = f"{name}@pd.example.com"
    methods = [{"id": f"cm-{name}", "type": "email_contact_method", "address": email}]
    if i == 0:
        methods.append({"id": "cm-ana-phone", "type": "phone_contact_method",
                        "address": "4155550100", "country_code": 1})
    return {"id": f"P{name.upper()}", "type": "user", "name": name.title(), "email": email,
            "time_zone": "America/Los_Angeles", "role": "admin" if i == 0 else "user",
            "contact_methods": methods,
            "notification_rules": [{"id": f"nr-{name}", "urgency": "high",
                                    "start_delay_in_minutes": 0,
                                    "contact_method": {"id": f"cm-{name}",
                                                       "type": "email_contact_method"}}]}


def _ref(name: str) -> dict[str, Any]:
    return {"user": {"id": f"P{name.upper()}", "type": "user_reference"}}


def _layer(lid: str, start: datetime, turn: int, people: list[str],
           restrictions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"id": lid, "name": lid, "start": iso(start), "end": None,
            "rotation_virtual_start": iso(start), "rotation_turn_length_seconds": turn,
            "users": [_ref(p) for p in people], "restrictions": restrictions or []}


def build(token: str, anchor: datetime) -> Account:
    day, week = 86400, 604800
    teams = [{"id": f"T{n}", "name": n, "description": "", "type": "team",
              "members": [{"user": {"id": f"P{m.upper()}", "type": "user_reference"},
                           "role": "responder"} for m in members]}
             for n, members in [("Web", ["ana", "bo"]), ("Core", ["cy", "di"]),
                                ("Edge", ["ed", "fay", "ana"])]]
    schedules = [
        {"id": "SWEB", "name": "Web primary", "time_zone": "Europe/Paris",
         "teams": [{"id": "TWeb"}], "overrides": [],
         "schedule_layers": [_layer("week", anchor + timedelta(hours=8), week, ["ana", "bo"])]},
        {"id": "SCORE", "name": "Core nights", "time_zone": "Europe/London",
         "teams": [{"id": "TCore"}], "overrides": [],
         "schedule_layers": [_layer("nights", anchor + timedelta(hours=19), day, ["cy", "di"], [
             {"type": "daily_restriction", "start_time_of_day": "19:00:00",
              "duration_seconds": 13 * 3600}])]},
        {"id": "SEDGE", "name": "Edge weekend", "time_zone": "UTC", "teams": [{"id": "TEdge"}],
         "overrides": [],
         # Listed highest priority first: the weekend layer wins over the base layer.
         "schedule_layers": [
             _layer("weekend", anchor, week, ["fay", "ed"], [
                 {"type": "weekly_restriction", "start_day_of_week": 6,
                  "start_time_of_day": "18:00:00", "duration_seconds": 2 * day + 6 * 3600}]),
             _layer("base", anchor, day, ["ed", "ana"])]},
        {"id": "SHALF", "name": "Core halves", "time_zone": "UTC", "teams": [{"id": "TCore"}],
         "overrides": [{"id": "OV1", "user": {"id": "PANA", "type": "user_reference"},
                        "start": iso(anchor + timedelta(days=15)),
                        "end": iso(anchor + timedelta(days=16))}],
         "schedule_layers": [_layer("halves", anchor, 12 * 3600, ["cy", "di"])]},
        {"id": "SSUN", "name": "Sunday late", "time_zone": "America/New_York", "teams": [],
         "overrides": [],
         "schedule_layers": [_layer("late", anchor + timedelta(hours=5), 2 * day, ["bo", "cy"], [
             {"type": "weekly_restriction", "start_day_of_week": 7,
              "start_time_of_day": "22:00:00", "duration_seconds": 5 * 3600}])]},
    ]

    def rule(delay: int, *targets: tuple[str, str], rr: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"escalation_delay_in_minutes": delay,
                               "targets": [{"id": i, "type": f"{k}_reference"}
                                           for k, i in targets]}
        if rr:
            out["escalation_rule_assignment_strategy"] = {"type": "round_robin"}
        return out

    policies = [
        {"id": "EWEB", "name": "Web policy", "num_loops": 2, "teams": [{"id": "TWeb"}],
         "escalation_rules": [rule(5, ("schedule", "SWEB")), rule(10, ("user", "PBO"))]},
        {"id": "ECORE", "name": "Core policy", "num_loops": 0, "teams": [{"id": "TCore"}],
         "escalation_rules": [rule(15, ("schedule", "SCORE"), ("schedule", "SHALF"))]},
        {"id": "EEDGE", "name": "Edge policy", "num_loops": 1,
         "escalation_rules": [rule(5, ("schedule", "SEDGE")),
                              rule(10, ("user", "PED"), ("user", "PFAY"), rr=True)]},
        {"id": "ESUN", "name": "Sunday policy", "num_loops": 0,
         "escalation_rules": [rule(30, ("schedule", "SSUN"))]},
    ]
    services = [
        {"id": "SVWEB", "name": "Website", "status": "active", "teams": [{"id": "TWeb"}],
         "escalation_policy": {"id": "EWEB", "type": "escalation_policy_reference"},
         "integrations": [{"id": "IEV2", "type": "events_api_v2_inbound_integration",
                           "name": "Events v2"},
                          {"id": "IMAIL", "type": "generic_email_inbound_integration",
                           "name": "Email"}]},
        {"id": "SVCORE", "name": "Core API", "status": "active", "teams": [{"id": "TCore"}],
         "escalation_policy": {"id": "ECORE", "type": "escalation_policy_reference"},
         "integrations": []},
        {"id": "SVEDGE", "name": "CDN", "status": "active", "teams": [{"id": "TEdge"}],
         "escalation_policy": {"id": "EEDGE", "type": "escalation_policy_reference"},
         "integrations": []},
    ]
    windows = [{"id": "MW1", "description": "CDN migration",
                "start_time": iso(anchor + timedelta(days=17)),
                "end_time": iso(anchor + timedelta(days=17, hours=3)),
                "services": [{"id": "SVEDGE", "type": "service_reference"}]}]
    return Account(token=token, users=[_user(n, i) for i, n in enumerate(NAMES)], teams=teams,
                   schedules=schedules, policies=policies, services=services, windows=windows)
