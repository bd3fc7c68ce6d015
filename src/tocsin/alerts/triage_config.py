"""Loading triage configuration (rules, windows, silences, grouping) as plain values.

Configuration is shared across transactions by `tocsin.db.config_cache` (loaded again only
after a change to a configuration table); what depends on incidents or time is computed
per call from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from tocsin.alerts import classify, routing, suppress
from tocsin.alerts.models import (
    ClassificationRuleSet,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    Silence,
    TriageSettings,
)
from tocsin.catalog import service as catalog
from tocsin.db.config_cache import config_cached
from tocsin.incidents import lifecycle as lc
from tocsin.incidents.models import Incident, IncidentService

T = TypeVar("T")


def routing_rules(session: Session) -> list[routing.Rule]:
    return config_cached(session, "routing", lambda: _routing_rules(session))


def _routing_rules(session: Session) -> list[routing.Rule]:
    rows = session.scalars(select(RoutingRule).where(RoutingRule.enabled.is_(True))
                           .order_by(RoutingRule.position, RoutingRule.id))
    return [routing.Rule(id=r.id, name=r.name, conditions=list(r.conditions),
                         actions=dict(r.actions)) for r in rows]


def classification_rules(session: Session, *, service_id: int,
                         team_id: int | None) -> list[dict[str, Any]]:
    """The most specific rule set: the service's, else its team's, else global, else the
    built-in defaults."""
    return config_cached(session, ("classification", service_id, team_id),
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
    return config_cached(session, ("windows", service_id),
                         lambda: _windows_for(session, service_id))


def _windows_for(session: Session, service_id: int) -> list[suppress.Window]:
    rows = session.scalars(select(MaintenanceWindow).where(or_(
        MaintenanceWindow.service_id == service_id, MaintenanceWindow.service_id.is_(None))))
    return [window_of(w) for w in rows]


def window_of(w: MaintenanceWindow) -> suppress.Window:
    return suppress.Window(id=w.id, name=w.name, starts_at=w.starts_at, ends_at=w.ends_at,
                           weekdays=list(w.weekdays), start_time=w.start_time,
                           duration_minutes=w.duration_minutes, time_zone=w.time_zone)


def silences_at(session: Session, now: datetime) -> list[suppress.SilenceRule]:
    """The silences in force at `now`. The cached list holds every silence that had not
    ended when it was loaded (later ones included), so filtering by `now` stays exact as
    time passes; a new silence is a configuration change and reloads it."""
    loaded_at, rules = config_cached(session, "silences", lambda: _silences_from(session, now))
    if now < loaded_at:  # a clock behind the load (tests travel in time): ask directly
        rules = _silences_from(session, now)[1]
    return [r for r in rules if r.starts_at <= now < r.ends_at]


def _silences_from(session: Session,
                   now: datetime) -> tuple[datetime, list[suppress.SilenceRule]]:
    rows = session.scalars(select(Silence).where(Silence.ends_at > now))
    return now, [suppress.SilenceRule(id=s.id, matchers=list(s.matchers),
                                      starts_at=s.starts_at, ends_at=s.ends_at) for s in rows]


@dataclass(frozen=True, slots=True)
class Grouping:
    """A service's triage settings (the defaults when it has none stored)."""

    service_id: int
    grouping: str = "per_alert"
    group_labels: tuple[str, ...] = ()
    window_minutes: int = 30
    auto_resolve: bool = True


def triage_settings(session: Session, service_id: int) -> Grouping:
    return config_cached(session, ("triage", service_id),
                         lambda: _triage_settings(session, service_id))


def _triage_settings(session: Session, service_id: int) -> Grouping:
    row = session.get(TriageSettings, service_id)
    if row is None:
        return Grouping(service_id=service_id)
    return Grouping(service_id=service_id, grouping=row.grouping,
                    group_labels=tuple(row.group_labels), window_minutes=row.window_minutes,
                    auto_resolve=row.auto_resolve)


@dataclass(frozen=True, slots=True)
class IntegrationInfo:
    id: int
    kind: str
    name: str
    service_id: int
    mapping: dict[str, Any]


def integration_info(session: Session, integration_id: int) -> IntegrationInfo | None:
    def load() -> IntegrationInfo | None:
        row = session.get(Integration, integration_id)
        return None if row is None else IntegrationInfo(
            id=row.id, kind=row.kind, name=row.name, service_id=row.service_id,
            mapping=dict(row.mapping or {}))
    return config_cached(session, ("integration", integration_id), load)


def dependency_incident(session: Session, service_id: int) -> Incident | None:
    """The open incident on the nearest failed dependency of the service, direct or
    transitive (web → api → database: web's alerts join the database incident even while
    api itself is quiet). Nearer dependencies win; at one distance the oldest incident."""
    for level in config_cached(session, ("dependency_levels", service_id),
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
