"""Opsgenie's documented REST shapes → an import plan. Pure: the fetched JSON in, a `Plan`
out, with a note wherever Opsgenie means something Tocsin says differently."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.importers import plan as p

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ROLES = {"owner": "admin", "admin": "admin", "user": "responder", "observer": "viewer",
         "stakeholder": "viewer"}
UNITS = {"hourly": "hours", "daily": "days", "weekly": "weeks"}
MINUTES = {"minutes": 1, "hours": 60, "days": 1440}
KINDS = {"api": "opsgenie", "prometheus": "alertmanager", "alertmanager": "alertmanager",
         "grafana": "grafana"}


def parse_time(raw: str) -> datetime:
    return datetime.fromisoformat(raw.replace("Z", "+00:00"))


def to_plan(raw: dict[str, Any]) -> p.Plan:
    out = p.Plan(source="opsgenie")
    out.users = [_user(u, out) for u in raw.get("users", [])]
    out.teams = [_team(t) for t in raw.get("teams", [])]
    out.schedules = [_schedule(s, out) for s in raw.get("schedules", [])]
    out.policies = [_policy(e, out) for e in raw.get("escalations", [])]
    out.services = [_service(s, raw.get("teams", []), out) for s in raw.get("services", [])]
    by_team: dict[str, str] = {}
    for s in reversed(out.services):
        if s.team:
            by_team[s.team] = s.ext_id
    out.integrations = [i for i in (_integration(x, by_team, out)
                                    for x in raw.get("integrations", [])) if i is not None]
    service_of = {i.ext_id: i.service for i in out.integrations}
    out.maintenance = [m for x in raw.get("maintenance", [])
                       for m in _maintenance(x, service_of, out)]
    return out


# ---- users and teams ---------------------------------------------------------------------------

def _user(u: dict[str, Any], out: p.Plan) -> p.User:
    who = f"user {u['username']}"
    role_name = str((u.get("role") or {}).get("name", "User"))
    role = ROLES.get(role_name.lower())
    if role is None:
        out.note(who, f"custom role '{role_name}'", "imported as responder")
        role = "responder"
    emails: list[str] = []
    for c in u.get("contacts", []):
        address = str(c.get("to", ""))
        if c.get("method") == "email":
            emails.append(address.lower())
        else:
            out.note(who, f"{c.get('method')} contact {address}",
                     "not imported: Tocsin sends SMS, voice and push through your own "
                     "provider (an Apprise URL); add it under the user's contact methods")
    rules = _rules(u, out)
    return p.User(ext_id=str(u["id"]), email=str(u["username"]).lower(),
                  name=str(u.get("fullName") or u["username"]),
                  time_zone=str(u.get("timeZone") or "UTC"), role=role,
                  emails=tuple(emails), rules=rules)


def _rules(u: dict[str, Any], out: p.Plan) -> tuple[tuple[int, str], ...]:
    """The user's 'new alert' rule steps that page by email; others are noted."""
    steps: list[tuple[int, str]] = []
    for rule in u.get("notificationRules", []):
        if rule.get("actionType") != "create-alert" or not rule.get("enabled", True):
            out.note(f"user {u['username']}", f"notification rule '{rule.get('name')}' "
                     f"({rule.get('actionType')})", "not imported: Tocsin's rules cover "
                     "new pages only")
            continue
        for step in rule.get("steps", []):
            contact = step.get("contact") or {}
            after = step.get("sendAfter") or {}
            delay = int(after.get("timeAmount", 0)) * MINUTES.get(
                str(after.get("timeUnit", "minutes")), 1)
            if contact.get("method") == "email":
                steps.append((delay, str(contact.get("to", "")).lower()))
            else:
                out.note(f"user {u['username']}", f"rule step by {contact.get('method')}",
                         "not imported (no such contact method imported)")
    return tuple(sorted(set(steps)))


def _team(t: dict[str, Any]) -> p.Team:
    members = tuple(str(m["user"]["id"]) for m in t.get("members", []) if m.get("user"))
    return p.Team(ext_id=str(t["id"]), name=str(t["name"]),
                  description=str(t.get("description") or ""), members=members)


# ---- schedules --------------------------------------------------------------------------------

def _schedule(s: dict[str, Any], out: p.Plan) -> p.Schedule:
    who = f"schedule '{s['name']}'"
    tz = ZoneInfo(str(s.get("timezone") or "UTC"))
    rotations = s.get("rotations", [])
    if len(rotations) > 1:
        out.note(who, "several rotations: Opsgenie pages everyone on call in any rotation",
                 "each rotation became a layer; where layers overlap Tocsin pages the later "
                 "rotation's person only (the 14-day comparison lists any such hour)")
    layers = [layer for r in rotations
              if (layer := _layer(r, tz, f"{who} rotation '{r.get('name')}'", out))]
    team = (s.get("ownerTeam") or {}).get("id")
    if not s.get("enabled", True):
        out.note(who, "disabled in Opsgenie", "imported; it pages only if a policy uses it")
    overrides = []
    for o in s.get("overrides", []):
        user = o.get("user") or {}
        if user.get("type", "user") != "user":
            out.note(who, f"override '{o.get('alias')}' for a {user.get('type')}",
                     "not imported: Tocsin overrides name a person")
            continue
        if o.get("rotations"):
            out.note(who, f"override '{o.get('alias')}' limited to some rotations",
                     "imported for the whole schedule")
        overrides.append(p.Override(ext_id=str(o["alias"]), user=str(user["id"]),
                                    start=parse_time(o["startDate"]),
                                    end=parse_time(o["endDate"])))
    return p.Schedule(ext_id=str(s["id"]), name=str(s["name"]),
                      description=str(s.get("description") or ""),
                      time_zone=str(s.get("timezone") or "UTC"),
                      team=str(team) if team else None, layers=tuple(layers),
                      overrides=tuple(overrides))


def _layer(r: dict[str, Any], tz: ZoneInfo, who: str, out: p.Plan) -> p.Layer | None:
    people = []
    for x in r.get("participants", []):
        if x.get("type") == "user":
            people.append(str(x["id"]))
        else:
            out.note(who, f"a participant of type '{x.get('type')}'",
                     "left out of the rotation (Tocsin rotates people)")
    if not people:
        out.note(who, "no person in the rotation", "not imported")
        return None
    if r.get("endDate"):
        out.note(who, f"ends at {r['endDate']}", "imported without an end; remove the layer "
                 "in Tocsin when it ends")
    start = parse_time(r["startDate"]).astimezone(tz).replace(tzinfo=None)
    return p.Layer(name=str(r.get("name") or r["id"]), participants=tuple(people),
                   unit=UNITS[str(r.get("type", "weekly"))], length=int(r.get("length", 1)),
                   start=start, restrictions=restrictions(r.get("timeRestriction")))


def restrictions(raw: dict[str, Any] | None) -> tuple[p.Window, ...]:
    """Opsgenie's time restrictions as Tocsin's weekday windows. A 'time-of-day' restriction
    is the same window every day; each 'weekday-and-time-of-day' restriction is one span of
    the week, cut at midnights into a first partial day, whole days and a last partial day."""
    if not raw:
        return ()
    if raw.get("type") == "time-of-day":
        r = raw["restriction"]
        return (p.Window(tuple(range(7)), time(r["startHour"], r["startMin"]),
                         time(r["endHour"], r["endMin"])),)
    out: list[p.Window] = []
    for r in raw.get("restrictions", []):
        start = DAYS.index(r["startDay"]) * 1440 + r["startHour"] * 60 + r["startMin"]
        end = DAYS.index(r["endDay"]) * 1440 + r["endHour"] * 60 + r["endMin"]
        if end <= start:
            end += p.WEEK
        out.extend(p.week_windows(start, end))
    return tuple(out)


# ---- policies, services, integrations, maintenance -----------------------------------------

def _policy(e: dict[str, Any], out: p.Plan) -> p.Policy:
    who = f"escalation '{e['name']}'"
    by_delay: dict[int, list[p.Target]] = {}
    for rule in e.get("rules", []):
        delay = rule.get("delay") or {}
        minutes = int(delay.get("timeAmount", 0)) * MINUTES.get(
            str(delay.get("timeUnit", "minutes")), 1)
        if rule.get("condition", "if-not-acked") != "if-not-acked":
            out.note(who, f"rule at {minutes} min fires '{rule.get('condition')}'",
                     "imported as 'until acknowledged' (Tocsin stops paging on acknowledge)")
        target = _target(rule, who, minutes, out)
        if target is not None:
            by_delay.setdefault(minutes, []).append(target)
    times = sorted(by_delay)
    repeat = e.get("repeat") or {}
    count = int(repeat.get("count", 0) or 0)
    if count > 20:
        out.note(who, f"repeats {count} times", "repeats 20 times (Tocsin's most)")
        count = 20
    wait = int(repeat.get("waitInterval", 0) or 0)
    if repeat.get("closeAlertAfterAll"):
        out.note(who, "closes the alert after all repeats", "the incident stays open")
    levels = []
    for i, at in enumerate(times):
        # Opsgenie counts each rule's delay from the alert; Tocsin counts each level's delay
        # to the next level, and the last level's delay before a repeat.
        gap = times[i + 1] - at if i + 1 < len(times) else (wait if count else 0)
        levels.append(p.Level(delay_minutes=gap, targets=tuple(by_delay[at])))
    if count and not any(lv.delay_minutes for lv in levels):
        out.note(who, "repeats with no wait", "waits 1 minute before each repeat")
        levels[-1] = p.Level(1, levels[-1].targets)
    return p.Policy(ext_id=str(e["id"]), name=str(e["name"]),
                    description=str(e.get("description") or ""), repeat=count,
                    levels=tuple(levels))


def _target(rule: dict[str, Any], who: str, minutes: int, out: p.Plan) -> p.Target | None:
    recipient = rule.get("recipient") or {}
    kind, notify = str(recipient.get("type")), str(rule.get("notifyType", "default"))
    rid = str(recipient.get("id", ""))
    if kind == "user":
        return p.Target("user", rid)
    if kind == "schedule":
        if notify in ("next", "previous"):
            out.note(who, f"rule at {minutes} min pages the {notify} on-call of a schedule",
                     "pages the current on-call")
        return p.Target("schedule", rid)
    if kind == "team":
        if notify == "random":
            out.note(who, f"rule at {minutes} min pages a random team member",
                     "pages one member in turn (round robin)")
            return p.Target("team", rid, "round_robin")
        if notify == "admins":
            out.note(who, f"rule at {minutes} min pages the team's admins",
                     "pages every member of the team")
        elif notify == "default":
            out.note(who, f"rule at {minutes} min hands over to the team's own routing",
                     "pages every member of the team")
        return p.Target("team", rid)
    out.note(who, f"rule at {minutes} min pages a {kind}", "left out")
    return None


def _service(s: dict[str, Any], teams: list[dict[str, Any]], out: p.Plan) -> p.Service:
    team_id = s.get("teamId")
    policy = None
    team = next((t for t in teams if t["id"] == team_id), None)
    if team is not None:
        rules = sorted(team.get("routingRules", []), key=lambda r: r.get("order", 0))
        default = next((r for r in rules if r.get("isDefault")), None)
        notify = (default or {}).get("notify") or {}
        if notify.get("type") == "escalation":
            policy = str(notify["id"])
        elif default is not None:
            out.note(f"service '{s['name']}'", f"its team's default route notifies a "
                     f"{notify.get('type')}", "no policy set; choose one per severity")
        if len([r for r in rules if not r.get("isDefault")]) > 0:
            out.note(f"service '{s['name']}'", "its team has conditional routing rules",
                     "the default rule's policy is used for every severity; write routing "
                     "rules in Tocsin for the rest")
    return p.Service(ext_id=str(s["id"]), name=str(s["name"]),
                     description=str(s.get("description") or ""),
                     team=str(team_id) if team_id else None, policy=policy)


def _integration(x: dict[str, Any], by_team: dict[str, str],
                 out: p.Plan) -> p.Integration | None:
    who = f"integration '{x['name']}'"
    kind = KINDS.get(str(x.get("type", "")).lower())
    if kind is None:
        out.note(who, f"type {x.get('type')}", "not imported: point that sender at a "
                 "generic webhook integration in Tocsin")
        return None
    team = x.get("teamId") or (x.get("ownerTeam") or {}).get("id")
    service = by_team.get(str(team)) if team else None
    if service is None:
        out.note(who, "belongs to no team with a service", "not imported: create it on a "
                 "service in Tocsin")
        return None
    return p.Integration(ext_id=str(x["id"]), name=str(x["name"]), kind=kind,
                         service=str(service), vendor_kind=str(x.get("type")))


def _maintenance(m: dict[str, Any], service_of: dict[str, str],
                 out: p.Plan) -> list[p.Maintenance]:
    window = m.get("time") or {}
    if m.get("status") in ("past", "cancelled") or "startDate" not in window:
        return []
    start, end = parse_time(window["startDate"]), parse_time(window["endDate"])
    name = str(m.get("description") or f"maintenance {m['id']}")
    entities = [r["entity"] for r in m.get("rules", []) if r.get("entity")]
    if any(e.get("type") != "integration" for e in entities):
        out.note(f"maintenance '{name}'", "covers policies", "covers the services of its "
                 "integrations only, or every service when none")
    services = sorted({service_of[str(e["id"])] for e in entities
                       if e.get("type") == "integration" and str(e["id"]) in service_of})
    if not services:
        return [p.Maintenance(str(m["id"]), name, start, end, None)]
    return [p.Maintenance(f"{m['id']}:{s}", name, start, end, s) for s in services]


def hours(start: datetime, days: int) -> list[datetime]:
    return [start + timedelta(hours=h) for h in range(days * 24)]
