"""Status pages: pages, components, public posts, rendering on change, subscribers.

What a page shows is read through one rule (`_PUBLIC`, the incidents' visibility rule seen
by an anonymous reader): a restricted incident never derives a component's status, never
counts in uptime, and a post linked to it is never shown, in any rendered format. A post is
written separately from its incident, so the incident's own title and timeline never reach
the page. Files are rendered when what they show changes (`refresh`), not per request.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.alerts import suppress
from tocsin.alerts.models import MaintenanceWindow
from tocsin.catalog.models import Service
from tocsin.checks.models import Check, CheckRollup
from tocsin.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident, IncidentService, not_drill
from tocsin.incidents.visibility import visible_incident
from tocsin.notify import service as notify
from tocsin.outbound import OutboundPolicy, refused_message, url_refusal
from tocsin.principal import Principal, Role
from tocsin.statuspages import components as comp
from tocsin.statuspages import recurring, render, stages, uptime
from tocsin.statuspages.models import (
    StatusComponent,
    StatusComponentService,
    StatusMaintenanceSeries,
    StatusPage,
    StatusPageState,
    StatusPost,
    StatusPostUpdate,
    StatusRender,
    StatusSubscriber,
)
from tocsin.statuspages.schemas import (
    ComponentIn,
    OverrideIn,
    PageIn,
    PageUpdate,
    PostIn,
    SubscribeIn,
    UpdateIn,
)

# The reader of a public page: no user, no role beyond viewing.
_PUBLIC = Principal(user_id=0, role=Role.VIEWER)
UPTIME_DAYS = 90


def _shown_publicly() -> ColumnElement[bool]:
    """Incidents a public page may derive from, count or show: those the public may see
    (the one visibility rule), and never a drill (drills/: game days stay off real pages)."""
    return visible_incident(_PUBLIC) & not_drill()

_OPEN = (lc.Status.RESOLVED.value, lc.Status.CLOSED.value)
_EMAIL = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")


@dataclass(frozen=True)
class SubscribeLimits:
    per_address: int = 3      # subscriptions per address per window
    per_client: int = 20      # per client (IP address) per window
    window: timedelta = timedelta(hours=1)


# ---- pages -------------------------------------------------------------------------------------

def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"time_zone: unknown time zone '{name}'") from None
    return name


def create_page(session: Session, *, data: PageIn, now: datetime) -> StatusPage:
    if session.scalars(select(StatusPage.id).where(StatusPage.slug == data.slug)).first():
        raise Conflict(f"a status page with slug '{data.slug}' exists")
    page = StatusPage(slug=data.slug, name=data.name, description=data.description,
                      logo_url=data.logo_url, brand_color=data.brand_color,
                      links=[link.model_dump() for link in data.links],
                      time_zone=_zone(data.time_zone), created_at=now, updated_at=now)
    session.add(page)
    session.flush()
    return page


def update_page(session: Session, *, page: StatusPage, data: PageUpdate,
                now: datetime) -> StatusPage:
    values = data.model_dump(exclude_unset=True, exclude_none=True)
    if "time_zone" in values:
        _zone(values["time_zone"])
    for key, value in values.items():
        setattr(page, key, value)
    page.updated_at = now
    return page


def get_page(session: Session, page_id: int) -> StatusPage:
    page = session.get(StatusPage, page_id)
    if page is None:
        raise NotFound(f"no status page with id {page_id}")
    return page


def page_by_slug(session: Session, slug: str) -> StatusPage:
    page = session.scalars(select(StatusPage).where(StatusPage.slug == slug)).first()
    if page is None:
        raise NotFound(f"no status page '{slug}'")
    return page


def list_pages(session: Session) -> list[StatusPage]:
    return list(session.scalars(select(StatusPage).order_by(StatusPage.id)))


def delete_page(session: Session, *, page: StatusPage) -> None:
    session.delete(page)


# ---- components --------------------------------------------------------------------------------

def _services_exist(session: Session, ids: Sequence[int]) -> None:
    found = set(session.scalars(select(Service.id).where(Service.id.in_(ids))))
    missing = sorted(set(ids) - found)
    if missing:
        raise Invalid(f"service_ids: no service with id {', '.join(map(str, missing))}")


def add_component(session: Session, *, page: StatusPage, data: ComponentIn,
                  now: datetime) -> StatusComponent:
    _services_exist(session, data.service_ids)
    c = StatusComponent(page_id=page.id, name=data.name, description=data.description,
                        group_name=data.group_name, position=data.position, created_at=now,
                        updated_at=now)
    session.add(c)
    session.flush()
    for sid in sorted(set(data.service_ids)):
        session.add(StatusComponentService(component_id=c.id, service_id=sid))
    return c


def get_component(session: Session, *, page: StatusPage, component_id: int) -> StatusComponent:
    c = session.get(StatusComponent, component_id)
    if c is None or c.page_id != page.id:
        raise NotFound(f"no component with id {component_id} on page '{page.slug}'")
    return c


def update_component(session: Session, *, component: StatusComponent, data: ComponentIn,
                     now: datetime) -> StatusComponent:
    _services_exist(session, data.service_ids)
    component.name, component.description = data.name, data.description
    component.group_name, component.position = data.group_name, data.position
    component.updated_at = now
    session.execute(delete(StatusComponentService).where(
        StatusComponentService.component_id == component.id))
    for sid in sorted(set(data.service_ids)):
        session.add(StatusComponentService(component_id=component.id, service_id=sid))
    return component


def delete_component(session: Session, *, component: StatusComponent) -> None:
    session.delete(component)


def set_override(session: Session, *, component: StatusComponent, data: OverrideIn,
                 now: datetime) -> StatusComponent:
    component.override_status = data.status.value if data.status else None
    component.override_note = data.note if data.status else ""
    component.updated_at = now
    return component


def list_components(session: Session, *, page: StatusPage) -> list[StatusComponent]:
    return list(session.scalars(select(StatusComponent).where(
        StatusComponent.page_id == page.id).order_by(StatusComponent.position,
                                                     StatusComponent.id)))


def require_component_change(session: Session, *, actor: Principal,
                             service_ids: Sequence[int]) -> None:
    """A component belongs to the teams owning its services: only their managers (or
    admins) change it (accounts' one team rule); a component of no team's service, admins."""
    teams = set(session.scalars(select(Service.owner_team_id).where(
        Service.id.in_(service_ids)))) if service_ids else {None}
    for team_id in sorted(teams, key=lambda t: -1 if t is None else t):
        accounts.require_team_manager(session, actor=actor, team_id=team_id,
                                      what="this status page component")


def services_of(session: Session, component_ids: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {cid: [] for cid in component_ids}
    for cid, sid in session.execute(select(
            StatusComponentService.component_id, StatusComponentService.service_id).where(
            StatusComponentService.component_id.in_(component_ids)).order_by(
            StatusComponentService.service_id)):
        out[cid].append(sid)
    return out


def derived_statuses(session: Session, *, page: StatusPage, now: datetime,
                     shown: ColumnElement[bool] | None = None) -> dict[int, comp.Derived]:
    """Each component's status now: from the open incidents the public may see on its
    services (`shown`: another rule, for the drill preview), active maintenance windows,
    and its override."""
    components = list_components(session, page=page)
    services = services_of(session, [c.id for c in components])
    all_services = sorted({s for ids in services.values() for s in ids})
    severities: dict[int, list[str]] = {}
    for sid, severity in session.execute(
            select(IncidentService.service_id, Incident.severity)
            .join(Incident, Incident.id == IncidentService.incident_id)
            .where(IncidentService.service_id.in_(all_services),
                   Incident.status.not_in(_OPEN),
                   _shown_publicly() if shown is None else shown)):
        severities.setdefault(sid, []).append(severity)
    maintained = _in_maintenance(session, all_services, now)
    posted = {cid for ids in session.scalars(select(StatusPost.component_ids).where(
        StatusPost.page_id == page.id, StatusPost.kind == "maintenance",
        StatusPost.stage.in_(("in_progress", "verifying")))) for cid in ids}
    return {c.id: comp.derive(
        open_severities=[s for sid in services[c.id] for s in severities.get(sid, [])],
        in_maintenance=c.id in posted or any(sid in maintained for sid in services[c.id]),
        override=c.override_status) for c in components}


def _in_maintenance(session: Session, service_ids: list[int], now: datetime) -> set[int]:
    windows = session.scalars(select(MaintenanceWindow).where(
        (MaintenanceWindow.service_id.in_(service_ids))
        | MaintenanceWindow.service_id.is_(None)))
    out: set[int] = set()
    for w in windows:
        if suppress.window_active(suppress.Window(
                id=w.id, name=w.name, starts_at=w.starts_at, ends_at=w.ends_at,
                weekdays=list(w.weekdays), start_time=w.start_time,
                duration_minutes=w.duration_minutes, time_zone=w.time_zone), now):
            out.update(service_ids if w.service_id is None else [w.service_id])
    return out


# ---- posts ------------------------------------------------------------------------------------

def _check_components(session: Session, page: StatusPage, ids: Sequence[int]) -> list[int]:
    on_page = set(session.scalars(select(StatusComponent.id).where(
        StatusComponent.page_id == page.id)))
    unknown = sorted(set(ids) - on_page)
    if unknown:
        raise Invalid(f"component_ids: no component {', '.join(map(str, unknown))} on page "
                      f"'{page.slug}'")
    return sorted(set(ids))


def _may_publish(session: Session, actor: Principal, incident_id: int | None) -> None:
    """One author of external updates: the linked incident's communications lead, or an
    admin."""
    if actor.is_admin:
        return
    incident = session.get(Incident, incident_id) if incident_id else None
    if incident is not None and incident.comms_lead_id == actor.user_id:
        return
    raise Forbidden("only the incident's communications lead or an admin publishes to a "
                    "status page; save it as a draft for them to review")


def create_post(session: Session, *, page: StatusPage, actor: Principal, data: PostIn,
                now: datetime, settings_url: str, render_page: bool = True) -> StatusPost:
    """A post with its first update (published unless `data.draft`). `render_page=False`
    leaves rendering the page's files to the caller (one render after many posts)."""
    order = stages.stages_of(data.kind)
    stages.check_update(kind=data.kind, current=None, new=data.stage, body=data.body)
    component_ids = _check_components(session, page, data.component_ids)
    if data.incident_id is not None:
        incident = session.scalars(select(Incident).where(
            Incident.id == data.incident_id, visible_incident(actor))).first()
        if incident is None:
            raise NotFound(f"no incident with id {data.incident_id}")
    if data.maintenance_window_id is not None and session.get(
            MaintenanceWindow, data.maintenance_window_id) is None:
        raise NotFound(f"no maintenance window with id {data.maintenance_window_id}")
    if data.kind == "maintenance" and (data.scheduled_for is None
                                       or data.scheduled_until is None):
        raise Invalid("scheduled_for, scheduled_until: a maintenance post needs both")
    if data.scheduled_for and data.scheduled_until and data.scheduled_until <= data.scheduled_for:
        raise Invalid("scheduled_until: must be after scheduled_for")
    if not data.draft:
        _may_publish(session, actor, data.incident_id)
    post = StatusPost(page_id=page.id, kind=data.kind, incident_id=data.incident_id,
                      maintenance_window_id=data.maintenance_window_id, title=data.title,
                      stage=data.stage if not data.draft else order[0], impact=data.impact,
                      component_ids=component_ids, scheduled_for=data.scheduled_for,
                      scheduled_until=data.scheduled_until,
                      published_at=None if data.draft else now, created_at=now, updated_at=now)
    session.add(post)
    session.flush()
    _add_update(session, post=post, actor=actor, stage=data.stage, body=data.body,
                component_ids=component_ids, draft=data.draft, now=now,
                settings_url=settings_url, render_page=render_page)
    return post


def add_update(session: Session, *, page: StatusPage, post: StatusPost, actor: Principal,
               data: UpdateIn, now: datetime, settings_url: str) -> StatusPostUpdate:
    current = _published_stage(session, post)
    stages.check_update(kind=post.kind, current=current, new=data.stage, body=data.body)
    component_ids = post.component_ids if data.component_ids is None else \
        _check_components(session, page, data.component_ids)
    if not data.draft:
        _may_publish(session, actor, post.incident_id)
    return _add_update(session, post=post, actor=actor, stage=data.stage, body=data.body,
                       component_ids=component_ids, draft=data.draft, now=now,
                       settings_url=settings_url)


def _published_stage(session: Session, post: StatusPost) -> str | None:
    return session.scalars(select(StatusPostUpdate.stage).where(
        StatusPostUpdate.post_id == post.id, StatusPostUpdate.published_at.is_not(None))
        .order_by(StatusPostUpdate.id.desc())).first()


def _add_update(session: Session, *, post: StatusPost, actor: Principal, stage: str, body: str,
                component_ids: list[int], draft: bool, now: datetime,
                settings_url: str, render_page: bool = True) -> StatusPostUpdate:
    update = StatusPostUpdate(post_id=post.id, stage=stage, body=body.strip(),
                              component_ids=component_ids, author_id=actor.user_id or None,
                              published_at=None if draft else now, created_at=now)
    session.add(update)
    session.flush()
    if not draft:
        _published(session, post=post, update=update, actor=actor, now=now,
                   settings_url=settings_url, render_page=render_page)
    return update


def publish_draft(session: Session, *, page: StatusPage, post: StatusPost, update_id: int,
                  actor: Principal, now: datetime, settings_url: str) -> StatusPostUpdate:
    update = session.get(StatusPostUpdate, update_id)
    if update is None or update.post_id != post.id:
        raise NotFound(f"no update with id {update_id} on post {post.id}")
    if update.published_at is not None:
        raise Conflict("this update is already published")
    stages.check_update(kind=post.kind, current=_published_stage(session, post),
                        new=update.stage, body=update.body)
    _may_publish(session, actor, post.incident_id)
    update.published_at = now
    _published(session, post=post, update=update, actor=actor, now=now,
               settings_url=settings_url)
    return update


def _published(session: Session, *, post: StatusPost, update: StatusPostUpdate,
               actor: Principal, now: datetime, settings_url: str,
               render_page: bool = True) -> None:
    post.stage, post.component_ids, post.updated_at = update.stage, update.component_ids, now
    post.published_at = post.published_at or now
    if stages.is_final(post.kind, update.stage):
        post.resolved_at = now
    page = get_page(session, post.page_id)
    if render_page:
        refresh(session, page=page, now=now, base_url=settings_url)
    if _shown(session, post):
        _notify_subscribers(session, page=page, post=post, update=update, now=now,
                            base_url=settings_url)
    else:
        _rehearsed(session, page=page, post=post, update=update, actor=actor, now=now)


def _rehearsed(session: Session, *, page: StatusPage, post: StatusPost,
               update: StatusPostUpdate, actor: Principal, now: datetime) -> None:
    """A drill's update, published to the drill preview only: its timeline records it as
    an update (the drill's report times the first update from it)."""
    incident = session.get(Incident, post.incident_id) if post.incident_id else None
    if incident is None or not incident.drill:
        return
    incidents.append_event(
        session, incident, kind=lc.EventKind.NOTE, now=now,
        actor=actor if actor.user_id else None,
        body=f"status page update rehearsed on the drill preview of '{page.name}' "
             f"({update.stage}): {update.body}",
        data={"source": "status_page", "drill_preview": True, "post_id": post.id,
              "update_id": update.id})


def _shown(session: Session, post: StatusPost) -> bool:
    """The one rule for posts: a post linked to an incident the public may not see is
    never shown nor sent."""
    if post.incident_id is None:
        return True
    return session.scalars(select(Incident.id).where(
        Incident.id == post.incident_id, _shown_publicly())).first() is not None


def get_post(session: Session, *, page: StatusPage, post_id: int) -> StatusPost:
    post = session.get(StatusPost, post_id)
    if post is None or post.page_id != page.id:
        raise NotFound(f"no post with id {post_id} on page '{page.slug}'")
    return post


def list_posts(session: Session, *, page: StatusPage, limit: int = 100) -> list[StatusPost]:
    return list(session.scalars(select(StatusPost).where(StatusPost.page_id == page.id)
                                .order_by(StatusPost.id.desc()).limit(limit)))


def updates_of(session: Session, post_ids: Sequence[int], *,
               published_only: bool) -> dict[int, list[StatusPostUpdate]]:
    out: dict[int, list[StatusPostUpdate]] = {pid: [] for pid in post_ids}
    query = select(StatusPostUpdate).where(StatusPostUpdate.post_id.in_(post_ids))
    if published_only:
        query = query.where(StatusPostUpdate.published_at.is_not(None))
    for u in session.scalars(query.order_by(StatusPostUpdate.id)):
        out[u.post_id].append(u)
    return out


# ---- maintenance --------------------------------------------------------------------------

def announce_maintenance(session: Session, *, page: StatusPage, window_id: int,
                         actor: Principal, title: str, body: str, component_ids: list[int],
                         now: datetime, settings_url: str, horizon_days: int | None = None,
                         default_horizon_days: int = 14
                         ) -> StatusPost | StatusMaintenanceSeries:
    """A one-off window: one maintenance post at its times. A weekly recurring window: a
    series whose occurrences within the horizon are each announced as their own post (now,
    and by the worker as later ones come within it). The worker moves each post to in
    progress when its time starts and to completed when it ends."""
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise NotFound(f"no maintenance window with id {window_id}")
    stages.check_update(kind="maintenance", current=None, new="scheduled", body=body)
    if not component_ids and window.service_id is not None:
        component_ids = sorted(cid for cid, sids in services_of(
            session, [c.id for c in list_components(session, page=page)]).items()
            if window.service_id in sids)
    if window.starts_at is None or window.ends_at is None:
        return _announce_recurring(
            session, page=page, window=window, actor=actor, title=title, body=body,
            component_ids=component_ids, now=now, settings_url=settings_url,
            horizon_days=horizon_days or default_horizon_days)
    if horizon_days is not None:
        raise Invalid("horizon_days: only for a recurring window")
    if window.ends_at <= now:
        raise Conflict("this maintenance window has already ended")
    return create_post(session, page=page, actor=actor, now=now, settings_url=settings_url,
                       data=PostIn(kind="maintenance", title=title, impact="maintenance",
                                   maintenance_window_id=window.id, stage="scheduled",
                                   body=body, component_ids=component_ids,
                                   scheduled_for=window.starts_at,
                                   scheduled_until=window.ends_at))


def _plain(window: MaintenanceWindow) -> suppress.Window:
    return suppress.Window(id=window.id, name=window.name, starts_at=window.starts_at,
                           ends_at=window.ends_at, weekdays=list(window.weekdays),
                           start_time=window.start_time,
                           duration_minutes=window.duration_minutes,
                           time_zone=window.time_zone)


def _announce_recurring(session: Session, *, page: StatusPage, window: MaintenanceWindow,
                        actor: Principal, title: str, body: str, component_ids: list[int],
                        now: datetime, settings_url: str,
                        horizon_days: int) -> StatusMaintenanceSeries:
    _may_publish(session, actor, None)
    component_ids = _check_components(session, page, component_ids)
    if session.scalars(select(StatusMaintenanceSeries.id).where(
            StatusMaintenanceSeries.page_id == page.id,
            StatusMaintenanceSeries.window_id == window.id)).first() is not None:
        raise Conflict(f"maintenance window {window.id} is already announced on page "
                       f"'{page.slug}'")
    series = StatusMaintenanceSeries(
        page_id=page.id, window_id=window.id, title=title, body=body.strip(),
        component_ids=component_ids, horizon_days=horizon_days, announced_through=now,
        author_id=actor.user_id or None, created_at=now)
    session.add(series)
    session.flush()
    announce_series(session, series=series, now=now, base_url=settings_url)
    return series


def announce_series(session: Session, *, series: StatusMaintenanceSeries, now: datetime,
                    base_url: str) -> int:
    """Post the series' occurrences that came within its horizon; returns how many. Each
    occurrence once: the posts are written only by the caller whose conditional update
    moved `announced_through` (two workers racing: one wins, the other writes nothing)."""
    window = session.get(MaintenanceWindow, series.window_id)
    if window is None:
        return 0
    due = recurring.to_announce(_plain(window), announced_through=series.announced_through,
                                now=now, horizon=timedelta(days=series.horizon_days))
    if not due:
        return 0
    claimed = session.execute(update(StatusMaintenanceSeries).where(
        StatusMaintenanceSeries.id == series.id,
        StatusMaintenanceSeries.announced_through == series.announced_through)
        .values(announced_through=due[-1][0]).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return 0
    session.refresh(series)
    page = get_page(session, series.page_id)
    on_page = {c.id for c in list_components(session, page=page)}
    for begins, ends in due:
        data = PostIn(kind="maintenance", title=series.title, impact="maintenance",
                      maintenance_window_id=window.id, stage="scheduled", body=series.body,
                      component_ids=[i for i in series.component_ids if i in on_page],
                      scheduled_for=begins, scheduled_until=ends)
        create_post(session, page=page, actor=_SYSTEM, data=data, now=now,
                    settings_url=base_url, render_page=False)
    refresh(session, page=page, now=now, base_url=base_url)
    return len(due)


def series_due(session: Session, *, now: datetime) -> list[int]:
    """The series with an occurrence to announce now (read only)."""
    rows = session.execute(select(StatusMaintenanceSeries, MaintenanceWindow).join(
        MaintenanceWindow, MaintenanceWindow.id == StatusMaintenanceSeries.window_id))
    return [s.id for s, w in rows if recurring.to_announce(
        _plain(w), announced_through=s.announced_through, now=now,
        horizon=timedelta(days=s.horizon_days))]


def list_series(session: Session, *, page: StatusPage) -> list[StatusMaintenanceSeries]:
    return list(session.scalars(select(StatusMaintenanceSeries).where(
        StatusMaintenanceSeries.page_id == page.id).order_by(StatusMaintenanceSeries.id)))


def get_series(session: Session, *, page: StatusPage, series_id: int) -> StatusMaintenanceSeries:
    series = session.get(StatusMaintenanceSeries, series_id)
    if series is None or series.page_id != page.id:
        raise NotFound(f"no recurring maintenance {series_id} on page '{page.slug}'")
    return series


def posts_of_series(session: Session, series: StatusMaintenanceSeries, *,
                    open_only: bool = True) -> list[StatusPost]:
    query = select(StatusPost).where(StatusPost.page_id == series.page_id,
                                     StatusPost.maintenance_window_id == series.window_id)
    if open_only:
        query = query.where(StatusPost.resolved_at.is_(None))
    return list(session.scalars(query.order_by(StatusPost.scheduled_for, StatusPost.id)))


def stop_series(session: Session, *, actor: Principal, series: StatusMaintenanceSeries) -> None:
    """No more occurrences are announced; those already posted stay (readers were told)."""
    _may_publish(session, actor, None)
    session.delete(series)


_SYSTEM = Principal(user_id=0, role=Role.ADMIN)  # the worker moving maintenance along
_MAINTENANCE_STEPS = (("in_progress", "Scheduled maintenance is in progress."),
                      ("completed", "Scheduled maintenance is complete."))


def advance_maintenance(session: Session, *, now: datetime, base_url: str) -> int:
    """Move maintenance posts along with their schedule: in progress at `scheduled_for`,
    completed at `scheduled_until`. Returns how many updates it wrote."""
    done = 0
    for post in session.scalars(select(StatusPost).where(
            StatusPost.kind == "maintenance", StatusPost.resolved_at.is_(None),
            StatusPost.published_at.is_not(None), StatusPost.scheduled_for <= now)):
        for stage, body in _MAINTENANCE_STEPS:
            due = post.scheduled_for if stage == "in_progress" else post.scheduled_until
            order = stages.MAINTENANCE_STAGES
            if due is not None and due <= now and order.index(post.stage) < order.index(stage):
                _add_update(session, post=post, actor=_SYSTEM, stage=stage, body=body,
                            component_ids=post.component_ids, draft=False, now=now,
                            settings_url=base_url)
                done += 1
    return done


def maintenance_due(session: Session, *, now: datetime) -> bool:
    """Whether advance_maintenance has anything to do (read only)."""
    return session.scalars(select(StatusPost.id).where(
        StatusPost.kind == "maintenance", StatusPost.resolved_at.is_(None),
        StatusPost.published_at.is_not(None),
        ((StatusPost.stage == "scheduled") & (StatusPost.scheduled_for <= now))
        | (StatusPost.scheduled_until <= now)).limit(1)).first() is not None


# ---- what a page shows, and rendering it --------------------------------------------------

def snapshot(session: Session, *, page: StatusPage, now: datetime, base_url: str,
             drill_preview: bool = False) -> dict[str, Any]:
    """Everything the page's files show, as plain values (its fingerprint decides whether
    to render again). Only what the public may see goes in; `drill_preview`: drills too,
    marked, for the preview signed-in people rehearse a game day's updates on (never
    rendered into the page's files)."""
    components = list_components(session, page=page)
    shown = visible_incident(_PUBLIC) if drill_preview else _shown_publicly()
    derived = derived_statuses(session, page=page, now=now, shown=shown)
    ids = [c.id for c in components]
    # The latest 50 of each kind: a recurring maintenance window's posts (one per
    # occurrence) never push incident posts off the page and its JSON.
    posts = sorted((p for kind in stages.STAGES for p in session.scalars(
        select(StatusPost).outerjoin(Incident, Incident.id == StatusPost.incident_id).where(
            StatusPost.page_id == page.id, StatusPost.kind == kind,
            StatusPost.published_at.is_not(None),
            StatusPost.incident_id.is_(None) | shown)
        .order_by(StatusPost.id.desc()).limit(50))), key=lambda p: -p.id)
    updates = updates_of(session, [p.id for p in posts], published_only=True)
    bars = _uptime(session, page=page, components=components, posts=posts, now=now)
    url = f"{base_url}/status/{page.slug}"
    return {
        "page": {"id": page.id, "slug": page.slug, "name": page.name,
                 "description": page.description, "logo_url": page.logo_url,
                 "brand_color": page.brand_color, "links": page.links,
                 "time_zone": page.time_zone, "url": url},
        "components": [{
            "id": c.id, "name": c.name, "description": c.description, "group": c.group_name,
            "position": c.position, "status": derived[c.id].status.value,
            "overridden": derived[c.id].overridden, "override_note": c.override_note,
            "created_at": c.created_at.isoformat(), "updated_at": c.updated_at.isoformat(),
            "uptime": bars[c.id]} for c in components],
        "posts": [{
            "id": p.id, "kind": p.kind, "title": p.title, "stage": p.stage, "impact": p.impact,
            "component_ids": [i for i in p.component_ids if i in ids],
            "created_at": (p.published_at or p.created_at).isoformat(),
            "updated_at": p.updated_at.isoformat(),
            "resolved_at": p.resolved_at.isoformat() if p.resolved_at else None,
            "scheduled_for": p.scheduled_for.isoformat() if p.scheduled_for else None,
            "scheduled_until": p.scheduled_until.isoformat() if p.scheduled_until else None,
            "updates": [{"id": u.id, "stage": u.stage, "body": u.body,
                         "component_ids": [i for i in u.component_ids if i in ids],
                         "at": (u.published_at or u.created_at).isoformat()}
                        for u in reversed(updates[p.id])]} for p in posts],
        "today": now.date().isoformat(),
    } | (_drill_marks(session, posts) if drill_preview else {})


def _drill_marks(session: Session, posts: list[StatusPost]) -> dict[str, Any]:
    drills = set(session.scalars(select(Incident.id).where(
        Incident.id.in_([p.incident_id for p in posts if p.incident_id is not None]),
        Incident.drill.is_(True))))
    return {"preview": True, "drill_post_ids": sorted(p.id for p in posts
                                                      if p.incident_id in drills)}


def drill_preview(session: Session, *, page: StatusPage, now: datetime,
                  base_url: str) -> str:
    """The page as it would look if the running drills were real: their posts marked
    "[DRILL]" under a banner. For signed-in people only; nothing of it reaches the public
    page, its feeds, JSON or export, nor its subscribers."""
    return render.html_page(snapshot(session, page=page, now=now, base_url=base_url,
                                     drill_preview=True))


def _uptime(session: Session, *, page: StatusPage, components: list[StatusComponent],
            posts: list[StatusPost], now: datetime) -> dict[int, dict[str, Any]]:
    services = services_of(session, [c.id for c in components])
    since = now - timedelta(days=UPTIME_DAYS)
    # Ongoing outages count to the last ten minutes: the fingerprint changes every ten
    # minutes during an incident, not every refresh.
    until = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 10)
    titles = {p.incident_id: p.title for p in posts if p.incident_id is not None}
    by_service: dict[int, list[uptime.Outage]] = {}
    all_services = sorted({s for ids in services.values() for s in ids})
    for sid, iid, severity, start, detected, end in session.execute(
            select(IncidentService.service_id, Incident.id, Incident.severity,
                   Incident.impact_started_at, Incident.detected_at, Incident.resolved_at)
            .join(Incident, Incident.id == IncidentService.incident_id)
            .where(IncidentService.service_id.in_(all_services), _shown_publicly(),
                   (Incident.resolved_at.is_(None)) | (Incident.resolved_at > since))):
        status = comp.derive(open_severities=[severity], in_maintenance=False, override=None)
        weight = {comp.ComponentStatus.MAJOR: 1.0, comp.ComponentStatus.PARTIAL: 0.5}.get(
            status.status, 0.0)
        by_service.setdefault(sid, []).append(uptime.Outage(
            start or detected, end or max(until, start or detected), weight,
            titles.get(iid, status.status.label)))
    checks: dict[int, dict[date, tuple[int, int]]] = {}
    for sid, day, total, ok in session.execute(
            select(Check.service_id, CheckRollup.start, func.sum(CheckRollup.total),
                   func.sum(CheckRollup.ok_count))
            .join(Check, Check.id == CheckRollup.check_id)
            .where(Check.service_id.in_(all_services), CheckRollup.period == "day",
                   CheckRollup.start >= since)
            .group_by(Check.service_id, CheckRollup.start)):
        checks.setdefault(sid, {})[day.date()] = (int(total), int(ok))
    out: dict[int, dict[str, Any]] = {}
    for c in components:
        merged: dict[date, tuple[int, int]] = {}
        for sid in services[c.id]:
            for d, (t, k) in checks.get(sid, {}).items():
                merged[d] = (merged.get(d, (0, 0))[0] + t, merged.get(d, (0, 0))[1] + k)
        bars = uptime.days(end=now.date(), count=UPTIME_DAYS, since=c.created_at.date(),
                           outages=[o for sid in services[c.id] for o in by_service.get(sid, [])],
                           checks=merged)
        out[c.id] = {"percent": uptime.overall(bars), "days": [
            {"date": b.day.isoformat(), "percent": b.percent, "level": b.level,
             "notes": list(b.notes)} for b in bars]}
    return out


def _fingerprint(snap: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(snap, sort_keys=True).encode()).hexdigest()


def stale_pages(session: Session, *, now: datetime, base_url: str) -> list[int]:
    """The pages whose files no longer show what they would show now (read only: the
    worker asks this every few seconds without taking SQLite's write lock)."""
    states = {pid: fp for pid, fp in session.execute(
        select(StatusPageState.page_id, StatusPageState.fingerprint))}
    return [p.id for p in list_pages(session) if states.get(p.id) != _fingerprint(
        snapshot(session, page=p, now=now, base_url=base_url))]


def refresh(session: Session, *, page: StatusPage, now: datetime, base_url: str,
            force: bool = False) -> bool:
    """Render the page's files again if what they show changed; returns whether it did."""
    snap = snapshot(session, page=page, now=now, base_url=base_url)
    fingerprint = _fingerprint(snap)
    state = session.get(StatusPageState, page.id)
    if state is not None and state.fingerprint == fingerprint and not force:
        return False
    files = render.files(snap, now=now)
    existing = {r.name: r for r in session.scalars(
        select(StatusRender).where(StatusRender.page_id == page.id))}
    for name, (content_type, body) in files.items():
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        row = existing.pop(name, None)
        if row is None:
            session.add(StatusRender(page_id=page.id, name=name, content_type=content_type,
                                     body=body, etag=etag, rendered_at=now))
        elif row.etag != etag:
            row.body, row.etag, row.rendered_at = body, etag, now
    for row in existing.values():
        session.delete(row)
    if state is None:
        session.add(StatusPageState(page_id=page.id, fingerprint=fingerprint, rendered_at=now))
    else:
        state.fingerprint, state.rendered_at = fingerprint, now
    session.flush()
    return True




def rendered(session: Session, *, slug: str, name: str) -> StatusRender:
    row = session.scalars(select(StatusRender).join(
        StatusPage, StatusPage.id == StatusRender.page_id).where(
        StatusPage.slug == slug, StatusRender.name == name)).first()
    if row is None:
        raise NotFound(f"no file '{name}' on status page '{slug}'")
    return row


def files_of(session: Session, *, page: StatusPage) -> list[StatusRender]:
    return list(session.scalars(select(StatusRender).where(
        StatusRender.page_id == page.id).order_by(StatusRender.name)))


# ---- subscribers -------------------------------------------------------------------------------

def subscribe(session: Session, *, page: StatusPage, data: SubscribeIn, client: str | None,
              now: datetime, base_url: str, outbound: OutboundPolicy,
              limits: SubscribeLimits = SubscribeLimits()) -> StatusSubscriber:
    """An unconfirmed subscriber, and the mail (or webhook call) that confirms it. Limited
    per address and per client; the answer never says whether the address was known."""
    address = data.address.strip()
    if data.kind == "email":
        address = address.lower()
        if not _EMAIL.match(address):
            raise Invalid("address: not an email address")
    else:
        if not address.startswith(("http://", "https://")):
            raise Invalid("address: a webhook address is an http:// or https:// URL")
        reason = url_refusal(address, outbound)
        if reason is not None:
            raise Invalid(f"address: {refused_message(reason)}")
    component_ids = _check_components(session, page, data.component_ids)
    since = now - limits.window
    recent = session.scalar(select(func.count()).select_from(StatusSubscriber).where(
        StatusSubscriber.address == address, StatusSubscriber.created_at > since)) or 0
    if recent >= limits.per_address:
        raise TooManyRequests("too many subscriptions for this address; try again later",
                              retry_after=int(limits.window.total_seconds()))
    if client is not None:
        by_client = session.scalar(select(func.count()).select_from(StatusSubscriber).where(
            StatusSubscriber.client_address == client[:64],
            StatusSubscriber.created_at > since)) or 0
        if by_client >= limits.per_client:
            raise TooManyRequests("too many subscriptions from this client; try again later",
                                  retry_after=int(limits.window.total_seconds()))
    sub = StatusSubscriber(page_id=page.id, kind=data.kind, address=address,
                           component_ids=component_ids, token=secrets.token_urlsafe(32),
                           client_address=client[:64] if client else None, created_at=now)
    session.add(sub)
    session.flush()
    url = f"{base_url}/status/{page.slug}"
    confirm = f"{url}/confirm/{sub.token}"
    text = (f"Someone (we hope you) asked to receive updates from the {page.name} status "
            f"page at this address.\n\nConfirm: {confirm}\n\nIf it was not you, ignore "
            "this message: nothing will be sent without confirmation.")
    notify.enqueue_bulletins(session, items=[(
        f"sp-confirm:{sub.id}", data.kind, address,
        {"subject": f"Confirm your subscription to {page.name} status", "text": text,
         "data": {"event": "subscription.confirm", "page": page.slug,
                  "confirm_url": confirm}})], due_at=now, now=now)
    return sub


def _subscriber(session: Session, page: StatusPage, token: str) -> StatusSubscriber:
    sub = session.scalars(select(StatusSubscriber).where(
        StatusSubscriber.token == token, StatusSubscriber.page_id == page.id)).first()
    if sub is None:
        raise NotFound("no such subscription (the link may be old)")
    return sub


def confirm(session: Session, *, page: StatusPage, token: str, now: datetime) -> StatusSubscriber:
    sub = _subscriber(session, page, token)
    if sub.unsubscribed_at is not None:
        raise Conflict("this subscription was cancelled; subscribe again")
    sub.confirmed_at = sub.confirmed_at or now
    return sub


def unsubscribe(session: Session, *, page: StatusPage, token: str,
                now: datetime) -> StatusSubscriber:
    sub = _subscriber(session, page, token)
    sub.unsubscribed_at = sub.unsubscribed_at or now
    return sub


def list_subscribers(session: Session, *, page: StatusPage, after_id: int | None = None,
                     limit: int = 1000) -> list[StatusSubscriber]:
    query = select(StatusSubscriber).where(StatusSubscriber.page_id == page.id)
    if after_id is not None:
        query = query.where(StatusSubscriber.id > after_id)
    return list(session.scalars(query.order_by(StatusSubscriber.id).limit(limit)))


def _notify_subscribers(session: Session, *, page: StatusPage, post: StatusPost,
                        update: StatusPostUpdate, now: datetime, base_url: str) -> int:
    """One message per confirmed subscriber who chose a component the update affects (or
    all components), through the outbox: keyed by update and subscriber, so sent once."""
    affected = set(update.component_ids)
    url = f"{base_url}/status/{page.slug}"
    subject = f"[{page.name}] {post.title}: {update.stage.replace('_', ' ').title()}"
    text_body = f"{post.title}\n{update.stage.replace('_', ' ').title()}: {update.body}\n\n{url}/"
    items: list[tuple[str, str, str, dict[str, Any]]] = []
    subs = session.execute(select(
        StatusSubscriber.id, StatusSubscriber.kind, StatusSubscriber.address,
        StatusSubscriber.component_ids, StatusSubscriber.token).where(
        StatusSubscriber.page_id == page.id, StatusSubscriber.confirmed_at.is_not(None),
        StatusSubscriber.unsubscribed_at.is_(None)))
    for sid, kind, address, chosen, token in subs:
        if chosen and affected and not affected & set(chosen):
            continue
        unsub = f"{url}/unsubscribe/{token}"
        payload: dict[str, Any] = {
            "subject": subject, "text": f"{text_body}\nUnsubscribe: {unsub}\n",
            "data": {"event": "incident.update", "page": page.slug, "post_id": post.id,
                     "title": post.title, "stage": update.stage, "body": update.body,
                     "component_ids": update.component_ids, "at": now.isoformat(),
                     "unsubscribe_url": unsub}}
        if kind == "email":
            payload["headers"] = {"List-Unsubscribe": f"<{unsub}>",
                                  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        items.append((f"sp:{update.id}:s{sid}", kind, address, payload))
    return notify.enqueue_bulletins(session, items=items, due_at=now, now=now)


# ---- for other features (chat-ops) ---------------------------------------------------------

def links_of_incident(session: Session, *, incident_id: int, base_url: str) -> list[str]:
    """The public links of the posts about an incident (empty when none, or when the
    incident is one the public may not see)."""
    posts = session.execute(select(StatusPost.id, StatusPage.slug).join(
        StatusPage, StatusPage.id == StatusPost.page_id).where(
        StatusPost.incident_id == incident_id, StatusPost.published_at.is_not(None))).all()
    if not posts or session.scalars(select(Incident.id).where(
            Incident.id == incident_id, _shown_publicly())).first() is None:
        return []
    return [f"{base_url}/status/{slug}/#post-{pid}" for pid, slug in posts]


def drill_preview_link(session: Session, *, incident_id: int, base_url: str) -> str | None:
    """Where a drill's first published post shows: the drill preview (signed-in people)."""
    found = session.execute(select(StatusPost.id, StatusPost.page_id).where(
        StatusPost.incident_id == incident_id, StatusPost.published_at.is_not(None))
        .order_by(StatusPost.id).limit(1)).first()
    if found is None:
        return None
    return f"{base_url}/statuspages/{found[1]}/drill-preview#post-{found[0]}"


def post_update_for_incident(session: Session, *, incident_id: int, actor: Principal,
                             stage: str, body: str, now: datetime, base_url: str,
                             draft: bool = False) -> list[StatusPostUpdate]:
    """Add an update to every open post about the incident (chat-ops' "post an update");
    the same rules as the API: stage order, non-empty body, one author."""
    posts = list(session.scalars(select(StatusPost).where(
        StatusPost.incident_id == incident_id, StatusPost.resolved_at.is_(None))))
    if not posts:
        raise NotFound(f"no open status page post about incident {incident_id}")
    return [add_update(session, page=get_page(session, p.page_id), post=p, actor=actor,
                       data=UpdateIn(stage=stage, body=body, draft=draft), now=now,
                       settings_url=base_url) for p in posts]


class ForChat:
    """What chat-ops asks of status pages (chatops/ports.py::StatusPagePort), handed in by
    the composition root: the link shown in an incident channel's topic, and a resolve typed
    in chat showing on the pages at once (in the same transaction) rather than at the
    refresh job's next turn. Public text about the resolution stays with the comms role."""

    def link_for(self, session: Session, incident: Incident, *, base_url: str) -> str | None:
        if incident.drill:  # a drill's channel links its rehearsal, never a public page
            return drill_preview_link(session, incident_id=incident.id, base_url=base_url)
        links = links_of_incident(session, incident_id=incident.id, base_url=base_url)
        return links[0] if links else None

    def on_resolved(self, session: Session, *, incident: Incident, now: datetime,
                    base_url: str) -> None:
        session.flush()
        for page_id in stale_pages(session, now=now, base_url=base_url):
            refresh(session, page=get_page(session, page_id), now=now, base_url=base_url)


FOR_CHAT = ForChat()
