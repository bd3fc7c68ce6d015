"""Restricted incidents are seen only by their members, role holders and admins."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account


def test_restricted_incident_invisible_to_non_member_viewer(
        client: TestClient, admin: Account, responder: Account, viewer: Account,
        make_account: Any, make_incident: Any) -> None:
    member = make_account("viewer", name="Mia Member")
    secret = make_incident(title="Credential leak", severity="SEV1", restricted=True,
                           member_ids=[member.id])
    public = make_incident(title="Slow search", severity="SEV3")

    # The outsider sees the public one only, and the restricted one does not exist for them.
    listed = client.get("/api/v1/incidents", headers=viewer.headers).json()["items"]
    assert [i["id"] for i in listed] == [public["id"]]
    r = client.get(f"/api/v1/incidents/{secret['id']}", headers=viewer.headers)
    assert r.status_code == 404
    assert client.get(f"/api/v1/incidents/{secret['id']}/timeline",
                      headers=viewer.headers).status_code == 404

    # Members, the reporter and admins see it.
    for who in (member, responder, admin):
        ids = [i["id"] for i in client.get("/api/v1/incidents", headers=who.headers)
               .json()["items"]]
        assert secret["id"] in ids
        assert client.get(f"/api/v1/incidents/{secret['id']}",
                          headers=who.headers).status_code == 200


def test_non_member_responder_cannot_act_on_restricted_incident(
        client: TestClient, make_account: Any, make_incident: Any) -> None:
    secret = make_incident(restricted=True)
    other = make_account("responder")
    r = client.post(f"/api/v1/incidents/{secret['id']}/acknowledge", headers=other.headers)
    assert r.status_code == 404


def test_adding_a_member_grants_visibility(client: TestClient, responder: Account,
                                           make_account: Any, make_incident: Any) -> None:
    secret = make_incident(restricted=True)
    late = make_account("viewer")
    url = f"/api/v1/incidents/{secret['id']}"
    assert client.get(url, headers=late.headers).status_code == 404
    r = client.post(f"{url}/members", json={"user_id": late.id}, headers=responder.headers)
    assert r.status_code == 200
    assert client.get(url, headers=late.headers).status_code == 200
