"""The metrics page: real SVG charts with a table under each, filters, export links, the
quarterly review, an incident listed as missing its acknowledgement target, and one-click
retire of a noisy routing rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.analytics.history import seed_history
from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.alerts.models import RoutingRule
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.web.views import metrics as metrics_view

END = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_metrics_page_draws_charts_over_tables(client: TestClient, runtime: Runtime,
                                               clock: FrozenClock, viewer: Account) -> None:
    clock.set(END)
    seed_history(runtime, end=END, weeks=12, incidents_n=40)
    web_login(client, viewer)
    page = client.get("/analytics?period=week")
    assert page.status_code == 200, page.text
    html = page.text
    assert html.count("<svg class=\"chart") == 4  # bars, two trends, the heat map
    assert 'class="bar bar-sev' in html and 'class="series-p50" d="M' in html
    assert 'class="heat-4"' in html  # the busiest hour is drawn
    assert html.count("<table class=\"table metrics-table\"") >= 6
    assert "/api/v1/metrics/incidents.csv?" in html
    assert "Lena Ortiz" in html and "America/Los_Angeles" in html
    only_sev1 = client.get("/analytics?severity=SEV1").text
    assert "SEV1" in only_sev1
    review = client.get("/analytics/review?quarter=2026-Q4")
    assert review.status_code == 200 and "Quarterly review 2026-Q4" in review.text
    assert "Per team" in review.text and "Payments" in review.text
    assert client.get("/analytics/review?quarter=junk").status_code == 200  # last full quarter
    csv = client.get("/api/v1/metrics/incidents.csv?by=severity").text
    assert csv.startswith("group,incidents,mttd.n")


def test_an_incident_missing_its_ack_target_is_listed(
        client: TestClient, clock: FrozenClock, responder: Account,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    incident = make_incident(severity="SEV1", title="Checkout down")
    clock.advance(minutes=6)
    web_login(client, responder)
    html = client.get("/analytics").text
    assert (f'<a href="/incidents/{incident["id"]}">{incident["number"]}</a> '
            '<span class="badge sev sev-sev1">SEV1</span> missed its acknowledgement target'
            ) in html


def test_the_page_lists_the_latest_misses_and_counts_the_rest(
        client: TestClient, clock: FrozenClock, responder: Account,
        make_incident: Callable[..., dict[str, Any]], monkeypatch: Any) -> None:
    monkeypatch.setattr(metrics_view, "MISSED_SHOWN", 2)
    made = []
    for title in ("First down", "Second down", "Third down"):
        made.append(make_incident(severity="SEV1", title=title))
        clock.advance(minutes=1)
    clock.advance(minutes=6)  # all three past SEV1's 5-minute acknowledgement target
    web_login(client, responder)
    html = client.get("/analytics").text
    listed = [i for i in made if f'<a href="/incidents/{i["id"]}">' in html]
    assert listed == made[1:]  # the two latest
    assert "… and 1 more (CSV export lists them all)" in html
    report = client.get("/api/v1/metrics/compliance", headers=responder.headers).json()
    assert [m["incident_id"] for m in report["missed"]] == [i["id"] for i in reversed(made)]
    assert report["missed_count"] == 3


def test_a_noisy_rule_is_retired_in_one_click(client: TestClient, runtime: Runtime,
                                              admin: Account) -> None:
    rule = client.post("/api/v1/routing-rules", headers=admin.headers, json={
        "name": "disk noise", "conditions": [{"field": "summary", "op": "regex",
                                              "value": "disk.*"}],
        "actions": {"severity": "SEV4"}})
    assert rule.status_code == 201, rule.text
    csrf = web_login(client, admin)
    r = client.post(f"/analytics/noise/rules/{rule.json()['id']}/retire",
                    data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    with runtime.sessions() as s:
        assert s.scalar(select(RoutingRule.enabled).where(
            RoutingRule.id == rule.json()["id"])) is False
