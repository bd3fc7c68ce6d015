"""Routes: managing status pages (`/api/v1/statuspages`, signed in) and the public pages
themselves (`/status/<slug>/…`, no sign-in), served from their rendered files with
`ETag`/`Last-Modified`/`Cache-Control` and answering conditional requests with 304."""

from __future__ import annotations

import html
from collections.abc import Mapping
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tocsin.api import pagination
from tocsin.api.deps import Admin, Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.errors import Invalid, NotFound
from tocsin.limits import Id
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.statuspages import service
from tocsin.statuspages.models import (
    StatusComponent,
    StatusMaintenanceSeries,
    StatusPage,
    StatusPost,
    StatusRender,
    StatusSubscriber,
)
from tocsin.statuspages.schemas import (
    ComponentIn,
    ComponentOut,
    FileOut,
    FilesOut,
    Link,
    MaintenanceIn,
    OverrideIn,
    PageIn,
    PageOut,
    PageUpdate,
    PostIn,
    PostOut,
    SeriesOut,
    SubscribeIn,
    SubscriberOut,
    UpdateIn,
    UpdateOut,
)

router = APIRouter(prefix="/api/v1/statuspages", tags=["status pages"])
public_router = APIRouter(prefix="/status", tags=["public status pages"])


def _url(rt: Runtime) -> str:
    return rt.settings.public_url


def _page_out(rt: Runtime, page: StatusPage) -> PageOut:
    return PageOut(id=page.id, slug=page.slug, name=page.name, description=page.description,
                   logo_url=page.logo_url, brand_color=page.brand_color,
                   links=[Link(**link) for link in page.links],
                   time_zone=page.time_zone, url=f"{_url(rt)}/status/{page.slug}/")


def _refresh(session: Session, rt: Runtime, page: StatusPage) -> None:
    service.refresh(session, page=page, now=rt.clock.now(), base_url=_url(rt))


def _ids_page(ids: list[int], cursor: str | None, limit: int) -> Page[int]:
    """A page of ids (short lists loaded whole), in id order after the cursor."""
    return pagination.page_of_all(ids, cursor, limit, lambda i: i, lambda i: i)


@router.get("", response_model=Page[PageOut], summary="List status pages")
def list_pages(session: SessionDep, rt: RuntimeDep, who: Viewer, cursor: str | None = None,
               limit: Limit = 100) -> Page[PageOut]:
    pages = {p.id: p for p in service.list_pages(session)}
    found = _ids_page(sorted(pages), cursor, limit)
    return Page(items=[_page_out(rt, pages[i]) for i in found.items],
                next_cursor=found.next_cursor)


@router.post("", status_code=201, response_model=PageOut, summary="Create a status page")
def create_page(data: PageIn, session: SessionDep, rt: RuntimeDep, who: Admin) -> PageOut:
    page = service.create_page(session, data=data, now=rt.clock.now())
    _refresh(session, rt, page)
    session.commit()
    return _page_out(rt, page)


@router.get("/{page_id}", response_model=PageOut)
def get_page(page_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer) -> PageOut:
    return _page_out(rt, service.get_page(session, page_id))


@router.patch("/{page_id}", response_model=PageOut, summary="Change a page's branding")
def update_page(page_id: Id, data: PageUpdate, session: SessionDep, rt: RuntimeDep,
                who: Admin) -> PageOut:
    page = service.update_page(session, page=service.get_page(session, page_id), data=data,
                               now=rt.clock.now())
    _refresh(session, rt, page)
    session.commit()
    return _page_out(rt, page)


@router.delete("/{page_id}", status_code=204)
def delete_page(page_id: Id, session: SessionDep, who: Admin) -> Response:
    service.delete_page(session, page=service.get_page(session, page_id))
    session.commit()
    return Response(status_code=204)


# ---- components ---------------------------------------------------------------------------

def _component_out(session: Session, rt: Runtime, page: StatusPage,
                   components: list[StatusComponent]) -> list[ComponentOut]:
    derived = service.derived_statuses(session, page=page, now=rt.clock.now())
    services = service.services_of(session, [c.id for c in components])
    return [ComponentOut(id=c.id, page_id=c.page_id, name=c.name, description=c.description,
                         group_name=c.group_name, position=c.position,
                         service_ids=services[c.id], status=derived[c.id].status,
                         overridden=derived[c.id].overridden, override_note=c.override_note)
            for c in components]


@router.get("/{page_id}/components", response_model=Page[ComponentOut])
def list_components(page_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
                    cursor: str | None = None, limit: Limit = 100) -> Page[ComponentOut]:
    page = service.get_page(session, page_id)
    components = {c.id: c for c in service.list_components(session, page=page)}
    found = _ids_page(sorted(components), cursor, limit)
    return Page(items=_component_out(session, rt, page, [components[i] for i in found.items]),
                next_cursor=found.next_cursor)


@router.post("/{page_id}/components", status_code=201, response_model=ComponentOut)
def add_component(page_id: Id, data: ComponentIn, session: SessionDep, rt: RuntimeDep,
                  who: Responder) -> ComponentOut:
    page = service.get_page(session, page_id)
    service.require_component_change(session, actor=who, service_ids=data.service_ids)
    c = service.add_component(session, page=page, data=data, now=rt.clock.now())
    _refresh(session, rt, page)
    session.commit()
    return _component_out(session, rt, page, [c])[0]


@router.put("/{page_id}/components/{component_id}", response_model=ComponentOut)
def update_component(page_id: Id, component_id: Id, data: ComponentIn, session: SessionDep,
                     rt: RuntimeDep, who: Responder) -> ComponentOut:
    page = service.get_page(session, page_id)
    component = service.get_component(session, page=page, component_id=component_id)
    service.require_component_change(session, actor=who, service_ids=[
        *service.services_of(session, [component.id])[component.id], *data.service_ids])
    c = service.update_component(session, component=component, data=data, now=rt.clock.now())
    _refresh(session, rt, page)
    session.commit()
    return _component_out(session, rt, page, [c])[0]


@router.delete("/{page_id}/components/{component_id}", status_code=204)
def delete_component(page_id: Id, component_id: Id, session: SessionDep, rt: RuntimeDep,
                     who: Responder) -> Response:
    page = service.get_page(session, page_id)
    component = service.get_component(session, page=page, component_id=component_id)
    service.require_component_change(
        session, actor=who, service_ids=service.services_of(session, [component.id])[component.id])
    service.delete_component(session, component=component)
    session.flush()
    _refresh(session, rt, page)
    session.commit()
    return Response(status_code=204)


@router.put("/{page_id}/components/{component_id}/override", response_model=ComponentOut,
            summary="Set a component's status by hand (null: back to derived)")
def set_override(page_id: Id, component_id: Id, data: OverrideIn, session: SessionDep,
                 rt: RuntimeDep, who: Responder) -> ComponentOut:
    page = service.get_page(session, page_id)
    component = service.get_component(session, page=page, component_id=component_id)
    service.require_component_change(
        session, actor=who, service_ids=service.services_of(session, [component.id])[component.id])
    c = service.set_override(session, component=component, data=data, now=rt.clock.now())
    _refresh(session, rt, page)
    session.commit()
    return _component_out(session, rt, page, [c])[0]


# ---- posts --------------------------------------------------------------------------------

def _post_out(session: Session, rt: Runtime, page: StatusPage, post: StatusPost) -> PostOut:
    updates = service.updates_of(session, [post.id], published_only=False)[post.id]
    return PostOut(id=post.id, page_id=post.page_id, kind=post.kind, title=post.title,
                   incident_id=post.incident_id, stage=post.stage, impact=post.impact,
                   component_ids=post.component_ids, scheduled_for=post.scheduled_for,
                   scheduled_until=post.scheduled_until, published_at=post.published_at,
                   resolved_at=post.resolved_at,
                   updates=[UpdateOut(id=u.id, stage=u.stage, body=u.body,
                                      component_ids=u.component_ids,
                                      published_at=u.published_at, created_at=u.created_at)
                            for u in updates],
                   url=f"{_url(rt)}/status/{page.slug}/#post-{post.id}")


@router.get("/{page_id}/posts", response_model=Page[PostOut], summary="Posts, by id")
def list_posts(page_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
               cursor: str | None = None, limit: Limit = 100) -> Page[PostOut]:
    page = service.get_page(session, page_id)
    posts = {p.id: p for p in service.list_posts(session, page=page, limit=10_000)}
    found = _ids_page(sorted(posts), cursor, limit)
    return Page(items=[_post_out(session, rt, page, posts[i]) for i in found.items],
                next_cursor=found.next_cursor)


@router.post("/{page_id}/posts", status_code=201, response_model=PostOut,
             summary="Write a public post with its first update (or a draft of it)")
def create_post(page_id: Id, data: PostIn, session: SessionDep, rt: RuntimeDep,
                who: Responder) -> PostOut:
    page = service.get_page(session, page_id)
    post = service.create_post(session, page=page, actor=who, data=data, now=rt.clock.now(),
                               settings_url=_url(rt))
    session.commit()
    return _post_out(session, rt, page, post)


@router.post("/{page_id}/maintenance", status_code=201, response_model=PostOut | SeriesOut,
             summary="Announce a maintenance window: a one-off window as a maintenance post; "
                     "a recurring one as a series, each occurrence its own post")
def announce_maintenance(page_id: Id, data: MaintenanceIn, session: SessionDep,
                         rt: RuntimeDep, who: Responder) -> PostOut | SeriesOut:
    page = service.get_page(session, page_id)
    made = service.announce_maintenance(
        session, page=page, window_id=data.window_id, actor=who, title=data.title,
        body=data.body, component_ids=data.component_ids, now=rt.clock.now(),
        settings_url=_url(rt), horizon_days=data.horizon_days,
        default_horizon_days=rt.settings.statuspage_maintenance_horizon_days)
    session.commit()
    if isinstance(made, StatusMaintenanceSeries):
        return _series_out(session, rt, page, made)
    return _post_out(session, rt, page, made)


def _series_out(session: Session, rt: Runtime, page: StatusPage,
                series: StatusMaintenanceSeries) -> SeriesOut:
    return SeriesOut(id=series.id, page_id=series.page_id, window_id=series.window_id,
                     title=series.title, body=series.body, component_ids=series.component_ids,
                     horizon_days=series.horizon_days,
                     announced_through=series.announced_through,
                     created_at=series.created_at,
                     upcoming=[_post_out(session, rt, page, p)
                               for p in service.posts_of_series(session, series)])


@router.get("/{page_id}/maintenance-series", response_model=Page[SeriesOut],
            summary="Recurring maintenance windows announced on the page, by id")
def list_series(page_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
                cursor: str | None = None, limit: Limit = 100) -> Page[SeriesOut]:
    page = service.get_page(session, page_id)
    rows = {s.id: s for s in service.list_series(session, page=page)}
    found = _ids_page(sorted(rows), cursor, limit)
    return Page(items=[_series_out(session, rt, page, rows[i]) for i in found.items],
                next_cursor=found.next_cursor)


@router.delete("/{page_id}/maintenance-series/{series_id}", status_code=204,
               summary="Stop announcing a recurring window (posts already made stay)")
def stop_series(page_id: Id, series_id: Id, session: SessionDep, who: Responder) -> Response:
    page = service.get_page(session, page_id)
    service.stop_series(session, actor=who,
                        series=service.get_series(session, page=page, series_id=series_id))
    session.commit()
    return Response(status_code=204)


@router.get("/{page_id}/posts/{post_id}", response_model=PostOut)
def get_post(page_id: Id, post_id: Id, session: SessionDep, rt: RuntimeDep,
             who: Viewer) -> PostOut:
    page = service.get_page(session, page_id)
    return _post_out(session, rt, page, service.get_post(session, page=page, post_id=post_id))


@router.post("/{page_id}/posts/{post_id}/updates", status_code=201, response_model=PostOut,
             summary="Add an update (or a draft of one) to a post")
def add_update(page_id: Id, post_id: Id, data: UpdateIn, session: SessionDep, rt: RuntimeDep,
               who: Responder) -> PostOut:
    page = service.get_page(session, page_id)
    post = service.get_post(session, page=page, post_id=post_id)
    service.add_update(session, page=page, post=post, actor=who, data=data, now=rt.clock.now(),
                       settings_url=_url(rt))
    session.commit()
    return _post_out(session, rt, page, post)


@router.post("/{page_id}/posts/{post_id}/updates/{update_id}/publish", response_model=PostOut,
             summary="Publish a reviewed draft update")
def publish(page_id: Id, post_id: Id, update_id: Id, session: SessionDep, rt: RuntimeDep,
            who: Responder) -> PostOut:
    page = service.get_page(session, page_id)
    post = service.get_post(session, page=page, post_id=post_id)
    service.publish_draft(session, page=page, post=post, update_id=update_id, actor=who,
                          now=rt.clock.now(), settings_url=_url(rt))
    session.commit()
    return _post_out(session, rt, page, post)


@router.get("/{page_id}/drill-preview", response_class=HTMLResponse,
            summary="The page with running drills' posts on it (never the public page)")
def drill_preview(page_id: Id, session: SessionDep, rt: RuntimeDep,
                  who: Viewer) -> HTMLResponse:
    page = service.get_page(session, page_id)
    return HTMLResponse(service.drill_preview(session, page=page, now=rt.clock.now(),
                                              base_url=_url(rt)),
                        headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


@router.get("/{page_id}/files", response_model=FilesOut,
            summary="The page's rendered files (what `statuspage export` copies)")
def list_files(page_id: Id, session: SessionDep, who: Viewer) -> FilesOut:
    """One page's fixed set of files (about a dozen), not a collection that grows."""
    return FilesOut(files=[
        FileOut(name=f.name, content_type=f.content_type, etag=f.etag,
                rendered_at=f.rendered_at)
        for f in service.files_of(session, page=service.get_page(session, page_id))])


@router.get("/{page_id}/subscribers", response_model=Page[SubscriberOut],
            summary="Subscribers, by id (private: admins only)")
def list_subscribers(page_id: Id, session: SessionDep, who: Admin, cursor: str | None = None,
                     limit: Limit = 100) -> Page[SubscriberOut]:
    page = service.get_page(session, page_id)
    rows = service.list_subscribers(session, page=page, after_id=pagination.decode(cursor),
                                    limit=limit + 1)
    return pagination.page(rows, limit, _sub_out, lambda s: s.id)


def _sub_out(s: StatusSubscriber) -> SubscriberOut:
    return SubscriberOut(id=s.id, kind=s.kind, address=s.address, component_ids=s.component_ids,
                         confirmed=s.confirmed_at is not None,
                         unsubscribed=s.unsubscribed_at is not None, created_at=s.created_at)


# ---- the public page --------------------------------------------------------------------

def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _message(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport "
        "content='width=device-width'><meta name=color-scheme content='light dark'>"
        f"<title>{html.escape(title)}</title></head><body style='font-family:system-ui,"
        f"sans-serif;max-width:32em;margin:2em auto;padding:0 1em'><h1>{html.escape(title)}"
        f"</h1>{body}</body></html>", status_code=status, headers={"Cache-Control": "no-store"})


@public_router.post("/{slug}/subscribe", summary="Subscribe by email (double opt-in)")
async def subscribe(slug: str, request: Request, session: SessionDep,
                    rt: RuntimeDep) -> Response:
    """A JSON body (`SubscribeIn`) or the page's form (`email`, optional `component`)."""
    form = request.headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded")
    try:
        if form:
            fields = await request.form()
            data = SubscribeIn(kind="email", address=str(fields.get("email", "")),
                               component_ids=[int(str(v)) for v in fields.getlist("component")
                                              if str(v).isdigit()])
        else:
            data = SubscribeIn.model_validate_json(await request.body())
    except ValueError as exc:
        raise Invalid(f"subscription: {exc}") from None
    page = service.page_by_slug(session, slug)
    service.subscribe(session, page=page, data=data, client=_client(request),
                      now=rt.clock.now(), base_url=_url(rt),
                      outbound=rt.settings.outbound_policy, limits=service.SubscribeLimits(
                          per_address=rt.settings.statuspage_subscribe_per_address,
                          per_client=rt.settings.statuspage_subscribe_per_client))
    session.commit()
    text = ("Check your inbox: we sent a link to confirm the subscription. Nothing is sent "
            "until you confirm.")
    if form:
        return _message("Almost done", f"<p>{text}</p><p><a href='./'>Back</a></p>", 202)
    return Response(status_code=202, content='{"status":"confirmation sent"}',
                    media_type="application/json")


@public_router.get("/{slug}/confirm/{token}", response_class=HTMLResponse)
def confirm(slug: str, token: str, session: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    """A GET from the mail's link confirms (the read-only session is swapped for a
    writer: a confirmation must stick)."""
    with rt.sessions() as writer, writer.begin():
        page = service.page_by_slug(writer, slug)
        service.confirm(writer, page=page, token=token, now=rt.clock.now())
        name = page.name
    return _message("Subscribed", f"<p>You will receive updates from the {html.escape(name)} "
                    "status page. Every message has a link to unsubscribe.</p>")


@public_router.get("/{slug}/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_form(slug: str, token: str, session: SessionDep) -> HTMLResponse:
    """A link scanner's GET changes nothing: the page asks for one click (a POST)."""
    service.page_by_slug(session, slug)
    return _message("Unsubscribe", "<form method=post><button type=submit>Unsubscribe"
                    "</button></form>")


@public_router.post("/{slug}/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe(slug: str, token: str, session: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    """One click (RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` here)."""
    page = service.page_by_slug(session, slug)
    service.unsubscribe(session, page=page, token=token, now=rt.clock.now())
    session.commit()
    return _message("Unsubscribed", "<p>You will receive no more updates.</p>")


def app_origin(settings: Settings) -> str | None:
    """The origin of the configured `base_url` (scheme://host[:port]), or None when unset."""
    if not settings.base_url:
        return None
    parts = urlsplit(settings.base_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def file_headers(row: StatusRender, max_age: int, app: str | None = None) -> dict[str, str]:
    """The headers a rendered file is served with (both fast doors send the same). `app`:
    the app's own origin (`app_origin`), where the page's subscribe form may also post —
    the status listener redirects that form there."""
    modified = row.rendered_at.replace(microsecond=0)
    headers = {"ETag": row.etag, "Last-Modified": format_datetime(modified, usegmt=True),
               "Cache-Control": f"public, max-age={max_age}",
               "Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
    if row.name.endswith(".html"):
        form = f"'self' {app}" if app else "'self'"
        headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                              f"img-src https: http: data:; form-action {form}")
    return headers


def not_modified(request_headers: Mapping[str, str], etag: str, modified: float) -> bool:
    """Whether the client's copy is current: `If-None-Match` decides when sent, otherwise
    `If-Modified-Since` (RFC 9110 13.2.2)."""
    match = request_headers.get("if-none-match")
    if match is not None:
        return match.strip() == "*" or etag in [m.strip() for m in match.split(",")]
    since = request_headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return modified <= parsedate_to_datetime(since).timestamp()
    except (TypeError, ValueError):
        return False


def serve_file(session: Session, *, slug: str, name: str, request: Request,
               settings: Settings) -> Response:
    """One rendered file, with its validators; 304 when the client's copy is current."""
    try:
        row = service.rendered(session, slug=slug, name=name)
    except NotFound:
        return Response(status_code=404, content="not found", media_type="text/plain")
    headers = file_headers(row, settings.statuspage_max_age_seconds, app_origin(settings))
    if not_modified(request.headers, row.etag, row.rendered_at.replace(microsecond=0).timestamp()):
        return Response(status_code=304, headers=headers)
    return Response(content=row.body, media_type=row.content_type, headers=headers)


@public_router.get("/{slug}/", summary="The public page")
def index(slug: str, request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    return serve_file(session, slug=slug, name="index.html", request=request,
                      settings=rt.settings)


@public_router.get("/{slug}/{name:path}", summary="A file of the public page (feeds, JSON)")
def public_file(slug: str, name: str, request: Request, session: SessionDep,
                rt: RuntimeDep) -> Response:
    return serve_file(session, slug=slug, name=name or "index.html", request=request,
                      settings=rt.settings)


