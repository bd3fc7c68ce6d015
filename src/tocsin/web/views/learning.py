"""Learning on the web: the post-mortem editor (sections, timeline picks, blameless advice,
review and publishing, action items), the post-mortem list, and what the incident page
shows (its post-mortem, action items, runbooks, known errors and similar incidents)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.api.deps import RuntimeDep, SessionDep
from tocsin.errors import Invalid, NotFound, TocsinError
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.knownerrors import service as knownerrors
from tocsin.limits import Id
from tocsin.markup import to_html
from tocsin.postmortems import actions, service
from tocsin.postmortems.models import ActionItem, Postmortem, PostmortemComment
from tocsin.postmortems.schemas import (
    TEXT_SECTIONS,
    ActionItemIn,
    CommentIn,
    PostmortemUpdate,
    Priority,
)
from tocsin.runbooks import service as runbooks
from tocsin.web import queries
from tocsin.web.auth import Form, ResponderUser, ViewerUser, WebUser
from tocsin.web.render import pages_of, redirect
from tocsin.web.routing import web_router

router = web_router()
SECTION_LABELS = {"summary": "Summary", "impact_notes": "Impact (notes)",
                  "root_cause": "Root cause (5 whys)",
                  "contributing_factors": "Contributing factors",
                  "went_well": "What went well", "could_improve": "What could improve"}


def incident_context(session: Session, who: WebUser, incident: Incident, now: datetime
                     ) -> dict[str, Any]:
    """What the incident page shows of learning (everything already visibility-checked:
    the caller loaded `incident` through the visibility rule)."""
    pm = session.scalars(select(Postmortem).where(Postmortem.incident_id == incident.id)
                         ).first()
    items = actions.list_visible(session, viewer=who.principal, incident_id=incident.id)
    return {
        "postmortem": pm, "action_items": [actions.out(i, now) for i in items],
        "runbooks": runbooks.for_incident_unchecked(session, incident),
        "suggestions": knownerrors.suggestions_of(session, incident_id=incident.id,
                                                  viewer=who.principal),
    }


# The editor's text fields and the review sections their comments belong to.
COMMENT_SECTION = {"impact_notes": "impact"}


def _threads(comments: list[PostmortemComment]
             ) -> dict[str, list[tuple[PostmortemComment, list[PostmortemComment]]]]:
    """Per section, each thread (a comment with its replies, oldest first)."""
    replies: dict[int, list[PostmortemComment]] = {}
    for c in comments:
        if c.parent_id is not None:
            replies.setdefault(c.parent_id, []).append(c)
    out: dict[str, list[tuple[PostmortemComment, list[PostmortemComment]]]] = {}
    for c in comments:
        if c.parent_id is None:
            out.setdefault(c.section, []).append((c, replies.get(c.id, [])))
    return out


def my_action_items(session: Session, who: WebUser) -> list[ActionItem]:
    """The signed-in person's unfinished action items (their profile lists them)."""
    return actions.list_visible(session, viewer=who.principal, owner_id=who.user.id,
                                open_only=True)


def _editor(request: Request, session: Session, rt: RuntimeDep, who: WebUser,
            pm: Postmortem, status_code: int = 200) -> Response:
    now = rt.clock.now()
    items = actions.list_visible(session, viewer=who.principal, incident_id=pm.incident_id)
    reviewers = service.reviewers(session, pm)
    comments = service.comments(session, pm)
    owners = [pm.owner_id, *(i.owner_id for i in items), *(r.user_id for r in reviewers),
              *(c.author_id for c in comments), *(c.resolved_by_id for c in comments)]
    return pages_of(request).render(
        request, "learning/postmortem.html", who, status_code=status_code, pm=pm,
        sections=SECTION_LABELS, findings=service.findings(session, pm),
        previews={s: to_html(getattr(pm, s)) for s in SECTION_LABELS},
        items=[actions.out(i, now) for i in items], reviewers=reviewers,
        threads=_threads(comments), open_comments=service.open_comments(comments),
        reviewer_ids={r.user_id for r in reviewers}, comment_of=COMMENT_SECTION,
        comment_labels=service.SECTION_NAMES, names=queries.user_names(session, owners),
        users=queries.user_choices(session) if who.can("responder") else [],
        priorities=[p.value for p in Priority], overdue=pm.status != "published"
        and pm.due_at <= now)


@router.get("/postmortems")
def postmortem_list(request: Request, session: SessionDep, rt: RuntimeDep, who: ViewerUser,
                    q: str | None = None, overdue: bool = False) -> Response:
    now = rt.clock.now()
    found = service.list_visible(session, viewer=who.principal, now=now, overdue=overdue,
                                 query=q[:200] if q else None, limit=500)
    return pages_of(request).render(request, "learning/list.html", who, found=found, q=q or "",
                                    overdue=overdue)


@router.get("/postmortems/{postmortem_id}")
def postmortem_page(request: Request, postmortem_id: Id, session: SessionDep, rt: RuntimeDep,
                    who: ViewerUser) -> Response:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who.principal)
    return _editor(request, session, rt, who, pm)


@router.post("/incidents/{incident_id}/postmortem")
def postmortem_start(incident_id: Id, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
                     form: Form) -> Response:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who.principal)
    try:
        pm = service.start(session, incident=incident, owner_id=who.user.id,
                           now=rt.clock.now(), settings=rt.settings)
    except TocsinError as exc:
        return redirect(f"/incidents/{incident_id}", flash=exc.detail)
    session.commit()
    return redirect(f"/postmortems/{pm.id}", flash="Post-mortem started from the record.")


def _do(session: Session, pm_id: int, message: str, run: Any) -> Response:
    try:
        run()
    except NotFound:
        raise
    except TocsinError as exc:
        session.rollback()
        return redirect(f"/postmortems/{pm_id}", flash=exc.detail)
    session.commit()
    return redirect(f"/postmortems/{pm_id}", flash=message)


@router.post("/postmortems/{postmortem_id}")
def postmortem_save(postmortem_id: Id, session: SessionDep, rt: RuntimeDep, who: ResponderUser,
                    form: Form) -> Response:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who.principal)
    values = {s: str(form.get(s, "")) for s in TEXT_SECTIONS if s in form}
    included = [int(v) for v in form.getlist("include") if isinstance(v, str) and v.isdigit()]
    data = PostmortemUpdate(**values, included_event_ids=included)
    return _do(session, pm.id, "Saved.",
               lambda: service.update(session, pm=pm, data=data, now=rt.clock.now()))


@router.post("/postmortems/{postmortem_id}/workflow")
def postmortem_workflow(postmortem_id: Id, session: SessionDep, rt: RuntimeDep,
                        who: ResponderUser, form: Form) -> Response:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who.principal)
    now, step = rt.clock.now(), form.get("step")
    if step == "review":
        ids = [int(v) for v in form.getlist("reviewer") if isinstance(v, str) and v.isdigit()]
        return _do(session, pm.id, "Sent to review.", lambda: service.request_review(
            session, pm=pm, reviewer_ids=ids or [who.user.id], now=now))
    if step == "approve":
        return _do(session, pm.id, "Approved.", lambda: service.approve(
            session, pm=pm, reviewer=who.principal, now=now))
    return _do(session, pm.id, "Published.", lambda: service.publish(session, pm=pm, now=now))


@router.post("/postmortems/{postmortem_id}/action-items")
def postmortem_action_item(postmortem_id: Id, session: SessionDep, rt: RuntimeDep,
                           who: ResponderUser, form: Form) -> Response:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who.principal)
    incident = session.get_one(Incident, pm.incident_id)

    def add() -> None:
        try:
            due = datetime.fromisoformat(str(form.get("due_at", "")))
            if due.tzinfo is None:
                due = due.replace(tzinfo=ZoneInfo(who.user.time_zone))
            data = ActionItemIn(title=str(form.get("title", ""))[:300] or "-",
                                owner_id=int(str(form.get("owner_id", "0")) or 0), due_at=due,
                                priority=Priority(str(form.get("priority", "medium"))))
        except ValueError as exc:
            raise Invalid(f"action item: {str(exc).splitlines()[0]}") from None
        actions.create(session, incident=incident, data=data, now=rt.clock.now(),
                       settings=rt.settings)
    return _do(session, pm.id, "Action item added.", add)


@router.post("/postmortems/{postmortem_id}/comments")
def postmortem_comment(postmortem_id: Id, session: SessionDep,
                       rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    """A comment on a section, or a reply (`parent_id`), as the API's route does it."""
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who.principal)
    section = str(form.get("section", "")) or None
    parent = str(form.get("parent_id", ""))
    try:
        data = CommentIn(section=section, body=str(form.get("body", "")).strip(),
                         parent_id=int(parent) if parent.isdigit() else None)
    except ValueError:
        return redirect(f"/postmortems/{pm.id}#comments-{section or ''}",
                        flash="Write the comment first (up to 20,000 characters).")
    try:
        made = service.comment(session, pm=pm, author=who.principal, data=data,
                               now=rt.clock.now(), base_url=rt.settings.public_url)
    except TocsinError as exc:
        session.rollback()
        return redirect(f"/postmortems/{pm.id}", flash=exc.detail)
    session.commit()
    return redirect(f"/postmortems/{pm.id}#comments-{made.section}",
                    flash="Reply added." if data.parent_id else "Comment added.")


@router.post("/postmortems/{postmortem_id}/comments/{comment_id}/resolve")
def postmortem_comment_resolve(postmortem_id: Id, comment_id: Id, session: SessionDep,
                               rt: RuntimeDep, who: ResponderUser, form: Form) -> Response:
    pm = service.get_visible(session, postmortem_id=postmortem_id, viewer=who.principal)
    try:
        thread = service.resolve_comment(session, pm=pm, comment_id=comment_id,
                                         by=who.principal, now=rt.clock.now())
    except TocsinError as exc:
        session.rollback()
        return redirect(f"/postmortems/{pm.id}", flash=exc.detail)
    session.commit()
    return redirect(f"/postmortems/{pm.id}#comments-{thread.section}",
                    flash="Comment marked resolved.")
