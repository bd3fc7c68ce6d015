"""What a configuration file must satisfy, and how it differs from the server. Pure: both
sides come in as plain dicts per section (`ConfigFile.model_dump(mode="json")`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

Sections = dict[str, list[dict[str, Any]]]

# The order objects are written in; deletions go the other way.
ORDER = ("users", "teams", "schedules", "policies", "services", "integrations", "heartbeats",
         "routing_rules", "classification")


SINGULAR = {"users": "user", "teams": "team", "schedules": "schedule", "policies": "policy",
            "services": "service", "integrations": "integration", "heartbeats": "heartbeat",
            "routing_rules": "routing rule", "classification": "classification"}


def identity(section: str, obj: dict[str, Any]) -> str:
    if section == "users":
        return str(obj["email"]).lower()
    if section == "integrations":
        return f"{obj['service']}/{obj['name']}"
    if section == "classification":
        return str(obj["scope"])
    return str(obj["name"])


def label(section: str, name: str) -> str:
    return f"{section}[{name}]"


def admin_problems(desired: Sections, server: Sections, *, prune: bool,
                   acting: str | None = None) -> list[str]:
    """Refusals about admins: the result must keep at least one active admin (when the
    server has one), and must not deactivate `acting` (the email of whoever runs this).
    Users the file does not name are deactivated only with `prune`."""
    after = {identity("users", u): u for u in server["users"]}
    admins_before = {e for e, u in after.items() if u["active"] and u["role"] == "admin"}
    active_before = {e for e, u in after.items() if u["active"]}
    after.update({identity("users", u): u for u in desired["users"]})
    if prune:
        named = {identity("users", u) for u in desired["users"]}
        after = {e: u if e in named else {**u, "active": False} for e, u in after.items()}
    admins = {e for e, u in after.items() if u["active"] and u["role"] == "admin"}
    out: list[str] = []
    if admins_before and not admins:
        lost = ", ".join(sorted(admins_before))
        out.append(f"users: this would leave no active admin (it deactivates or demotes {lost});"
                   " keep at least one active admin in the file")
    me = acting.lower() if acting else None
    if me is not None and me in active_before and not after[me]["active"]:
        out.append(f"users[{me}]: this would deactivate {me}, who is running this apply; "
                   "name them in the file" + (" (--prune deactivates everyone it does not name)"
                                               if prune else ""))
    return out


# (field path, section referred to, name) for every reference an object makes.
def references(section: str, obj: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    if section == "teams":
        # Members and dependencies are sets (sorted when read): named by value, not place.
        for m in obj.get("members", []):
            yield "members", "users", m
    elif section == "schedules":
        if obj.get("team"):
            yield "team", "teams", obj["team"]
        for i, layer in enumerate(obj.get("layers", [])):
            for j, p in enumerate(layer.get("participants", [])):
                yield f"layers[{i}].participants[{j}]", "users", p
    elif section == "policies":
        for i, level in enumerate(obj.get("levels", [])):
            for j, t in enumerate(level.get("targets", [])):
                yield (f"levels[{i}].targets[{j}]", {"user": "users", "team": "teams",
                                                     "schedule": "schedules"}[t["kind"]],
                       t["name"])
    elif section == "services":
        if obj.get("owner_team"):
            yield "owner_team", "teams", obj["owner_team"]
        for d in obj.get("depends_on", []):
            yield "depends_on", "services", d
        for sev, pol in obj.get("policies", {}).items():
            yield f"policies.{sev}", "policies", pol
    elif section in ("integrations", "heartbeats"):
        yield "service", "services", obj["service"]
    elif section == "routing_rules":
        actions = obj.get("actions") or {}
        if actions.get("service"):
            yield "actions.service", "services", actions["service"]
        if actions.get("team"):
            yield "actions.team", "teams", actions["team"]
    elif section == "classification":
        kind, _, name = str(obj["scope"]).partition(":")
        if kind in ("team", "service"):
            yield "scope", f"{kind}s", name


def problems(desired: Sections, server: Sections, *, prune: bool) -> list[str]:
    """Duplicate names, references to nothing, dependency cycles: each names the object and
    the field. A reference may name an object on the server unless `prune` removes it."""
    out: list[str] = []
    known: dict[str, set[str]] = {}
    for section in ORDER:
        seen: set[str] = set()
        for obj in desired.get(section, []):
            name = identity(section, obj)
            key = name.lower() if section == "users" else name
            if key in seen:
                out.append(f"{label(section, name)}: duplicate "
                           f"{'email' if section == 'users' else 'name'} '{name}'")
            seen.add(key)
        known[section] = {identity(section, o) for o in desired.get(section, [])}
        if not prune:
            known[section] |= {identity(section, o) for o in server.get(section, [])}
    for section in ORDER:
        for obj in desired.get(section, []):
            for path, target, name in references(section, obj):
                wanted = name.lower() if target == "users" else name
                if wanted not in known[target]:
                    out.append(f"{label(section, identity(section, obj))}.{path}: no "
                               f"{SINGULAR[target]} '{name}'"
                               + ("" if prune else " in the file or on the server"))
    cycle = _cycle(desired, server, prune=prune)
    if cycle:
        out.append(f"services[{cycle[0]}].depends_on: dependency cycle "
                   + " → ".join(cycle))
    return out


def _cycle(desired: Sections, server: Sections, *, prune: bool) -> list[str]:
    edges: dict[str, list[str]] = {}
    if not prune:
        edges = {s["name"]: list(s.get("depends_on", [])) for s in server.get("services", [])}
    edges.update({s["name"]: list(s.get("depends_on", [])) for s in desired.get("services", [])})
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


@dataclass(frozen=True)
class Change:
    verb: str  # create | update | delete | keep (on the server, not in the file, no --prune)
    section: str
    name: str
    fields: tuple[str, ...] = field(default=())

    def line(self) -> str:
        sign = {"create": "+", "update": "~", "delete": "-", "keep": " "}[self.verb]
        head = f"{sign} {SINGULAR.get(self.section, self.section)} {self.name}"
        if self.verb == "keep":
            head += "  (not in the file; kept — `--prune` deletes it)"
        return "\n".join([head, *(f"    {f}" for f in self.fields)])


def _fields(old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    return tuple(f"{k}: {_short(old.get(k))} → {_short(new.get(k))}"
                 for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def diff(server: Sections, desired: Sections, *, prune: bool) -> list[Change]:
    out: list[Change] = []
    for section in ORDER:
        have = {identity(section, o): o for o in server.get(section, [])}
        want = {identity(section, o): o for o in desired.get(section, [])}
        for name, obj in want.items():
            if name not in have:
                out.append(Change("create", section, name))
            elif have[name] != obj:
                out.append(Change("update", section, name, _fields(have[name], obj)))
        for name in have:
            if name not in want:
                out.append(Change("delete" if prune else "keep", section, name))
    return out
