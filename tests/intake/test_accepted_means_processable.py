"""What intake accepts, triage can process: values the database cannot hold are refused at
accept time in the sender's own error shape (nothing stored), and an accepted event never
ends up as a failed inbox row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account, drain_intake
from tocsin.alerts.models import Alert, ChangeEvent
from tocsin.intake.models import InboxRow
from tocsin.runtime import Runtime

PAST_9999_IN_UTC = "9999-12-31T23:59:59-14:00"


def inbox_statuses(runtime: Runtime) -> list[str]:
    drain_intake(runtime)
    with runtime.sessions() as session:
        return list(session.scalars(select(InboxRow.status).order_by(InboxRow.id)))


def test_pagerduty_timestamp_past_year_9999_is_an_invalid_event(
        client: TestClient, runtime: Runtime,
        make_integration: Callable[..., dict[str, Any]]) -> None:
    key = make_integration("pagerduty")["key"]
    r = client.post("/v2/enqueue", json={
        "routing_key": key, "event_action": "trigger",
        "payload": {"summary": "Disk full", "source": "db1", "severity": "error",
                    "timestamp": PAST_9999_IN_UTC}})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["status"] == "invalid event" and body["message"] == "Event object is invalid"
    assert any("payload.timestamp" in e and "out of range" in e for e in body["errors"])
    r = client.post("/v2/change/enqueue", json={
        "routing_key": key, "payload": {"summary": "Deploy", "timestamp": PAST_9999_IN_UTC}})
    assert r.status_code == 400 and r.json()["status"] == "invalid event", r.text
    assert inbox_statuses(runtime) == []
    with runtime.sessions() as session:
        assert session.scalars(select(ChangeEvent)).first() is None


def test_alertmanager_starts_at_past_year_9999_is_refused(
        client: TestClient, runtime: Runtime,
        make_integration: Callable[..., dict[str, Any]]) -> None:
    am = make_integration("alertmanager")
    r = client.post(f"/api/v1/intake/alertmanager/{am['key']}", json={"alerts": [
        {"status": "firing", "labels": {"alertname": "A"}, "startsAt": PAST_9999_IN_UTC}]})
    assert r.status_code == 400 and "alerts[0].startsAt" in r.json()["detail"], r.text
    assert inbox_statuses(runtime) == []


def test_opsgenie_acknowledge_for_an_id_past_any_row_is_accepted_and_ignored(
        client: TestClient, runtime: Runtime,
        make_integration: Callable[..., dict[str, Any]]) -> None:
    auth = {"Authorization": f"GenieKey {make_integration('opsgenie')['key']}"}
    for identifier in ("36893488147419103233", "9223372036854775808", "2147483648", "²"):
        r = client.post(f"/v2/alerts/{identifier}/acknowledge", headers=auth)
        assert r.status_code == 202, r.text
    # docs/intake.md: acknowledge/close for an unknown alert are accepted and ignored.
    assert inbox_statuses(runtime) == ["done"] * 4
    health = client.get("/api/v1/health").json()
    assert health["intake_failed"] == 0


def test_opsgenie_alias_longer_than_the_dedup_key_column_still_names_its_alert(
        client: TestClient, runtime: Runtime, admin: Account,
        make_integration: Callable[..., dict[str, Any]]) -> None:
    auth = {"Authorization": f"GenieKey {make_integration('opsgenie')['key']}"}
    alias, other = "a" * 300, "a" * 299 + "b"  # differ only past character 255
    for name in (alias, other):
        r = client.post("/v2/alerts", headers=auth, json={"message": name[-1], "alias": name})
        assert r.status_code == 202, r.text
    assert inbox_statuses(runtime) == ["done", "done"]
    with runtime.sessions() as session:
        keys = list(session.scalars(select(Alert.dedup_key).order_by(Alert.id)))
    assert len(keys) == 2 and keys[0] != keys[1] and all(len(k) <= 255 for k in keys)
    r = client.post(f"/v2/alerts/{alias}/close?identifierType=alias", headers=auth)
    assert r.status_code == 202, r.text
    assert inbox_statuses(runtime) == ["done"] * 3
    with runtime.sessions() as session:
        statuses = list(session.scalars(select(Alert.status).order_by(Alert.id)))
    assert statuses == ["resolved", "firing"]


def test_opsgenie_identifier_with_nul_is_refused_in_opsgenie_shape(
        client: TestClient, runtime: Runtime,
        make_integration: Callable[..., dict[str, Any]]) -> None:
    auth = {"Authorization": f"GenieKey {make_integration('opsgenie')['key']}"}
    r = client.post("/v2/alerts/web%00db/close?identifierType=alias", headers=auth)
    assert r.status_code == 422 and "identifier" in r.json()["errors"], r.text
    assert "requestId" in r.json()
    r = client.get("/v2/alerts/requests/abc%00def", headers=auth)
    assert r.status_code == 404, r.text
    r = client.post("/api/v1/intake/alertmanager/abc%00def", json={"alerts": []})
    assert r.status_code == 401, r.text
    assert inbox_statuses(runtime) == []


def test_grafana_legacy_rule_name_longer_than_the_dedup_key_is_processed(
        client: TestClient, runtime: Runtime,
        make_integration: Callable[..., dict[str, Any]]) -> None:
    grafana = make_integration("grafana")
    r = client.post(f"/api/v1/intake/grafana/{grafana['key']}", json={
        "state": "alerting", "ruleName": "r" * 400, "title": "Disk"})
    assert r.status_code < 300, r.text
    assert inbox_statuses(runtime) == ["done"]
    with runtime.sessions() as session:
        [key] = session.scalars(select(Alert.dedup_key))
    assert len(key) <= 255


def test_label_grouping_with_long_label_values_is_processed(
        client: TestClient, runtime: Runtime, admin: Account,
        make_integration: Callable[..., dict[str, Any]]) -> None:
    am = make_integration("alertmanager")
    r = client.put(f"/api/v1/services/{am['service_id']}/triage", headers=admin.headers,
                   json={"grouping": "labels", "group_labels": ["cluster", "namespace"]})
    assert r.status_code == 200, r.text
    labels = {"alertname": "A", "cluster": "c" * 1500, "namespace": "n" * 1500}
    r = client.post(f"/api/v1/intake/alertmanager/{am['key']}",
                    json={"alerts": [{"status": "firing", "labels": labels}]})
    assert r.status_code == 200, r.text
    assert inbox_statuses(runtime) == ["done"]
