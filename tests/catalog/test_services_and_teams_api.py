"""Services (owner team, tier, dependencies) and teams over the API."""

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_service_with_team_and_dependencies(client: TestClient, admin: Account,
                                            responder: Account) -> None:
    h = admin.headers
    team = client.post("/api/v1/teams", json={"name": "payments-team",
                                               "member_ids": [responder.id]}, headers=h).json()
    assert team["member_ids"] == [responder.id]
    db = client.post("/api/v1/services", json={"name": "postgres", "tier": "critical"},
                     headers=h).json()
    api = client.post("/api/v1/services", json={
        "name": "payments-api", "tier": "critical", "revenue": True,
        "owner_team_id": team["id"], "depends_on": [db["id"]]}, headers=h)
    assert api.status_code == 201, api.text
    assert api.json()["depends_on"] == [db["id"]]
    # A cycle is refused with the path spelled out, and nothing changes.
    r = client.patch(f"/api/v1/services/{db['id']}", json={"depends_on": [api.json()["id"]]},
                     headers=h)
    assert r.status_code == 422 and "cycle" in r.json()["detail"]
    assert client.get(f"/api/v1/services/{db['id']}", headers=h).json()["depends_on"] == []


def test_service_bad_input(client: TestClient, admin: Account) -> None:
    h = admin.headers
    assert client.post("/api/v1/services", json={"name": "x", "tier": "ultra"},
                       headers=h).status_code == 422
    assert client.post("/api/v1/services", json={"name": "x", "owner_team_id": 99},
                       headers=h).status_code == 422
    assert client.post("/api/v1/services", json={"name": "x", "depends_on": [42]},
                       headers=h).status_code == 422
    client.post("/api/v1/services", json={"name": "x"}, headers=h)
    r = client.post("/api/v1/services", json={"name": "x"}, headers=h)
    assert r.status_code == 409 and "already exists" in r.json()["detail"]
    assert len(client.get("/api/v1/services", headers=h).json()["items"]) == 1


def test_users_and_time_zones(client: TestClient, admin: Account) -> None:
    h = admin.headers
    r = client.post("/api/v1/users", json={"name": "Kai", "email": "kai@example.com",
                                           "time_zone": "Mars/Olympus"}, headers=h)
    assert r.status_code == 422 and "time zone" in r.json()["detail"]
    r = client.post("/api/v1/users", json={"name": "Kai", "email": "Kai@Example.com",
                                           "time_zone": "Asia/Tokyo", "role": "viewer"},
                    headers=h)
    assert r.status_code == 201 and r.json()["email"] == "kai@example.com"
    r = client.post("/api/v1/users", json={"name": "Kai 2", "email": "kai@example.com"},
                    headers=h)
    assert r.status_code == 409
