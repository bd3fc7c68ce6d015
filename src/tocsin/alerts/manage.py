"""Configuration operations: integrations, routing rules, grouping, classification rule sets,
maintenance windows, silences; plus the routing dry-run."""

from __future__ import annotations

import json
import secrets
import shlex
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.alerts import classify, routing, suppress
from tocsin.alerts.match import RuleError
from tocsin.alerts.models import (
    ClassificationRuleSet,
    Integration,
    IntegrationKind,
    MaintenanceWindow,
    RoutingRule,
    Silence,
    TriageSettings,
)
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.alerts.samples import SampleRequest, intake_url, sample_request
from tocsin.alerts.schemas import (
    DryRunIn,
    DryRunOut,
    IntegrationCreate,
    IntegrationOut,
    IntegrationUpdate,
    RoutingRuleIn,
    SilenceIn,
    TriageSettingsIn,
    WindowIn,
)
from tocsin.alerts.service import context_of
from tocsin.alerts.triage_config import (
    classification_rules,
    integration_info,
    routing_rules,
    silences_at,
    windows_for,
)
from tocsin.catalog.service import get_service, service_info
from tocsin.errors import Invalid, NotFound

GENERIC_FIELDS = frozenset({"title", "dedup_key", "severity", "status", "service", "source"})


def new_key() -> str:
    # 32 characters, the length PagerDuty routing keys have, so senders that check it pass.
    return secrets.token_hex(16)


def _curl(url: str, headers: dict[str, str], body: dict[str, Any] | None = None) -> str:
    """A curl command line that a POSIX shell runs as shown (every argument quoted)."""
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url)]
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body is not None:
        parts += ["-d", shlex.quote(json.dumps(body))]
    return " ".join(parts)


def examples(integration: Integration, base: str) -> dict[str, str]:
    """What the API, the web page and the CLI show: each runs as shown against this server
    (tests/intake/test_shown_examples_run.py runs every one)."""
    kind = IntegrationKind(integration.kind)
    sample = sample_request(kind, integration.key, base, service_id=integration.service_id,
                            mapping=dict(integration.mapping), dedup_key="disk-db1")
    out = {"curl": _curl(sample.url, sample.headers, sample.body)}
    if kind is IntegrationKind.OPSGENIE:
        auth = {"Authorization": sample.headers["Authorization"]}
        for action in ("acknowledge", "close"):
            out[f"curl_{action}"] = _curl(
                f"{sample.url}/disk-db1/{action}?identifierType=alias", auth)
    if kind is IntegrationKind.ALERTMANAGER:
        out["alertmanager_yaml"] = (
            "receivers:\n  - name: tocsin\n    webhook_configs:\n"
            f"      - url: '{sample.url}'\n        send_resolved: true\n        max_alerts: 0\n"
            "route:\n  receiver: tocsin\n")
    if kind is IntegrationKind.GRAFANA:
        out["grafana"] = f"Contact point → Webhook → URL {sample.url}, HTTP method POST"
    return out


def sample_of(integration: Integration, base: str, *, dedup_key: str) -> SampleRequest:
    return sample_request(IntegrationKind(integration.kind), integration.key, base,
                          service_id=integration.service_id, mapping=dict(integration.mapping),
                          dedup_key=dedup_key)


def integration_out(integration: Integration, base: str) -> IntegrationOut:
    kind = IntegrationKind(integration.kind)
    return IntegrationOut(
        id=integration.id, service_id=integration.service_id, kind=kind,
        name=integration.name, key=integration.key, enabled=integration.enabled,
        mapping=dict(integration.mapping), url=intake_url(kind, integration.key, base),
        examples=examples(integration, base), created_at=integration.created_at)


def _check_mapping(kind: IntegrationKind, mapping: dict[str, str]) -> None:
    unknown = sorted(set(mapping) - GENERIC_FIELDS)
    if unknown:
        raise Invalid(f"mapping: unknown field(s) {', '.join(unknown)}; use "
                      f"{', '.join(sorted(GENERIC_FIELDS))}")
    if kind is IntegrationKind.GENERIC and "title" not in mapping:
        raise Invalid("mapping.title: a generic webhook needs at least the title path")


def create_integration(session: Session, *, data: IntegrationCreate,
                       now: datetime) -> Integration:
    get_service(session, data.service_id)
    _check_mapping(data.kind, data.mapping)
    integration = Integration(service_id=data.service_id, kind=data.kind.value, name=data.name,
                              key=new_key(), mapping=data.mapping, enabled=True,
                              created_at=now)
    session.add(integration)
    session.flush()
    return integration


def get_integration(session: Session, integration_id: int) -> Integration:
    integration = session.get(Integration, integration_id)
    if integration is None:
        raise NotFound(f"no integration with id {integration_id}")
    return integration


def update_integration(session: Session, *, integration: Integration,
                       data: IntegrationUpdate) -> Integration:
    if data.name is not None:
        integration.name = data.name
    if data.enabled is not None:
        integration.enabled = data.enabled
    if data.mapping is not None:
        _check_mapping(IntegrationKind(integration.kind), data.mapping)
        integration.mapping = data.mapping
    if data.rotate_key:
        integration.key = new_key()
    return integration


def list_integrations(session: Session, service_id: int | None) -> list[Integration]:
    query = select(Integration).order_by(Integration.id)
    if service_id is not None:
        query = query.where(Integration.service_id == service_id)
    return list(session.scalars(query))


# ---- routing rules -----------------------------------------------------------------------

def _rule_parts(data: RoutingRuleIn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    conditions = [c.model_dump() for c in data.conditions]
    actions = data.actions.model_dump(exclude_none=True)
    if not actions:
        raise Invalid("actions: a rule must set something (service_id, severity, team_id, "
                      "tags or suppress)")
    try:
        routing.check_rule(conditions, actions)
    except RuleError as exc:
        raise Invalid(str(exc)) from None
    return conditions, actions


def _check_targets(session: Session, actions: dict[str, Any]) -> None:
    if "service_id" in actions:
        get_service(session, int(actions["service_id"]))
    if "team_id" in actions:
        from tocsin.accounts.models import Team

        if session.get(Team, actions["team_id"]) is None:
            raise Invalid(f"actions.team_id: no team with id {actions['team_id']}")


def create_rule(session: Session, *, data: RoutingRuleIn, now: datetime) -> RoutingRule:
    conditions, actions = _rule_parts(data)
    _check_targets(session, actions)
    position = data.position
    if position is None:
        position = (session.scalar(select(func.max(RoutingRule.position))) or 0) + 10
    rule = RoutingRule(position=position, name=data.name, enabled=data.enabled,
                       conditions=conditions, actions=actions, created_at=now)
    session.add(rule)
    session.flush()
    return rule


def set_rule_enabled(session: Session, *, rule: RoutingRule, enabled: bool) -> RoutingRule:
    """Retire (False) or bring back (True) a routing rule, keeping its definition."""
    rule.enabled = enabled
    return rule


def replace_rule(session: Session, *, rule: RoutingRule, data: RoutingRuleIn) -> RoutingRule:
    conditions, actions = _rule_parts(data)
    _check_targets(session, actions)
    rule.name, rule.enabled = data.name, data.enabled
    rule.conditions, rule.actions = conditions, actions
    if data.position is not None:
        rule.position = data.position
    return rule


def get_rule(session: Session, rule_id: int) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"no routing rule with id {rule_id}")
    return rule


def list_rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.position,
                                                             RoutingRule.id)))


def dry_run(session: Session, *, data: DryRunIn, now: datetime) -> DryRunOut:
    """What routing, classification and suppression would decide, without storing."""
    integration = integration_info(session, get_integration(session, data.integration_id).id) \
        if data.integration_id is not None else None
    service_id = data.service_id or (integration.service_id if integration else None)
    service = service_info(session, service_id) if service_id is not None else None
    event = NormalizedEvent(action=EventAction.TRIGGER, dedup_key="dry-run",
                            summary=data.summary, source=data.source, occurred_at=now,
                            integration_id=data.integration_id, service_id=service_id,
                            severity=data.severity, labels=data.labels, details=data.details,
                            signals=data.signals)
    decision = routing.route(routing_rules(session), context_of(event, integration, service))
    if decision.service_id is not None:
        service = service_info(session, decision.service_id) or service
    context = context_of(event, integration, service)
    if decision.severity:
        verdict = classify.Classification(decision.severity,
                                          *classify.IMPACT_URGENCY[decision.severity],
                                          reason=f"routing rule: {decision.rule_name}")
    else:
        rules = classification_rules(session, service_id=service.id,
                                     team_id=service.owner_team_id) if service \
            else classify.DEFAULT_RULES
        verdict = classify.classify(context, source_severity=data.severity, rules=rules,
                                    tier=service.tier if service else None)
    reason = suppress.suppression_reason(
        labels=data.labels, now=now,
        rule_suppress=decision.rule_name if decision.suppress else None,
        windows=windows_for(session, service.id) if service else [],
        silences=silences_at(session, now))
    return DryRunOut(matched_rule_id=decision.rule_id, matched_rule_name=decision.rule_name,
                     service_id=service.id if service else None, team_id=decision.team_id,
                     tags=decision.tags, suppressed=reason is not None, suppressed_by=reason,
                     severity=verdict.severity, severity_reason=verdict.reason,
                     impact=verdict.impact, urgency=verdict.urgency)


# ---- grouping, classification rule sets --------------------------------------------------

def set_triage_settings(session: Session, *, service_id: int,
                        data: TriageSettingsIn) -> TriageSettings:
    get_service(session, service_id)
    row = session.get(TriageSettings, service_id)
    if row is None:
        row = TriageSettings(service_id=service_id)
        session.add(row)
    row.grouping = data.grouping.value
    row.group_labels = list(data.group_labels)
    row.window_minutes = data.window_minutes
    row.auto_resolve = data.auto_resolve
    return row


def check_scope(scope: str) -> None:
    kind, _, ident = scope.partition(":")
    if scope != "global" and not (kind in ("team", "service") and ident.isdigit()):
        raise Invalid("scope: 'global', 'team:<id>' or 'service:<id>'")


def put_rule_set(session: Session, *, scope: str, rules: list[dict[str, Any]],
                 now: datetime) -> ClassificationRuleSet:
    check_scope(scope)
    try:
        classify.check_rules(rules)
    except RuleError as exc:
        raise Invalid(str(exc)) from None
    row = session.get(ClassificationRuleSet, scope)
    if row is None:
        row = ClassificationRuleSet(scope=scope)
        session.add(row)
    row.rules, row.updated_at = rules, now
    return row


# ---- maintenance windows and silences ----------------------------------------------------

def create_window(session: Session, *, data: WindowIn, now: datetime) -> MaintenanceWindow:
    if data.service_id is not None:
        get_service(session, data.service_id)
    for name in ("starts_at", "ends_at"):
        value = getattr(data, name)
        if value is not None and value.tzinfo is None:
            raise Invalid(f"{name}: give a time zone, e.g. 2026-01-05T22:00:00Z")
    try:
        suppress.check_window(starts_at=data.starts_at, ends_at=data.ends_at,
                              weekdays=data.weekdays, start_time=data.start_time,
                              duration_minutes=data.duration_minutes, time_zone=data.time_zone)
    except RuleError as exc:
        raise Invalid(str(exc)) from None
    window = MaintenanceWindow(created_at=now, **data.model_dump())
    session.add(window)
    session.flush()
    return window


def create_silence(session: Session, *, data: SilenceIn, author_id: int,
                   now: datetime) -> Silence:
    starts = data.starts_at or now
    if starts.tzinfo is None or data.ends_at.tzinfo is None:
        raise Invalid("starts_at/ends_at: give a time zone, e.g. 2026-01-05T22:00:00Z")
    if data.ends_at <= max(starts, now):
        raise Invalid("ends_at: must be in the future and after starts_at")
    matchers = [m.model_dump() for m in data.matchers]
    try:
        suppress.check_matchers(matchers)
    except RuleError as exc:
        raise Invalid(str(exc)) from None
    silence = Silence(matchers=matchers, starts_at=starts, ends_at=data.ends_at,
                      author_id=author_id, comment=data.comment, created_at=now)
    session.add(silence)
    session.flush()
    return silence


def expire_silence(session: Session, *, silence_id: int, now: datetime) -> Silence:
    silence = session.get(Silence, silence_id)
    if silence is None:
        raise NotFound(f"no silence with id {silence_id}")
    if silence.ends_at > now:
        silence.ends_at = max(now, silence.starts_at)
    return silence
