"""Services, policies and schedules whose people cannot be paged say so, with names, in
their API responses and on their pages, before an incident finds out."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.notify.schemas import ContactMethodIn
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime


def verify_email(runtime: Runtime, account: Account) -> None:
    actor = Principal(user_id=account.id, role=Role.RESPONDER)
    with runtime.sessions() as session, session.begin():
        method = notify.add_contact_method(
            session, actor=actor, user_id=account.id, now=runtime.clock.now(),
            outbound=runtime.settings.outbound_policy,
            data=ContactMethodIn(kind=ChannelKind.EMAIL, address=f"u{account.id}@example.com"))
        assert method.verify_code
        notify.verify(session, method=method, code=method.verify_code, now=runtime.clock.now())


def policy_paging(client: TestClient, admin: Account, user_id: int,
                  name: str = "primary") -> int:
    r = client.post("/api/v1/escalation-policies", headers=admin.headers, json={
        "name": name, "levels": [{"delay_minutes": 0,
                                  "targets": [{"kind": "user", "id": user_id}]}]})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def service_paged_by(client: TestClient, admin: Account, policy_id: int | None,
                     name: str = "checkout") -> int:
    r = client.post("/api/v1/services", headers=admin.headers, json={"name": name})
    assert r.status_code == 201, r.text
    sid = int(r.json()["id"])
    if policy_id is not None:
        r = client.put(f"/api/v1/services/{sid}/escalation-policies", headers=admin.headers,
                       json={"policies": {s: policy_id for s in ("SEV1", "SEV2", "SEV3")}})
        assert r.status_code == 200, r.text
    return sid


def test_api_flags_people_who_cannot_be_paged_by_name(client: TestClient, runtime: Runtime,
                                                      admin: Account, make_account: Any
                                                      ) -> None:
    ana = make_account(name="Ana Lima")
    pid = policy_paging(client, admin, ana.id)
    sid = service_paged_by(client, admin, pid)
    bare = service_paged_by(client, admin, None, name="billing")
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "Ops", "time_zone": "UTC", "layers": [{
            "name": "weekly", "participants": [ana.id], "unit": "weeks", "length": 1,
            "start": "2020-01-06T09:00:00"}]})
    assert r.status_code == 201, r.text
    sched = r.json()["id"]

    policy = client.get(f"/api/v1/escalation-policies/{pid}", headers=admin.headers).json()
    assert policy["paging_problems"] == ["level 1 pages nobody",
                                         "level 1: Ana Lima has no verified contact method"]
    service = client.get(f"/api/v1/services/{sid}", headers=admin.headers).json()
    assert "policy primary: level 1: Ana Lima has no verified contact method" \
        in service["paging_problems"]
    listed = {s["name"]: s for s in client.get("/api/v1/services",
                                               headers=admin.headers).json()["items"]}
    assert listed["billing"]["paging_problems"] == [
        "no escalation policy: its incidents page nobody"]
    schedule = client.get(f"/api/v1/schedules/{sched}", headers=admin.headers).json()
    assert schedule["paging_problems"] == ["Ana Lima has no verified contact method"]
    assert str(ana.id) not in " ".join(policy["paging_problems"] + schedule["paging_problems"])

    verify_email(runtime, ana)
    assert client.get(f"/api/v1/escalation-policies/{pid}",
                      headers=admin.headers).json()["paging_problems"] == []
    assert client.get(f"/api/v1/services/{sid}", headers=admin.headers
                      ).json()["paging_problems"] == []
    assert client.get(f"/api/v1/schedules/{sched}", headers=admin.headers
                      ).json()["paging_problems"] == []
    assert client.get(f"/api/v1/services/{bare}", headers=admin.headers
                      ).json()["paging_problems"] != []


def test_pages_flag_people_who_cannot_be_paged(client: TestClient, runtime: Runtime,
                                               admin: Account, make_account: Any) -> None:
    ana = make_account(name="Ana Lima")
    pid = policy_paging(client, admin, ana.id)
    sid = service_paged_by(client, admin, pid)
    r = client.post("/api/v1/schedules", headers=admin.headers, json={
        "name": "Ops", "time_zone": "UTC", "layers": [{
            "name": "weekly", "participants": [ana.id], "unit": "weeks", "length": 1,
            "start": "2020-01-06T09:00:00"}]})
    sched = r.json()["id"]
    web_login(client, admin)
    problem = "Ana Lima has no verified contact method"
    for path in ("/escalation", f"/services/{sid}", "/services", f"/schedules/{sched}",
                 "/schedules"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert "data-paging-problems" in page.text and problem in page.text, path

    verify_email(runtime, ana)
    for path in ("/escalation", f"/services/{sid}", f"/schedules/{sched}"):
        assert "data-paging-problems" not in client.get(path).text, path
