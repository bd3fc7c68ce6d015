"""Write an import plan through each feature's own service, remembering which Tocsin object
each vendor object became (`ExternalId`), so a second run changes only what changed.

One run is one transaction: a run that fails halfway leaves nothing behind and the next run
does the whole job. A dry run is the same run, rolled back, so it reports exactly what a
real run would do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.accounts.models import Team, User
from tocsin.accounts.schemas import TeamCreate, TeamUpdate, UserCreate, UserUpdate
from tocsin.alerts import manage as alerts_manage
from tocsin.alerts import service as alerts
from tocsin.alerts.models import Integration, IntegrationKind, MaintenanceWindow
from tocsin.alerts.samples import intake_url
from tocsin.alerts.schemas import IntegrationCreate
from tocsin.alerts.schemas import WindowIn as MaintenanceIn
from tocsin.catalog import service as catalog
from tocsin.catalog.models import Service
from tocsin.catalog.schemas import ServiceCreate, ServiceUpdate
from tocsin.db import rows
from tocsin.errors import Invalid, TocsinError
from tocsin.escalation import service as escalation
from tocsin.escalation.models import EscalationPolicy
from tocsin.escalation.schemas import LevelIn, PolicyIn, ServicePoliciesIn, TargetIn
from tocsin.importers import plan as p
from tocsin.importers.models import ExternalId
from tocsin.incidents.lifecycle import Severity
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.notify.schemas import ContactMethodIn, RuleIn, RulesIn
from tocsin.outbound import OutboundPolicy
from tocsin.principal import Principal, Role
from tocsin.schedules import service as schedules
from tocsin.schedules.models import Schedule, ScheduleOverride
from tocsin.schedules.schemas import LayerIn, OverrideIn, ScheduleIn, WindowIn

MODELS: dict[str, Any] = {"user": User, "team": Team, "schedule": Schedule,
                          "policy": EscalationPolicy, "service": Service,
                          "integration": Integration, "override": ScheduleOverride,
                          "maintenance": MaintenanceWindow}
# The importer acts as an administrator (it runs from the server's own command line).
IMPORTER = Principal(user_id=0, role=Role.ADMIN)


@dataclass(frozen=True)
class Action:
    verb: str  # create | change | skip
    kind: str
    name: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.verb:<6} {self.kind:<11} {self.name}" + (
            f"  ({self.detail})" if self.detail else "")


@dataclass
class Report:
    actions: list[Action] = field(default_factory=list)
    notes: list[p.Note] = field(default_factory=list)
    # (integration name, its vendor kind, URL to paste, key)
    senders: list[tuple[str, str, str, str]] = field(default_factory=list)

    def count(self, verb: str) -> int:
        return sum(1 for a in self.actions if a.verb == verb)


@dataclass
class _Run:
    session: Session
    source: str
    now: datetime
    base_url: str
    outbound: OutboundPolicy
    report: Report
    known: dict[tuple[str, str], ExternalId] = field(default_factory=dict)

    def local(self, kind: str, ext_id: str | None) -> int | None:
        if ext_id is None:
            return None
        row = self.known.get((kind, ext_id))
        return row.local_id if row is not None else None

    def upsert(self, kind: str, ext_id: str, name: str, desired: dict[str, Any], *,
               find: Callable[[], int | None], create: Callable[[], int],
               update: Callable[[int], None]) -> int:
        """Create, change or skip one object; `find` adopts an object that already exists
        in Tocsin under the same name (made by hand, or by an earlier run that lost its
        record). A refusal names the object."""
        try:
            return self._upsert(kind, ext_id, name, desired, find, create, update)
        except ValidationError as exc:
            raise Invalid(f"{kind} '{name}' (source id {ext_id}): " + "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
        except TocsinError as exc:
            if str(exc).startswith(f"{kind} '"):
                raise
            raise Invalid(f"{kind} '{name}' (source id {ext_id}): {exc}") from None

    def _upsert(self, kind: str, ext_id: str, name: str, desired: dict[str, Any],
                find: Callable[[], int | None], create: Callable[[], int],
                update: Callable[[int], None]) -> int:
        digest = hashlib.sha256(json.dumps(desired, sort_keys=True, default=str)
                                .encode()).hexdigest()
        row = self.known.get((kind, ext_id))
        if row is not None and self.session.get(MODELS[kind], row.local_id) is None:
            self.session.delete(row)
            del self.known[(kind, ext_id)]
            row = None
        if row is None:
            found = find()
            if found is None:
                local_id, verb, detail = create(), "create", ""
            else:
                update(found)
                local_id, verb, detail = found, "change", "existing object of that name adopted"
            row = rows.add_object(self.session, ExternalId, need_id=True, source=self.source,
                                  kind=kind, external_id=ext_id, local_id=local_id,
                                  fingerprint=digest, updated_at=self.now)
            self.known[(kind, ext_id)] = row
            self.report.actions.append(Action(verb, kind, name, detail))
            return local_id
        if row.fingerprint == digest:
            self.report.actions.append(Action("skip", kind, name, "unchanged"))
            return row.local_id
        update(row.local_id)
        row.fingerprint, row.updated_at = digest, self.now
        self.report.actions.append(Action("change", kind, name, "changed at the source"))
        return row.local_id


def run(session: Session, *, data: p.Plan, now: datetime, base_url: str,
        outbound: OutboundPolicy) -> Report:
    """Apply `data` inside the caller's transaction; the caller commits or (dry run) rolls
    back."""
    r = _Run(session, data.source, now, base_url, outbound, Report(notes=list(data.notes)))
    for row in session.scalars(select(ExternalId).where(ExternalId.source == data.source)):
        r.known[(row.kind, row.external_id)] = row
    for u in data.users:
        _user(r, u)
    for t in data.teams:
        _team(r, t)
    for s in data.schedules:
        _schedule(r, s)
    for pol in data.policies:
        _policy(r, pol)
    for svc in data.services:
        _service(r, svc)
    for i in data.integrations:
        _integration(r, i)
    for m in data.maintenance:
        _maintenance(r, m)
    return r.report


# ---- users and teams ---------------------------------------------------------------------------

def _by(session: Session, model: Any, column: Any, value: str) -> int | None:
    return session.scalars(select(model.id).where(column == value)).first()


def _user(r: _Run, u: p.User) -> None:
    desired = {"name": u.name, "email": u.email, "tz": u.time_zone, "role": u.role,
               "emails": list(u.emails), "rules": list(u.rules)}

    def create() -> int:
        user = accounts.create_user(r.session, now=r.now, data=UserCreate(
            name=u.name, email=u.email, time_zone=_zone(r, u), role=Role(u.role)))
        return user.id

    def update(local_id: int) -> None:
        user = accounts.get_user(r.session, local_id)
        # An adopted account keeps its role: an import never demotes the admin running it.
        role = Role(u.role) if r.local("user", u.ext_id) == local_id else None
        accounts.update_user(r.session, user=user, data=UserUpdate(
            name=u.name, time_zone=_zone(r, u), role=role))

    local_id = r.upsert("user", u.ext_id, u.email, desired,
                        find=lambda: _by(r.session, User, User.email, u.email),
                        create=create, update=update)
    _contacts(r, u, local_id)


def _zone(r: _Run, u: p.User) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(u.time_zone)
        return u.time_zone
    except (ZoneInfoNotFoundError, ValueError):
        r.report.notes.append(p.Note(f"user {u.email}", f"time zone '{u.time_zone}'",
                                     "UTC (not an IANA zone name)"))
        return "UTC"


def _contacts(r: _Run, u: p.User, user_id: int) -> None:
    """Email contact methods the user lacks (each is sent a verification code: Tocsin pages
    only verified addresses), then the notification rules that use them."""
    have = {m.address.lower(): m.id for m in notify.contact_methods_of(r.session, user_id)
            if m.kind == ChannelKind.EMAIL.value}
    for address in u.emails:
        if address not in have:
            method = notify.add_contact_method(
                r.session, actor=IMPORTER, user_id=user_id, now=r.now, outbound=r.outbound,
                data=ContactMethodIn(kind=ChannelKind.EMAIL, address=address,
                                     label="imported"))
            have[address] = method.id
            r.report.actions.append(Action("create", "contact", f"{u.email} → {address}",
                                           "a verification code is sent"))
    if not u.rules:
        return
    wanted = sorted((urgency, delay, have[a]) for delay, a in u.rules if a in have
                    for urgency in ("high", "low"))
    current = sorted((x.urgency, x.delay_minutes, x.contact_method_id)
                     for x in notify.rules_of(r.session, user_id))
    if wanted != current:
        notify.set_rules(r.session, actor=IMPORTER, user_id=user_id, data=RulesIn(rules=[
            RuleIn(urgency=urg, delay_minutes=d, contact_method_id=m)
            for urg, d, m in wanted]))
        r.report.actions.append(Action("change" if current else "create", "rules", u.email))


def _team(r: _Run, t: p.Team) -> None:
    members = sorted({m for x in t.members if (m := r.local("user", x)) is not None})
    desired = {"name": t.name, "description": t.description, "members": members}

    def create() -> int:
        return accounts.create_team(r.session, now=r.now, data=TeamCreate(
            name=t.name, description=t.description, member_ids=members)).id

    def update(local_id: int) -> None:
        accounts.update_team(r.session, team=accounts.get_team(r.session, local_id),
                             data=TeamUpdate(name=t.name, description=t.description,
                                             member_ids=members))

    r.upsert("team", t.ext_id, t.name, desired, find=lambda: _by(r.session, Team, Team.name,
                                                                 t.name),
             create=create, update=update)


# ---- schedules and policies -------------------------------------------------------------------

def _schedule(r: _Run, s: p.Schedule) -> None:
    layers = []
    for x in s.layers:
        people = [u for e in x.participants if (u := r.local("user", e)) is not None]
        if not people:
            r.report.notes.append(p.Note(f"schedule '{s.name}'", f"layer '{x.name}' names "
                                         "nobody who was imported", "layer left out"))
            continue
        layers.append(LayerIn(
            name=x.name, participants=people, unit=x.unit,
            length=x.length, start=x.start,
            restrictions=[WindowIn(days=list(w.days), start=w.start, end=w.end)
                          for w in x.restrictions]))
    data = ScheduleIn(name=s.name, description=s.description, time_zone=s.time_zone,
                      team_id=r.local("team", s.team), layers=layers)
    desired = data.model_dump(mode="json")

    def update(local_id: int) -> None:
        schedules.update_schedule(r.session, schedule=schedules.get_schedule(
            r.session, local_id), data=data, now=r.now)

    local_id = r.upsert("schedule", s.ext_id, s.name, desired,
                        find=lambda: _by(r.session, Schedule, Schedule.name, s.name),
                        create=lambda: schedules.create_schedule(r.session, data=data,
                                                                 now=r.now).id,
                        update=update)
    for o in s.overrides:
        _override(r, s, local_id, o)


def _override(r: _Run, s: p.Schedule, schedule_id: int, o: p.Override) -> None:
    if o.end <= r.now:
        return
    user = r.local("user", o.user)
    if user is None:
        r.report.notes.append(p.Note(f"schedule '{s.name}'", f"override {o.ext_id} names a "
                                     "user who was not imported", "left out"))
        return
    data = OverrideIn(user_id=user, start=o.start, end=o.end, reason=f"imported ({o.ext_id})")
    schedule = schedules.get_schedule(r.session, schedule_id)

    def add() -> int:
        return schedules.add_override(r.session, schedule=schedule, data=data, now=r.now).id

    def replace(local_id: int) -> None:
        schedules.delete_override(r.session, schedule=schedule, override_id=local_id)
        r.known[("override", f"{s.ext_id}/{o.ext_id}")].local_id = add()

    r.upsert("override", f"{s.ext_id}/{o.ext_id}", f"{s.name}: {o.start:%Y-%m-%d %H:%M}",
             data.model_dump(mode="json"), find=lambda: None, create=add, update=replace)


def _policy(r: _Run, pol: p.Policy) -> None:
    levels = []
    for i, lv in enumerate(pol.levels, start=1):
        targets = []
        for t in lv.targets:
            local = r.local(t.kind, t.ext_id)
            if local is None:
                r.report.notes.append(p.Note(f"policy '{pol.name}'", f"level {i} names a "
                                             f"{t.kind} that was not imported", "left out"))
                continue
            targets.append(TargetIn(kind=t.kind, id=local, mode=t.mode))
        levels.append(LevelIn(delay_minutes=lv.delay_minutes, targets=targets))
    data = PolicyIn(name=pol.name, description=pol.description, repeat=pol.repeat,
                    levels=levels)

    def update(local_id: int) -> None:
        escalation.update_policy(r.session, row=escalation.get_policy(r.session, local_id),
                                 data=data, now=r.now)

    r.upsert("policy", pol.ext_id, pol.name, data.model_dump(mode="json"),
             find=lambda: _by(r.session, EscalationPolicy, EscalationPolicy.name, pol.name),
             create=lambda: escalation.create_policy(r.session, data=data, now=r.now).id,
             update=update)


# ---- services, integrations, maintenance ------------------------------------------------------

def _service(r: _Run, s: p.Service) -> None:
    team = r.local("team", s.team)
    policy = r.local("policy", s.policy)
    desired = {"name": s.name, "description": s.description, "team": team, "policy": policy}

    def policies(service_id: int) -> None:
        chosen = {sev: policy for sev in Severity} if policy is not None else {}
        escalation.set_service_policies(r.session, service_id=service_id,
                                        data=ServicePoliciesIn(policies=chosen))

    def create() -> int:
        service = catalog.create_service(r.session, now=r.now, data=ServiceCreate(
            name=s.name, description=s.description, owner_team_id=team))
        policies(service.id)
        return service.id

    def update(local_id: int) -> None:
        catalog.update_service(r.session, service=catalog.get_service(r.session, local_id),
                               data=ServiceUpdate(name=s.name, description=s.description,
                                                  owner_team_id=team))
        policies(local_id)

    r.upsert("service", s.ext_id, s.name, desired,
             find=lambda: _by(r.session, Service, Service.name, s.name),
             create=create, update=update)


def _integration(r: _Run, i: p.Integration) -> None:
    service = r.local("service", i.service)
    if service is None:
        r.report.notes.append(p.Note(f"integration '{i.name}'", "its service was not "
                                     "imported", "left out"))
        return
    kind = IntegrationKind(i.kind)

    def create() -> int:
        return alerts_manage.create_integration(r.session, now=r.now, data=IntegrationCreate(
            service_id=service, kind=kind, name=i.name)).id

    def update(local_id: int) -> None:
        # Never a new key: senders may already use the one handed out.
        row = alerts_manage.get_integration(r.session, local_id)
        if row.service_id != service or row.kind != kind.value:
            raise Invalid(f"integration '{i.name}': already imported onto another service "
                          "or kind; delete it in Tocsin to import it again")

    local_id = r.upsert("integration", i.ext_id, i.name,
                        {"name": i.name, "kind": i.kind, "service": service},
                        find=lambda: None, create=create, update=update)
    row = alerts_manage.get_integration(r.session, local_id)
    r.report.senders.append((i.name, i.vendor_kind, intake_url(kind, row.key, r.base_url),
                             row.key))


def _maintenance(r: _Run, m: p.Maintenance) -> None:
    if m.ends_at <= r.now:
        return
    service = r.local("service", m.service)
    if m.service is not None and service is None:
        return
    data = MaintenanceIn(name=m.name, service_id=service, starts_at=m.starts_at,
                         ends_at=m.ends_at)

    def replace(local_id: int) -> None:
        alerts.delete_maintenance_window(r.session, window_id=local_id)
        r.known[("maintenance", m.ext_id)].local_id = alerts_manage.create_window(
            r.session, data=data, now=r.now).id

    r.upsert("maintenance", m.ext_id, m.name, data.model_dump(mode="json"),
             find=lambda: None,
             create=lambda: alerts_manage.create_window(r.session, data=data, now=r.now).id,
             update=replace)


# ---- the post-import check -------------------------------------------------------------------

def imported(session: Session, *, source: str, kind: str) -> dict[str, int]:
    """Vendor id → Tocsin id of every object of `kind` imported from `source`."""
    return {row.external_id: row.local_id for row in session.scalars(
        select(ExternalId).where(ExternalId.source == source, ExternalId.kind == kind))}


def tocsin_periods(session: Session, *, source: str, schedule_ext_id: str, start: datetime,
                   end: datetime) -> tuple[str, list[tuple[datetime, datetime, str]]] | None:
    """The imported schedule's name and Tocsin's final shifts over [start, end), people
    named by their vendor ids (None: that schedule was not imported)."""
    local = imported(session, source=source, kind="schedule").get(schedule_ext_id)
    schedule = session.get(Schedule, local) if local is not None else None
    if schedule is None:
        return None
    ext_of = {v: k for k, v in imported(session, source=source, kind="user").items()}
    result, _ = schedules.shifts(session, schedule=schedule, start=start, end=end)
    return schedule.name, [(sh.start, sh.end, ext_of.get(sh.user_id, f"tocsin:{sh.user_id}"))
                           for sh in result.shifts]
