"""Panels that come from features built alongside the web app (schedules, intake, notify),
through their service functions. Each returns None while its feature has nothing to offer,
so the page leaves the panel out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tocsin.alerts import service as alerts
from tocsin.limits import Id
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.runtime import Runtime
from tocsin.schedules import service as schedules
from tocsin.web.auth import WebUser

# How far ahead the dashboard looks for my next shift.
NEXT_SHIFT_HORIZON = timedelta(weeks=4)
RECENT_ALERTS = 10
CHANGES_BEFORE = timedelta(hours=2)
URGENCIES = ("high", "low")


def my_oncall(session: Session, rt: Runtime, who: WebUser) -> dict[str, Any] | None:
    """Am I on call now (and until when), and my next shift, across every schedule."""
    now = rt.clock.now()
    current: dict[str, Any] | None = None
    upcoming: list[tuple[Any, str]] = []
    for schedule in schedules.list_schedules(session):
        result, _layers = schedules.shifts(session, schedule=schedule, start=now,
                                           end=now + NEXT_SHIFT_HORIZON)
        for shift in result.shifts:
            if shift.user_id != who.user.id:
                continue
            if shift.start <= now < shift.end and current is None:
                current = {"until": shift.end, "label": schedule.name}
            elif shift.start > now:
                upcoming.append((shift, schedule.name))
    nxt = min(upcoming, key=lambda pair: pair[0].start) if upcoming else None
    return {"now": current is not None, "now_label": current["label"] if current else None,
            "now_until": current["until"] if current else None,
            "next_start": nxt[0].start if nxt else None, "next_end": nxt[0].end if nxt else None,
            "next_label": nxt[1] if nxt else None}


def _alert(a: Any) -> dict[str, Any]:
    return {"status": a.status, "summary": a.summary, "at": a.last_seen_at, "source": a.source,
            "incident_id": a.incident_id, "occurrences": a.occurrences,
            "severity": a.severity}


def recent_alerts(session: Session, who: WebUser) -> list[dict[str, Any]] | None:
    rows = alerts.recent_alerts(session, viewer=who.principal, limit=RECENT_ALERTS)
    return [_alert(a) for a in rows]


def incident_alerts(session: Session, who: WebUser, incident_id: Id
                    ) -> list[dict[str, Any]] | None:
    rows = alerts.alerts_of_incident(session, incident_id=incident_id, viewer=who.principal)
    return [_alert(a) for a in rows]


def contact_context(session: Session, who: WebUser) -> dict[str, Any]:
    """My contact methods, their verification problems, and my rules as delays per
    (urgency, method), for the profile page."""
    methods = notify.contact_methods_of(session, who.user.id)
    errors = notify.verification_errors(session, [m.id for m in methods])
    delays = {(r.urgency, r.contact_method_id): r.delay_minutes
              for r in notify.rules_of(session, who.user.id)}
    return {"methods": methods, "verify_errors": errors, "delays": delays,
            "kinds": [k.value for k in ChannelKind], "urgencies": URGENCIES}




def incident_pages(session: Session, who: WebUser, incident_id: Id
                   ) -> list[dict[str, Any]] | None:
    """Pages written for the incident and what became of each (responders only, as in the
    API)."""
    if not who.can("responder"):
        return None
    return [{"user_id": m.user_id, "status": m.status, "kind": m.kind, "due_at": m.due_at,
             "sent_at": m.sent_at, "attempts": m.attempts, "error": m.last_error}
            for m in notify.messages_of_incident(session, incident_id)]


def page_recipients(session: Session, who: WebUser, incident_id: Id) -> list[int]:
    pages = incident_pages(session, who, incident_id) or []
    return [p["user_id"] for p in pages]


def recent_changes(session: Session, incident: Any, service_ids: list[Id]
                   ) -> list[dict[str, Any]] | None:
    """Deploys and config changes on the incident's services from two hours before it was
    detected: the first suspects."""
    rows = alerts.recent_changes(session, service_ids=service_ids,
                                 since=incident.detected_at - CHANGES_BEFORE)
    return [{"at": c.at, "summary": c.summary, "source": c.source, "service_id": c.service_id,
             "links": c.links} for c in rows]
