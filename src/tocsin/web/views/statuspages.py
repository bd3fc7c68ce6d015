"""Status page editor: pages, components (with overrides), posts and updates, with a
preview before publishing. The public page itself is rendered by statuspages/."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import TocsinError
from tocsin.limits import Id
from tocsin.markup import to_html
from tocsin.statuspages import service as sp
from tocsin.statuspages.components import ComponentStatus
from tocsin.statuspages.models import StatusPage
from tocsin.statuspages.schemas import ComponentIn, OverrideIn, PageIn, PostIn, UpdateIn
from tocsin.statuspages.stages import INCIDENT_STAGES
from tocsin.web import forms, queries
from tocsin.web.auth import AdminUser, Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()


@router.get("/statuspages")
def page_list(request: Request, session: SessionDep, who: ViewerUser) -> Response:
    return pages_of(request).render(request, "statuspages/list.html", who,
                                    rows=sp.list_pages(session), errors={}, values={})


@router.post("/statuspages")
def create_page(request: Request, session: SessionDep, rt: RuntimeDep, who: AdminUser,
                form: Form) -> Response:
    values = {"slug": forms.text(form, "slug"), "name": forms.text(form, "name"),
              "time_zone": forms.text(form, "time_zone") or "UTC",
              "brand_color": forms.text(form, "brand_color") or "#1f6feb"}
    try:
        page = sp.create_page(session, data=forms.build(PageIn, values), now=rt.clock.now())
        sp.refresh(session, page=page, now=rt.clock.now(), base_url=rt.settings.public_url)
    except forms.FormErrors as exc:
        session.rollback()
        return pages_of(request).render(request, "statuspages/list.html", who, status_code=422,
                                        rows=sp.list_pages(session), errors=exc.errors,
                                        values=values)
    except TocsinError as exc:
        session.rollback()
        return pages_of(request).render(
            request, "statuspages/list.html", who, status_code=exc.status_code,
            rows=sp.list_pages(session), errors=forms.from_domain(exc), values=values)
    session.commit()
    return redirect(f"/statuspages/{page.id}", flash=f"Status page {page.name} created.")


def _editor(request: Request, session: Session, rt: Any, who: WebUser, page: StatusPage, *,
            errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
            preview: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    components = sp.list_components(session, page=page)
    derived = sp.derived_statuses(session, page=page, now=rt.clock.now())
    posts = sp.list_posts(session, page=page)
    return pages_of(request).render(
        request, "statuspages/editor.html", who, status_code=status_code, page=page,
        components=components, derived=derived,
        services=sp.services_of(session, [c.id for c in components]),
        service_choices=queries.service_choices(session), posts=posts,
        service_names=dict(queries.service_choices(session)),
        component_choices=[(c.id, c.name) for c in components],
        updates=sp.updates_of(session, [p.id for p in posts], published_only=False),
        statuses=[(s.value, s.label) for s in ComponentStatus], stages=INCIDENT_STAGES,
        errors=errors or {}, values=values or {}, preview=preview, markdown=to_html,
        public_url=f"/status/{page.slug}/")


@router.get("/statuspages/{page_id}/drill-preview")
def drill_preview(page_id: Id, session: SessionDep, rt: RuntimeDep,
                  who: ViewerUser) -> Response:
    """The page with the running drills' posts on it, for signed-in people only (the comms
    role rehearses its updates here; the public page never shows a drill)."""
    page = sp.get_page(session, page_id)
    html = sp.drill_preview(session, page=page, now=rt.clock.now(),
                            base_url=rt.settings.public_url)
    return Response(content=html, media_type="text/html; charset=utf-8", headers={
        "Cache-Control": "no-store", "X-Robots-Tag": "noindex",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                   "img-src https: http: data:; frame-ancestors 'none'"})


@router.get("/statuspages/{page_id}")
def editor(request: Request, page_id: Id, session: SessionDep, rt: RuntimeDep,
           who: ViewerUser) -> Response:
    return _editor(request, session, rt, who, sp.get_page(session, page_id))


def _done(session: Session, rt: Any, page: StatusPage, flash: str) -> Response:
    sp.refresh(session, page=page, now=rt.clock.now(), base_url=rt.settings.public_url)
    session.commit()
    return redirect(f"/statuspages/{page.id}", flash=flash)


def _failed(request: Request, session: Session, rt: Any, who: WebUser, page_id: int,
            exc: Exception, values: dict[str, Any]) -> Response:
    session.rollback()
    page = sp.get_page(session, page_id)
    if isinstance(exc, forms.FormErrors):
        return _editor(request, session, rt, who, page, errors=exc.errors, values=values,
                       status_code=422)
    assert isinstance(exc, TocsinError)
    return _editor(request, session, rt, who, page, errors=forms.from_domain(exc),
                   values=values, status_code=exc.status_code)


@router.post("/statuspages/{page_id}/components")
def add_component(request: Request, page_id: Id, session: SessionDep, rt: RuntimeDep,
                  who: ResponderUser, form: Form) -> Response:
    service_ids = forms.ints(form, "service_ids")
    values = {"name": forms.text(form, "name"), "group_name": forms.text(form, "group_name"),
              "service_ids": service_ids}
    try:
        page = sp.get_page(session, page_id)
        sp.require_component_change(session, actor=who.principal, service_ids=service_ids)
        sp.add_component(session, page=page, data=forms.build(ComponentIn, values),
                         now=rt.clock.now())
        session.flush()
    except (forms.FormErrors, TocsinError) as exc:
        return _failed(request, session, rt, who, page_id, exc, values)
    return _done(session, rt, page, f"Component {values['name']} added.")


@router.post("/statuspages/{page_id}/components/{component_id}/override")
def override(request: Request, page_id: Id, component_id: Id, session: SessionDep,
             rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    status = forms.text(form, "status")
    values = {"status": None if status in ("", "derived") else status,
              "note": forms.text(form, "note")}
    try:
        page = sp.get_page(session, page_id)
        component = sp.get_component(session, page=page, component_id=component_id)
        sp.require_component_change(session, actor=who.principal, service_ids=sp.services_of(
            session, [component.id])[component.id])
        sp.set_override(session, component=component, data=forms.build(OverrideIn, values),
                        now=rt.clock.now())
    except (forms.FormErrors, TocsinError) as exc:
        return _failed(request, session, rt, who, page_id, exc, {})
    return _done(session, rt, page, "Component status saved.")


def _post_values(form: Any) -> dict[str, Any]:
    return {"title": forms.text(form, "title"), "stage": forms.text(form, "stage"),
            "body": forms.text(form, "body"), "component_ids": forms.ints(form, "component_ids"),
            "incident_id": forms.text(form, "incident_id") or None,
            "draft": forms.text(form, "action") == "draft"}


@router.post("/statuspages/{page_id}/posts")
def create_post(request: Request, page_id: Id, session: SessionDep, rt: RuntimeDep,
                who: ResponderUser, form: Form) -> Response:
    values = _post_values(form)
    page = sp.get_page(session, page_id)
    if forms.text(form, "action") == "preview":
        names = {c.id: c.name for c in sp.list_components(session, page=page)}
        return _editor(request, session, rt, who, page, values=values, preview={
            **values, "body_html": to_html(values["body"]),
            "components": [names.get(i, "?") for i in values["component_ids"]]})
    try:
        post = sp.create_post(session, page=page, actor=who.principal,
                              data=forms.build(PostIn, values), now=rt.clock.now(),
                              settings_url=rt.settings.public_url)
    except (forms.FormErrors, TocsinError) as exc:
        return _failed(request, session, rt, who, page_id, exc, values)
    session.commit()
    what = "saved as a draft" if values["draft"] else "published"
    return redirect(f"/statuspages/{page.id}", flash=f"Post {post.title} {what}.")


@router.post("/statuspages/{page_id}/posts/{post_id}/updates")
def add_update(request: Request, page_id: Id, post_id: Id, session: SessionDep,
               rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    values = {"stage": forms.text(form, "stage"), "body": forms.text(form, "body"),
              "draft": forms.text(form, "action") == "draft"}
    try:
        page = sp.get_page(session, page_id)
        sp.add_update(session, page=page, post=sp.get_post(session, page=page, post_id=post_id),
                      actor=who.principal, data=forms.build(UpdateIn, values),
                      now=rt.clock.now(), settings_url=rt.settings.public_url)
    except (forms.FormErrors, TocsinError) as exc:
        return _failed(request, session, rt, who, page_id, exc, values)
    session.commit()
    return redirect(f"/statuspages/{page.id}", flash="Update saved.")


@router.post("/statuspages/{page_id}/posts/{post_id}/updates/{update_id}/publish")
def publish(request: Request, page_id: Id, post_id: Id, update_id: Id, session: SessionDep,
            rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    try:
        page = sp.get_page(session, page_id)
        sp.publish_draft(session, page=page, post=sp.get_post(session, page=page,
                                                             post_id=post_id),
                         update_id=update_id, actor=who.principal, now=rt.clock.now(),
                         settings_url=rt.settings.public_url)
    except TocsinError as exc:
        return _failed(request, session, rt, who, page_id, exc, {})
    session.commit()
    return redirect(f"/statuspages/{page.id}", flash="Draft published.")
