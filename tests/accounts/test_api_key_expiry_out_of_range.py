"""An API key's expiry must be an instant the database can store."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_expiry_past_year_9999_in_utc_is_refused(client: TestClient, admin: Account) -> None:
    r = client.post("/api/v1/api-keys", headers=admin.headers,
                    json={"name": "ci", "expires_at": "9999-12-31T23:59:59-14:00"})
    assert r.status_code == 422 and "expires_at" in r.json()["detail"], r.text
    keys = client.get("/api/v1/api-keys", headers=admin.headers).json()["items"]
    assert [k["name"] for k in keys] == ["test"]
    r = client.post("/api/v1/api-keys", headers=admin.headers,
                    json={"name": "ci", "expires_at": "9999-12-31T23:59:59+00:00"})
    assert r.status_code == 201, r.text
