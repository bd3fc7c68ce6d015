"""PagerDuty's documented REST API v2 shapes → an import plan. Pure."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.importers import plan as p

ROLES = {"owner": "admin", "admin": "admin", "user": "responder", "limited_user": "responder",
         "observer": "viewer", "read_only_user": "viewer", "read_only_limited_user": "viewer",
         "restricted_access": "viewer"}
KINDS = {"events_api_v2_inbound_integration": "pagerduty",
         "generic_events_api_inbound_integration": "pagerduty"}


def parse_time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def to_plan(raw: dict[str, Any]) -> p.Plan:
    out = p.Plan(source="pagerduty")
    out.users = [_user(u, out) for u in raw.get("users", [])]
    out.teams = [p.Team(ext_id=t["id"], name=t["name"], description=t.get("description") or "",
                        members=tuple(m["user"]["id"] for m in t.get("members", [])))
                 for t in raw.get("teams", [])]
    out.schedules = [_schedule(s, out) for s in raw.get("schedules", [])]
    out.policies = [_policy(e, out) for e in raw.get("escalation_policies", [])]
    for s in raw.get("services", []):
        team = (s.get("teams") or [{}])[0].get("id")
        out.services.append(p.Service(ext_id=s["id"], name=s["name"],
                                      description=s.get("description") or "", team=team,
                                      policy=(s.get("escalation_policy") or {}).get("id")))
        for i in s.get("integrations", []):
            kind = KINDS.get(str(i.get("type")))
            if kind is None:
                out.note(f"integration '{i.get('name') or i.get('summary')}'",
                         f"type {i.get('type')}", "not imported: point that sender at a "
                         "Tocsin integration of its kind (Alertmanager, Grafana, generic)")
                continue
            out.integrations.append(p.Integration(
                ext_id=i["id"], name=str(i.get("name") or i.get("summary")), kind=kind,
                service=s["id"], vendor_kind=str(i["type"])))
        if s.get("status") == "disabled":
            out.note(f"service '{s['name']}'", "disabled in PagerDuty", "imported enabled")
    for m in raw.get("maintenance_windows", []):
        start, end = parse_time(m["start_time"]), parse_time(m["end_time"])
        name = str(m.get("description") or f"maintenance {m['id']}")
        services = [x["id"] for x in m.get("services", [])] or [None]
        out.maintenance += [p.Maintenance(f"{m['id']}:{x}", name, start, end, x)
                            for x in services]
    return out


def _user(u: dict[str, Any], out: p.Plan) -> p.User:
    who = f"user {u['email']}"
    role = ROLES.get(str(u.get("role")))
    if role is None:
        out.note(who, f"role '{u.get('role')}'", "imported as responder")
        role = "responder"
    emails, by_id = [], {}
    for c in u.get("contact_methods", []):
        if c.get("type") == "email_contact_method":
            emails.append(str(c["address"]).lower())
            by_id[c["id"]] = str(c["address"]).lower()
        else:
            out.note(who, f"{str(c.get('type')).replace('_contact_method', '')} contact "
                     f"{c.get('address')}", "not imported: Tocsin sends SMS, phone and push "
                     "through your own provider (an Apprise URL)")
    rules = []
    for r in u.get("notification_rules", []):
        address = by_id.get((r.get("contact_method") or {}).get("id"))
        if address is None:
            continue
        if r.get("urgency") != "high":
            out.note(who, "a low-urgency notification rule",
                     "used for both urgencies, as the high-urgency rules are")
            continue
        rules.append((int(r.get("start_delay_in_minutes", 0)), address))
    return p.User(ext_id=u["id"], email=str(u["email"]).lower(), name=str(u["name"]),
                  time_zone=str(u.get("time_zone") or "UTC"), role=role,
                  emails=tuple(emails), rules=tuple(sorted(set(rules))))


def _unit(seconds: int) -> tuple[str, int] | None:
    for unit, size in (("weeks", 604800), ("days", 86400), ("hours", 3600)):
        if seconds % size == 0:
            return unit, seconds // size
    return None


def _schedule(s: dict[str, Any], out: p.Plan) -> p.Schedule:
    who = f"schedule '{s['name']}'"
    tz = ZoneInfo(str(s.get("time_zone") or "UTC"))
    layers = []
    # PagerDuty lists layers highest priority first; Tocsin stores them lowest first.
    for layer in reversed(s.get("schedule_layers", [])):
        where = f"{who} layer '{layer.get('name')}'"
        unit = _unit(int(layer["rotation_turn_length_seconds"]))
        if unit is None:
            out.note(where, f"turns of {layer['rotation_turn_length_seconds']} s",
                     "not imported: Tocsin turns are whole hours")
            continue
        if layer.get("end"):
            out.note(where, f"ends at {layer['end']}", "imported without an end")
        start = parse_time(layer["rotation_virtual_start"]).astimezone(tz).replace(tzinfo=None)
        if parse_time(layer["start"]) > parse_time(layer["rotation_virtual_start"]):
            out.note(where, "starts later than its rotation is aligned",
                     "on call from the alignment time")
        layers.append(p.Layer(
            name=str(layer.get("name") or layer["id"]),
            participants=tuple(x["user"]["id"] for x in layer.get("users", [])),
            unit=unit[0], length=unit[1], start=start,
            restrictions=tuple(w for r in layer.get("restrictions", [])
                               for w in _restriction(r))))
    team = (s.get("teams") or [{}])[0].get("id")
    return p.Schedule(ext_id=s["id"], name=s["name"], description=s.get("description") or "",
                      time_zone=str(s.get("time_zone") or "UTC"), team=team,
                      layers=tuple(layers), overrides=tuple(
                          p.Override(ext_id=o["id"], user=o["user"]["id"],
                                     start=parse_time(o["start"]), end=parse_time(o["end"]))
                          for o in s.get("overrides", [])))


def _restriction(r: dict[str, Any]) -> list[p.Window]:
    hh, mm, *_ = (int(x) for x in str(r["start_time_of_day"]).split(":"))
    minutes = int(r["duration_seconds"]) // 60
    if r["type"] == "daily_restriction":
        if minutes >= 1440:
            return []
        end = hh * 60 + mm + minutes
        return [p.Window(tuple(range(7)), time(hh, mm), time((end // 60) % 24, end % 60))]
    start = (int(r["start_day_of_week"]) - 1) * 1440 + hh * 60 + mm  # 1 = Monday
    return p.week_windows(start, start + minutes)


def _policy(e: dict[str, Any], out: p.Plan) -> p.Policy:
    who = f"escalation policy '{e['name']}'"
    levels = []
    for i, rule in enumerate(e.get("escalation_rules", []), start=1):
        strategy = (rule.get("escalation_rule_assignment_strategy") or {}).get("type")
        targets = []
        for t in rule.get("targets", []):
            kind = {"user_reference": "user", "user": "user",
                    "schedule_reference": "schedule", "schedule": "schedule"}.get(t["type"])
            if kind is None:
                out.note(who, f"level {i} targets a {t['type']}", "left out")
                continue
            targets.append(p.Target(kind, t["id"]))
        if strategy == "round_robin":
            out.note(who, f"level {i} assigns round robin among its targets",
                     "pages all its targets (Tocsin's round robin is per team)")
        levels.append(p.Level(int(rule.get("escalation_delay_in_minutes", 0)), tuple(targets)))
    loops = int(e.get("num_loops") or 0)
    return p.Policy(ext_id=e["id"], name=e["name"], description=e.get("description") or "",
                    repeat=min(loops, 20), levels=tuple(levels))
