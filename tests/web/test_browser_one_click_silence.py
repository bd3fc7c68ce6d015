"""In Chromium: a noisy routing rule in the metrics page's alert-noise view is silenced in one
click (its label conditions as the silence's matchers, for the hours chosen), the next alert
of that rule pages no one, and the notice's Undo ends the silence; a viewer gets no button."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import Account
from tests.web.conftest import sign_in, web_login
from tocsin.alerts.models import Alert, Silence
from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.alerts.service import IngestResult, ingest_event
from tocsin.catalog import service as catalog
from tocsin.catalog.schemas import ServiceCreate
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _ingest(runtime: Runtime, service_id: int, key: str) -> IngestResult:
    event = NormalizedEvent(action=EventAction.TRIGGER, dedup_key=key, summary="disk full",
                            source="node-exporter", occurred_at=runtime.clock.now(),
                            service_id=service_id, labels={"alertname": "DiskFull"})
    with runtime.sessions() as session, session.begin():
        return ingest_event(session, event, now=runtime.clock.now(), settings=runtime.settings)


def test_a_noisy_rule_is_silenced_in_one_click_and_undone(
        live_url: str, new_page: Any, client: TestClient, runtime: Runtime,
        clock: FrozenClock, admin: Account, responder: Account, viewer: Account) -> None:
    clock.set(NOW)
    with runtime.sessions() as s, s.begin():
        sid = catalog.create_service(s, data=ServiceCreate(name="storage"), now=NOW).id
    rule = client.post("/api/v1/routing-rules", headers=admin.headers, json={
        "name": "disk full", "actions": {"tags": ["disk"]},
        "conditions": [{"field": "labels.alertname", "op": "equals", "value": "DiskFull"}]})
    assert rule.status_code == 201, rule.text
    rule_id = rule.json()["id"]
    first = _ingest(runtime, sid, "disk-1")
    with runtime.sessions() as s:
        assert s.scalar(select(Alert.routing_rule_id).where(Alert.id == first.alert_id)) \
            == rule_id

    page = new_page()
    page.set_default_timeout(60_000)
    sign_in(page, live_url, viewer, path="/analytics")
    row = page.get_by_role("row", name="rule: disk full")
    expect(row).to_be_visible()
    expect(row.get_by_role("button", name="Silence rule")).to_have_count(0)

    page = new_page()
    page.set_default_timeout(60_000)
    sign_in(page, live_url, responder, path="/analytics")
    row = page.get_by_role("row", name="rule: disk full")
    row.get_by_label("Silence disk full for").select_option("4")
    row.get_by_role("button", name="Silence rule").click()
    page.wait_for_load_state()
    notice = page.locator("#silence-notice")
    expect(notice).to_contain_text("Silenced until 2026-12-06 16:00 UTC")
    expect(page.get_by_role("status").first).to_contain_text("Rule disk full silenced for 4 h")
    with runtime.sessions() as s:
        [silence] = s.scalars(select(Silence)).all()
        assert silence.matchers == [{"name": "alertname", "value": "DiskFull",
                                     "is_regex": False, "is_equal": True}]
        assert silence.ends_at == NOW + timedelta(hours=4)
        assert silence.author_id == responder.user.id
    silenced = _ingest(runtime, sid, "disk-2")
    assert silenced.incident_id is None and silenced.outcome == "suppressed"

    clock.advance(minutes=5)
    notice.get_by_role("button", name="Undo").click()
    page.wait_for_load_state()
    expect(page.get_by_role("status").first).to_contain_text("Silence undone")
    expect(page.locator("#silence-notice")).to_have_count(0)
    with runtime.sessions() as s:
        assert s.scalar(select(Silence.ends_at)) == NOW + timedelta(minutes=5)
    assert _ingest(runtime, sid, "disk-3").incident_id is not None


def test_one_click_silence_needs_a_responder_and_a_rule_of_labels(
        client: TestClient, runtime: Runtime, admin: Account, viewer: Account,
        responder: Account) -> None:
    by_summary = client.post("/api/v1/routing-rules", headers=admin.headers, json={
        "name": "disk noise", "actions": {"tags": ["disk"]},
        "conditions": [{"field": "summary", "op": "regex", "value": "disk.*"}]}).json()
    by_label = client.post("/api/v1/routing-rules", headers=admin.headers, json={
        "name": "disk full", "actions": {"tags": ["disk"]},
        "conditions": [{"field": "labels.alertname", "op": "equals",
                        "value": "DiskFull"}]}).json()
    csrf = web_login(client, viewer)
    r = client.post(f"/analytics/noise/rules/{by_label['id']}/silence",
                    data={"csrf_token": csrf, "hours": "24"}, follow_redirects=False)
    assert r.status_code == 403
    csrf = web_login(client, responder)
    r = client.post(f"/analytics/noise/rules/{by_summary['id']}/silence",
                    data={"csrf_token": csrf, "hours": "24"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/suppression#silence"
    with runtime.sessions() as s:
        assert s.scalars(select(Silence)).all() == []
