"""Event webhooks: subscriptions, the events they get, and their delivery outbox.

`on_incident_event` (wiring.py::INCIDENT_HOOKS) writes one delivery row per matching
subscription in the incident change's own transaction, so an event is delivered if and only
if the change commits. The `webhooks.deliver` job claims due rows (a conditional update with
a lease, as notify's outbox does), POSTs them signed, and records each try in the log.
Restricted incidents are never published: their details stay with the people who may see
them (incidents/visibility.py).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, IncidentAlert
from tocsin.catalog.models import Service
from tocsin.db import rows
from tocsin.db.config_cache import config_cached
from tocsin.db.wakeup import wake_after_commit
from tocsin.errors import Invalid, NotFound
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.outbound import refused_message, url_refusal
from tocsin.settings import Settings
from tocsin.webhooks import events
from tocsin.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from tocsin.webhooks.schemas import SubscriptionCreate, SubscriptionUpdate

LEASE = timedelta(seconds=60)


def check_url(url: str, settings: Settings) -> None:
    """A receiver is an http(s) URL whose host is public, or allowed by the admin
    (`outbound_allow`): otherwise any admin could make the server reach its own network."""
    if not url.lower().startswith(("http://", "https://")):
        raise Invalid("url: a webhook receiver is an http:// or https:// URL")
    reason = url_refusal(url, settings.outbound_policy)
    if reason is not None:
        raise Invalid(f"url: {refused_message(reason)}")


def create_subscription(session: Session, *, data: SubscriptionCreate, now: datetime,
                        settings: Settings) -> WebhookSubscription:
    check_url(data.url, settings)
    return rows.add_object(
        session, WebhookSubscription, need_id=True, name=data.name, url=data.url,
        secret=data.secret or secrets.token_urlsafe(32), event_types=sorted(data.event_types),
        service_ids=sorted(set(data.service_ids)), team_ids=sorted(set(data.team_ids)),
        severities=sorted(s.value for s in data.severities), active=True,
        include_drills=data.include_drills, created_at=now)


def get_subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    sub = session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFound(f"webhook subscription {subscription_id} does not exist")
    return sub


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    return list(session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id)))


def update_subscription(session: Session, *, sub: WebhookSubscription,
                        data: SubscriptionUpdate, settings: Settings) -> WebhookSubscription:
    changes = data.model_dump(exclude_unset=True, mode="json")
    if changes.get("url") is not None:
        check_url(changes["url"], settings)
    for name, value in changes.items():
        if value is not None:
            setattr(sub, name, sorted(set(value)) if isinstance(value, list) else value)
    return sub


def delete_subscription(session: Session, *, sub: WebhookSubscription) -> None:
    session.delete(sub)


# ---- events ---------------------------------------------------------------------------------

def _filters(session: Session) -> tuple[events.Filter, ...]:
    def load() -> tuple[events.Filter, ...]:
        return tuple(
            events.Filter(s.id, frozenset(s.event_types), frozenset(s.service_ids),
                          frozenset(s.team_ids), frozenset(s.severities), s.include_drills)
            for s in session.scalars(select(WebhookSubscription).where(
                WebhookSubscription.active.is_(True))))
    return config_cached(session, "webhooks.filters", load)


def incident_summary(incident: Incident, service_ids: list[int]) -> dict[str, Any]:
    """The incident as events carry it (`url` is added when sent, from `public_url`)."""
    return {"id": incident.id, "number": incident.number, "title": incident.title,
            "status": incident.status, "severity": incident.severity,
            "service_ids": service_ids, "commander_id": incident.commander_id,
            "bridge_url": incident.bridge_url}


def on_incident_event(session: Session, *, incident: Incident, kind: str,
                      data: dict[str, Any], now: datetime) -> None:
    """Hook (wiring.py): one delivery per active subscription the event passes."""
    type_ = events.event_type(kind, data)
    if type_ is None or incident.restricted:
        return
    filters = _filters(session)
    if not filters:
        return
    if kind == "created":
        service_ids = sorted(int(s) for s in data.get("service_ids", []))
    else:
        service_ids = incidents.service_ids_of(session, [incident.id])[incident.id]
    teams = frozenset(t for t in session.scalars(select(Service.owner_team_id).where(
        Service.id.in_(service_ids))) if t is not None) if service_ids else frozenset()
    facts = events.Facts(type_, frozenset(service_ids), teams, incident.severity,
                         incident.drill)
    summary = incident_summary(incident, service_ids)
    for sub_id in events.subscribers(filters, facts):
        _enqueue(session, sub_id, type_, summary, data, now)


def alert_summary(alert: Alert) -> dict[str, Any]:
    return {"id": alert.id, "dedup_key": alert.dedup_key, "status": alert.status,
            "summary": alert.summary, "source": alert.source, "severity": alert.severity,
            "source_severity": alert.source_severity, "service_id": alert.service_id,
            "team_id": alert.team_id, "incident_id": alert.incident_id,
            "occurrences": alert.occurrences, "suppressed_by": alert.suppressed_by,
            "labels": dict(alert.labels), "tags": list(alert.tags)}


def on_alert_event(session: Session, *, alert: Alert, change: str, outcome: str, note: str,
                   now: datetime) -> None:
    """Hook (wiring.py::ALERT_HOOKS): one delivery per active subscription the alert's change
    passes. An alert that ever joined a restricted incident is not published (its summary
    and labels belong to that incident: alerts/visibility.py)."""
    type_ = events.ALERT_EVENT_TYPES.get(change)
    if type_ is None:
        return
    filters = _filters(session)
    if not filters:
        return
    incident = session.get(Incident, alert.incident_id) if alert.incident_id else None
    if (incident is not None and incident.restricted) or session.scalar(
            select(IncidentAlert.incident_id).join(
                Incident, Incident.id == IncidentAlert.incident_id)
            .where(IncidentAlert.alert_id == alert.id, Incident.restricted.is_(True))
            .limit(1)) is not None:
        return
    service_ids = [alert.service_id] if alert.service_id is not None else []
    teams = {alert.team_id} if alert.team_id is not None else set()
    if service_ids:
        owner = session.scalar(select(Service.owner_team_id).where(
            Service.id == service_ids[0]))
        if owner is not None:
            teams.add(owner)
    facts = events.Facts(type_, frozenset(service_ids), frozenset(teams), alert.severity,
                         incident is not None and incident.drill)
    summary = alert_summary(alert)
    incident_part = None if incident is None else incident_summary(
        incident, incidents.service_ids_of(session, [incident.id])[incident.id])
    data = {"outcome": outcome, "accepted": incident is not None and not alert.suppressed_by,
            "note": note}
    for sub_id in events.subscribers(filters, facts):
        _enqueue(session, sub_id, type_, incident_part, data, now, alert=summary)


def _enqueue(session: Session, sub_id: int, type_: str, incident: dict[str, Any] | None,
             data: dict[str, Any], now: datetime, alert: dict[str, Any] | None = None) -> None:
    event_id = f"evt_{uuid.uuid4().hex}"
    payload = events.body(event_id=event_id, type_=type_, at=now, incident=incident,
                          data=data, alert=alert)
    rows.add(session, WebhookDelivery, subscription_id=sub_id, event_id=event_id,
             event_type=type_, payload=payload, status=DeliveryStatus.PENDING.value,
             attempts=0, due_at=now, lease_until=None, claimed_by=None,
             response_status=None, last_error=None, sent_at=None, created_at=now)
    wake_after_commit(session)


def send_test(session: Session, *, sub: WebhookSubscription, now: datetime) -> None:
    """Queue a `test` event for this subscription (the 'send test' button)."""
    _enqueue(session, sub.id, "test", {}, {"message": "a test event from Tocsin"}, now)


# ---- the delivery log -----------------------------------------------------------------------

def deliveries_of(session: Session, *, sub: WebhookSubscription, limit: int,
                  before_id: int | None = None,
                  ) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """Newest first, before `before_id` when given, each with its tries in order."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    found = list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))
    log: dict[int, list[WebhookAttempt]] = {d.id: [] for d in found}
    if found:
        for a in session.scalars(select(WebhookAttempt).where(
                WebhookAttempt.delivery_id.in_(list(log))).order_by(WebhookAttempt.id)):
            log[a.delivery_id].append(a)
    return [(d, log[d.id]) for d in found]


# ---- claiming and recording (the job sends in between, outside any transaction) ------------

@dataclass(frozen=True)
class Claimed:
    id: int
    subscription_id: int
    url: str
    secret: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    attempts: int


def _claimable(now: datetime) -> Any:
    return or_(and_(WebhookDelivery.status == DeliveryStatus.PENDING.value,
                    WebhookDelivery.due_at <= now),
               and_(WebhookDelivery.status == DeliveryStatus.SENDING.value,
                    WebhookDelivery.lease_until <= now))


def claim(session: Session, *, now: datetime, worker_id: str, limit: int) -> list[Claimed]:
    """Claim due deliveries with one conditional update (and SKIP LOCKED on PostgreSQL), so
    concurrent workers take disjoint rows; a worker that dies leaves its lease to run out."""
    query = (select(WebhookDelivery.id).where(_claimable(now))
             .order_by(WebhookDelivery.due_at, WebhookDelivery.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if not ids:
        return []
    won = list(session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id.in_(ids), _claimable(now))
        .values(status=DeliveryStatus.SENDING.value, claimed_by=worker_id,
                lease_until=now + LEASE, attempts=WebhookDelivery.attempts + 1)
        .returning(WebhookDelivery.id).execution_options(synchronize_session=False))
        .scalars())
    if not won:
        return []
    found = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.subscription_id, WebhookSubscription.url,
               WebhookSubscription.secret, WebhookDelivery.event_id,
               WebhookDelivery.event_type, WebhookDelivery.payload, WebhookDelivery.attempts)
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .where(WebhookDelivery.id.in_(won)).order_by(WebhookDelivery.id)).all()
    return [Claimed(i, sid, u, s, e, t, dict(p), a) for i, sid, u, s, e, t, p, a in found]


@dataclass(frozen=True)
class Result:
    delivery: Claimed
    status: int | None
    error: str | None
    permanent: bool = False


def record(session: Session, results: list[Result], *, worker_id: str, now: datetime,
           settings: Settings) -> dict[str, int]:
    """Record each try: sent, retry later (backing off), or failed; only rows this worker
    still holds change."""
    counts: dict[str, int] = {}
    for r in results:
        d = r.delivery
        ok = r.error is None and r.status is not None and r.status < 300
        if ok:
            outcome, values = "sent", {"status": DeliveryStatus.SENT.value, "sent_at": now}
        elif not r.permanent and events.retryable(r.status) \
                and d.attempts < settings.event_webhook_max_attempts:
            outcome = "retry"
            values = {"status": DeliveryStatus.PENDING.value,
                      "due_at": now + events.backoff(d.attempts,
                                                     settings.event_webhook_retry_seconds)}
        else:
            outcome, values = "failed", {"status": DeliveryStatus.FAILED.value}
        changed = session.execute(
            update(WebhookDelivery).where(
                WebhookDelivery.id == d.id, WebhookDelivery.claimed_by == worker_id,
                WebhookDelivery.status == DeliveryStatus.SENDING.value)
            .values(lease_until=None, response_status=r.status, last_error=r.error,
                    **values).execution_options(synchronize_session=False))
        if changed.rowcount:  # type: ignore[attr-defined]
            rows.add(session, WebhookAttempt, delivery_id=d.id, at=now,
                     response_status=r.status, error=r.error, outcome=outcome)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts
