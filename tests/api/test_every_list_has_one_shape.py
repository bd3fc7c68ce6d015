"""Every list the API answers has one shape, `{items, next_cursor}`, takes `limit` and
`cursor`, and walking it one item per page returns every item once, in a stable order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.clock import FrozenClock

# An item's own bounded history, read with its item (not a collection that grows without
# bound), and the probe agents' protocol: bare lists by design (docs/api.md).
BARE_LISTS = {
    "/api/v1/alerts/{alert_id}/events", "/api/v1/incidents/{incident_id}/alerts",
    "/api/v1/incidents/{incident_id}/changes", "/api/v1/incidents/{incident_id}/timeline",
    "/api/v1/incidents/{incident_id}/pages", "/api/v1/checks/{check_id}/results",
    "/api/v1/heartbeats/{heartbeat_id}/pings", "/api/v1/probe/assignments",
}
BARE_LISTS.add("/api/v1/incidents/{incident_id}/responders")  # an incident's roles: bounded


def test_no_list_route_answers_a_bare_list(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    bare, paged = [], []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if get is None or path in BARE_LISTS:
            continue
        schema = get["responses"].get("200", {}).get("content", {}).get(
            "application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            bare.append(path)
        ref = schema.get("$ref", "")
        model = spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}) if ref else {}
        if set(model.get("properties", {})) == {"items", "next_cursor"}:
            paged.append(path)
            names = {p["name"] for p in get.get("parameters", [])}
            assert {"limit", "cursor"} <= names, path
    assert bare == []
    for expected in ("/api/v1/services", "/api/v1/teams", "/api/v1/users",
                     "/api/v1/integrations", "/api/v1/schedules", "/api/v1/escalation-policies",
                     "/api/v1/heartbeats", "/api/v1/checks", "/api/v1/probes",
                     "/api/v1/routing-rules", "/api/v1/silences", "/api/v1/maintenance-windows",
                     "/api/v1/api-keys", "/api/v1/users/{user_id}/contact-methods",
                     "/api/v1/verification-failures", "/api/v1/intake/inbox",
                     "/api/v1/oncall", "/api/v1/alerts", "/api/v1/incidents"):
        assert expected in paged, expected


def walk(client: TestClient, path: str, headers: dict[str, str]) -> list[int]:
    ids: list[int] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 1}
        if cursor:
            params["cursor"] = cursor
        r = client.get(path, params=params, headers=headers)
        assert r.status_code == 200, (path, r.text)
        page = r.json()
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= 1, path
        ids += [item.get("id", item.get("schedule_id")) for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids
    raise AssertionError(f"{path}: more pages than items")


def test_walking_each_list_one_by_one_gives_every_item_once(
        client: TestClient, admin: Account, responder: Account, viewer: Account,
        clock: FrozenClock) -> None:
    h = admin.headers

    def made(path: str, **body: Any) -> None:
        r = client.post(path, json=body, headers=h)
        assert r.status_code == 201, (path, r.text)

    for n in (1, 2, 3):
        made("/api/v1/services", name=f"svc-{n}")
        made("/api/v1/teams", name=f"team-{n}")
        made("/api/v1/integrations", service_id=1, kind="pagerduty", name=f"pd-{n}")
        made("/api/v1/routing-rules", name=f"rule-{n}", actions={"tags": ["x"]},
             conditions=[{"field": "summary", "op": "regex", "value": f"n{n}"}])
        made("/api/v1/silences", matchers=[{"name": "host", "value": f"db{n}"}], comment="c",
             ends_at=(clock.now() + timedelta(hours=n)).isoformat())
        made("/api/v1/probes", name=f"probe-{n}")
        made("/api/v1/heartbeats", name=f"job-{n}", service_id=1, period_seconds=60)
        made("/api/v1/api-keys", name=f"key-{n}", scope="viewer")
    for path in ("/api/v1/services", "/api/v1/teams", "/api/v1/users", "/api/v1/integrations",
                 "/api/v1/routing-rules", "/api/v1/probes", "/api/v1/heartbeats",
                 "/api/v1/api-keys", "/api/v1/silences"):
        whole = [i["id"] for i in client.get(path, params={"limit": 500},
                                             headers=h).json()["items"]]
        assert len(whole) >= 3, path
        assert walk(client, path, h) == whole, path
        newest_first = path == "/api/v1/silences"
        assert whole == sorted(whole, reverse=newest_first), path
