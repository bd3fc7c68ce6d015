"""The triage pipeline: routing → classification → suppression → dedup/grouping → incident.

`ingest_event` runs in the caller's transaction and never commits: intake endpoints commit
before answering 2xx, detection commits with its check result, so an event is either fully
applied (alert, alert event, incident, timers) or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.alerts import classify, routing, suppress
from tocsin.alerts.grouping import group_key
from tocsin.alerts.hooks import after_alert
from tocsin.alerts.models import (
    Alert,
    AlertEvent,
    AlertGroup,
    AlertStatus,
    ChangeEvent,
    GroupingMode,
    IncidentAlert,
    MaintenanceWindow,
    Silence,
)
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.alerts.triage_config import (
    Grouping,
    IntegrationInfo,
    classification_rules,
    dependency_incident,
    integration_info,
    routing_rules,
    silences_at,
    triage_settings,
    windows_for,
)
from tocsin.alerts.visibility import visible_alert
from tocsin.catalog.service import ServiceInfo, service_info
from tocsin.db import rows
from tocsin.errors import Invalid, NotFound
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.incidents.schemas import IncidentCreate, ResolveRequest
from tocsin.principal import Principal
from tocsin.settings import Settings


class IngestOutcome:
    """What triage did with one event (`IngestResult.outcome`)."""

    CREATED = "created"
    DEDUPLICATED = "deduplicated"
    GROUPED = "grouped"
    REOPENED = "reopened"
    SUPPRESSED = "suppressed"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    IGNORED = "ignored"


@dataclass(frozen=True)
class IngestResult:
    """What one event did. `alert_id` is 0 when an acknowledge/resolve named no known alert
    (senders expect those to be accepted and ignored, as PagerDuty does)."""

    alert_id: int
    incident_id: int | None
    outcome: str
    severity: str | None = None
    note: str = ""


def cap_raw(raw: str | None, limit: int) -> str | None:
    if raw is None:
        return None
    return raw if len(raw) <= limit else raw[:limit] + "…[truncated]"


def scope_of(event: NormalizedEvent) -> str:
    """The scope of the alert an event belongs to (see Alert)."""
    return f"i:{event.integration_id}" if event.integration_id is not None \
        else f"s:{event.service_id}"


_LOAD_ALERT = select(Alert).where(Alert.scope == bindparam("l_scope"),
                                  Alert.dedup_key == bindparam("l_key")).with_for_update()


# The alerts this transaction loaded or created, by (scope, dedup key) (db/rows.py held).
# Only this module changes alerts, and it changes only these objects (db/checks.py checks
# it under tests): for every other key the table is up to date without a flush, so looking
# one up needs no autoflush, which in a batch of new alerts would write the batch's rows
# in rounds rather than at its end.
_TOUCHED = "tocsin.alerts.touched"


def _touched(session: Session) -> dict[Any, Alert]:
    return rows.held(session, _TOUCHED)


_EXISTS = select(Alert.id).where(Alert.scope == bindparam("e_scope"),
                                 Alert.dedup_key == bindparam("e_key"))


def _exists(session: Session, scope: str, dedup_key: str) -> bool:
    """Whether the table has the alert (not for one this transaction touched)."""
    return session.connection().execute(
        _EXISTS, {"e_scope": scope, "e_key": dedup_key}).first() is not None


def _load_alert(session: Session, scope: str, dedup_key: str) -> Alert | None:
    touched = _touched(session)
    alert = touched.get((scope, dedup_key))
    if alert is None:
        with session.no_autoflush:
            alert = session.scalars(_LOAD_ALERT, {"l_scope": scope, "l_key": dedup_key}
                                    ).first()
        if alert is not None:
            touched[(scope, dedup_key)] = alert
    return alert


def context_of(event: NormalizedEvent, integration: IntegrationInfo | None,
               service: ServiceInfo | None) -> dict[str, Any]:
    """What routing and classification conditions can look at."""
    return {
        "summary": event.summary, "source": event.source, "severity": event.severity,
        "dedup_key": event.dedup_key, "action": event.action.value, "labels": event.labels,
        "details": event.details, "signals": event.signals,
        "integration": ({"id": integration.id, "kind": integration.kind,
                         "name": integration.name} if integration else {}),
        "service": ({"id": service.id, "name": service.name, "tier": service.tier,
                     "revenue": service.revenue} if service else {}),
    }


def ingest_event(session: Session, event: NormalizedEvent, *, now: datetime,
                 settings: Settings, raw: str | None = None) -> IngestResult:
    """Apply one normalized event. Raises Invalid for an unknown integration or service."""
    integration: IntegrationInfo | None = None
    if event.integration_id is not None:
        integration = integration_info(session, event.integration_id)
        if integration is None:
            raise Invalid(f"no integration with id {event.integration_id}")
    elif event.service_id is None:
        raise Invalid("an event needs an integration_id or a service_id")
    service_id = event.service_id or (integration.service_id if integration else None)
    service = service_info(session, service_id) if service_id is not None else None
    if service is None:
        raise Invalid(f"no service with id {service_id}")
    scope = scope_of(event)
    raw = cap_raw(raw, settings.intake_raw_max_bytes)
    # A repeat that brings tags takes the ORM path, which merges them into the alert's.
    if event.action is EventAction.TRIGGER and not event.tags \
            and (scope, event.dedup_key) not in _touched(session):
        duplicate = _count_duplicate(session, event, scope=scope, now=now, raw=raw)
        if duplicate is not None:
            return duplicate
        # Most often a new alert: a plain look-up says so without building an ORM query.
        alert = _load_alert(session, scope, event.dedup_key) \
            if _exists(session, scope, event.dedup_key) else None
    else:
        alert = _load_alert(session, scope, event.dedup_key)
    if event.action is EventAction.TRIGGER:
        return _trigger(session, event, alert, scope=scope, integration=integration,
                        service=service, now=now, settings=settings, raw=raw)
    if alert is None:
        return IngestResult(alert_id=0, incident_id=None, outcome=IngestOutcome.IGNORED,
                            note="no alert with this dedup key")
    if event.action is EventAction.ACKNOWLEDGE:
        return _acknowledge(session, event, alert, now=now, settings=settings, raw=raw)
    return _resolve(session, event, alert, now=now, settings=settings, raw=raw)


# Built once: constructing the statement cost as much as running it, on every event.
_BUMP_OPEN = (
    update(Alert).where(Alert.scope == bindparam("b_scope"),
                        Alert.dedup_key == bindparam("b_key"),
                        Alert.status != AlertStatus.RESOLVED.value,
                        Alert.suppressed_by.is_(None))
    .values(occurrences=Alert.occurrences + 1, last_seen_at=bindparam("b_now"),
            summary=bindparam("b_summary"), source=bindparam("b_source"),
            labels=bindparam("b_labels"), details=bindparam("b_details"),
            links=bindparam("b_links"), source_severity=bindparam("b_severity"))
    .returning(Alert.id, Alert.incident_id, Alert.severity)
    .execution_options(synchronize_session=False))


def _count_duplicate(session: Session, event: NormalizedEvent, *, scope: str, now: datetime,
                     raw: str | None) -> IngestResult | None:
    """The hot path of a flood: a trigger for an alert that is already open (and paged) is
    one UPDATE and one INSERT, without loading the row. None when the alert is new,
    resolved or suppressed (those go through triage). Not for an alert this transaction
    touched (see _TOUCHED): the table does not show its changes yet, and it is not
    flushed first. On the connection: Core statements need none of the ORM's handling."""
    row = session.connection().execute(_BUMP_OPEN, {
        "b_scope": scope, "b_key": event.dedup_key, "b_now": now,
        "b_summary": event.summary[:1024], "b_source": event.source[:255],
        "b_labels": dict(event.labels), "b_details": dict(event.details),
        "b_links": list(event.links),
        "b_severity": str(event.severity)[:32] if event.severity else None}).first()
    if row is None:
        return None
    alert_id, incident_id, severity = row
    rows.add(session, AlertEvent, alert_id=alert_id, at=now, action="trigger",
             outcome=IngestOutcome.DEDUPLICATED, incident_id=incident_id, note="", raw=raw)
    return IngestResult(alert_id=alert_id, incident_id=incident_id,
                        outcome=IngestOutcome.DEDUPLICATED, severity=severity)


def _log(session: Session, alert: Alert, *, action: str, outcome: str, now: datetime,
         raw: str | None, note: str = "", publish: bool = True) -> None:
    rows.add(session, AlertEvent, alert_id=alert.id, at=now, action=action, outcome=outcome,
             incident_id=alert.incident_id, note=note[:500], raw=raw)
    change = _CHANGES.get((action, outcome))
    if change is not None and publish:
        after_alert(session, alert=alert, change=change, outcome=outcome, note=note, now=now)


# The entries of the log that change an alert's state, as its hooks name them (a repeat of an
# open alert, or an ignored acknowledgement, changes nothing).
_CHANGES = {
    ("trigger", IngestOutcome.CREATED): "created",
    ("trigger", IngestOutcome.GROUPED): "created",
    ("trigger", IngestOutcome.REOPENED): "created",
    ("trigger", IngestOutcome.SUPPRESSED): "created",
    ("acknowledge", IngestOutcome.ACKNOWLEDGED): "acknowledged",
    ("resolve", IngestOutcome.RESOLVED): "resolved",
}


def merge_tags(*groups: list[str]) -> list[str]:
    """The tags of all groups, each once, in first-seen order."""
    return list(dict.fromkeys(t for group in groups for t in group))


def add_tags(alert: Alert, tags: list[str]) -> None:
    """Tag an alert this transaction loaded (load_alert), e.g. on an Opsgenie edit."""
    alert.tags = merge_tags(alert.tags, tags)


def remove_tags(alert: Alert, tags: list[str]) -> None:
    gone = set(tags)
    alert.tags = [t for t in alert.tags if t not in gone]


def set_source_severity(alert: Alert, severity: str) -> None:
    """The sender's own severity (priority) of an alert this transaction loaded; the
    severity triage gave it, and its incident's, are kept."""
    alert.source_severity = severity


def load_alert(session: Session, *, integration_id: int, dedup_key: str) -> Alert | None:
    """The integration's alert with this key, locked, seen by this transaction's triage (an
    alert created earlier in the same intake batch may not be in the table yet)."""
    return _load_alert(session, f"i:{integration_id}", dedup_key)


def log_action(session: Session, alert: Alert, *, action: str, outcome: str, now: datetime,
               note: str = "", raw: str | None = None) -> IngestResult:
    """Record an action on the alert in its log (e.g. an Opsgenie note or snooze)."""
    _log(session, alert, action=action, outcome=outcome, now=now, raw=raw, note=note)
    return _result(alert, outcome, note)


def _result(alert: Alert, outcome: str, note: str = "") -> IngestResult:
    return IngestResult(alert_id=alert.id, incident_id=alert.incident_id, outcome=outcome,
                        severity=alert.severity, note=note)


def _new_alert(session: Session, event: NormalizedEvent, *, scope: str,
               now: datetime) -> tuple[Alert, bool]:
    """Insert the alert row; when a concurrent request inserted it first (PostgreSQL), use
    that one. Returns (alert, created)."""
    values: dict[str, Any] = {
        "scope": scope, "dedup_key": event.dedup_key, "integration_id": event.integration_id,
        "status": AlertStatus.FIRING.value, "summary": event.summary[:1024],
        "source": event.source[:255], "severity": "SEV4", "occurrences": 0,
        "resolve_count": 0, "acknowledged": False, "first_seen_at": now, "last_seen_at": now,
        "labels": {}, "details": {}, "links": [], "tags": [], "suppressed_by": None,
        "incident_id": None}
    if session.get_bind().dialect.name == "sqlite":
        # SQLite write transactions are serialised (BEGIN IMMEDIATE): nobody can have
        # inserted the key since we looked, so skip the savepoint's cost. In a batch the id
        # is known before the INSERT (db/rows.py) and the row is inserted with its triage
        # fields and incident at the batch's flush; otherwise at the flush _trigger makes
        # for its id.
        alert = rows.add_object(session, Alert, **values)
        _touched(session)[(scope, event.dedup_key)] = alert
        return alert, True
    try:
        with session.begin_nested():
            alert = rows.add_object(session, Alert, **values)
            session.flush()
        _touched(session)[(scope, event.dedup_key)] = alert
        return alert, True
    except IntegrityError:
        existing = _load_alert(session, scope, event.dedup_key)
        if existing is None:
            raise
        return existing, False


def _trigger(session: Session, event: NormalizedEvent, alert: Alert | None, *, scope: str,
             integration: IntegrationInfo | None, service: ServiceInfo, now: datetime,
             settings: Settings, raw: str | None) -> IngestResult:
    if alert is None:
        alert, _created = _new_alert(session, event, scope=scope, now=now)
    was_open = alert.occurrences > 0 and alert.status != AlertStatus.RESOLVED.value
    alert.occurrences += 1
    alert.last_seen_at = now
    alert.summary = event.summary[:1024]
    alert.source = event.source[:255]
    alert.labels = dict(event.labels)
    alert.details = dict(event.details)
    alert.links = list(event.links)
    alert.source_severity = (event.severity or None) and str(event.severity)[:32]
    if was_open and (alert.suppressed_by is None or _attached_to_open(session, alert)):
        if event.tags:
            alert.tags = merge_tags(alert.tags, event.tags)
        _log(session, alert, action="trigger", outcome=IngestOutcome.DEDUPLICATED, now=now, raw=raw)
        return _result(alert, IngestOutcome.DEDUPLICATED)
    # New, resolved, or firing while suppressed: triage (again). A silence or maintenance
    # window that has ended since must not keep a still-firing alert from paging.

    context = context_of(event, integration, service)
    decision = routing.route(routing_rules(session), context)
    if decision.service_id is not None and decision.service_id != service.id:
        routed = service_info(session, decision.service_id)
        if routed is not None:
            service = routed
            context = context_of(event, integration, service)
    alert.service_id = service.id
    alert.team_id = decision.team_id
    alert.tags = merge_tags(event.tags, decision.tags)
    alert.routing_rule_id = decision.rule_id
    alert.status = AlertStatus.FIRING.value
    alert.acknowledged = False
    alert.resolved_at = None
    if decision.severity:
        verdict = classify.Classification(decision.severity,
                                          *classify.IMPACT_URGENCY[decision.severity],
                                          reason=f"routing rule: {decision.rule_name}")
    else:
        verdict = classify.classify(
            context, source_severity=event.severity, tier=service.tier,
            rules=classification_rules(session, service_id=service.id,
                                       team_id=service.owner_team_id))
    alert.severity = verdict.severity
    if alert.id is None:
        session.flush()  # a new alert (SQLite): inserted now, with its triage fields

    reason = suppress.suppression_reason(
        labels=event.labels, now=now,
        rule_suppress=decision.rule_name if decision.suppress else None,
        windows=windows_for(session, service.id), silences=silences_at(session, now))
    if reason is not None:
        alert.suppressed_by = reason[:200]
        alert.incident_id = None
        # A repeat of a firing alert that stays suppressed is not a new alert.
        _log(session, alert, action="trigger", outcome=IngestOutcome.SUPPRESSED, now=now, raw=raw,
             note=reason, publish=not was_open)
        return _result(alert, IngestOutcome.SUPPRESSED, reason)
    alert.suppressed_by = None
    outcome, note = _attach_or_declare(session, alert, event, service=service,
                                       verdict=verdict, now=now, settings=settings)
    _log(session, alert, action="trigger", outcome=outcome, now=now, raw=raw, note=note)
    return _result(alert, outcome, note)


def _attached_to_open(session: Session, alert: Alert) -> bool:
    incident = session.get(Incident, alert.incident_id) if alert.incident_id else None
    return incident is not None and lc.Status(incident.status) in lc.OPEN_STATUSES


def _attach(session: Session, alert: Alert, incident: Incident, *, reason: str,
            now: datetime) -> None:
    alert.incident_id = incident.id
    # A brand-new incident has no links yet: skip the lookup. The link is a plain row
    # (db/rows.py; a later look-up in the transaction still finds it).
    if reason == "created" or session.get(IncidentAlert, (incident.id, alert.id)) is None:
        rows.add(session, IncidentAlert, incident_id=incident.id, alert_id=alert.id,
                 attached_at=now, reason=reason)


def _attach_or_declare(session: Session, alert: Alert, event: NormalizedEvent, *,
                       service: ServiceInfo, verdict: classify.Classification, now: datetime,
                       settings: Settings) -> tuple[str, str]:
    # 1. This alert's own previous incident: still open, or resolved but in its watch.
    previous = session.get(Incident, alert.incident_id) if alert.incident_id else None
    if previous is not None:
        was_open = lc.Status(previous.status) in lc.OPEN_STATUSES
        if incidents.record_recurrence(session, incident=previous, now=now, settings=settings,
                                       detail=f"alert recurred: {alert.summary[:200]}"):
            _attach(session, alert, previous, reason="recurrence", now=now)
            return (IngestOutcome.GROUPED if was_open else IngestOutcome.REOPENED), previous.number
    # 2. A failed dependency: join its incident instead of paging separately.
    parent = dependency_incident(session, service.id)
    if parent is not None:
        _attach(session, alert, parent, reason="dependency", now=now)
        alert.suppressed_by = f"dependency: {parent.number} is open on a dependency"
        return IngestOutcome.SUPPRESSED, alert.suppressed_by
    # 3. The service's grouping window.
    config = triage_settings(session, service.id)
    mode = GroupingMode(config.grouping)
    key = group_key(mode, service_id=service.id, dedup_key=alert.dedup_key,
                    labels=alert.labels, group_labels=config.group_labels)
    if mode is not GroupingMode.PER_ALERT:
        outcome = _join_group(session, alert, service_id=service.id, key=key,
                              config=config, now=now, settings=settings)
        if outcome is not None:
            return outcome
    # 4. A new incident.
    incident = incidents.declare(session, actor=None, now=now, settings=settings,
                                 data=_incident_request(alert, event, service, verdict))
    _attach(session, alert, incident, reason="created", now=now)
    if mode is not GroupingMode.PER_ALERT:
        rows.add_object(session, AlertGroup, service_id=service.id, group_key=key,
                        incident_id=incident.id, opened_at=now, last_alert_at=now)
    return IngestOutcome.CREATED, f"{incident.number}: {verdict.reason}"


def _join_group(session: Session, alert: Alert, *, service_id: int, key: str,
                config: Grouping, now: datetime,
                settings: Settings) -> tuple[str, str] | None:
    group = session.scalars(
        select(AlertGroup).where(
            AlertGroup.service_id == service_id, AlertGroup.group_key == key,
            AlertGroup.last_alert_at >= now - timedelta(minutes=config.window_minutes))
        .order_by(AlertGroup.id.desc()).limit(1).with_for_update()).first()
    if group is None:
        return None
    incident = session.get(Incident, group.incident_id)
    if incident is None:
        return None
    was_open = lc.Status(incident.status) in lc.OPEN_STATUSES
    if not was_open and not incidents.record_recurrence(
            session, incident=incident, now=now, settings=settings,
            detail=f"grouped alert fired again: {alert.summary[:200]}"):
        return None
    group.last_alert_at = now
    _attach(session, alert, incident, reason="grouped", now=now)
    return (IngestOutcome.GROUPED if was_open else IngestOutcome.REOPENED), incident.number


def _incident_request(alert: Alert, event: NormalizedEvent, service: ServiceInfo,
                      verdict: classify.Classification) -> IncidentCreate:
    lines = [f"Alert from {event.source}: {event.summary}", f"Classification: {verdict.reason}"]
    lines += [f"- {link.get('text') or link.get('href')}: {link.get('href')}"
              for link in event.links if isinstance(link, dict) and link.get("href")]
    return IncidentCreate(
        title=(event.summary or alert.dedup_key)[:300] or "alert", description="\n".join(lines),
        severity=lc.Severity(verdict.severity), impact=lc.Impact(verdict.impact),
        urgency=lc.Urgency(verdict.urgency), detection_source=lc.DetectionSource.MONITOR,
        service_ids=[service.id], impact_started_at=min(event.occurred_at, alert.last_seen_at))


def _acknowledge(session: Session, event: NormalizedEvent, alert: Alert, *, now: datetime,
                 settings: Settings, raw: str | None) -> IngestResult:
    if alert.status != AlertStatus.FIRING.value:
        _log(session, alert, action="acknowledge", outcome=IngestOutcome.IGNORED, now=now, raw=raw,
             note=f"alert is {alert.status}")
        return _result(alert, IngestOutcome.IGNORED, f"alert is {alert.status}")
    alert.status = AlertStatus.ACKNOWLEDGED.value
    alert.acknowledged = True
    incident = session.get(Incident, alert.incident_id) if alert.incident_id else None
    if incident is not None:
        incidents.acknowledge_from_sender(session, incident=incident, source=event.source,
                                          now=now, settings=settings)
    _log(session, alert, action="acknowledge", outcome=IngestOutcome.ACKNOWLEDGED, now=now, raw=raw)
    return _result(alert, IngestOutcome.ACKNOWLEDGED)


def _resolve(session: Session, event: NormalizedEvent, alert: Alert, *, now: datetime,
             settings: Settings, raw: str | None) -> IngestResult:
    # Resolves are processed whatever suppressed the firing (silence, maintenance,
    # dependency): an alert must never stay "firing" because its recovery was swallowed.
    if alert.status == AlertStatus.RESOLVED.value:
        _log(session, alert, action="resolve", outcome=IngestOutcome.IGNORED, now=now, raw=raw,
             note="already resolved")
        return _result(alert, IngestOutcome.IGNORED, "already resolved")
    alert.status = AlertStatus.RESOLVED.value
    alert.resolved_at = now
    alert.resolve_count += 1
    alert.resolve_3_at, alert.resolve_2_at, alert.resolve_1_at = (
        alert.resolve_2_at, alert.resolve_1_at, now)
    note = ""
    incident = session.get(Incident, alert.incident_id) if alert.incident_id else None
    if incident is not None and lc.Status(incident.status) in lc.OPEN_STATUSES:
        auto = triage_settings(session, alert.service_id).auto_resolve \
            if alert.service_id else True
        still_firing = session.scalar(
            select(func.count()).select_from(Alert).where(
                Alert.incident_id == incident.id, Alert.id != alert.id,
                Alert.status != AlertStatus.RESOLVED.value))
        if auto and not still_firing:
            incidents.resolve(session, incident=incident, actor=None, data=ResolveRequest(),
                              now=now, settings=settings,
                              note=f"all alerts resolved (last: {alert.summary[:200]})")
            note = f"{incident.number} resolved"
        elif still_firing:
            note = f"{incident.number} stays open: {still_firing} alert(s) still firing"
    _log(session, alert, action="resolve", outcome=IngestOutcome.RESOLVED, now=now, raw=raw,
         note=note)
    return _result(alert, IngestOutcome.RESOLVED, note)


# ---- read side for the web pages ---------------------------------------------------------

def recent_alerts(session: Session, *, viewer: Principal, limit: int) -> list[Alert]:
    """The newest alerts `viewer` may see first (dashboard); by id, which the primary key
    index serves."""
    return list(session.scalars(select(Alert).where(visible_alert(viewer))
                                .order_by(Alert.id.desc()).limit(limit)))


def alerts_of_incident(session: Session, *, incident_id: int,
                       viewer: Principal) -> list[Alert]:
    """Every alert the incident gathered that `viewer` may see, oldest first (incident
    page)."""
    return list(session.scalars(
        select(Alert).join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
        .where(IncidentAlert.incident_id == incident_id, visible_alert(viewer))
        .order_by(Alert.id)))


def maintenance_windows(session: Session) -> list[MaintenanceWindow]:
    """Every maintenance window, oldest first (web page)."""
    return list(session.scalars(select(MaintenanceWindow).order_by(MaintenanceWindow.id)))


def delete_maintenance_window(session: Session, *, window_id: int) -> None:
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise NotFound(f"no maintenance window with id {window_id}")
    session.delete(window)


def live_silences(session: Session, *, now: datetime, limit: int = 500) -> list[Silence]:
    """Silences not yet ended (current and future), newest first (web page)."""
    return list(session.scalars(select(Silence).where(Silence.ends_at > now)
                                .order_by(Silence.id.desc()).limit(limit)))


def recent_changes(session: Session, *, service_ids: list[int], since: datetime,
                   limit: int = 100) -> list[ChangeEvent]:
    """Deploys and config changes on these services since `since`, newest first (the
    incident page's "what changed")."""
    if not service_ids:
        return []
    return list(session.scalars(select(ChangeEvent).where(
        ChangeEvent.service_id.in_(service_ids), ChangeEvent.at >= since)
        .order_by(ChangeEvent.at.desc()).limit(limit)))


def noisiest_alerts(session: Session, *, since: datetime, viewer: Principal,
                    service_ids: list[int] | None = None, limit: int = 5) -> list[Alert]:
    """Alerts seen since `since` that `viewer` may see, most occurrences first (on-call
    handoff briefings)."""
    query = select(Alert).where(Alert.last_seen_at >= since, visible_alert(viewer))
    if service_ids is not None:
        query = query.where(Alert.service_id.in_(service_ids))
    return list(session.scalars(query.order_by(Alert.occurrences.desc(), Alert.id).limit(limit)))
