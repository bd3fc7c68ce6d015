"""Export the configuration as one file, show how a file differs from the server, and apply
a file in one transaction, through each feature's own operations.

Adding a section (status pages, runbooks, …): a `…Doc` model and a field on `ConfigFile`
(schemas.py), its name in `rules.ORDER` and its references in `rules.references`, then an
`_export_…` and an `_apply_…` here, listed in EXPORTS and APPLIERS. docs/config-as-code.md
walks through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.models import Team, TeamMember, User
from tocsin.accounts.schemas import TeamCreate, TeamUpdate, UserCreate, UserUpdate
from tocsin.alerts import manage as alerts_manage
from tocsin.alerts.models import (
    ClassificationRuleSet,
    Integration,
    IntegrationKind,
    RoutingRule,
)
from tocsin.alerts.schemas import (
    Condition,
    IntegrationCreate,
    IntegrationUpdate,
    RoutingRuleIn,
    RuleActions,
)
from tocsin.catalog import service as catalog
from tocsin.catalog.models import Service, ServiceDependency
from tocsin.catalog.schemas import ServiceCreate, ServiceUpdate
from tocsin.configcode import rules
from tocsin.configcode.models import ManagedObject
from tocsin.configcode.schemas import (
    ClassificationDoc,
    ConfigFile,
    HeartbeatDoc,
    IntegrationDoc,
    LayerDoc,
    LevelDoc,
    PolicyDoc,
    RouteActionsDoc,
    RouteDoc,
    ScheduleDoc,
    ServiceDoc,
    TargetDoc,
    TeamDoc,
    UserDoc,
)
from tocsin.db import config_cache, rows
from tocsin.errors import Invalid, TocsinError
from tocsin.escalation import service as escalation
from tocsin.escalation.models import EscalationPolicy, ServicePolicy
from tocsin.escalation.schemas import LevelIn, PolicyIn, ServicePoliciesIn, TargetIn
from tocsin.heartbeats import service as heartbeats
from tocsin.heartbeats.models import Heartbeat
from tocsin.heartbeats.schemas import HeartbeatCreate, HeartbeatUpdate
from tocsin.incidents.lifecycle import Severity
from tocsin.schedules import service as schedules
from tocsin.schedules.models import Schedule
from tocsin.schedules.schemas import LayerIn, ScheduleIn
from tocsin.settings import Settings

# Managed-object kinds, by section.
KINDS = {"users": "user", "teams": "team", "schedules": "schedule", "policies": "policy",
         "services": "service", "integrations": "integration", "heartbeats": "heartbeat",
         "routing_rules": "routing_rule"}


# ---- reading the server --------------------------------------------------------------------

@dataclass
class Names:
    """Id ↔ name of everything a reference can name."""

    users: dict[int, str] = field(default_factory=dict)  # id → email
    teams: dict[int, str] = field(default_factory=dict)
    schedules: dict[int, str] = field(default_factory=dict)
    policies: dict[int, str] = field(default_factory=dict)
    services: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> Names:
        def pairs(column: Any, name: Any) -> dict[int, str]:
            return {i: n for i, n in session.execute(select(column, name))}

        return cls(users=pairs(User.id, User.email), teams=pairs(Team.id, Team.name),
                   schedules=pairs(Schedule.id, Schedule.name),
                   policies=pairs(EscalationPolicy.id, EscalationPolicy.name),
                   services=pairs(Service.id, Service.name))

    def id_of(self, section: str, name: str) -> int:
        table: dict[int, str] = getattr(self, section)
        wanted = name.lower() if section == "users" else name
        for i, n in table.items():
            if (n.lower() if section == "users" else n) == wanted:
                return i
        raise Invalid(f"no {rules.SINGULAR[section]} '{name}'")


def export(session: Session) -> ConfigFile:
    n = Names.load(session)
    members: dict[int, list[str]] = {}
    for team_id, user_id in session.execute(select(TeamMember.team_id, TeamMember.user_id)):
        members.setdefault(team_id, []).append(n.users[user_id])
    deps: dict[int, list[str]] = {}
    for sid, dep in session.execute(select(ServiceDependency.service_id,
                                           ServiceDependency.depends_on_id)):
        deps.setdefault(sid, []).append(n.services[dep])
    chosen: dict[int, dict[Severity, str]] = {}
    for sid, sev, pid in session.execute(select(ServicePolicy.service_id, ServicePolicy.severity,
                                                ServicePolicy.policy_id)):
        chosen.setdefault(sid, {})[Severity(sev)] = n.policies[pid]
    return ConfigFile(
        users=[UserDoc(email=u.email, name=u.name, time_zone=u.time_zone, role=u.role,
                       active=u.active)
               for u in session.scalars(select(User).order_by(User.id))],
        teams=[TeamDoc(name=t.name, description=t.description, members=members.get(t.id, []))
               for t in session.scalars(select(Team).order_by(Team.id))],
        schedules=[_schedule_doc(s, n) for s in schedules.list_schedules(session)],
        policies=[_policy_doc(p, n) for p in escalation.list_policies(session)],
        services=[ServiceDoc(name=s.name, description=s.description,
                             owner_team=n.teams.get(s.owner_team_id or 0), tier=s.tier,
                             revenue=s.revenue, depends_on=deps.get(s.id, []),
                             policies=chosen.get(s.id, {}))
                  for s in session.scalars(select(Service).order_by(Service.id))],
        integrations=[IntegrationDoc(name=i.name, service=n.services[i.service_id],
                                     kind=IntegrationKind(i.kind), enabled=i.enabled,
                                     mapping=dict(i.mapping))
                      for i in alerts_manage.list_integrations(session, None)],
        heartbeats=[HeartbeatDoc(name=h.name, service=n.services[h.service_id],
                                 period_seconds=h.period_seconds, cron=h.cron,
                                 time_zone=h.time_zone, grace_seconds=h.grace_seconds)
                    for h in session.scalars(select(Heartbeat).order_by(Heartbeat.id))],
        routing_rules=[_route_doc(r, n) for r in alerts_manage.list_rules(session)],
        classification=[ClassificationDoc(scope=_scope_name(c.scope, n), rules=list(c.rules))
                        for c in session.scalars(select(ClassificationRuleSet)
                                                 .order_by(ClassificationRuleSet.scope))],
    )


def _route_doc(r: RoutingRule, n: Names) -> RouteDoc:
    a = dict(r.actions)
    return RouteDoc(name=r.name, enabled=r.enabled, conditions=list(r.conditions),
                    actions=RouteActionsDoc(
                        service=n.services.get(a["service_id"]) if "service_id" in a else None,
                        team=n.teams.get(a["team_id"]) if "team_id" in a else None,
                        severity=a.get("severity"), tags=a.get("tags"),
                        suppress=a.get("suppress")))


def _scope_name(scope: str, n: Names) -> str:
    kind, _, ident = scope.partition(":")
    if kind in ("team", "service") and ident.isdigit():
        return f"{kind}:{getattr(n, f'{kind}s').get(int(ident), ident)}"
    return scope


def _schedule_doc(s: Schedule, n: Names) -> ScheduleDoc:
    return ScheduleDoc(
        name=s.name, description=s.description, time_zone=s.time_zone,
        team=n.teams.get(s.team_id or 0),
        layers=[LayerDoc(name=x.name, participants=[n.users[u] for u in x.participants],
                         unit=x.unit, length=x.length, start=x.start,
                         restrictions=x.restrictions) for x in schedules.layers_of(s)])


def _policy_doc(p: EscalationPolicy, n: Names) -> PolicyDoc:
    levels = [LevelIn.model_validate(raw) for raw in p.levels]
    return PolicyDoc(name=p.name, description=p.description, repeat=p.repeat, levels=[
        LevelDoc(delay_minutes=lv.delay_minutes, targets=[
            TargetDoc(kind=t.kind, name=getattr(n, f"{t.kind.value}s")[t.id], mode=t.mode)
            for t in lv.targets]) for lv in levels])


# ---- reading a file ----------------------------------------------------------------------------

class ConfigInvalid(Invalid):
    """The file is refused; `problems` lists every reason, each naming object and field."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the configuration is refused:\n  " + "\n  ".join(problems),
                         extra={"problems": problems})
        self.problems = problems


def parse(raw: Any) -> ConfigFile:
    """A loaded YAML document → ConfigFile, or ConfigInvalid naming each object and field."""
    if not isinstance(raw, dict):
        raise ConfigInvalid(["the file must be a mapping with sections such as `services:`"])
    try:
        return ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigInvalid([_where(raw, e) for e in exc.errors()]) from None


def _where(raw: dict[str, Any], error: Any) -> str:
    loc = list(error["loc"])
    text = ""
    if len(loc) >= 2 and isinstance(loc[1], int) and isinstance(raw.get(loc[0]), list):
        items = raw[loc[0]]
        obj = items[loc[1]] if loc[1] < len(items) else {}
        name = (obj.get("email") or obj.get("name")) if isinstance(obj, dict) else None
        text = f"{loc[0]}[{name if name else f'#{loc[1] + 1}'}]"
        loc = loc[2:]
    rest = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in loc)
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return f"{text}{rest}: {message}".lstrip(".")


# ---- plan and apply ------------------------------------------------------------------------------

def _sections(doc: ConfigFile) -> rules.Sections:
    dumped = doc.model_dump(mode="json")
    out = {k: dumped[k] for k in rules.ORDER}
    # Routing rules run in the file's order: a move is a change.
    out["routing_rules"] = [{**r, "position": i} for i, r in enumerate(out["routing_rules"])]
    return out


def plan(session: Session, *, doc: ConfigFile, prune: bool,
         acting: str | None = None) -> list[rules.Change]:
    """The changes that make the server match `doc`. Refused whole (ConfigInvalid) on bad
    input, or when the result would leave no active admin or deactivate `acting` (the email
    of whoever runs it)."""
    server = _sections(export(session))
    desired = _sections(doc)
    problems = rules.problems(desired, server, prune=prune) \
        + rules.admin_problems(desired, server, prune=prune, acting=acting)
    if problems:
        raise ConfigInvalid(problems)
    changes = rules.diff(server, desired, prune=prune)
    # A user is never deleted, only deactivated; one already inactive is no change.
    inactive = {rules.identity("users", u) for u in server["users"] if not u["active"]}
    return [c for c in changes if not (c.section == "users" and c.verb in ("delete", "keep")
                                       and c.name in inactive)]


@dataclass
class _Apply:
    session: Session
    now: datetime
    settings: Settings
    names: Names
    want: dict[str, dict[str, Any]]  # section → identity → doc

    def refresh(self) -> None:
        self.names = Names.load(self.session)

    def id(self, section: str, name: str) -> int:
        return self.names.id_of(section, name)


def apply(session: Session, *, doc: ConfigFile, prune: bool, now: datetime,
          settings: Settings, acting: str | None = None) -> list[rules.Change]:
    """Make the server match `doc` inside the caller's transaction. A refusal names the
    object; the caller rolls back, so nothing is partly applied. `acting`: see `plan`."""
    changes = plan(session, doc=doc, prune=prune, acting=acting)
    ctx = _Apply(session, now, settings, Names.load(session), {
        section: {rules.identity(section, o.model_dump(mode="json")): o
                  for o in getattr(doc, section)}
        for section in rules.ORDER})
    ids: dict[str, list[int]] = {section: [] for section in rules.ORDER}
    for section in rules.ORDER:
        for change in (c for c in changes if c.section == section):
            if change.verb in ("create", "update"):
                try:
                    APPLIERS[section](ctx, ctx.want[section][change.name],
                                      change.verb == "create")
                except (TocsinError, ValidationError) as exc:
                    raise Invalid(f"{rules.label(section, change.name)}: {_text(exc)}") from None
                session.flush()
                ctx.refresh()
    for section in reversed(rules.ORDER):
        for change in (c for c in changes if c.section == section and c.verb == "delete"):
            DELETERS[section](ctx, change.name)
            session.flush()
            ctx.refresh()
    # Links between services once every service exists.
    for change in (c for c in changes if c.section == "services"
                   and c.verb in ("create", "update")):
        _link_service(ctx, ctx.want["services"][change.name])
    for section in rules.ORDER:
        for name in ctx.want[section]:
            ids[section].append(_local_id(ctx, section, name))
    _mark(session, ids, now)
    config_cache.touched(session)
    return changes


def _text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


def _local_id(ctx: _Apply, section: str, name: str) -> int:
    if section == "integrations":
        service, _, iname = name.partition("/")
        return _integration(ctx, service, iname).id
    if section == "heartbeats":
        return _heartbeat(ctx, name).id
    if section == "routing_rules":
        return _rule(ctx, name).id
    if section == "classification":
        return 0  # a rule set is keyed by its scope, not an id: not marked
    return ctx.id(section, name)


def _mark(session: Session, ids: dict[str, list[int]], now: datetime) -> None:
    session.execute(delete(ManagedObject))
    for section, local_ids in ids.items():
        if section not in KINDS:
            continue
        for local_id in sorted(set(local_ids)):
            rows.add_object(session, ManagedObject, kind=KINDS[section], local_id=local_id,
                            applied_at=now)


def managed(session: Session, kind: str) -> set[int]:
    """Ids of objects of `kind` that came from a configuration file."""
    return set(session.scalars(select(ManagedObject.local_id)
                               .where(ManagedObject.kind == kind)))


# ---- one applier per section ----------------------------------------------------------------------

def _apply_user(ctx: _Apply, d: UserDoc, new: bool) -> None:
    if new:
        user = accounts.create_user(ctx.session, now=ctx.now, data=UserCreate(
            name=d.name, email=d.email, time_zone=d.time_zone, role=d.role))
    else:
        user = accounts.get_user(ctx.session, ctx.id("users", d.email))
    accounts.update_user(ctx.session, user=user, data=UserUpdate(
        name=d.name, time_zone=d.time_zone, role=d.role, active=d.active))


def _apply_team(ctx: _Apply, d: TeamDoc, new: bool) -> None:
    members = [ctx.id("users", m) for m in d.members]
    if new:
        accounts.create_team(ctx.session, now=ctx.now, data=TeamCreate(
            name=d.name, description=d.description, member_ids=members))
        return
    accounts.update_team(ctx.session, team=accounts.get_team(ctx.session, ctx.id("teams", d.name)),
                         data=TeamUpdate(description=d.description, member_ids=members))


def _apply_schedule(ctx: _Apply, d: ScheduleDoc, new: bool) -> None:
    data = ScheduleIn(name=d.name, description=d.description, time_zone=d.time_zone,
                      team_id=ctx.id("teams", d.team) if d.team else None, layers=[
                          LayerIn(name=x.name, participants=[ctx.id("users", p)
                                                             for p in x.participants],
                                  unit=x.unit, length=x.length, start=x.start,
                                  restrictions=x.restrictions) for x in d.layers])
    if new:
        schedules.create_schedule(ctx.session, data=data, now=ctx.now)
    else:
        schedules.update_schedule(ctx.session, schedule=schedules.get_schedule(
            ctx.session, ctx.id("schedules", d.name)), data=data, now=ctx.now)


def _apply_policy(ctx: _Apply, d: PolicyDoc, new: bool) -> None:
    data = PolicyIn(name=d.name, description=d.description, repeat=d.repeat, levels=[
        LevelIn(delay_minutes=lv.delay_minutes, targets=[
            TargetIn(kind=t.kind, id=ctx.id(f"{t.kind.value}s", t.name), mode=t.mode)
            for t in lv.targets]) for lv in d.levels])
    if new:
        escalation.create_policy(ctx.session, data=data, now=ctx.now)
    else:
        escalation.update_policy(ctx.session, row=escalation.get_policy(
            ctx.session, ctx.id("policies", d.name)), data=data, now=ctx.now)


def _apply_service(ctx: _Apply, d: ServiceDoc, new: bool) -> None:
    team = ctx.id("teams", d.owner_team) if d.owner_team else None
    if new:
        catalog.create_service(ctx.session, now=ctx.now, data=ServiceCreate(
            name=d.name, description=d.description, owner_team_id=team, tier=d.tier,
            revenue=d.revenue))
        return
    catalog.update_service(ctx.session, service=catalog.get_service(
        ctx.session, ctx.id("services", d.name)), data=ServiceUpdate(
            description=d.description, owner_team_id=team, tier=d.tier, revenue=d.revenue))


def _link_service(ctx: _Apply, d: ServiceDoc) -> None:
    sid = ctx.id("services", d.name)
    try:
        catalog.update_service(ctx.session, service=catalog.get_service(ctx.session, sid),
                               data=ServiceUpdate(depends_on=[ctx.id("services", x)
                                                              for x in d.depends_on]))
        escalation.set_service_policies(ctx.session, service_id=sid, data=ServicePoliciesIn(
            policies={sev: ctx.id("policies", p) for sev, p in d.policies.items()}))
    except TocsinError as exc:
        raise Invalid(f"{rules.label('services', d.name)}: {exc}") from None


def _integration(ctx: _Apply, service: str, name: str) -> Integration:
    sid = ctx.id("services", service)
    found = [i for i in alerts_manage.list_integrations(ctx.session, sid) if i.name == name]
    if not found:
        raise Invalid(f"no integration '{name}' on service '{service}'")
    return found[0]


def _apply_integration(ctx: _Apply, d: IntegrationDoc, new: bool) -> None:
    if new:
        row = alerts_manage.create_integration(ctx.session, now=ctx.now, data=IntegrationCreate(
            service_id=ctx.id("services", d.service), kind=d.kind, name=d.name,
            mapping=d.mapping))
    else:
        row = _integration(ctx, d.service, d.name)
        if row.kind != d.kind.value:
            raise Invalid("kind: an integration's kind cannot change (its senders post "
                          "another format); give the new one another name")
    alerts_manage.update_integration(ctx.session, integration=row, data=IntegrationUpdate(
        enabled=d.enabled, mapping=d.mapping))


def _heartbeat(ctx: _Apply, name: str) -> Heartbeat:
    found = ctx.session.scalars(select(Heartbeat).where(Heartbeat.name == name)).first()
    if found is None:
        raise Invalid(f"no heartbeat '{name}'")
    return found


def _apply_heartbeat(ctx: _Apply, d: HeartbeatDoc, new: bool) -> None:
    sid = ctx.id("services", d.service)
    if new:
        heartbeats.create_heartbeat(ctx.session, now=ctx.now, settings=ctx.settings,
                                    data=HeartbeatCreate(
                                        name=d.name, service_id=sid,
                                        period_seconds=d.period_seconds, cron=d.cron,
                                        time_zone=d.time_zone, grace_seconds=d.grace_seconds))
        return
    heartbeats.update_heartbeat(ctx.session, hb=_heartbeat(ctx, d.name), now=ctx.now,
                                settings=ctx.settings, data=HeartbeatUpdate(
                                    service_id=sid, period_seconds=d.period_seconds,
                                    cron=d.cron, time_zone=d.time_zone,
                                    grace_seconds=d.grace_seconds))


def _rule(ctx: _Apply, name: str) -> RoutingRule:
    found = [r for r in alerts_manage.list_rules(ctx.session) if r.name == name]
    if not found:
        raise Invalid(f"no routing rule '{name}'")
    return found[0]


def _apply_route(ctx: _Apply, d: RouteDoc, new: bool) -> None:
    a = d.actions
    names = list(ctx.want["routing_rules"])
    data = RoutingRuleIn(
        name=d.name, enabled=d.enabled, position=(names.index(d.name) + 1) * 10,
        conditions=[Condition.model_validate(c) for c in d.conditions],
        actions=RuleActions(service_id=ctx.id("services", a.service) if a.service else None,
                            team_id=ctx.id("teams", a.team) if a.team else None,
                            severity=a.severity.value if a.severity else None,
                            tags=a.tags, suppress=a.suppress))
    if new:
        alerts_manage.create_rule(ctx.session, data=data, now=ctx.now)
    else:
        alerts_manage.replace_rule(ctx.session, rule=_rule(ctx, d.name), data=data)
    # Every rule of the file gets its place again, so a move is applied too.
    for i, name in enumerate(names):
        for r in alerts_manage.list_rules(ctx.session):
            if r.name == name and r.position != (i + 1) * 10:
                alerts_manage.replace_rule(ctx.session, rule=r, data=RoutingRuleIn(
                    name=r.name, enabled=r.enabled, position=(i + 1) * 10,
                    conditions=[Condition.model_validate(c) for c in r.conditions],
                    actions=RuleActions.model_validate(r.actions)))


def _scope_id(ctx: _Apply, scope: str) -> str:
    kind, _, name = scope.partition(":")
    return scope if kind == "global" else f"{kind}:{ctx.id(f'{kind}s', name)}"


def _apply_classification(ctx: _Apply, d: ClassificationDoc, new: bool) -> None:
    alerts_manage.put_rule_set(ctx.session, scope=_scope_id(ctx, d.scope), rules=d.rules,
                               now=ctx.now)


APPLIERS: dict[str, Callable[[_Apply, Any, bool], None]] = {
    "users": _apply_user, "teams": _apply_team, "schedules": _apply_schedule,
    "policies": _apply_policy, "services": _apply_service,
    "integrations": _apply_integration, "heartbeats": _apply_heartbeat,
    "routing_rules": _apply_route, "classification": _apply_classification,
}


def _deactivate(ctx: _Apply, email: str) -> None:
    accounts.update_user(ctx.session, user=accounts.get_user(ctx.session, ctx.id("users", email)),
                         data=UserUpdate(active=False))


def _delete_integration(ctx: _Apply, name: str) -> None:
    service, _, iname = name.partition("/")
    ctx.session.delete(_integration(ctx, service, iname))


DELETERS: dict[str, Callable[[_Apply, str], None]] = {
    "users": _deactivate,
    "teams": lambda ctx, n: accounts.delete_team(ctx.session, accounts.get_team(
        ctx.session, ctx.id("teams", n))),
    "schedules": lambda ctx, n: schedules.delete_schedule(ctx.session, schedules.get_schedule(
        ctx.session, ctx.id("schedules", n))),
    "policies": lambda ctx, n: ctx.session.delete(escalation.get_policy(
        ctx.session, ctx.id("policies", n))),
    "services": lambda ctx, n: catalog.delete_service(ctx.session, catalog.get_service(
        ctx.session, ctx.id("services", n))),
    "integrations": _delete_integration,
    "heartbeats": lambda ctx, n: heartbeats.delete_heartbeat(ctx.session, _heartbeat(ctx, n)),
    "routing_rules": lambda ctx, n: ctx.session.delete(_rule(ctx, n)),
    "classification": lambda ctx, n: ctx.session.delete(ctx.session.get(
        ClassificationRuleSet, _scope_id(ctx, n))),
}
