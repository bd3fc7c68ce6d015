"""Respond routes: checklist templates, tasks, roles and handoffs, the bridge."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tocsin.api import pagination
from tocsin.api.deps import Admin, Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.incidents import service as incidents
from tocsin.incidents.lifecycle import CategorySystem, Severity
from tocsin.limits import Id
from tocsin.respond import service
from tocsin.respond.models import ChecklistTemplate, IncidentTask, ResponseRole, TaskStatus
from tocsin.respond.schemas import (
    BridgeOut,
    BridgeSet,
    Handoff,
    HolderOut,
    RoleCreate,
    RoleOut,
    RoleTake,
    TaskCreate,
    TaskList,
    TaskOut,
    TaskUpdate,
    TemplateCreate,
    TemplateOut,
)

router = APIRouter(prefix="/api/v1", tags=["respond"])


def _template(t: ChecklistTemplate) -> TemplateOut:
    return TemplateOut(id=t.id, name=t.name,
                       severity=Severity(t.severity) if t.severity else None,
                       service_id=t.service_id,
                       category_system=CategorySystem(t.category_system)
                       if t.category_system else None, items=[str(i) for i in t.items])


def task_out(t: IncidentTask) -> TaskOut:
    return TaskOut(id=t.id, incident_id=t.incident_id, title=t.title, status=t.status,
                   template_id=t.template_id, assignee_id=t.assignee_id,
                   done_by_id=t.done_by_id, done_at=t.done_at, created_at=t.created_at)


def _role(r: ResponseRole) -> RoleOut:
    return RoleOut(id=r.id, name=r.name, description=r.description, built_in=False)


@router.get("/checklists", response_model=Page[TemplateOut], summary="Checklist templates")
def list_templates(session: SessionDep, who: Viewer, cursor: str | None = None,
                   limit: Limit = 100) -> Page[TemplateOut]:
    return pagination.page_of_all(service.list_templates(session), cursor, limit, _template,
                                  lambda t: t.id)


@router.post("/checklists", status_code=201, response_model=TemplateOut)
def create_template(data: TemplateCreate, session: SessionDep, rt: RuntimeDep,
                    who: Admin) -> TemplateOut:
    template = service.create_template(session, data=data, now=rt.clock.now())
    session.commit()
    return _template(template)


@router.delete("/checklists/{template_id}", status_code=204)
def delete_template(template_id: Id, session: SessionDep, who: Admin) -> Response:
    service.delete_template(session, template_id=template_id)
    session.commit()
    return Response(status_code=204)


@router.get("/incidents/{incident_id}/tasks", response_model=TaskList)
def list_tasks(incident_id: Id, session: SessionDep, who: Viewer) -> TaskList:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who)
    tasks = service.tasks_of(session, incident.id)
    return TaskList(items=[task_out(t) for t in tasks],
                    open=sum(t.status == TaskStatus.OPEN for t in tasks))


@router.post("/incidents/{incident_id}/tasks", status_code=201, response_model=TaskOut,
             summary="Add an ad-hoc task")
def add_task(incident_id: Id, data: TaskCreate, session: SessionDep, rt: RuntimeDep,
             who: Responder) -> TaskOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who,
                                     for_update=True)
    task = service.add_task(session, incident=incident, actor=who, data=data,
                            now=rt.clock.now())
    session.commit()
    return task_out(task)


@router.patch("/incidents/{incident_id}/tasks/{task_id}", response_model=TaskOut,
              summary="Mark a task done (or open again), assign or rename it")
def update_task(incident_id: Id, task_id: Id, data: TaskUpdate, session: SessionDep,
                rt: RuntimeDep, who: Responder) -> TaskOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who,
                                     for_update=True)
    task = service.get_task(session, incident=incident, task_id=task_id)
    service.update_task(session, incident=incident, task=task, actor=who, data=data,
                        now=rt.clock.now())
    session.commit()
    return task_out(task)


@router.get("/roles", response_model=Page[RoleOut],
            summary="Roles admins defined (the three built-in ones: /incidents/{id}/responders)")
def list_roles(session: SessionDep, who: Viewer, cursor: str | None = None,
               limit: Limit = 100) -> Page[RoleOut]:
    return pagination.page_of_all(service.list_roles(session), cursor, limit, _role,
                                  lambda r: r.id)


@router.post("/roles", status_code=201, response_model=RoleOut,
             summary="Define a role (scribe, customer liaison, SME…)")
def create_role(data: RoleCreate, session: SessionDep, rt: RuntimeDep, who: Admin) -> RoleOut:
    role = service.create_role(session, data=data, now=rt.clock.now())
    session.commit()
    return _role(role)


@router.delete("/roles/{name}", status_code=204)
def delete_role(name: str, session: SessionDep, who: Admin) -> Response:
    service.delete_role(session, name=name)
    session.commit()
    return Response(status_code=204)


def _holders(session: SessionDep, incident_id: int, who: Viewer) -> list[HolderOut]:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who)
    return [HolderOut(role=r, description=d, user_id=u, built_in=b)
            for r, d, u, b in service.holders_of(session, incident)]


@router.get("/incidents/{incident_id}/responders", response_model=list[HolderOut],
            summary="Every role of the incident, its description and holder")
def list_holders(incident_id: Id, session: SessionDep, who: Viewer) -> list[HolderOut]:
    return _holders(session, incident_id, who)


@router.post("/incidents/{incident_id}/responders", response_model=HolderOut,
             summary="Give a role (built-in or admin-defined) to someone")
def take_role(incident_id: Id, data: RoleTake, session: SessionDep, rt: RuntimeDep,
              who: Responder) -> HolderOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who,
                                     for_update=True)
    description = service.take_role(session, incident=incident, actor=who, role=data.role,
                                    user_id=data.user_id, now=rt.clock.now())
    session.commit()
    return HolderOut(role=data.role, description=description, user_id=data.user_id,
                     built_in=data.role in service.BUILT_IN_ROLES)


@router.post("/incidents/{incident_id}/handoff", response_model=HolderOut,
             summary="Hand a role over (IC to the next IC) with a note")
def hand_off(incident_id: Id, data: Handoff, session: SessionDep, rt: RuntimeDep,
             who: Responder) -> HolderOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who,
                                     for_update=True)
    description = service.hand_off(session, incident=incident, actor=who, role=data.role,
                                   to_user_id=data.to_user_id, note=data.note,
                                   now=rt.clock.now())
    session.commit()
    return HolderOut(role=data.role, description=description, user_id=data.to_user_id,
                     built_in=data.role in service.BUILT_IN_ROLES)


@router.put("/incidents/{incident_id}/bridge", response_model=BridgeOut,
            summary="Set the conference link (none given: made from the template)")
def set_bridge(incident_id: Id, data: BridgeSet, session: SessionDep, rt: RuntimeDep,
               who: Responder) -> BridgeOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who,
                                     for_update=True)
    url = service.set_bridge(session, incident=incident, actor=who, url=data.url,
                             now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return BridgeOut(incident_id=incident.id, url=url)
