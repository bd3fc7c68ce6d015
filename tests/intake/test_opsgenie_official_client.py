"""The official `opsgenie-sdk`, pointed at Tocsin over real HTTPS on loopback, drives the
Alert API senders use: create (tags, priority, details, alias, entity, source), request
status, get (id, tiny id, alias), list, add note, add and remove tags, update priority,
assign, escalate, snooze, acknowledge, close — and reads Tocsin's 404s as Opsgenie's."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import opsgenie_sdk
import pytest
from fastapi.testclient import TestClient
from opsgenie_sdk.exceptions import AuthenticationException

from tests.conftest import Account, drain_intake
from tests.intake.conftest import TlsServer
from tocsin.runtime import Runtime


def alert_api(key: str, server: TlsServer) -> opsgenie_sdk.AlertApi:
    conf = opsgenie_sdk.Configuration()
    conf.api_key["Authorization"] = key
    conf.api_key_prefix["Authorization"] = "GenieKey"
    conf.host = server.url
    conf.ssl_ca_cert = str(server.ca)
    conf.retry_enabled = False  # a failure must fail the test, not wait out back-offs
    return opsgenie_sdk.AlertApi(api_client=opsgenie_sdk.ApiClient(configuration=conf))


@pytest.fixture
def sender(tls_server: TlsServer,
           make_integration: Callable[..., dict[str, Any]]) -> opsgenie_sdk.AlertApi:
    return alert_api(make_integration("opsgenie")["key"], tls_server)


def create(api: opsgenie_sdk.AlertApi, runtime: Runtime, **fields: Any) -> Any:
    """Create an alert, triage it, and return its request status."""
    accepted = api.create_alert(create_alert_payload=opsgenie_sdk.CreateAlertPayload(**fields))
    assert accepted.result == "Request will be processed" and accepted.request_id
    drain_intake(runtime)
    return api.get_request_status(request_id=accepted.request_id).data


def log_of(client: TestClient, admin: Account, alert_id: str) -> list[tuple[str, str]]:
    events = client.get(f"/api/v1/alerts/{alert_id}/events", headers=admin.headers).json()
    return [(e["action"], e["note"]) for e in events]


def test_create_then_read_by_id_tiny_id_and_alias(sender: opsgenie_sdk.AlertApi,
                                                  runtime: Runtime, client: TestClient,
                                                  admin: Account) -> None:
    status = create(sender, runtime, message="Disk full on db1", alias="disk-db1",
                    description="/var at 99%", tags=["disk", "db"], priority="P1",
                    details={"mount": "/var"}, entity="db1", source="nagios")
    assert status.is_success and status.action == "Create"
    assert status.status == "Created alert"
    assert status.alias == "disk-db1" and status.alert_id

    for identifier, kind in ((status.alert_id, "id"), (status.alert_id, "tiny"),
                             ("disk-db1", "alias")):
        alert = sender.get_alert(identifier=identifier, identifier_type=kind).data
        assert alert.id == status.alert_id and alert.alias == "disk-db1"
        assert alert.message == "Disk full on db1" and alert.status == "open"
        assert alert.tags == ["disk", "db"] and alert.priority == "P1"
        assert alert.details == {"mount": "/var"} and alert.entity == "db1"
        assert alert.description == "/var at 99%" and alert.source == "nagios"
    # The Tocsin API shows the sender's tags too.
    mine = client.get(f"/api/v1/alerts/{status.alert_id}", headers=admin.headers).json()
    assert mine["tags"] == ["disk", "db"]


def test_request_status_of_a_create_without_alias_names_its_alias(
        sender: opsgenie_sdk.AlertApi, runtime: Runtime) -> None:
    status = create(sender, runtime, message="CPU high on web1")
    assert status.alert_id and status.alias
    assert sender.get_alert(identifier=status.alias, identifier_type="alias").data.id \
        == status.alert_id


def test_list_alerts_of_the_integration(sender: opsgenie_sdk.AlertApi,
                                        runtime: Runtime) -> None:
    first = create(sender, runtime, message="first", alias="a-1")
    second = create(sender, runtime, message="second", alias="a-2")
    listed = sender.list_alerts(limit=10, order="desc").data
    assert [a.id for a in listed] == [second.alert_id, first.alert_id]
    assert [a.id for a in sender.list_alerts(limit=1, offset=1).data] == [first.alert_id]


def test_note_tags_priority_assign_escalate_snooze(sender: opsgenie_sdk.AlertApi,
                                                   runtime: Runtime, client: TestClient,
                                                   admin: Account) -> None:
    alert_id = create(sender, runtime, message="Queue backlog", alias="queue",
                      tags=["queue"]).alert_id
    done = [
        sender.add_note(identifier="queue", identifier_type="alias",
                        add_note_to_alert_payload=opsgenie_sdk.AddNoteToAlertPayload(
                            user="ann", note="Looking into it")),
        sender.add_tags(identifier=alert_id, add_tags_to_alert_payload=opsgenie_sdk
                        .AddTagsToAlertPayload(tags=["backlog", "prod"])),
        sender.remove_tags(identifier=alert_id, tags=["queue"]),
        sender.update_alert_priority(
            identifier=alert_id, update_alert_priority_payload=opsgenie_sdk
            .UpdateAlertPriorityPayload(priority="P2")),
        sender.assign_alert(identifier=alert_id, assign_alert_payload=opsgenie_sdk
                            .AssignAlertPayload(owner=opsgenie_sdk.UserRecipient(
                                username="bob@example.com"))),
        sender.escalate_alert(identifier=alert_id, escalate_alert_to_next_payload=opsgenie_sdk
                              .EscalateAlertToNextPayload(escalation=opsgenie_sdk.EscalationRecipient(
                                  name="db escalation"))),
        sender.snooze_alert(identifier=alert_id, snooze_alert_payload=opsgenie_sdk
                            .SnoozeAlertPayload(end_time=datetime(2030, 1, 1, tzinfo=UTC))),
    ]
    assert all(r.result == "Request will be processed" for r in done)
    drain_intake(runtime)
    statuses = [sender.get_request_status(request_id=r.request_id).data for r in done]
    assert [(s.action, s.is_success, s.alert_id) for s in statuses] == [
        (name, True, alert_id) for name in ("AddNote", "AddTags", "RemoveTags",
                                            "UpdatePriority", "Assign", "Escalate", "Snooze")]

    alert = sender.get_alert(identifier=alert_id).data
    assert alert.tags == ["backlog", "prod"] and alert.priority == "P2"
    log = log_of(client, admin, alert_id)
    notes = " | ".join(note for _action, note in log)
    assert ("note", "Note by ann: Looking into it") in log
    assert "bob@example.com" in notes and "db escalation" in notes
    assert "2030-01-01T00:00:00+00:00" in notes


def test_acknowledge_and_close(sender: opsgenie_sdk.AlertApi, runtime: Runtime,
                               client: TestClient, admin: Account) -> None:
    alert_id = create(sender, runtime, message="Latency", alias="lat").alert_id
    ack = sender.acknowledge_alert(identifier="lat", identifier_type="alias",
                                   acknowledge_alert_payload=opsgenie_sdk
                                   .AcknowledgeAlertPayload(user="ann"))
    drain_intake(runtime)
    assert sender.get_request_status(request_id=ack.request_id).data.status \
        == "Acknowledged alert"
    assert sender.get_alert(identifier=alert_id).data.acknowledged is True

    closed = sender.close_alert(identifier=alert_id)
    drain_intake(runtime)
    status = sender.get_request_status(request_id=closed.request_id).data
    assert status.action == "Close" and status.alias == "lat"
    assert sender.get_alert(identifier=alert_id).data.status == "closed"
    incident_id = client.get(f"/api/v1/alerts/{alert_id}",
                             headers=admin.headers).json()["incident_id"]
    assert client.get(f"/api/v1/incidents/{incident_id}",
                      headers=admin.headers).json()["status"] == "resolved"


def test_unknown_alert_and_unimplemented_calls_answer_opsgenie_404(
        sender: opsgenie_sdk.AlertApi) -> None:
    for call in (lambda: sender.get_alert(identifier="12345"),
                 lambda: sender.get_alert(identifier="nope", identifier_type="alias"),
                 lambda: sender.get_request_status(request_id="no-such-request"),
                 lambda: sender.list_logs(identifier="12345")):
        with pytest.raises(opsgenie_sdk.ApiException) as caught:
            call()
        assert caught.value.status == 404
        assert caught.value.headers["content-type"] == "application/json"
        assert '"message"' in caught.value.body and '"requestId"' in caught.value.body


def test_wrong_key_is_an_opsgenie_401(tls_server: TlsServer) -> None:
    with pytest.raises(AuthenticationException) as caught:
        alert_api("not-a-key", tls_server).get_alert(identifier="1")
    assert caught.value.status == 401 and '"requestId"' in caught.value.body
