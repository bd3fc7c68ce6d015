"""Bad input gets each sender's expected error shape and stores nothing; oversize bodies
are refused; an overloaded server answers 429/503 with Retry-After instead of accepting
and dropping; property tests: no body makes a 5xx or a partial write."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import Account, drain_intake
from tocsin.alerts.models import Alert, AlertEvent
from tocsin.incidents.models import Incident
from tocsin.intake.models import InboxRow
from tocsin.intake.routes.common import Gate, Hub
from tocsin.runtime import Runtime


def stored(runtime: Runtime) -> tuple[int, int, int]:
    drain_intake(runtime)
    with runtime.sessions() as session:
        return (session.scalar(select(func.count()).select_from(Alert)) or 0,
                session.scalar(select(func.count()).select_from(AlertEvent)) or 0,
                session.scalar(select(func.count()).select_from(Incident)) or 0)


def test_pagerduty_bad_events(client: TestClient, runtime: Runtime,
                              make_integration: Callable[..., dict[str, Any]]) -> None:
    key = make_integration("pagerduty")["key"]
    cases = [
        (b"{not json", "Malformed JSON"),
        (json.dumps([1, 2]).encode(), "JSON object"),
        (json.dumps({"routing_key": key, "event_action": "explode"}).encode(), "event_action"),
        (json.dumps({"routing_key": key, "event_action": "trigger",
                     "payload": {"summary": 5, "source": "x", "severity": "loud"}}).encode(),
         "payload.severity"),
        (json.dumps({"routing_key": key, "event_action": "resolve"}).encode(), "dedup_key"),
    ]
    for body, expected in cases:
        r = client.post("/v2/enqueue", content=body,
                        headers={"Content-Type": "application/json"})
        assert r.status_code == 400, body
        out = r.json()
        assert out["status"] == "invalid event" and out["message"] == "Event object is invalid"
        assert any(expected in e for e in out["errors"]), out
    assert stored(runtime) == (0, 0, 0)


def test_oversize_bodies_are_refused_in_each_shape(client: TestClient, runtime: Runtime,
                                                   make_integration: Callable[..., Any]) -> None:
    big = {"summary": "x" * (600 * 1024)}
    pd = make_integration("pagerduty")
    r = client.post("/v2/enqueue", json={"routing_key": pd["key"], "event_action": "trigger",
                                         "payload": {**big, "source": "s",
                                                     "severity": "info"}})
    assert r.status_code == 400 and "larger than 524288" in r.json()["errors"][0]
    am = make_integration("alertmanager")
    r = client.post(f"/api/v1/intake/alertmanager/{am['key']}", json={"alerts": [], **big})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    og = make_integration("opsgenie")
    r = client.post("/v2/alerts", json={"message": "m", "description": big["summary"]},
                    headers={"Authorization": f"GenieKey {og['key']}"})
    assert r.status_code == 413 and "message" in r.json()
    assert stored(runtime) == (0, 0, 0)


def test_batch_with_one_bad_alert_stores_nothing(client: TestClient, runtime: Runtime,
                                                 make_integration: Callable[..., Any]) -> None:
    am = make_integration("alertmanager")
    good = {"status": "firing", "labels": {"alertname": "A"}, "fingerprint": "f1"}
    r = client.post(f"/api/v1/intake/alertmanager/{am['key']}",
                    json={"version": "4", "alerts": [good, {"status": "weird", "labels": {}}]})
    assert r.status_code == 400 and "alerts[1].status" in r.json()["detail"]
    assert client.post("/api/v1/intake/alertmanager/" + "x" * 32,
                       json={"alerts": [good]}).status_code == 401
    assert client.post(f"/api/v1/intake/grafana/{am['key']}",  # a key of another kind
                       json={"alerts": [good]}).status_code == 401
    assert stored(runtime) == (0, 0, 0)


def test_overload_answers_retry_after_and_stores_nothing(
        client: TestClient, runtime: Runtime, make_integration: Callable[..., Any]) -> None:
    pd, am = make_integration("pagerduty"), make_integration("alertmanager")
    hub = Hub(runtime)
    hub.gate = Gate(limit=0)
    client.app.state.intake = hub  # type: ignore[attr-defined]
    r = client.post("/v2/enqueue", json={"routing_key": pd["key"], "event_action": "trigger",
                                         "payload": {"summary": "s", "source": "s",
                                                     "severity": "info"}})
    assert r.status_code == 429 and r.headers["Retry-After"] == "2"
    assert r.json()["status"] == "throttle event"
    r = client.post(f"/api/v1/intake/alertmanager/{am['key']}",
                    json={"alerts": [{"status": "firing", "labels": {"a": "b"}}]})
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboxRow)) == 0
    assert stored(runtime) == (0, 0, 0)


TEMPLATE = ('{"routing_key": "KEY", "event_action": "trigger", "payload": {"summary": SUMMARY, '
            '"source": "s", "severity": "info", "custom_details": {"v": VALUE}}}')


def test_json_postgres_cannot_store_is_a_400(client: TestClient, runtime: Runtime,
                                             make_integration: Callable[..., Any]) -> None:
    key = make_integration("pagerduty")["key"]
    for value in ("NaN", "Infinity", '"\\u0000"', '"\\ud800"'):
        body = TEMPLATE.replace("KEY", key).replace("SUMMARY", '"s"').replace("VALUE", value)
        r = client.post("/v2/enqueue", content=body.encode())
        assert r.status_code == 400, (value, r.text)
    # A proper surrogate pair is an emoji: accepted.
    body = TEMPLATE.replace("KEY", key).replace("SUMMARY", '"\\ud83d\\ude00"')
    r = client.post("/v2/enqueue", content=body.replace("VALUE", "1").encode())
    assert r.status_code == 202, r.text
    assert stored(runtime)[0] == 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                  max_size=5),
    max_leaves=20)


def _keys(make_integration: Callable[..., Any]) -> dict[str, str]:
    return {kind: make_integration(kind, mapping={"title": "t"} if kind == "generic" else {})
            ["key"] for kind in ("pagerduty", "opsgenie", "alertmanager", "grafana", "generic")}


def test_no_input_makes_a_5xx(client: TestClient, admin: Account,
                              make_integration: Callable[..., Any]) -> None:
    keys = _keys(make_integration)
    pd_fields = st.fixed_dictionaries(
        {"routing_key": st.sampled_from([keys["pagerduty"], "nope"]),
         "event_action": st.sampled_from(["trigger", "acknowledge", "resolve", "x"])},
        optional={"dedup_key": json_values, "payload": json_values | st.fixed_dictionaries(
            {"summary": json_values, "source": json_values,
             "severity": st.sampled_from(["critical", "info", "bad"])},
            optional={"timestamp": json_values, "custom_details": json_values,
                      "component": json_values}), "links": json_values})
    am_alert = st.fixed_dictionaries(
        {"status": st.sampled_from(["firing", "resolved", "x"])},
        optional={"labels": st.dictionaries(st.text(max_size=8), json_values, max_size=4),
                  "annotations": json_values, "fingerprint": json_values,
                  "startsAt": st.text(max_size=30), "endsAt": json_values})
    am_body = st.fixed_dictionaries({"alerts": st.lists(am_alert, max_size=3)}) | json_values

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(pd_body=pd_fields | json_values, am=am_body, og=json_values, raw=st.binary(max_size=50))
    def check(pd_body: Any, am: Any, og: Any, raw: bytes) -> None:
        answers = [
            client.post("/v2/enqueue", json=pd_body),
            client.post(f"/api/v1/intake/alertmanager/{keys['alertmanager']}", json=am),
            client.post(f"/api/v1/intake/grafana/{keys['grafana']}", json=am),
            client.post("/v2/alerts", json=og,
                        headers={"Authorization": f"GenieKey {keys['opsgenie']}"}),
            client.post(f"/api/v1/intake/generic/{keys['generic']}", json=og),
            client.post("/v2/enqueue", content=raw),
            client.post(f"/api/v1/intake/alertmanager/{keys['alertmanager']}", content=raw),
        ]
        for r in answers:
            assert r.status_code < 500, (r.request.url, r.text)

    check()
