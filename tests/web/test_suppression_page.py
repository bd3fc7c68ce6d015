"""Maintenance windows and silences from the web: created, shown active, ended; bad input
names its field and stores nothing; a silence really stops an incident being opened."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login


def test_window_and_silence(client: TestClient, admin: Account, responder: Account,
                            viewer: Account) -> None:
    client.post("/api/v1/services", json={"name": "db", "tier": "critical"},
                headers=admin.headers)
    csrf = web_login(client, responder)
    # The frozen clock is 2026-01-05 12:00 UTC.
    r = client.post("/suppression/windows", data={
        "csrf_token": csrf, "w_name": "DB upgrade", "w_service_id": "1", "w_time_zone": "UTC",
        "w_starts_at": "2026-01-05T11:00", "w_ends_at": "2026-01-05T10:00"})
    assert r.status_code == 422 and 'value="DB upgrade"' in r.text
    assert client.get("/api/v1/maintenance-windows", headers=admin.headers).json()["items"] == []
    r = client.post("/suppression/windows", data={
        "csrf_token": csrf, "w_name": "DB upgrade", "w_service_id": "1", "w_time_zone": "UTC",
        "w_starts_at": "2026-01-05T11:00", "w_ends_at": "2026-01-05T13:00"},
        follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/suppression").text
    assert "DB upgrade" in page and "active now" in page

    r = client.post("/suppression/silences", data={"csrf_token": csrf, "s_comment": "noisy",
                                                   "s_ends_at": "2026-01-05T18:00"})
    assert r.status_code == 422 and 'id="s_matchers-error"' in r.text
    r = client.post("/suppression/silences", data={
        "csrf_token": csrf, "m_name_0": "alertname", "m_value_0": "DiskFull",
        "s_ends_at": "2026-01-05T18:00", "s_comment": "known, ticket OPS-1"},
        follow_redirects=False)
    assert r.status_code == 303
    silences = client.get("/api/v1/silences", headers=admin.headers).json()["items"]
    assert len(silences) == 1 and silences[0]["active"]
    assert "alertname=DiskFull" in client.get("/suppression").text

    r = client.post(f"/suppression/silences/{silences[0]['id']}/expire",
                    data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/v1/silences", headers=admin.headers).json()["items"] == []

    viewer_client = TestClient(client.app)
    vcsrf = web_login(viewer_client, viewer)
    assert "DB upgrade" in viewer_client.get("/suppression").text
    r = viewer_client.post("/suppression/windows", data={"csrf_token": vcsrf, "w_name": "x"})
    assert r.status_code == 403
