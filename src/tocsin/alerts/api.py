"""Routes: integrations, alerts, routing rules and dry-run, grouping, classification rules,
maintenance windows, silences, recent changes and noise statistics."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts import service as accounts
from tocsin.alerts import classify, manage, stats
from tocsin.alerts.models import (
    Alert,
    AlertEvent,
    ChangeEvent,
    ClassificationRuleSet,
    IncidentAlert,
    Integration,
    MaintenanceWindow,
    RoutingRule,
    Silence,
)
from tocsin.alerts.schemas import (
    AlertEventOut,
    AlertOut,
    AlertPage,
    ChangeOut,
    DryRunIn,
    DryRunOut,
    IntegrationCreate,
    IntegrationOut,
    IntegrationUpdate,
    NoiseReport,
    RoutingRuleIn,
    RoutingRuleOut,
    RuleSetIn,
    RuleSetOut,
    SampleOut,
    SilenceIn,
    SilenceOut,
    TriageSettingsIn,
    TriageSettingsOut,
    WindowIn,
    WindowOut,
)
from tocsin.alerts.suppress import window_active
from tocsin.alerts.triage_config import triage_settings, window_of
from tocsin.alerts.visibility import get_visible_alert, visible_alert
from tocsin.api import pagination
from tocsin.api.deps import Admin, Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.catalog.models import Service
from tocsin.catalog.service import get_service
from tocsin.errors import NotFound
from tocsin.incidents import service as incidents
from tocsin.incidents.models import IncidentService
from tocsin.limits import Id
from tocsin.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["alerts"])
RECENT_CHANGES = timedelta(hours=2)


# ---- integrations -----------------------------------------------------------------------

@router.get("/integrations", response_model=Page[IntegrationOut],
            summary="List integrations, by id")
def list_integrations(session: SessionDep, rt: RuntimeDep, who: Responder,
                      service_id: Id | None = None, cursor: str | None = None,
                      limit: Limit = 100) -> Page[IntegrationOut]:
    # Each shows its secret key: admins see all, a team's managers their services' ones.
    teams = {s.id: s.owner_team_id for s in session.scalars(select(Service))}
    managed = [i for i in manage.list_integrations(session, service_id)
               if accounts.may_manage_team(session, actor=who,
                                           team_id=teams.get(i.service_id))]
    return pagination.page_of_all(
        managed, cursor, limit,
        lambda i: manage.integration_out(i, rt.settings.public_url), lambda i: i.id)


def _guard_service(session: Session, who: Principal, service_id: int, what: str) -> None:
    """A service's integrations and triage change only by its owning team's managers."""
    accounts.require_team_manager(
        session, actor=who, team_id=get_service(session, service_id).owner_team_id,
        what=what)


def _managed_integration(session: Session, who: Principal, integration_id: int
                         ) -> Integration:
    """The integration, if `who` manages its service's team (its key is a secret too)."""
    integration = manage.get_integration(session, integration_id)
    _guard_service(session, who, integration.service_id, "this service's integrations")
    return integration


@router.post("/integrations", status_code=201, response_model=IntegrationOut)
def create_integration(data: IntegrationCreate, session: SessionDep, rt: RuntimeDep,
                       who: Responder) -> IntegrationOut:
    _guard_service(session, who, data.service_id, "this service's integrations")
    integration = manage.create_integration(session, data=data, now=rt.clock.now())
    session.commit()
    return manage.integration_out(integration, rt.settings.public_url)


@router.get("/integrations/{integration_id}", response_model=IntegrationOut)
def show_integration(integration_id: Id, session: SessionDep, rt: RuntimeDep,
                     who: Responder) -> IntegrationOut:
    return manage.integration_out(_managed_integration(session, who, integration_id),
                                  rt.settings.public_url)


@router.get("/integrations/{integration_id}/sample", response_model=SampleOut,
            summary="A ready-to-send triggering event for this integration")
def integration_sample(integration_id: Id, session: SessionDep, rt: RuntimeDep, who: Responder,
                       dedup_key: Annotated[str, Query(min_length=1, max_length=200)]
                       = "tocsin-test") -> SampleOut:
    base = rt.settings.public_url
    sample = manage.sample_of(_managed_integration(session, who, integration_id), base,
                              dedup_key=dedup_key)
    return SampleOut(url=sample.url, path=sample.url.removeprefix(base), headers=sample.headers,
                     body=sample.body)


@router.patch("/integrations/{integration_id}", response_model=IntegrationOut)
def update_integration(integration_id: Id, data: IntegrationUpdate, session: SessionDep,
                       rt: RuntimeDep, who: Responder) -> IntegrationOut:
    integration = manage.update_integration(
        session, integration=_managed_integration(session, who, integration_id), data=data)
    session.commit()
    return manage.integration_out(integration, rt.settings.public_url)


@router.delete("/integrations/{integration_id}", status_code=204)
def delete_integration(integration_id: Id, session: SessionDep, who: Responder) -> Response:
    session.delete(_managed_integration(session, who, integration_id))
    session.commit()
    return Response(status_code=204)


# ---- alerts -------------------------------------------------------------------------------

def alert_out(a: Alert) -> AlertOut:
    return AlertOut(
        id=a.id, dedup_key=a.dedup_key, integration_id=a.integration_id,
        service_id=a.service_id, team_id=a.team_id, incident_id=a.incident_id,
        routing_rule_id=a.routing_rule_id, status=a.status, summary=a.summary, source=a.source,
        source_severity=a.source_severity, severity=a.severity, labels=a.labels,
        details=a.details, links=a.links, tags=a.tags, suppressed_by=a.suppressed_by,
        occurrences=a.occurrences, resolve_count=a.resolve_count,
        first_seen_at=a.first_seen_at, last_seen_at=a.last_seen_at, resolved_at=a.resolved_at)


@router.get("/alerts", response_model=AlertPage)
def list_alerts(session: SessionDep, who: Viewer, status: str | None = None,
                service_id: Id | None = None, integration_id: Id | None = None,
                cursor: str | None = None,
                limit: Annotated[int, Query(ge=1, le=500)] = 50) -> AlertPage:
    query = select(Alert).where(visible_alert(who)).order_by(Alert.id.desc())
    if status:
        query = query.where(Alert.status == status)
    if service_id is not None:
        query = query.where(Alert.service_id == service_id)
    if integration_id is not None:
        query = query.where(Alert.integration_id == integration_id)
    before = pagination.decode(cursor)
    if before is not None:
        query = query.where(Alert.id < before)
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AlertPage(items=[alert_out(a) for a in rows],
                     next_cursor=pagination.encode(rows[-1].id) if more else None)


@router.get("/alerts/{alert_id}", response_model=AlertOut)
def show_alert(alert_id: Id, session: SessionDep, who: Viewer) -> AlertOut:
    return alert_out(get_visible_alert(session, alert_id=alert_id, viewer=who))


@router.get("/alerts/{alert_id}/events", response_model=list[AlertEventOut])
def alert_events(alert_id: Id, session: SessionDep, who: Viewer) -> list[AlertEventOut]:
    get_visible_alert(session, alert_id=alert_id, viewer=who)
    rows = session.scalars(select(AlertEvent).where(AlertEvent.alert_id == alert_id)
                           .order_by(AlertEvent.id).limit(1000))
    return [AlertEventOut(id=e.id, at=e.at, action=e.action, outcome=e.outcome,
                          incident_id=e.incident_id, note=e.note, raw=e.raw) for e in rows]


@router.get("/incidents/{incident_id}/alerts", response_model=list[AlertOut])
def incident_alerts(incident_id: Id, session: SessionDep, who: Viewer) -> list[AlertOut]:
    incidents.get_visible(session, incident_id=incident_id, viewer=who)
    rows = session.scalars(select(Alert).join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
                           .where(IncidentAlert.incident_id == incident_id, visible_alert(who))
                           .order_by(Alert.id))
    return [alert_out(a) for a in rows]


@router.get("/incidents/{incident_id}/changes", response_model=list[ChangeOut])
def incident_changes(incident_id: Id, session: SessionDep, who: Viewer) -> list[ChangeOut]:
    """What changed recently (deploys, config) on the incident's services: from two hours
    before detection until now."""
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who)
    services = select(IncidentService.service_id).where(
        IncidentService.incident_id == incident_id)
    rows = session.scalars(select(ChangeEvent).where(
        ChangeEvent.service_id.in_(services),
        ChangeEvent.at >= incident.detected_at - RECENT_CHANGES).order_by(ChangeEvent.at.desc())
        .limit(100))
    return [ChangeOut(id=c.id, service_id=c.service_id, at=c.at, summary=c.summary,
                      source=c.source, details=c.details, links=c.links) for c in rows]


# ---- routing rules ------------------------------------------------------------------------

def rule_out(r: RoutingRule) -> RoutingRuleOut:
    return RoutingRuleOut(id=r.id, position=r.position, name=r.name, enabled=r.enabled,
                          conditions=r.conditions, actions=r.actions)


@router.get("/routing-rules", response_model=Page[RoutingRuleOut],
            summary="List routing rules, by id (each has its evaluation `position`)")
def list_rules(session: SessionDep, who: Viewer, cursor: str | None = None,
               limit: Limit = 100) -> Page[RoutingRuleOut]:
    return pagination.page_of_all(manage.list_rules(session), cursor, limit, rule_out,
                                  lambda r: r.id)


@router.post("/routing-rules", status_code=201, response_model=RoutingRuleOut)
def create_rule(data: RoutingRuleIn, session: SessionDep, rt: RuntimeDep,
                who: Admin) -> RoutingRuleOut:
    rule = manage.create_rule(session, data=data, now=rt.clock.now())
    session.commit()
    return rule_out(rule)


@router.put("/routing-rules/{rule_id}", response_model=RoutingRuleOut)
def replace_rule(rule_id: Id, data: RoutingRuleIn, session: SessionDep,
                 who: Admin) -> RoutingRuleOut:
    rule = manage.replace_rule(session, rule=manage.get_rule(session, rule_id), data=data)
    session.commit()
    return rule_out(rule)


@router.delete("/routing-rules/{rule_id}", status_code=204)
def delete_rule(rule_id: Id, session: SessionDep, who: Admin) -> Response:
    session.delete(manage.get_rule(session, rule_id))
    session.commit()
    return Response(status_code=204)


@router.post("/routing-rules/dry-run", response_model=DryRunOut)
def dry_run(data: DryRunIn, session: SessionDep, rt: RuntimeDep, who: Viewer) -> DryRunOut:
    """The decision routing, classification and suppression would take, and the rule that
    matched; nothing is stored."""
    return manage.dry_run(session, data=data, now=rt.clock.now())


# ---- grouping and classification ----------------------------------------------------------

@router.get("/services/{service_id}/triage", response_model=TriageSettingsOut)
def show_triage(service_id: Id, session: SessionDep, who: Viewer) -> TriageSettingsOut:
    get_service(session, service_id)
    row = triage_settings(session, service_id)
    return TriageSettingsOut(service_id=service_id, grouping=row.grouping,
                             group_labels=list(row.group_labels),
                             window_minutes=row.window_minutes,
                             auto_resolve=row.auto_resolve)


@router.put("/services/{service_id}/triage", response_model=TriageSettingsOut)
def put_triage(service_id: Id, data: TriageSettingsIn, session: SessionDep,
               who: Responder) -> TriageSettingsOut:
    _guard_service(session, who, service_id, "this service's triage settings")
    manage.set_triage_settings(session, service_id=service_id, data=data)
    session.commit()
    return TriageSettingsOut(service_id=service_id, **data.model_dump())


@router.get("/classification-rules/{scope}", response_model=RuleSetOut)
def show_rule_set(scope: str, session: SessionDep, who: Viewer) -> RuleSetOut:
    manage.check_scope(scope)
    row = session.get(ClassificationRuleSet, scope)
    if row is None:
        return RuleSetOut(scope=scope, rules=classify.DEFAULT_RULES if scope == "global"
                          else [], built_in=scope == "global")
    return RuleSetOut(scope=scope, rules=row.rules, built_in=False)


@router.put("/classification-rules/{scope}", response_model=RuleSetOut)
def put_rule_set(scope: str, data: RuleSetIn, session: SessionDep, rt: RuntimeDep,
                 who: Admin) -> RuleSetOut:
    row = manage.put_rule_set(session, scope=scope, rules=data.rules, now=rt.clock.now())
    session.commit()
    return RuleSetOut(scope=scope, rules=row.rules, built_in=False)


# ---- maintenance windows and silences -----------------------------------------------------

def window_out(w: MaintenanceWindow, rt: RuntimeDep) -> WindowOut:
    return WindowOut(id=w.id, name=w.name, service_id=w.service_id, starts_at=w.starts_at,
                     ends_at=w.ends_at, weekdays=w.weekdays, start_time=w.start_time,
                     duration_minutes=w.duration_minutes, time_zone=w.time_zone,
                     active_now=window_active(window_of(w), rt.clock.now()))


@router.get("/maintenance-windows", response_model=Page[WindowOut],
            summary="List maintenance windows, by id")
def list_windows(session: SessionDep, rt: RuntimeDep, who: Viewer, cursor: str | None = None,
                 limit: Limit = 100) -> Page[WindowOut]:
    query = select(MaintenanceWindow).order_by(MaintenanceWindow.id).limit(limit + 1)
    after = pagination.decode(cursor)
    if after is not None:
        query = query.where(MaintenanceWindow.id > after)
    return pagination.page(session.scalars(query).all(), limit, lambda w: window_out(w, rt),
                           lambda w: w.id)


@router.post("/maintenance-windows", status_code=201, response_model=WindowOut)
def create_window(data: WindowIn, session: SessionDep, rt: RuntimeDep,
                  who: Responder) -> WindowOut:
    window = manage.create_window(session, data=data, now=rt.clock.now())
    session.commit()
    return window_out(window, rt)


@router.delete("/maintenance-windows/{window_id}", status_code=204)
def delete_window(window_id: Id, session: SessionDep, who: Responder) -> Response:
    window = session.get(MaintenanceWindow, window_id)
    if window is None:
        raise NotFound(f"no maintenance window with id {window_id}")
    session.delete(window)
    session.commit()
    return Response(status_code=204)


def silence_out(s: Silence, rt: RuntimeDep) -> SilenceOut:
    now = rt.clock.now()
    return SilenceOut(id=s.id, matchers=s.matchers, starts_at=s.starts_at, ends_at=s.ends_at,
                      author_id=s.author_id, comment=s.comment,
                      active=s.starts_at <= now < s.ends_at)


@router.get("/silences", response_model=Page[SilenceOut], summary="List silences, newest first")
def list_silences(session: SessionDep, rt: RuntimeDep, who: Viewer,
                  include_expired: bool = False, cursor: str | None = None,
                  limit: Limit = 100) -> Page[SilenceOut]:
    query = select(Silence).order_by(Silence.id.desc()).limit(limit + 1)
    if not include_expired:
        query = query.where(Silence.ends_at > rt.clock.now())
    before = pagination.decode(cursor)
    if before is not None:
        query = query.where(Silence.id < before)
    return pagination.page(session.scalars(query).all(), limit, lambda s: silence_out(s, rt),
                           lambda s: s.id)


@router.post("/silences", status_code=201, response_model=SilenceOut)
def create_silence(data: SilenceIn, session: SessionDep, rt: RuntimeDep,
                   who: Responder) -> SilenceOut:
    silence = manage.create_silence(session, data=data, author_id=who.user_id,
                                    now=rt.clock.now())
    session.commit()
    return silence_out(silence, rt)


@router.post("/silences/{silence_id}/expire", response_model=SilenceOut)
def expire_silence(silence_id: Id, session: SessionDep, rt: RuntimeDep,
                   who: Responder) -> SilenceOut:
    silence = manage.expire_silence(session, silence_id=silence_id, now=rt.clock.now())
    session.commit()
    return silence_out(silence, rt)


# ---- noise --------------------------------------------------------------------------------

@router.get("/alert-noise", response_model=NoiseReport)
def noise(session: SessionDep, rt: RuntimeDep, who: Viewer,
          days: Annotated[int, Query(ge=1, le=365)] = 30) -> NoiseReport:
    """Per integration and per routing rule: alerts, incidents, acknowledged share,
    flapping alerts and alerts with no action in the period."""
    return stats.noise_report(session, now=rt.clock.now(), days=days, viewer=who)
