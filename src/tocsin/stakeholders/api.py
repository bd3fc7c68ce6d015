"""Routes: stakeholder templates and distribution lists (`/api/v1/stakeholders`), and an
incident's stakeholder updates (`/api/v1/incidents/{id}/stakeholder-updates`)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from tocsin.api import pagination
from tocsin.api.deps import Admin, Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.limits import Id
from tocsin.stakeholders import service
from tocsin.stakeholders import templates as tpl
from tocsin.stakeholders.models import DistributionList, StakeholderUpdate
from tocsin.stakeholders.schemas import (
    CadenceOut,
    ListIn,
    ListOut,
    Target,
    TemplateIn,
    TemplateOut,
    UpdateIn,
    UpdateOut,
)

router = APIRouter(prefix="/api/v1", tags=["stakeholder updates"])


@router.get("/stakeholders/templates", response_model=dict[str, TemplateOut],
            summary="The three templates, by kind")
def list_templates(session: SessionDep, who: Viewer) -> dict[str, TemplateOut]:
    out = {}
    for kind in tpl.KINDS:
        subject, body, default = service.template(session, kind)
        out[kind] = TemplateOut(kind=kind, subject=subject, body=body, default=default)
    return out


@router.put("/stakeholders/templates/{kind}", response_model=TemplateOut)
def save_template(kind: str, data: TemplateIn, session: SessionDep, rt: RuntimeDep,
                  who: Admin) -> TemplateOut:
    service.save_template(session, kind=kind, data=data, now=rt.clock.now())
    session.commit()
    return TemplateOut(kind=kind, subject=data.subject, body=data.body, default=False)


def _list_out(row: DistributionList) -> ListOut:
    return ListOut(id=row.id, name=row.name, severities=row.severities,
                   service_ids=row.service_ids, executive=row.executive,
                   targets=[Target(**t) for t in row.targets])


@router.get("/stakeholders/lists", response_model=Page[ListOut], summary="Lists, by id")
def list_lists(session: SessionDep, who: Admin, cursor: str | None = None,
               limit: Limit = 100) -> Page[ListOut]:
    rows = {r.id: r for r in service.list_lists(session)}
    found = pagination.page_of_all(sorted(rows), cursor, limit, lambda i: i, lambda i: i)
    return Page(items=[_list_out(rows[i]) for i in found.items],
                next_cursor=found.next_cursor)


@router.post("/stakeholders/lists", status_code=201, response_model=ListOut)
def create_list(data: ListIn, session: SessionDep, rt: RuntimeDep, who: Admin) -> ListOut:
    row = service.create_list(session, data=data, now=rt.clock.now())
    session.commit()
    return _list_out(row)


@router.delete("/stakeholders/lists/{list_id}", status_code=204)
def delete_list(list_id: Id, session: SessionDep, who: Admin) -> Response:
    service.delete_list(session, list_id=list_id)
    session.commit()
    return Response(status_code=204)


def _update_out(u: StakeholderUpdate) -> UpdateOut:
    return UpdateOut(id=u.id, incident_id=u.incident_id, kind=u.kind, subject=u.subject,
                     body=u.body, next_update_at=u.next_update_at, recipients=u.recipients,
                     sent_at=u.sent_at, created_at=u.created_at)


@router.get("/incidents/{incident_id}/stakeholder-updates", response_model=CadenceOut,
            summary="Stakeholder updates of an incident, its promised next one, misses")
def incident_updates(incident_id: Id, session: SessionDep, who: Viewer) -> CadenceOut:
    cadence, rows = service.updates_of(session, incident_id=incident_id, viewer=who)
    return CadenceOut(incident_id=incident_id,
                      next_update_at=cadence.next_update_at if cadence else None,
                      missed=cadence.missed if cadence else 0,
                      updates=[_update_out(u) for u in rows])


@router.post("/incidents/{incident_id}/stakeholder-updates", status_code=201,
             response_model=UpdateOut, summary="Write (and send, unless a draft) an update")
def write_update(incident_id: Id, data: UpdateIn, session: SessionDep, rt: RuntimeDep,
                 who: Responder) -> UpdateOut:
    row = service.write_update(session, incident_id=incident_id, actor=who, data=data,
                               now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return _update_out(row)


@router.post("/incidents/{incident_id}/stakeholder-updates/{update_id}/send",
             response_model=UpdateOut, summary="Send a reviewed draft")
def send_draft(incident_id: Id, update_id: Id, session: SessionDep, rt: RuntimeDep,
               who: Responder) -> UpdateOut:
    row = service.get_update(session, incident_id=incident_id, update_id=update_id, viewer=who)
    service.send(session, update=row, actor=who, now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return _update_out(row)
