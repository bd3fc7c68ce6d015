"""Must show: a SEV2 resolved → a post-mortem draft with its timeline and impact filled from
the record → an action item with an owner → reminded (real SMTP) when overdue → done, and
no reminder after that."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, verified_email, worker
from tests.notify.servers import Inbox, body_of
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def _reminders(inbox: Inbox, address: str) -> list[str]:
    return [m["Subject"] for m in inbox.to(address) if "Action item" in m["Subject"]]


def test_sev2_resolved_gets_a_draft_then_action_item_reminded_until_done(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    ic, owner = make_account(name="Iris Commander"), make_account(name="Omar Owner")
    verified_email(client, w, inbox, owner, "omar@x.io")
    svc = client.post("/api/v1/services", headers=admin.headers,
                      json={"name": "checkout", "tier": "critical"}).json()
    start = clock.now()
    iid = client.post("/api/v1/incidents", headers=ic.headers, json={
        "title": "Checkout failing", "severity": "SEV2", "service_ids": [svc["id"]]}).json()["id"]
    clock.advance(minutes=4)
    assert client.post(f"/api/v1/incidents/{iid}/acknowledge", headers=ic.headers).status_code == 200
    clock.advance(minutes=3)
    client.post(f"/api/v1/incidents/{iid}/entries", headers=ic.headers,
                json={"kind": "note", "body": "error rate 40% on /pay"})
    client.post(f"/api/v1/incidents/{iid}/entries", headers=ic.headers,
                json={"kind": "decision", "body": "roll back release 812",
                      "reason": "errors began with it"})
    clock.advance(minutes=10)
    client.post(f"/api/v1/incidents/{iid}/status", headers=ic.headers,
                json={"status": "monitoring"})
    clock.advance(minutes=20)
    r = client.post(f"/api/v1/incidents/{iid}/resolve", headers=ic.headers,
                    json={"resolution_summary": "Release 812 rolled back",
                          "users_affected": 1200})
    assert r.status_code == 200, r.text
    resolved_at = clock.now()
    drain(w)  # the engine writes the draft (postmortem.draft timer)

    pm = client.get(f"/api/v1/incidents/{iid}/postmortem", headers=ic.headers).json()
    assert pm["status"] == "draft" and pm["owner_id"] == ic.id  # the acknowledger commands
    assert pm["summary"] == "Release 812 rolled back"
    moments = [(e["moment"], e["role"]) for e in pm["timeline"] if e["key"]]
    assert moments == [("detected", "responder"), ("acknowledged", "IC"), ("decision", "IC"),
                       ("mitigated", "IC"), ("resolved", "IC")]
    # The rest of the record is one click away: present, not preselected.
    assert any(e["kind"] == "note" and not e["included"] for e in pm["timeline"])
    impact = pm["impact"]
    assert impact["started_at"] == start.isoformat()
    assert impact["acknowledged_at"] == (start + timedelta(minutes=4)).isoformat()
    assert impact["duration_minutes"] == 37.0 and impact["users_affected"] == 1200
    assert impact["services"] == ["checkout"] and impact["sla_breach"] is False
    assert pm["due_at"] == (resolved_at + timedelta(hours=48)).isoformat().replace("+00:00", "Z")

    r = client.post(f"/api/v1/incidents/{iid}/action-items", headers=ic.headers, json={
        "title": "Canary every payments release", "owner_id": owner.id,
        "due_at": _iso(clock, days=3), "priority": "high"})
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["owner_id"] == owner.id and item["postmortem_id"] == pm["id"]
    assert [i["id"] for i in client.get(f"/api/v1/action-items?owner_id={owner.id}",
                                        headers=owner.headers).json()["items"]] == [item["id"]]
    assert client.get(f"/api/v1/postmortems/{pm['id']}", headers=ic.headers
                      ).json()["action_items"][0]["title"] == item["title"]

    clock.advance(days=2, hours=1)  # a day before due: "due soon"
    drain(w)
    assert _reminders(inbox, "omar@x.io") == [f"Action item is due soon: {item['title']}"]
    clock.advance(days=1)  # past due: "overdue", and it is listed as such
    drain(w)
    subjects = _reminders(inbox, "omar@x.io")
    assert subjects[-1] == f"Action item is overdue: {item['title']}"
    assert "INC-" in body_of(inbox.to("omar@x.io")[-1])
    listed = client.get(f"/api/v1/incidents/{iid}/action-items",
                        headers=ic.headers).json()["items"]
    assert listed[0]["overdue"] is True and listed[0]["reminders_sent"] == 2

    done = client.patch(f"/api/v1/action-items/{item['id']}", headers=owner.headers,
                        json={"status": "done"}).json()
    assert done["status"] == "done" and done["overdue"] is False and done["done_at"]
    clock.advance(days=3)
    drain(w)
    assert len(_reminders(inbox, "omar@x.io")) == 2


def _iso(clock: FrozenClock, **delta: int) -> str:
    return (clock.now() + timedelta(**delta)).isoformat()
