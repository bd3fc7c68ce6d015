"""Routing rules evaluated in order (equals, regex, exists, numeric comparisons) set
service, severity, team, tags or suppress; the dry-run endpoint shows the decision and the
rule that matched, and live intake follows the same decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.alerts.routing import Rule, route


def test_first_matching_rule_wins_pure() -> None:
    rules = [
        Rule(1, "disabled", [{"field": "summary", "op": "exists"}], {"severity": "SEV1"},
             enabled=False),
        Rule(2, "prod db", [{"field": "labels.env", "op": "equals", "value": "prod"},
                            {"field": "labels.app", "op": "regex", "value": "db-.*"}],
             {"severity": "SEV2", "tags": ["db"]}),
        Rule(3, "noisy latency", [{"field": "signals.p99_ms", "op": "lt", "value": 300}],
             {"suppress": True}),
    ]
    hit = route(rules, {"labels": {"env": "prod", "app": "db-main"}, "signals": {}})
    assert (hit.rule_id, hit.severity, hit.tags) == (2, "SEV2", ["db"])
    assert route(rules, {"labels": {"env": "prod", "app": "xdb-main"}}).rule_id is None
    assert route(rules, {"labels": {}, "signals": {"p99_ms": 120.0}}).suppress
    assert route(rules, {"labels": {}, "signals": {"p99_ms": 900.0}}).rule_id is None


def test_dry_run_shows_decision_and_live_intake_follows_it(
        client: TestClient, admin: Account, viewer: Account,
        new_service: Callable[..., int], ingest: Callable[..., Any]) -> None:
    source, payments = new_service(name="edge"), new_service(name="payments", tier="critical")
    rules = [
        {"name": "payments errors to payments", "actions": {"service_id": payments,
                                                            "tags": ["pay"]},
         "conditions": [{"field": "labels.component", "op": "equals", "value": "payments"},
                        {"field": "signals.error_rate", "op": "gte", "value": 5}]},
        {"name": "drop staging", "actions": {"suppress": True},
         "conditions": [{"field": "labels.env", "op": "regex", "value": "stag(e|ing)"}]},
    ]
    for rule in rules:
        r = client.post("/api/v1/routing-rules", json=rule, headers=admin.headers)
        assert r.status_code == 201, r.text

    r = client.post("/api/v1/routing-rules/dry-run", headers=viewer.headers, json={
        "service_id": source, "summary": "5xx on checkout",
        "labels": {"component": "payments"}, "signals": {"error_rate": 30}})
    assert r.status_code == 200, r.text
    decision = r.json()
    assert decision["matched_rule_name"] == "payments errors to payments"
    assert decision["service_id"] == payments and decision["tags"] == ["pay"]
    # Classification sees the routed (critical) service: error rate >= 25% → SEV2.
    assert decision["severity"] == "SEV2" and "error rate >=25%" in decision["severity_reason"]
    assert decision["suppressed"] is False

    staging = client.post("/api/v1/routing-rules/dry-run", headers=viewer.headers, json={
        "service_id": source, "labels": {"env": "staging"}}).json()
    assert staging["suppressed"] and staging["matched_rule_name"] == "drop staging"

    live = ingest(source, "pay-5xx", labels={"component": "payments"},
                  signals={"error_rate": 30.0})
    assert live.outcome == "created" and live.severity == "SEV2"
    incident = client.get(f"/api/v1/incidents/{live.incident_id}", headers=admin.headers).json()
    assert incident["service_ids"] == [payments]
    quiet = ingest(source, "stg", labels={"env": "stage"})
    assert quiet.outcome == "suppressed" and quiet.incident_id is None
    alert = client.get(f"/api/v1/alerts/{quiet.alert_id}", headers=admin.headers).json()
    assert alert["status"] == "firing"  # still visible
    assert alert["suppressed_by"] == "routing rule: drop staging"


def test_bad_rules_are_refused_with_the_reason(client: TestClient, admin: Account,
                                               responder: Account) -> None:
    bad_regex = {"name": "x", "actions": {"severity": "SEV1"},
                 "conditions": [{"field": "summary", "op": "regex", "value": "("}]}
    r = client.post("/api/v1/routing-rules", json=bad_regex, headers=admin.headers)
    assert r.status_code == 422 and "bad regex" in r.json()["detail"]
    no_number = {"name": "x", "actions": {"severity": "SEV1"},
                 "conditions": [{"field": "signals.p99_ms", "op": "gt", "value": "slow"}]}
    r = client.post("/api/v1/routing-rules", json=no_number, headers=admin.headers)
    assert r.status_code == 422 and "numeric" in r.json()["detail"]
    r = client.post("/api/v1/routing-rules", json={"name": "x", "actions": {}},
                    headers=admin.headers)
    assert r.status_code == 422
    r = client.post("/api/v1/routing-rules", headers=responder.headers, json={
        "name": "x", "actions": {"severity": "SEV1"}})
    assert r.status_code == 403
    assert client.get("/api/v1/routing-rules", headers=admin.headers).json()["items"] == []
