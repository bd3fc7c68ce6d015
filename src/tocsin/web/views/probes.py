"""Probe locations: list (status, last contact, checks assigned), register (the token shown
once, with the command that starts the agent), revoke."""

from __future__ import annotations

from collections import Counter

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.checks import probes
from tocsin.checks.models import Check
from tocsin.checks.schemas import ProbeCreate
from tocsin.errors import TocsinError
from tocsin.limits import Id
from tocsin.web import forms
from tocsin.web.auth import AdminUser, Form, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
NAME_RULE = ("lower-case letters, digits, '.', '_' and '-', starting with a letter or digit "
             "(e.g. eu-west)")


def assigned_counts(session: Session) -> Counter[str]:
    """Location name -> enabled checks that run there. `locations` is JSON, so counted here
    rather than in SQL (portable; a few thousand small rows)."""
    counts: Counter[str] = Counter()
    for locations in session.scalars(select(Check.locations).where(Check.enabled.is_(True))):
        counts.update(set(locations))
    return counts


def _list_page(request: Request, session: Session, who: WebUser, *, name: str = "",
               errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return pages_of(request).render(
        request, "probes/list.html", who, status_code=status_code,
        rows=probes.list_probes(session), assigned=assigned_counts(session),
        name=name, errors=errors or {}, name_rule=NAME_RULE)


@router.get("/probes")
def probe_list(request: Request, session: SessionDep, who: ViewerUser) -> Response:
    return _list_page(request, session, who)


def agent_command(server: str, token: str, name: str) -> str:
    return f"tocsin probe --server {server} --token {token} --location {name}"


@router.post("/probes")
def register(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
             form: Form) -> Response:
    """Register a probe and show its token this once: only its hash is stored, so the page
    is the one place it can be copied from (and is marked not to be cached)."""
    name = forms.text(form, "name")
    errors: dict[str, str] = {}
    try:
        data = forms.build(ProbeCreate, {"name": name}, errors)
        probe, token = probes.create_probe(session, data=data, now=rt.clock.now())
    except forms.FormErrors as exc:
        session.rollback()
        if exc.errors.get("name", "").startswith("String should match pattern"):
            exc.errors["name"] = NAME_RULE
        return _list_page(request, session, who, name=name, errors=exc.errors,
                          status_code=422)
    except TocsinError as exc:
        session.rollback()
        return _list_page(request, session, who, name=name, errors={"name": exc.detail},
                          status_code=exc.status_code)
    session.commit()
    response = pages_of(request).render(
        request, "probes/created.html", who, probe=probe, token=token,
        command=agent_command(rt.settings.public_url, token, probe.name))
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/probes/{probe_id}/delete")
def revoke(probe_id: Id, session: SessionDep, rt: RuntimeDep, who: AdminUser,
           form: Form) -> Response:
    probe = probes.get_probe(session, probe_id)
    name = probe.name
    probes.delete_probe(session, probe, now=rt.clock.now(), settings=rt.settings)
    session.commit()
    return redirect("/probes", flash=f"Probe {name} deleted; its token no longer works.")
