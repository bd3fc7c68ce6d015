"""Services: list, create, edit (tier, revenue, owner team, dependencies), delete."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from tocsin.accounts import service as accounts
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.catalog import service as catalog
from tocsin.catalog.models import Tier
from tocsin.catalog.schemas import ServiceCreate, ServiceUpdate
from tocsin.configcode import service as configcode
from tocsin.errors import TocsinError
from tocsin.escalation import reachability
from tocsin.limits import Id, whole_number
from tocsin.web import forms, queries
from tocsin.web.auth import Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router
from tocsin.web.views import escalation as escalation_views

router = web_router()


@router.get("/services")
def service_list(request: Request, session: SessionDep, rt: RuntimeDep,
                 who: ViewerUser) -> Response:
    rows = catalog.to_out(session, catalog.list_services(session, after_id=None, limit=1000))
    teams = dict(queries.team_choices(session))
    names = {s.id: s.name for s in rows}
    problems = reachability.service_problems(
        session, [s.id for s in rows], reachability.load_people(session, now=rt.clock.now()))
    return pages_of(request).render(request, "services/list.html", who, rows=rows,
                                    teams=teams, names=names,
                                    flagged=[(s.name, problems[s.id]) for s in rows
                                             if problems[s.id]])


def _form_page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
               service_id: Id | None, errors: dict[str, str] | None = None,
               status_code: int = 200, **extra: Any) -> Response:
    choices = [c for c in queries.service_choices(session) if c[0] != service_id]
    return pages_of(request).render(
        request, "services/form.html", who, status_code=status_code, values=values,
        errors=errors or {}, service_id=service_id, tiers=[t.value for t in Tier],
        teams=queries.team_choices(session), choices=choices,
        managed=_managed(session, service_id), **extra)


def _managed(session: Session, service_id: Id | None) -> bool:
    return service_id is not None and service_id in configcode.managed(session, "service")


def _values(form: FormData) -> dict[str, Any]:
    return {"name": forms.text(form, "name"), "description": forms.text(form, "description"),
            "tier": forms.text(form, "tier") or "medium", "revenue": forms.checked(form, "revenue"),
            "owner_team_id": forms.text(form, "owner_team_id"),
            "depends_on": forms.ints(form, "depends_on")}


def _payload(values: dict[str, Any]) -> dict[str, Any]:
    team = values["owner_team_id"]
    return {**values, "owner_team_id": whole_number(team)}


@router.get("/services/new")
def new_form(request: Request, session: SessionDep, who: ResponderUser) -> Response:
    return _form_page(request, session, who, service_id=None,
                      values={"tier": "medium", "depends_on": []})


@router.post("/services/new")
def create(request: Request, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
           form: Form) -> Response:
    values = _values(form)
    accounts.require_team_manager(session, actor=who.principal,
                                  team_id=_payload(values)["owner_team_id"],
                                  what="this service")
    try:
        data = forms.build(ServiceCreate, _payload(values))
        created = catalog.create_service(session, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        session.rollback()
        return _form_page(request, session, who, values=values, service_id=None,
                          errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _form_page(request, session, who, values=values, service_id=None,
                          errors=forms.from_domain(exc), status_code=exc.status_code)
    session.commit()
    # Land on the new service, where the next step (who gets paged) is offered.
    return redirect(f"/services/{created.id}?created=1#next-step",
                    flash=f"Service {created.name} created.")


def _stored_values(session: Session, service_id: Id) -> dict[str, Any]:
    out = catalog.to_out(session, [catalog.get_service(session, service_id)])[0]
    return {"name": out.name, "description": out.description, "tier": out.tier.value,
            "revenue": out.revenue, "owner_team_id": str(out.owner_team_id or ""),
            "depends_on": out.depends_on}


@router.get("/services/{service_id}")
def edit_form(request: Request, service_id: Id, session: SessionDep, rt: RuntimeDep,
              who: ResponderUser, created: bool = False) -> Response:
    accounts.require_team_manager(
        session, actor=who.principal, what="this service",
        team_id=catalog.get_service(session, service_id).owner_team_id)
    values = _stored_values(session, service_id)
    people = reachability.load_people(session, now=rt.clock.now())
    return _form_page(request, session, who, values=values, service_id=service_id,
                      paging_problems=reachability.service_problems(
                          session, [service_id], people)[service_id],
                      created=created,
                      **escalation_views.service_policy_context(session, service_id))


@router.post("/services/{service_id}")
def update(request: Request, service_id: Id, session: SessionDep, who: ResponderUser,
           form: Form) -> Response:
    svc = catalog.get_service(session, service_id)
    values = _values(form)
    accounts.require_team_move(session, actor=who.principal, old_team=svc.owner_team_id,
                               new_team=_payload(values)["owner_team_id"], what="this service")
    if _managed(session, service_id) and not forms.checked(form, "edit_managed"):
        return _form_page(request, session, who, values=values, service_id=service_id,
                          status_code=409, errors={
                              "edit_managed": "This service is managed by code: tick the box "
                                              "to edit it by hand anyway, or change the "
                                              "configuration file."})
    try:
        data = forms.build(ServiceUpdate, _payload(values))
        catalog.update_service(session, service=svc, data=data)
        session.flush()
    except forms.FormErrors as exc:
        session.rollback()
        return _form_page(request, session, who, values=values, service_id=service_id,
                          errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _form_page(request, session, who, values=values, service_id=service_id,
                          errors=forms.from_domain(exc), status_code=exc.status_code)
    session.commit()
    return redirect("/services", flash=f"Service {values['name']} saved.")


@router.post("/services/{service_id}/delete")
def delete(request: Request, service_id: Id, session: SessionDep, who: ResponderUser,
           form: Form) -> Response:
    svc = catalog.get_service(session, service_id)
    accounts.require_team_manager(session, actor=who.principal, team_id=svc.owner_team_id,
                                  what="this service")
    if _managed(session, service_id) and not forms.checked(form, "edit_managed"):
        return _form_page(request, session, who, values=_stored_values(session, service_id),
                          service_id=service_id, status_code=409, errors={
                              "delete_managed": "This service is managed by code: tick the box "
                                                "to delete it by hand anyway (the next apply "
                                                "makes it again), or change the file."})
    name = svc.name
    catalog.delete_service(session, svc)
    session.commit()
    return redirect("/services", flash=f"Service {name} deleted.")
