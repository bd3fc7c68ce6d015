"""Integrations (admin): each shows its URL and a copy-paste example for its format."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.alerts import manage
from tocsin.alerts.models import IntegrationKind
from tocsin.alerts.schemas import IntegrationCreate, IntegrationUpdate
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.catalog import service as catalog
from tocsin.errors import Forbidden, TocsinError
from tocsin.limits import Id
from tocsin.web import forms, queries
from tocsin.web.auth import Form, ResponderUser, WebUser
from tocsin.web.managed import managed_ids, refusal
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()


def _page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
          errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    base = request.app.state.runtime.settings.public_url
    # A team's managers see (and change) their services' integrations; admins see all.
    services = [(sid, name) for sid, name in queries.service_choices(session)
                if _manages(session, who, sid)]
    mine = {sid for sid, _ in services}
    rows = [manage.integration_out(i, base) for i in manage.list_integrations(session, None)
            if i.service_id in mine]
    return pages_of(request).render(
        request, "integrations.html", who, status_code=status_code, rows=rows,
        services=services, service_names=dict(services), values=values, errors=errors or {},
        kinds=[k.value for k in IntegrationKind],
        managed_ids=managed_ids(session, "integration"))


def _manages(session: Session, who: WebUser, service_id: int) -> bool:
    team = catalog.get_service(session, service_id).owner_team_id
    return accounts.may_manage_team(session, actor=who.principal, team_id=team)


def _guard(session: Session, who: WebUser, service_id: int) -> None:
    accounts.require_team_manager(
        session, actor=who.principal, what="this service's integrations",
        team_id=catalog.get_service(session, service_id).owner_team_id)


@router.get("/integrations")
def integration_list(request: Request, session: SessionDep, who: ResponderUser) -> Response:
    if not who.principal.is_admin and not accounts.managed_team_ids(session,
                                                                     user_id=who.user.id):
        raise Forbidden("integrations are managed by admins and by teams' managers")
    return _page(request, session, who, values={"kind": "alertmanager"})


@router.post("/integrations")
def create(request: Request, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
           form: Form) -> Response:
    values = {k: forms.text(form, k) for k in ("service_id", "kind", "name", "title_path")}
    errors: dict[str, str] = {}
    service_id = forms.optional_int(form, "service_id", {})
    if service_id is not None:
        _guard(session, who, service_id)
    mapping = {"title": values["title_path"]} if values["title_path"] else {}
    try:
        data = forms.build(IntegrationCreate, {
            "service_id": forms.optional_int(form, "service_id", errors), "kind": values["kind"],
            "name": values["name"], "mapping": mapping}, errors)
        created = manage.create_integration(session, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        session.rollback()
        return _page(request, session, who, values=values, errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        errors = forms.from_domain(exc)
        if "mapping.title" in errors:
            errors["title_path"] = errors.pop("mapping.title")
        return _page(request, session, who, values=values, errors=errors,
                     status_code=exc.status_code)
    session.commit()
    return redirect(f"/integrations#integration-{created.id}",
                    flash=f"Integration {created.name} created.")


@router.post("/integrations/{integration_id}")
def update(request: Request, integration_id: Id, session: SessionDep, who: ResponderUser,
           form: Form) -> Response:
    """Enable/disable, or rotate the key (the old URL stops working at once)."""
    integration = manage.get_integration(session, integration_id)
    _guard(session, who, integration.service_id)
    action = forms.text(form, "action")
    # The key is not in the configuration file; being enabled is.
    refused = refusal(session, form, kind="integration", local_id=integration_id,
                      noun="integration") if action in ("enable", "disable") else None
    if refused:
        return _page(request, session, who, values={"kind": "alertmanager"}, errors=refused,
                     status_code=409)
    data = IntegrationUpdate(enabled=action == "enable") if action in ("enable", "disable") \
        else IntegrationUpdate(rotate_key=action == "rotate")
    manage.update_integration(session, integration=integration, data=data)
    session.commit()
    done = {"enable": "enabled", "disable": "disabled", "rotate": "has a new key and URL"}
    return redirect(f"/integrations#integration-{integration_id}",
                    flash=f"Integration {integration.name} {done.get(action, 'unchanged')}.")
