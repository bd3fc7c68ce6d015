"""Post-mortem and action-item routes under /api/v1."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from tocsin.analytics import service as analytics
from tocsin.analytics.export import csv_of
from tocsin.analytics.schemas import Dimension, Period
from tocsin.api import pagination
from tocsin.api.deps import Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.incidents import service as incidents
from tocsin.limits import Id
from tocsin.postmortems import actions, blameless, document, service
from tocsin.postmortems.models import Postmortem, PostmortemComment, PostmortemStatus
from tocsin.postmortems.schemas import (
    ActionItemIn,
    ActionItemOut,
    ActionItemUpdate,
    CommentIn,
    CommentOut,
    CompletionReport,
    FindingOut,
    PostmortemBrief,
    PostmortemOut,
    PostmortemStart,
    PostmortemUpdate,
    ReviewerOut,
    ReviewRequest,
    TimelineEntryOut,
)
from tocsin.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["post-mortems"])


def to_out(session: Session, pm: Postmortem, now: datetime, viewer: Principal) -> PostmortemOut:
    items = actions.list_visible(session, viewer=viewer, incident_id=pm.incident_id)
    comments = service.comments(session, pm)
    names = service.user_names(session, [c.author_id for c in comments])
    return PostmortemOut(
        id=pm.id, incident_id=pm.incident_id, status=pm.status, owner_id=pm.owner_id,
        due_at=pm.due_at, overdue=_overdue(pm, now), title=pm.title, summary=pm.summary,
        timeline=[TimelineEntryOut.model_validate(e) for e in pm.timeline],
        impact=pm.impact, impact_notes=pm.impact_notes, root_cause=pm.root_cause,
        contributing_factors=pm.contributing_factors, went_well=pm.went_well,
        could_improve=pm.could_improve,
        action_items=[actions.out(i, now) for i in items],
        reviewers=[ReviewerOut(user_id=r.user_id, approved_at=r.approved_at)
                   for r in service.reviewers(session, pm)],
        comments=[comment_out(c, names) for c in comments],
        open_comments=service.open_comments(comments),
        blameless_findings=[FindingOut(section=s, sentence=f.sentence, subject=f.subject,
                                       suggestion=f.suggestion)
                            for s, f in service.findings(session, pm)],
        published_at=pm.published_at)


def comment_out(c: PostmortemComment, names: dict[int, str]) -> CommentOut:
    return CommentOut(id=c.id, section=c.section, author_id=c.author_id,
                      author_name=names.get(c.author_id) if c.author_id else None,
                      body=c.body, at=c.at, parent_id=c.parent_id, resolved_at=c.resolved_at,
                      resolved_by_id=c.resolved_by_id)


def _overdue(pm: Postmortem, now: datetime) -> bool:
    return pm.status != PostmortemStatus.PUBLISHED.value and pm.due_at <= now


def _brief(pm: Postmortem, now: datetime) -> PostmortemBrief:
    return PostmortemBrief(id=pm.id, incident_id=pm.incident_id, status=pm.status,
                           title=pm.title, due_at=pm.due_at, overdue=_overdue(pm, now))


@router.post("/incidents/{incident_id}/postmortem", status_code=201,
             response_model=PostmortemOut, summary="Start the incident's post-mortem")
def start(incident_id: Id, data: PostmortemStart, session: SessionDep, rt: RuntimeDep,
          who: Responder) -> PostmortemOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who)
    now = rt.clock.now()
    pm = service.start(session, incident=incident, owner_id=data.owner_id or who.user_id,
                       now=now, settings=rt.settings)
    session.commit()
    return to_out(session, pm, now, who)


@router.get("/incidents/{incident_id}/postmortem", response_model=PostmortemOut)
def of_incident(incident_id: Id, session: SessionDep, rt: RuntimeDep,
                who: Viewer) -> PostmortemOut:
    pm = service.of_incident(session, incident_id=incident_id, viewer=who)
    return to_out(session, pm, rt.clock.now(), who)


@router.get("/postmortems", response_model=Page[PostmortemBrief],
            summary="Post-mortems by id; `overdue`, or `q` to search published ones")
def list_postmortems(session: SessionDep, rt: RuntimeDep, who: Viewer, overdue: bool = False,
                     q: str | None = None, cursor: str | None = None,
                     limit: Limit = 100) -> Page[PostmortemBrief]:
    now = rt.clock.now()
    rows = service.list_visible(session, viewer=who, now=now, overdue=overdue,
                                query=q[:200] if q else None,
                                after_id=pagination.decode(cursor), limit=limit + 1)
    return pagination.page(rows, limit, lambda pm: _brief(pm, now), lambda pm: pm.id)


@router.get("/postmortems/{postmortem_id}", response_model=PostmortemOut)
def show(postmortem_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer) -> PostmortemOut:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    return to_out(session, pm, rt.clock.now(), who)


@router.patch("/postmortems/{postmortem_id}", response_model=PostmortemOut)
def edit(postmortem_id: Id, data: PostmortemUpdate, session: SessionDep, rt: RuntimeDep,
         who: Responder) -> PostmortemOut:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    now = rt.clock.now()
    service.update(session, pm=pm, data=data, now=now)
    session.commit()
    return to_out(session, pm, now, who)


@router.post("/postmortems/{postmortem_id}/review", response_model=PostmortemOut,
             summary="Send a draft to review")
def review(postmortem_id: Id, data: ReviewRequest, session: SessionDep, rt: RuntimeDep,
           who: Responder) -> PostmortemOut:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    now = rt.clock.now()
    service.request_review(session, pm=pm, reviewer_ids=data.reviewer_ids, now=now)
    session.commit()
    return to_out(session, pm, now, who)


@router.post("/postmortems/{postmortem_id}/comments", status_code=201,
             response_model=CommentOut, summary="Comment on one section")
def add_comment(postmortem_id: Id, data: CommentIn, session: SessionDep, rt: RuntimeDep,
                who: Responder) -> CommentOut:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    c = service.comment(session, pm=pm, author=who, data=data, now=rt.clock.now(),
                        base_url=rt.settings.public_url)
    session.commit()
    return comment_out(c, service.user_names(session, [c.author_id]))


@router.post("/postmortems/{postmortem_id}/comments/{comment_id}/resolve",
             response_model=CommentOut, summary="Mark a comment's thread addressed")
def resolve_comment(postmortem_id: Id, comment_id: Id, session: SessionDep, rt: RuntimeDep,
                    who: Responder) -> CommentOut:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    c = service.resolve_comment(session, pm=pm, comment_id=comment_id, by=who,
                                now=rt.clock.now())
    session.commit()
    return comment_out(c, service.user_names(session, [c.author_id]))


@router.post("/postmortems/{postmortem_id}/approve", response_model=PostmortemOut)
def approve(postmortem_id: Id, session: SessionDep, rt: RuntimeDep,
            who: Responder) -> PostmortemOut:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    now = rt.clock.now()
    service.approve(session, pm=pm, reviewer=who, now=now)
    session.commit()
    return to_out(session, pm, now, who)


@router.post("/postmortems/{postmortem_id}/publish", response_model=PostmortemOut)
def publish(postmortem_id: Id, session: SessionDep, rt: RuntimeDep,
            who: Responder) -> PostmortemOut:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    now = rt.clock.now()
    service.publish(session, pm=pm, now=now)
    session.commit()
    return to_out(session, pm, now, who)


@router.get("/postmortems/{postmortem_id}/export.md", response_class=PlainTextResponse,
            summary="The post-mortem as Markdown")
def export_markdown(postmortem_id: Id, session: SessionDep, rt: RuntimeDep,
                    who: Viewer) -> PlainTextResponse:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    return PlainTextResponse(document.to_markdown(to_out(session, pm, rt.clock.now(), who)),
                             media_type="text/markdown; charset=utf-8")


@router.get("/postmortems/{postmortem_id}/print", response_class=HTMLResponse,
            summary="A print-ready HTML page of the post-mortem")
def print_page(postmortem_id: Id, session: SessionDep, rt: RuntimeDep,
               who: Viewer) -> HTMLResponse:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who)
    return HTMLResponse(document.to_print_html(to_out(session, pm, rt.clock.now(), who)))


class WordingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=100_000)
    people: list[str] = Field(default_factory=list, max_length=500)


@router.post("/blameless/check", response_model=list[FindingOut],
             summary="Advice on blameless wording (never blocks)")
def check_wording(data: WordingIn, who: Responder) -> list[FindingOut]:
    return [FindingOut(section="text", sentence=f.sentence, subject=f.subject,
                       suggestion=f.suggestion)
            for f in blameless.check(data.text, people=data.people)]


# ---- action items --------------------------------------------------------------------------

@router.post("/incidents/{incident_id}/action-items", status_code=201,
             response_model=ActionItemOut, summary="Add an action item to the incident")
def add_action_item(incident_id: Id, data: ActionItemIn, session: SessionDep, rt: RuntimeDep,
                    who: Responder) -> ActionItemOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who)
    now = rt.clock.now()
    item = actions.create(session, incident=incident, data=data, now=now, settings=rt.settings)
    session.commit()
    return actions.out(item, now)


@router.get("/incidents/{incident_id}/action-items", response_model=Page[ActionItemOut],
            summary="The incident's action items, by id")
def incident_action_items(incident_id: Id, session: SessionDep, rt: RuntimeDep, who: Viewer,
                          cursor: str | None = None,
                          limit: Limit = 100) -> Page[ActionItemOut]:
    incidents.get_visible(session, incident_id=incident_id, viewer=who)
    now = rt.clock.now()
    rows = actions.list_visible(session, viewer=who, incident_id=incident_id,
                                after_id=pagination.decode(cursor), limit=limit + 1)
    return pagination.page(rows, limit, lambda i: actions.out(i, now), lambda i: i.id)


@router.get("/action-items", response_model=Page[ActionItemOut],
            summary="Action items by id; `owner_id` for one person's, `open` for unfinished")
def list_action_items(session: SessionDep, rt: RuntimeDep, who: Viewer,
                      owner_id: Id | None = None, open: bool = False,
                      cursor: str | None = None, limit: Limit = 100) -> Page[ActionItemOut]:
    now = rt.clock.now()
    rows = actions.list_visible(session, viewer=who, owner_id=owner_id, open_only=open,
                                after_id=pagination.decode(cursor), limit=limit + 1)
    return pagination.page(rows, limit, lambda i: actions.out(i, now), lambda i: i.id)


@router.patch("/action-items/{item_id}", response_model=ActionItemOut)
def edit_action_item(item_id: Id, data: ActionItemUpdate, session: SessionDep, rt: RuntimeDep,
                     who: Responder) -> ActionItemOut:
    item = actions.get_visible(session, item_id=item_id, viewer=who)
    now = rt.clock.now()
    actions.update(session, item=item, data=data, now=now, settings=rt.settings)
    session.commit()
    return actions.out(item, now)


# ---- completion metrics ------------------------------------------------------------------

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "the table as CSV"}}
Since = Annotated[datetime | None, Query(description="start (inclusive); default: 90 days "
                                                     "before `until`")]
Until = Annotated[datetime | None, Query(description="end (exclusive); default: now")]
Tz = Annotated[str, Query(max_length=64, description="time zone periods are cut in")]
Sev = Annotated[list[str] | None, Query(description="only these severities")]


@router.get("/metrics/postmortems", response_model=CompletionReport,
            summary="Post-mortem and action-item completion per period, severity, service "
                    "or team")
def completion_metrics(session: SessionDep, rt: RuntimeDep, who: Viewer,
                       since: Since = None, until: Until = None, by: Dimension = "period",
                       period: Period = "month", tz: Tz = "UTC", severity: Sev = None,
                       service_id: int | None = None,
                       team_id: int | None = None) -> CompletionReport:
    start, end = analytics.request_window(now=rt.clock.now(), since=since, until=until)
    return service.completion_report(
        session, viewer=who, since=start, until=end, by=by, period=period, zone=tz,
        now=rt.clock.now(), settings=rt.settings,
        severities=analytics.check_severities(severity),
        service_id=service_id, team_id=team_id)


@router.get("/metrics/postmortems.csv", response_class=Response, responses=_CSV,
            summary="Post-mortem and action-item completion as CSV")
def completion_metrics_csv(session: SessionDep, rt: RuntimeDep, who: Viewer,
                           since: Since = None, until: Until = None,
                           by: Dimension = "period", period: Period = "month",
                           tz: Tz = "UTC", severity: Sev = None,
                           service_id: int | None = None,
                           team_id: int | None = None) -> Response:
    out = completion_metrics(session, rt, who, since, until, by, period, tz, severity,
                             service_id, team_id)
    return Response(csv_of(r.model_dump() for r in out.rows), media_type="text/csv")
