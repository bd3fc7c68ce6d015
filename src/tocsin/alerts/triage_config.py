"""Loading triage configuration (rules, windows, silences, grouping) as plain values."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tocsin.alerts import classify, routing, suppress
from tocsin.alerts.models import (
    ClassificationRuleSet,
    MaintenanceWindow,
    RoutingRule,
    Silence,
    TriageSettings,
)
from tocsin.catalog import service as catalog
from tocsin.incidents import lifecycle as lc
from tocsin.incidents.models import Incident, IncidentService

T = TypeVar("T")


def cached(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """Load configuration once per transaction: a webhook batch of 100 alerts reads the
    rules once, and every alert in it sees the same configuration."""
    transaction = session.get_transaction()
    holder = session.info.get("tocsin.triage_cache")
    if holder is None or holder[0] is not transaction:
        holder = (transaction, {})
        session.info["tocsin.triage_cache"] = holder
    store: dict[Hashable, Any] = holder[1]
    if key not in store:
        store[key] = load()
    value: T = store[key]
    return value


def routing_rules(session: Session) -> list[routing.Rule]:
    return cached(session, "routing", lambda: _routing_rules(session))


def _routing_rules(session: Session) -> list[routing.Rule]:
    rows = session.scalars(select(RoutingRule).where(RoutingRule.enabled.is_(True))
                           .order_by(RoutingRule.position, RoutingRule.id))
    return [routing.Rule(id=r.id, name=r.name, conditions=list(r.conditions),
                         actions=dict(r.actions)) for r in rows]


def classification_rules(session: Session, *, service_id: int,
                         team_id: int | None) -> list[dict[str, Any]]:
    """The most specific rule set: the service's, else its team's, else global, else the
    built-in defaults."""
    return cached(session, ("classification", service_id, team_id),
                  lambda: _classification_rules(session, service_id, team_id))


def _classification_rules(session: Session, service_id: int,
                          team_id: int | None) -> list[dict[str, Any]]:
    scopes = [f"service:{service_id}", *([f"team:{team_id}"] if team_id else []), "global"]
    rows = {r.scope: r.rules for r in session.scalars(
        select(ClassificationRuleSet).where(ClassificationRuleSet.scope.in_(scopes)))}
    for scope in scopes:
        if scope in rows:
            return list(rows[scope])
    return classify.DEFAULT_RULES


def windows_for(session: Session, service_id: int) -> list[suppress.Window]:
    return cached(session, ("windows", service_id), lambda: _windows_for(session, service_id))


def _windows_for(session: Session, service_id: int) -> list[suppress.Window]:
    rows = session.scalars(select(MaintenanceWindow).where(or_(
        MaintenanceWindow.service_id == service_id, MaintenanceWindow.service_id.is_(None))))
    return [window_of(w) for w in rows]


def window_of(w: MaintenanceWindow) -> suppress.Window:
    return suppress.Window(id=w.id, name=w.name, starts_at=w.starts_at, ends_at=w.ends_at,
                           weekdays=list(w.weekdays), start_time=w.start_time,
                           duration_minutes=w.duration_minutes, time_zone=w.time_zone)


def silences_at(session: Session, now: datetime) -> list[suppress.SilenceRule]:
    return cached(session, ("silences", now), lambda: _silences_at(session, now))


def _silences_at(session: Session, now: datetime) -> list[suppress.SilenceRule]:
    rows = session.scalars(select(Silence).where(Silence.ends_at > now,
                                                 Silence.starts_at <= now))
    return [suppress.SilenceRule(id=s.id, matchers=list(s.matchers), starts_at=s.starts_at,
                                 ends_at=s.ends_at) for s in rows]


def triage_settings(session: Session, service_id: int) -> TriageSettings:
    return cached(session, ("triage", service_id), lambda: _triage_settings(session, service_id))


def _triage_settings(session: Session, service_id: int) -> TriageSettings:
    row = session.get(TriageSettings, service_id)
    if row is None:
        row = TriageSettings(service_id=service_id, grouping="per_alert", group_labels=[],
                             window_minutes=30, auto_resolve=True)
    return row


def dependency_incident(session: Session, service_id: int) -> Incident | None:
    """The open incident on the nearest failed dependency of the service, direct or
    transitive (web → api → database: web's alerts join the database incident even while
    api itself is quiet). Nearer dependencies win; at one distance the oldest incident."""
    for level in cached(session, ("dependency_levels", service_id),
                        lambda: dependency_levels(session, service_id)):
        found = session.scalars(
            select(Incident).join(IncidentService, IncidentService.incident_id == Incident.id)
            .where(IncidentService.service_id.in_(level),
                   Incident.status.in_([s.value for s in lc.OPEN_STATUSES]))
            .order_by(Incident.id).limit(1)).first()
        if found is not None:
            return found
    return None


def dependency_levels(session: Session, service_id: int) -> list[list[int]]:
    """The service's dependencies by distance: direct ones, then theirs, and so on. Each
    service appears once, at its shortest distance (the graph is acyclic, but a visited set
    keeps a bad row from looping)."""
    levels: list[list[int]] = []
    seen = {service_id}
    frontier = [service_id]
    while frontier:
        deps = catalog.dependencies_of(session, frontier)
        level = sorted({d for sid in frontier for d in deps[sid]} - seen)
        if not level:
            break
        seen.update(level)
        levels.append(level)
        frontier = level
    return levels
