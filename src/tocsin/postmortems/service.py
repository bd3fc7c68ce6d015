"""Post-mortem operations: draft from the incident's record, edit, review, publish, remind."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, null, or_, select
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.analytics import service as analytics
from tocsin.analytics.measures import Facts
from tocsin.analytics.models import IncidentFact
from tocsin.catalog.models import Service
from tocsin.db import rows
from tocsin.engine import timers
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.incidents import service as incidents
from tocsin.incidents import visibility
from tocsin.incidents.models import Incident, IncidentEvent, IncidentService
from tocsin.notify import service as notify
from tocsin.postmortems import blameless, completion, reminders
from tocsin.postmortems import timeline as tl
from tocsin.postmortems.models import (
    ActionItem,
    Postmortem,
    PostmortemComment,
    PostmortemReviewer,
    PostmortemStatus,
)
from tocsin.postmortems.schemas import (
    TEXT_SECTIONS,
    CommentIn,
    CompletionOut,
    CompletionReport,
    PostmortemUpdate,
)
from tocsin.principal import Principal
from tocsin.settings import Settings

TIMER_DRAFT = "postmortem.draft"
TIMER_REMINDER = "postmortem.reminder"


def check_users(session: Session, user_ids: list[int], field: str) -> None:
    missing = sorted(set(user_ids) - set(session.scalars(
        select(User.id).where(User.id.in_(user_ids), User.active.is_(True)))))
    if missing:
        raise Invalid(f"{field}: no active user with id {', '.join(map(str, missing))}")


# ---- drafting from the record -------------------------------------------------------------

def on_incident_event(session: Session, *, incident: Incident, kind: str,
                      data: dict[str, Any], now: datetime) -> None:
    """IncidentHook: a resolved incident may need a post-mortem. Whether it does depends on
    settings (per severity), which the timer's handler has: the draft is written by the
    engine moments later, durably (the timer commits with the resolution)."""
    if kind == "resolved" and not incident.drill:
        timers.schedule(session, kind=TIMER_DRAFT, key=f"postmortem:{incident.id}:draft",
                        due_at=now, now=now, payload={"incident_id": incident.id})


def draft_due(session: Session, *, incident_id: int, now: datetime, settings: Settings) -> None:
    incident = session.get(Incident, incident_id)
    if incident is None or incident.severity not in settings.postmortem_required_severities:
        return
    if _of_incident(session, incident_id) is None:
        start(session, incident=incident, owner_id=None, now=now, settings=settings)


def _events(session: Session, incident_id: int) -> list[tl.Event]:
    """The incident's record in one query. Only the kinds whose data the timeline reads
    (tl.DATA_KINDS) bring their JSON along: decoding every event's data was a third of a
    5,000-event draft."""
    data = case((IncidentEvent.kind.in_(sorted(tl.DATA_KINDS)), IncidentEvent.data),
                else_=null()).label("data")
    rows_ = session.execute(
        select(IncidentEvent.id, IncidentEvent.at, IncidentEvent.kind, IncidentEvent.actor_id,
               IncidentEvent.body, data)
        .where(IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.id))
    return [tl.Event(i, at, kind, actor, body, d or {}) for i, at, kind, actor, body, d in rows_]


def facts_of(session: Session, incident: Incident) -> tl.Facts:
    names = tuple(session.scalars(
        select(Service.name).join(IncidentService, IncidentService.service_id == Service.id)
        .where(IncidentService.incident_id == incident.id).order_by(Service.name)))
    return tl.Facts(severity=incident.severity, detected_at=incident.detected_at,
                    impact_started_at=incident.impact_started_at,
                    acknowledged_at=incident.acknowledged_at,
                    resolved_at=incident.resolved_at, impact_ended_at=incident.impact_ended_at,
                    users_affected=incident.users_affected, services=names)


def events_of(session: Session, incident_id: int) -> list[tl.Event]:
    return _events(session, incident_id)


def start(session: Session, *, incident: Incident, owner_id: int | None, now: datetime,
          settings: Settings) -> Postmortem:
    """A draft with the timeline and impact filled from the record; due
    `postmortem_due_hours` after resolution (or after now, for an open incident)."""
    if _of_incident(session, incident.id) is not None:
        raise Conflict(f"{incident.number} already has a post-mortem")
    if owner_id is not None:
        check_users(session, [owner_id], "owner_id")
    events = _events(session, incident.id)
    entries = [{**_entry_json(e), "included": e.key} for e in tl.build(events)]
    owner = owner_id or incident.commander_id or incident.acknowledged_by_id
    due_at = (incident.resolved_at or now) + timedelta(hours=settings.postmortem_due_hours)
    pm = rows.add_object(
        session, Postmortem, need_id=True, incident_id=incident.id,
        status=PostmortemStatus.DRAFT.value, owner_id=owner, due_at=due_at,
        title=f"{incident.number}: {incident.title}",
        summary=incident.resolution_summary or "", timeline=entries,
        impact=tl.impact(facts_of(session, incident), events), impact_notes="",
        root_cause=_FIVE_WHYS, contributing_factors="", went_well="", could_improve="",
        created_at=now, updated_at=now)
    _schedule_reminder(session, pm, now, settings, first=True)
    return pm


_FIVE_WHYS = "1. Why?\n2. Why?\n3. Why?\n4. Why?\n5. Why?\n"


def _entry_json(entry: tl.Entry) -> dict[str, Any]:
    return {"event_id": entry.event_id, "at": entry.at.isoformat(), "kind": entry.kind,
            "role": entry.role, "text": entry.text, "key": entry.key, "moment": entry.moment}


def _of_incident(session: Session, incident_id: int) -> Postmortem | None:
    return session.scalars(select(Postmortem).where(Postmortem.incident_id == incident_id)
                           ).first()


# ---- reading (through the one visibility rule) --------------------------------------------

def get_visible(session: Session, *, postmortem_id: int, viewer: Principal) -> Postmortem:
    pm = session.get(Postmortem, postmortem_id)
    if pm is None:
        raise NotFound(f"post-mortem {postmortem_id} does not exist or is not visible to you")
    try:
        incidents.get_visible(session, incident_id=pm.incident_id, viewer=viewer)
    except NotFound:
        raise NotFound(f"post-mortem {postmortem_id} does not exist or is not visible to you"
                       ) from None
    return pm


def of_incident(session: Session, *, incident_id: int, viewer: Principal) -> Postmortem:
    incidents.get_visible(session, incident_id=incident_id, viewer=viewer)
    pm = _of_incident(session, incident_id)
    if pm is None:
        raise NotFound(f"INC-{incident_id} has no post-mortem")
    return pm


def _visible(query: Select[tuple[Postmortem]], viewer: Principal) -> Select[tuple[Postmortem]]:
    return query.join(Incident, Incident.id == Postmortem.incident_id).where(
        visibility.visible_incident(viewer))


def list_visible(session: Session, *, viewer: Principal, now: datetime,
                 overdue: bool = False, query: str | None = None, after_id: int | None = None,
                 limit: int = 100) -> list[Postmortem]:
    """Post-mortems the viewer may see; `overdue`: not published and past due; `query`:
    published ones whose text contains every word."""
    stmt = _visible(select(Postmortem), viewer)
    if overdue:
        stmt = stmt.where(Postmortem.status != PostmortemStatus.PUBLISHED.value,
                          Postmortem.due_at <= now)
    if query is not None:
        stmt = stmt.where(Postmortem.status == PostmortemStatus.PUBLISHED.value)
        for word in query.split()[:10]:
            like = f"%{word.lower()}%"
            stmt = stmt.where(or_(*(func.lower(getattr(Postmortem, c)).like(like)
                                    for c in ("title", *TEXT_SECTIONS))))
    if after_id is not None:
        stmt = stmt.where(Postmortem.id > after_id)
    return list(session.scalars(stmt.order_by(Postmortem.id).limit(limit)))


def findings(session: Session, pm: Postmortem) -> list[tuple[str, blameless.Finding]]:
    """Blameless-wording advice for each text section (it never blocks anything)."""
    people = list(session.scalars(select(User.name).where(User.active.is_(True)).limit(5000)))
    return [(section, f) for section in TEXT_SECTIONS
            for f in blameless.check(getattr(pm, section), people=people)]


# ---- editing and the workflow -------------------------------------------------------------

def _editable(pm: Postmortem) -> None:
    if pm.status == PostmortemStatus.PUBLISHED.value:
        raise Conflict("a published post-mortem cannot be edited")


def update(session: Session, *, pm: Postmortem, data: PostmortemUpdate, now: datetime) -> None:
    _editable(pm)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("owner_id") is not None:
        check_users(session, [changes["owner_id"]], "owner_id")
    included = changes.pop("included_event_ids", None)
    if included is not None:
        known = {e["event_id"] for e in pm.timeline}
        unknown = sorted(set(included) - known)
        if unknown:
            raise Invalid(f"included_event_ids: not on this timeline: {unknown[:10]}")
        pm.timeline = [{**e, "included": e["event_id"] in set(included)} for e in pm.timeline]
    for name, value in changes.items():
        if value is not None:
            setattr(pm, name, value)
    pm.updated_at = now


def request_review(session: Session, *, pm: Postmortem, reviewer_ids: list[int],
                   now: datetime) -> None:
    if pm.status != PostmortemStatus.DRAFT.value:
        raise Conflict(f"only a draft goes to review (this one is {pm.status})")
    check_users(session, reviewer_ids, "reviewer_ids")
    for uid in sorted(set(reviewer_ids)):
        rows.add_object(session, PostmortemReviewer, postmortem_id=pm.id, user_id=uid)
    pm.status = PostmortemStatus.IN_REVIEW.value
    pm.updated_at = now


def comment(session: Session, *, pm: Postmortem, author: Principal, data: CommentIn,
            now: datetime, base_url: str = "") -> PostmortemComment:
    """A comment on a section, or a reply in a thread (one level: a reply to a reply joins
    the same thread; a reply to a resolved thread opens it again). The post-mortem's owner
    gets a notice through the outbox unless they wrote it."""
    parent = None
    section = data.section
    if data.parent_id is not None:
        parent = session.get(PostmortemComment, data.parent_id)
        if parent is None or parent.postmortem_id != pm.id:
            raise Invalid(f"parent_id: no comment {data.parent_id} on this post-mortem")
        if parent.parent_id is not None:
            parent = session.get_one(PostmortemComment, parent.parent_id)
        if section is not None and section != parent.section:
            raise Invalid(f"section: a reply stays in its thread's section ({parent.section})")
        section = parent.section
        parent.resolved_at = parent.resolved_by_id = None
    if section is None:
        raise Invalid("section: name the section the comment is about")
    made = rows.add_object(session, PostmortemComment, need_id=True, postmortem_id=pm.id,
                           section=section, author_id=author.user_id, body=data.body, at=now,
                           parent_id=parent.id if parent else None, resolved_at=None,
                           resolved_by_id=None)
    _tell_owner(session, pm=pm, comment=made, now=now, base_url=base_url)
    return made


def _tell_owner(session: Session, *, pm: Postmortem, comment: PostmortemComment,
                now: datetime, base_url: str) -> None:
    if pm.owner_id is None or pm.owner_id == comment.author_id:
        return
    author = session.get(User, comment.author_id) if comment.author_id else None
    who = author.name if author is not None else "Someone"
    label = SECTION_NAMES.get(comment.section, comment.section)
    notify.send_briefing(
        session, user_id=pm.owner_id, now=now,
        subject=f"New comment on {label}: {pm.title}",
        text=f"{who} commented on \"{label}\" of the post-mortem '{pm.title}':\n\n"
             f"{comment.body[:2000]}\n\nThe post-mortem: {base_url}/postmortems/{pm.id}",
        key=f"postmortem:{pm.id}:comment:{comment.id}")


SECTION_NAMES = {"summary": "Summary", "timeline": "Timeline", "impact": "Impact",
                 "root_cause": "Root cause", "contributing_factors": "Contributing factors",
                 "went_well": "What went well", "could_improve": "What could improve",
                 "action_items": "Action items"}


def resolve_comment(session: Session, *, pm: Postmortem, comment_id: int, by: Principal,
                    now: datetime) -> PostmortemComment:
    """Mark a comment's thread addressed (a reply resolves the thread it belongs to)."""
    found = session.get(PostmortemComment, comment_id)
    if found is None or found.postmortem_id != pm.id:
        raise NotFound(f"no comment {comment_id} on post-mortem {pm.id}")
    thread = found if found.parent_id is None else \
        session.get_one(PostmortemComment, found.parent_id)
    if thread.resolved_at is not None:
        raise Conflict(f"comment {thread.id} is already resolved")
    thread.resolved_at, thread.resolved_by_id = now, by.user_id
    return thread


def open_comments(threads: list[PostmortemComment]) -> dict[str, int]:
    """Unresolved threads per section."""
    out: dict[str, int] = {}
    for c in threads:
        if c.parent_id is None and c.resolved_at is None:
            out[c.section] = out.get(c.section, 0) + 1
    return out


def approve(session: Session, *, pm: Postmortem, reviewer: Principal, now: datetime) -> None:
    row = session.get(PostmortemReviewer, (pm.id, reviewer.user_id))
    if row is None or pm.status != PostmortemStatus.IN_REVIEW.value:
        raise Conflict("only a reviewer of a post-mortem in review can approve it")
    row.approved_at = now


def publish(session: Session, *, pm: Postmortem, now: datetime) -> None:
    """In review → published, once every reviewer approved."""
    if pm.status != PostmortemStatus.IN_REVIEW.value:
        raise Conflict(f"only a post-mortem in review can be published (this one is "
                       f"{pm.status})")
    waiting = session.scalars(select(PostmortemReviewer.user_id).where(
        PostmortemReviewer.postmortem_id == pm.id, PostmortemReviewer.approved_at.is_(None))
    ).all()
    if waiting:
        raise Conflict(f"waiting for the approval of reviewer(s) {sorted(waiting)}")
    pm.status = PostmortemStatus.PUBLISHED.value
    pm.published_at = pm.updated_at = now
    timers.cancel(session, f"postmortem:{pm.id}:reminder", owner=pm)


def reviewers(session: Session, pm: Postmortem) -> list[PostmortemReviewer]:
    return list(session.scalars(select(PostmortemReviewer)
                                .where(PostmortemReviewer.postmortem_id == pm.id)
                                .order_by(PostmortemReviewer.user_id)))


def comments(session: Session, pm: Postmortem) -> list[PostmortemComment]:
    return list(session.scalars(select(PostmortemComment)
                                .where(PostmortemComment.postmortem_id == pm.id)
                                .order_by(PostmortemComment.id)))


# ---- reminders ----------------------------------------------------------------------------

def schedule_reminder(session: Session, *, kind: str, key: str, owner: object,
                      due_at: datetime, payload: dict[str, Any], now: datetime,
                      settings: Settings, first: bool) -> None:
    """The owner's next reminder of something due (a post-mortem, an action item): the
    first one `learning_reminder_before_hours` before the due date, later ones at the due
    date and then every `learning_reminder_every_hours`."""
    at = reminders.first_at(due_at, now=now,
                            before=timedelta(hours=settings.learning_reminder_before_hours)) \
        if first else reminders.next_at(
            due_at, now=now, every=timedelta(hours=settings.learning_reminder_every_hours))
    timers.schedule(session, kind=kind, key=key, due_at=at, now=now, owner=owner,
                    payload=payload)


def _schedule_reminder(session: Session, pm: Postmortem, now: datetime, settings: Settings,
                       *, first: bool) -> None:
    schedule_reminder(session, kind=TIMER_REMINDER, key=f"postmortem:{pm.id}:reminder",
                      owner=pm, due_at=pm.due_at, payload={"postmortem_id": pm.id}, now=now,
                      settings=settings, first=first)


def on_reminder(session: Session, *, postmortem_id: int, now: datetime,
                settings: Settings) -> None:
    pm = session.get(Postmortem, postmortem_id)
    if pm is None or pm.status == PostmortemStatus.PUBLISHED.value:
        return
    if pm.owner_id is not None:
        stage = reminders.stage(pm.due_at, now=now)
        word = "is overdue" if stage == "overdue" else "is due soon"
        notify.send_briefing(
            session, user_id=pm.owner_id, now=now,
            subject=f"Post-mortem {word}: {pm.title}",
            text=f"The post-mortem '{pm.title}' ({pm.status}) {word}: due "
                 f"{pm.due_at:%Y-%m-%d %H:%M} UTC.",
            key=f"postmortem:{pm.id}:{stage}:{int(now.timestamp())}")
    _schedule_reminder(session, pm, now, settings, first=False)


def user_names(session: Session, ids: list[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {uid: name for uid, name in session.execute(
        select(User.id, User.name).where(User.id.in_(wanted)))}


# ---- completion metrics (DOMAIN §10) -----------------------------------------------------

def completion_report(session: Session, *, viewer: Principal, since: datetime, until: datetime,
                      by: str, period: str, zone: str, now: datetime, settings: Settings,
                      severities: list[str] | None = None, service_id: int | None = None,
                      team_id: int | None = None,
                      facts: list[Facts] | None = None) -> CompletionReport:
    """Post-mortem and action-item completion over the metrics' incidents (analytics), by
    the metrics' groups (`facts`: those incidents, already read). Counts only, as every
    figure: restricted incidents are counted."""
    return completion_reports(
        session, viewer=viewer, since=since, until=until, by=[by], period=period, zone=zone,
        now=now, settings=settings, severities=severities, service_id=service_id,
        team_id=team_id, facts=facts)[by]


def completion_reports(session: Session, *, viewer: Principal, since: datetime,
                       until: datetime, by: Sequence[str], period: str, zone: str,
                       now: datetime, settings: Settings,
                       severities: list[str] | None = None, service_id: int | None = None,
                       team_id: int | None = None,
                       facts: list[Facts] | None = None) -> dict[str, CompletionReport]:
    """`completion_report` by each of several groupings, from one read of the window's
    post-mortems and action items."""
    found = facts if facts is not None else analytics.facts(
        session, viewer=viewer, since=since, until=until, severities=severities,
        service_id=service_id, team_id=team_id)
    window = (IncidentFact.counted.is_(True), IncidentFact.created_at >= since,
              IncidentFact.created_at < until)
    reviews = {r.incident_id: completion.Review(r.incident_id, r.status, r.due_at,
                                                r.published_at)
               for r in session.execute(
                   select(Postmortem.incident_id, Postmortem.status, Postmortem.due_at,
                          Postmortem.published_at)
                   .join(IncidentFact, IncidentFact.incident_id == Postmortem.incident_id)
                   .where(*window))}
    actions: dict[int, list[completion.Action]] = {}
    for a in session.execute(
            select(ActionItem.incident_id, ActionItem.status, ActionItem.due_at,
                   ActionItem.done_at)
            .join(IncidentFact, IncidentFact.incident_id == ActionItem.incident_id)
            .where(*window)):
        actions.setdefault(a.incident_id, []).append(
            completion.Action(a.incident_id, a.status, a.due_at, a.done_at))
    required = list(settings.postmortem_required_severities)
    out = {}
    for grouping in by:
        keys = analytics.group_keys(session, by=grouping, period=period, zone=zone)
        rows_out = [CompletionOut(**c.as_dict()) for c in completion.completions(
            found, keys, reviews, actions, required, now=now)]
        out[grouping] = CompletionReport.model_validate({
            "since": since, "until": until, "by": grouping, "period": period,
            "time_zone": zone, "required_severities": required, "rows": rows_out})
    return out
