"""Post-mortem and action-item completion through the API (JSON and CSV), the metrics page
and a real database: one SEV1 post-mortem published late, one SEV2 never started, a SEV3
that needs none; action items done on time, done late, overdue and cancelled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def _iso(clock: FrozenClock, **delta: float) -> str:
    return (clock.now() + timedelta(**delta)).isoformat()


def test_completion_counts_published_late_missing_and_action_items(
        client: TestClient, runtime: Runtime, clock: FrozenClock, admin: Account,
        responder: Account, make_incident: Callable[..., dict[str, Any]]) -> None:
    h = admin.headers
    sev1, sev2, sev3 = (make_incident(severity=s) for s in ("SEV1", "SEV2", "SEV3"))
    for i in (sev1, sev2, sev3):
        r = client.post(f"/api/v1/incidents/{i['id']}/resolve", headers=h,
                        json={"resolution_summary": "fixed"})
        assert r.status_code == 200, r.text
    pm = client.post(f"/api/v1/incidents/{sev1['id']}/postmortem", headers=h, json={})
    assert pm.status_code == 201, pm.text
    pm_id = pm.json()["id"]
    items = [client.post(f"/api/v1/incidents/{i['id']}/action-items", headers=h, json={
        "title": f"fix {n}", "owner_id": responder.id, "due_at": _iso(clock, days=1)}).json()
        for n, i in enumerate((sev1, sev1, sev1, sev2))]
    r = client.patch(f"/api/v1/action-items/{items[0]['id']}", headers=h,
                     json={"status": "done"})  # on time
    assert r.status_code == 200, r.text
    client.patch(f"/api/v1/action-items/{items[3]['id']}", headers=h,
                 json={"status": "cancelled"})
    clock.advance(days=3)  # past the post-mortem's 48 h and the items' day
    client.patch(f"/api/v1/action-items/{items[1]['id']}", headers=h,
                 json={"status": "done"})  # late; items[2] stays open: overdue
    assert client.post(f"/api/v1/postmortems/{pm_id}/review", headers=h,
                       json={"reviewer_ids": [responder.id]}).status_code == 200
    assert client.post(f"/api/v1/postmortems/{pm_id}/approve",
                       headers=responder.headers).status_code == 200
    r = client.post(f"/api/v1/postmortems/{pm_id}/publish", headers=h)
    assert r.status_code == 200, r.text

    report = client.get("/api/v1/metrics/postmortems?by=severity",
                        headers=responder.headers)
    assert report.status_code == 200, report.text
    rows = {r["group"]: r for r in report.json()["rows"]}
    assert report.json()["required_severities"] == ["SEV1", "SEV2"]
    assert {k: rows["SEV1"][k] for k in ("needed", "published", "published_on_time",
                                         "overdue", "missing", "published_rate",
                                         "on_time_rate")} == {
        "needed": 1, "published": 1, "published_on_time": 0, "overdue": 0, "missing": 0,
        "published_rate": 1.0, "on_time_rate": 0.0}
    assert {k: rows["SEV1"][k] for k in ("actions", "actions_done", "actions_done_on_time",
                                         "actions_overdue")} == {
        "actions": 3, "actions_done": 2, "actions_done_on_time": 1, "actions_overdue": 1}
    assert (rows["SEV2"]["needed"], rows["SEV2"]["missing"], rows["SEV2"]["actions"]) \
        == (1, 1, 0)  # the cancelled item is left out
    assert rows["SEV3"]["needed"] == 0 and rows["SEV3"]["published_rate"] is None

    every = client.get("/api/v1/metrics/postmortems?by=all", headers=responder.headers).json()
    assert every["rows"][0]["needed"] == 2 and every["rows"][0]["published_rate"] == 0.5
    csv = client.get("/api/v1/metrics/postmortems.csv?by=all", headers=responder.headers)
    assert csv.headers["content-type"].startswith("text/csv")
    header, line = csv.text.splitlines()
    assert header.startswith("group,needed,published,published_on_time,overdue,missing")
    assert line.startswith("all,2,1,0,0,1,0.5,0.0,3,2,1,1")

    web_login(client, responder)
    html = client.get("/analytics").text
    assert 'aria-label="Completion per severity"' in html
    assert "<th scope=\"row\">SEV1</th><td>1</td><td>1 (100 %)</td><td>0 (0 %)</td>" in html
    declared = datetime.fromisoformat(sev1["created_at"])  # the quarter they began in
    review = client.get(f"/analytics/review?quarter={declared.year}-Q"
                        f"{(declared.month - 1) // 3 + 1}").text
    assert "<th scope=\"row\">SEV1</th><td>1</td><td>1 (100 %)</td><td>0 (0 %)</td>" in review
