"""Checks: the list (filters, search, keyset pages), the create form, YAML import and export."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from tocsin.api import pagination
from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.checks import service as checks
from tocsin.checks import yamlio
from tocsin.checks.models import Check, CheckKind, CheckStatus
from tocsin.checks.schemas import CheckCreate, CheckUpdate
from tocsin.errors import Conflict, Invalid, TocsinError
from tocsin.limits import Id, whole_number
from tocsin.runtime import Runtime
from tocsin.web import check_forms, check_queries, forms, queries
from tocsin.web.auth import AdminUser, Form, ViewerUser, WebUser
from tocsin.web.render import no_cache, pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
PAGE_SIZE = 50
IMPORT_LIMIT = 5 * 1024 * 1024  # as the API's import


def kinds() -> list[str]:
    return [k.value for k in CheckKind]


@router.get("/checks")
def check_list(request: Request, session: SessionDep, rt: RuntimeDep, who: ViewerUser,
               status: str = "", kind: str = "", service: str = "", q: str = "",
               cursor: str | None = None) -> Response:
    chosen = {"status": status if status in {s.value for s in CheckStatus} else "",
              "kind": kind if kind in kinds() else "",
              "service": service if whole_number(service) else "", "q": q.strip()[:200]}
    filters = check_queries.CheckFilters(
        status=chosen["status"], kind=chosen["kind"],
        service_id=whole_number(chosen["service"]), search=chosen["q"])
    rows, after = check_queries.list_page(
        session, filters=filters, after_id=pagination.decode(cursor), limit=PAGE_SIZE,
        now=rt.clock.now())
    params = {k: v for k, v in chosen.items() if v}
    next_query = (urlencode({**params, "cursor": pagination.encode(after)})
                  if after is not None else None)
    return pages_of(request).render(
        request, "checks/list.html", who, rows=rows, chosen=chosen,
        first_query=urlencode(params), next_query=next_query, first_page=cursor is None,
        counts=checks.count_by_status(session),
        statuses=[s.value for s in CheckStatus], kinds=kinds(),
        all_services=queries.service_choices(session),
        service_names=queries.service_names(session, [r.service_id for r in rows]))


def form_page(request: Request, session: Session, who: WebUser, *, values: dict[str, Any],
              check_id: Id | None, errors: dict[str, str] | None = None,
              status_code: int = 200) -> Response:
    return pages_of(request).render(
        request, "checks/form.html", who, status_code=status_code, values=values,
        errors=errors or {}, check_id=check_id, kind=values["kind"],
        fields=check_forms.fields_for(values["kind"]), services=queries.service_choices(session))


@router.get("/checks/new")
def new_form(request: Request, session: SessionDep, who: AdminUser, kind: str = "") -> Response:
    if kind not in kinds():
        return pages_of(request).render(request, "checks/choose_kind.html", who, kinds=kinds())
    return form_page(request, session, who, values=check_forms.new_values(kind), check_id=None)


def known_fields(kind: str) -> set[str]:
    return set(check_forms.COMMON) | {f"config.{f.name}" for f in check_forms.fields_for(kind)}


def domain_errors(exc: TocsinError, kind: str) -> dict[str, str]:
    if isinstance(exc, Conflict):
        return {"name": exc.detail}
    return check_forms.field_errors(exc.detail, known_fields(kind))


def save(request: Request, session: Session, rt: Runtime, who: WebUser, form: FormData,
         check: Check | None) -> Response:
    """Create a check (`check` None) or change one from its posted form."""
    kind = check.kind if check else forms.text(form, "kind")
    if kind not in kinds():
        return redirect("/checks/new")
    check_id = check.id if check else None
    values = {**check_forms.common_values(form), "kind": kind,
              **check_forms.posted_values(form, kind)}
    errors: dict[str, str] = {}
    config = check_forms.read_config(form, kind, errors)
    if not values["service_id"]:
        errors["service_id"] = "choose a service"
    try:  # the settings too, so an empty form lists every missing field at once
        checks.validate_config(CheckKind(kind), config)
    except Invalid as exc:
        errors.update(check_forms.field_errors(exc.detail, known_fields(kind)))
    body = check_forms.payload(values, config)
    try:
        if check is None:
            check = checks.create_check(session, data=forms.build(
                CheckCreate, {**body, "kind": kind, "enabled": values["enabled"]}, errors),
                now=rt.clock.now(), settings=rt.settings)
        else:
            checks.update_check(session, check=check, data=forms.build(CheckUpdate, body, errors),
                                now=rt.clock.now(), settings=rt.settings)
            session.flush()
    except forms.FormErrors as exc:
        session.rollback()
        return form_page(request, session, who, values=values, check_id=check_id,
                         errors=exc.errors, status_code=422)
    except TocsinError as exc:
        session.rollback()
        return form_page(request, session, who, values=values, check_id=check_id,
                         errors=domain_errors(exc, kind), status_code=exc.status_code)
    session.commit()
    return redirect(f"/checks/{check.id}",
                    flash=f"Check {check.name} {'saved' if check_id else 'created'}.")


@router.post("/checks/new")
def create(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
           form: Form) -> Response:
    return save(request, session, rt, who, form, None)


@router.get("/checks/export")
def export(request: Request, session: SessionDep, who: AdminUser) -> Response:
    response = Response(yamlio.export_yaml(session), media_type="application/yaml", headers={
        "Content-Disposition": 'attachment; filename="tocsin-checks.yaml"'})
    return no_cache(response)


@router.get("/checks/import")
def import_form(request: Request, who: AdminUser) -> Response:
    return pages_of(request).render(request, "checks/import.html", who, values={}, errors={})


@router.post("/checks/import")
def import_checks(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
                  form: Form) -> Response:
    upload = form.get("file")
    raw = upload.file.read(IMPORT_LIMIT + 1) if isinstance(upload, UploadFile) else b""
    text = raw.decode("utf-8", errors="replace") if raw else forms.text(form, "yaml")
    try:
        if len(raw) > IMPORT_LIMIT or len(text) > IMPORT_LIMIT:
            raise Invalid("the YAML file is larger than 5 MB")
        if not text:
            raise Invalid("paste YAML or choose a file")
        done = yamlio.import_yaml(session, text, now=rt.clock.now(), settings=rt.settings)
    except TocsinError as exc:
        session.rollback()
        return pages_of(request).render(
            request, "checks/import.html", who, status_code=exc.status_code,
            values={"yaml": text if not raw else ""}, errors={"yaml": exc.detail})
    session.commit()
    return redirect("/checks", flash=f"Imported: {len(done['created'])} created, "
                                     f"{len(done['updated'])} updated.")
