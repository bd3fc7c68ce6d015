"""Respond: checklists and tasks, roles beyond the three and handoffs, the bridge.

Checklists reach incidents through `on_incident_event` (wiring.py::INCIDENT_HOOKS): a new
incident, or a severity raise, gets the tasks of the templates that now apply
(checklists.py). Every task change is a timeline entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.catalog.models import Service
from tocsin.db import rows
from tocsin.db.config_cache import config_cached
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.principal import Principal
from tocsin.respond import checklists
from tocsin.respond.models import (
    ChecklistTemplate,
    IncidentRoleHolder,
    IncidentTask,
    ResponseRole,
    TaskStatus,
)
from tocsin.respond.schemas import RoleCreate, TaskCreate, TaskUpdate, TemplateCreate
from tocsin.settings import Settings

BUILT_IN_ROLES = {
    "commander": "Incident commander: owns the response, decides, delegates, and keeps "
                 "the record and the updates going.",
    "tech_lead": "Technical lead: leads the investigation and the fix.",
    "comms_lead": "Communications lead: keeps stakeholders and customers informed.",
}


# ---- checklist templates ------------------------------------------------------------------

def create_template(session: Session, *, data: TemplateCreate, now: datetime) -> ChecklistTemplate:
    if session.scalar(select(ChecklistTemplate.id).where(
            ChecklistTemplate.name == data.name)) is not None:
        raise Conflict(f"name: a checklist named '{data.name}' exists")
    if data.service_id is not None and session.get(Service, data.service_id) is None:
        raise Invalid(f"service_id: no service with id {data.service_id}")
    items = [i.strip() for i in data.items if i.strip()]
    if not items:
        raise Invalid("items: a checklist needs at least one task")
    return rows.add_object(
        session, ChecklistTemplate, need_id=True, name=data.name,
        severity=data.severity.value if data.severity else None, service_id=data.service_id,
        category_system=data.category_system.value if data.category_system else None,
        items=items, created_at=now)


def list_templates(session: Session) -> list[ChecklistTemplate]:
    return list(session.scalars(select(ChecklistTemplate).order_by(ChecklistTemplate.id)))


def delete_template(session: Session, *, template_id: int) -> None:
    template = session.get(ChecklistTemplate, template_id)
    if template is None:
        raise NotFound(f"checklist template {template_id} does not exist")
    session.delete(template)


def _templates(session: Session) -> tuple[checklists.Template, ...]:
    def load() -> tuple[checklists.Template, ...]:
        return tuple(checklists.Template(t.id, t.severity, t.service_id, t.category_system,
                                         tuple(str(i) for i in t.items))
                     for t in list_templates(session))
    return config_cached(session, "respond.templates", load)


def on_incident_event(session: Session, *, incident: Incident, kind: str,
                      data: dict[str, Any], now: datetime) -> None:
    """Hook (wiring.py): add the checklists that apply to a new incident or a raised one."""
    if kind == lc.EventKind.CREATED.value:
        before = None
        services = frozenset(int(s) for s in data.get("service_ids", []))
        already: list[int] = []
    elif kind == lc.EventKind.SEVERITY_CHANGED.value and \
            lc.Severity(data["to"]).rank < lc.Severity(data["from"]).rank:
        services = frozenset(incidents.service_ids_of(session, [incident.id])[incident.id])
        before = checklists.Facts(data["from"], services, incident.category_system)
        already = [t for t in session.scalars(select(IncidentTask.template_id).where(
            IncidentTask.incident_id == incident.id,
            IncidentTask.template_id.is_not(None))) if t is not None]
    else:
        return
    templates = _templates(session)
    if not templates:
        return
    facts = checklists.Facts(incident.severity, services, incident.category_system)
    for template in checklists.to_add(templates, now=facts, before=before, already=already):
        for item in template.items:
            rows.add(session, IncidentTask, incident_id=incident.id, title=item,
                     status=TaskStatus.OPEN, template_id=template.id, assignee_id=None,
                     created_by_id=None, done_by_id=None, done_at=None, created_at=now)
        incidents.append_event(
            session, incident, kind=lc.EventKind.TASK_ADDED, now=now, actor=None,
            body=f"checklist added ({len(template.items)} tasks): "
                 + "; ".join(template.items),
            data={"template_id": template.id, "titles": list(template.items)})


# ---- tasks ----------------------------------------------------------------------------------

def _open_incident(incident: Incident) -> None:
    if incident.status == lc.Status.CLOSED.value:
        raise Conflict(f"{incident.number} is closed: its tasks can no longer change")


def _check_user(session: Session, user_id: int | None, field: str) -> None:
    if user_id is not None and session.get(User, user_id) is None:
        raise Invalid(f"{field}: no user with id {user_id}")


def add_task(session: Session, *, incident: Incident, actor: Principal, data: TaskCreate,
             now: datetime) -> IncidentTask:
    _open_incident(incident)
    _check_user(session, data.assignee_id, "assignee_id")
    task = rows.add_object(session, IncidentTask, need_id=True, incident_id=incident.id,
                           title=data.title, status=TaskStatus.OPEN, template_id=None,
                           assignee_id=data.assignee_id, created_by_id=actor.user_id,
                           done_by_id=None, done_at=None, created_at=now)
    incidents.append_event(session, incident, kind=lc.EventKind.TASK_ADDED, now=now,
                           actor=actor, body=f"task added: {data.title}",
                           data={"task_id": task.id, "titles": [data.title],
                                 "assignee_id": data.assignee_id})
    return task


def get_task(session: Session, *, incident: Incident, task_id: int) -> IncidentTask:
    task = session.get(IncidentTask, task_id)
    if task is None or task.incident_id != incident.id:
        raise NotFound(f"{incident.number} has no task {task_id}")
    return task


def update_task(session: Session, *, incident: Incident, task: IncidentTask,
                actor: Principal, data: TaskUpdate, now: datetime) -> IncidentTask:
    _open_incident(incident)
    changes = data.model_dump(exclude_unset=True)
    if "assignee_id" in changes and changes["assignee_id"] != task.assignee_id:
        _check_user(session, data.assignee_id, "assignee_id")
        task.assignee_id = data.assignee_id
        incidents.append_event(session, incident, kind=lc.EventKind.NOTE, now=now,
                               actor=actor, body=f"task '{task.title}' assigned",
                               data={"task_id": task.id, "assignee_id": data.assignee_id})
    if data.title is not None:
        task.title = data.title
    if data.done is True and task.status != TaskStatus.DONE:
        task.status, task.done_by_id, task.done_at = TaskStatus.DONE, actor.user_id, now
        incidents.append_event(session, incident, kind=lc.EventKind.TASK_DONE, now=now,
                               actor=actor, body=f"task done: {task.title}",
                               data={"task_id": task.id, "done_by_id": actor.user_id})
    elif data.done is False and task.status == TaskStatus.DONE:
        task.status, task.done_by_id, task.done_at = TaskStatus.OPEN, None, None
        incidents.append_event(session, incident, kind=lc.EventKind.TASK_REOPENED, now=now,
                               actor=actor, body=f"task reopened: {task.title}",
                               data={"task_id": task.id})
    return task


def tasks_of(session: Session, incident_id: int) -> list[IncidentTask]:
    return list(session.scalars(select(IncidentTask).where(
        IncidentTask.incident_id == incident_id).order_by(IncidentTask.id)))


# ---- roles ----------------------------------------------------------------------------------

def create_role(session: Session, *, data: RoleCreate, now: datetime) -> ResponseRole:
    if data.name in BUILT_IN_ROLES or session.scalar(select(ResponseRole.id).where(
            ResponseRole.name == data.name)) is not None:
        raise Conflict(f"name: a role named '{data.name}' exists")
    return rows.add_object(session, ResponseRole, need_id=True, name=data.name,
                           description=data.description, created_at=now)


def list_roles(session: Session) -> list[ResponseRole]:
    return list(session.scalars(select(ResponseRole).order_by(ResponseRole.name)))


def delete_role(session: Session, *, name: str) -> None:
    session.delete(_custom_role(session, name))


def _custom_role(session: Session, name: str) -> ResponseRole:
    role = session.scalars(select(ResponseRole).where(ResponseRole.name == name)).first()
    if role is None:
        known = sorted([*BUILT_IN_ROLES, *(r.name for r in list_roles(session))])
        raise Invalid(f"role: no role named '{name}' (known: {', '.join(known)})")
    return role


def holder_of(session: Session, *, incident: Incident, role: str) -> int | None:
    if role in BUILT_IN_ROLES:
        holder: int | None = getattr(incident, incidents.ROLE_COLUMNS[role])
        return holder
    found = session.get(IncidentRoleHolder, (incident.id, _custom_role(session, role).id))
    return found.user_id if found else None


def take_role(session: Session, *, incident: Incident, actor: Principal, role: str,
              user_id: int | None, now: datetime) -> str:
    """Give `role` to `user_id` (None: nobody); returns the role's description, which the
    taker is shown."""
    if role in BUILT_IN_ROLES:
        incidents.assign_role(session, incident=incident, actor=actor, role=role,
                              user_id=user_id, now=now)
        return BUILT_IN_ROLES[role]
    custom = _custom_role(session, role)
    _check_user(session, user_id, "user_id")
    held = session.get(IncidentRoleHolder, (incident.id, custom.id))
    before = held.user_id if held else None
    if before == user_id:
        return custom.description
    if held is not None:
        session.delete(held)
        session.flush()
    if user_id is not None:
        rows.add_object(session, IncidentRoleHolder, incident_id=incident.id,
                        role_id=custom.id, user_id=user_id, since=now)
    incidents.append_event(session, incident, kind=lc.EventKind.ROLE_CHANGED, now=now,
                           actor=actor,
                           body=f"{role} {'unassigned' if user_id is None else 'assigned'}",
                           data={"role": role, "from": before, "to": user_id})
    return custom.description


def hand_off(session: Session, *, incident: Incident, actor: Principal, role: str,
             to_user_id: int, note: str, now: datetime) -> str:
    """The role passes to `to_user_id` with a handoff note on the timeline; returns the
    role's description for the new holder."""
    _open_incident(incident)
    before = holder_of(session, incident=incident, role=role)
    if before == to_user_id:
        raise Conflict(f"user {to_user_id} already holds {role}")
    description = take_role(session, incident=incident, actor=actor, role=role,
                            user_id=to_user_id, now=now)
    incidents.append_event(session, incident, kind=lc.EventKind.ROLE_HANDOFF, now=now,
                           actor=actor, body=f"{role} handed over: {note}",
                           data={"role": role, "from": before, "to": to_user_id,
                                 "note": note})
    return description


def holders_of(session: Session, incident: Incident) -> list[tuple[str, str, int | None, bool]]:
    """(role, description, holder, built in) for every role, built-in first."""
    out: list[tuple[str, str, int | None, bool]] = [
        (name, text, getattr(incident, incidents.ROLE_COLUMNS[name]), True)
        for name, text in BUILT_IN_ROLES.items()]
    held = {h.role_id: h.user_id for h in session.scalars(select(IncidentRoleHolder).where(
        IncidentRoleHolder.incident_id == incident.id))}
    out += [(r.name, r.description, held.get(r.id), False) for r in list_roles(session)]
    return out


# ---- the bridge -----------------------------------------------------------------------------

def set_bridge(session: Session, *, incident: Incident, actor: Principal, url: str | None,
               now: datetime, settings: Settings) -> str:
    _open_incident(incident)
    if url is None:
        if not settings.bridge_url_template:
            raise Invalid("url: give a link, or configure bridge_url_template to make one")
        url = incidents.bridge_from_template(settings.bridge_url_template, incident)
    incidents.set_bridge(session, incident=incident, actor=actor, url=url.strip(), now=now)
    return url.strip()
