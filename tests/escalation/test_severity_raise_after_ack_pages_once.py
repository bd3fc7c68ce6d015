"""Raising the severity of an acknowledged incident pages the stricter policy's first level
once (they learn it got worse) and starts no further steps: someone already owns it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.notify.paging import drain, pages_to, sev3_incident, worker
from tests.notify.servers import Inbox
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime


def test_severity_raise_after_ack_pages_the_stricter_first_level_once(
        client: TestClient, runtime: Runtime, clock: FrozenClock, smtp: tuple[Inbox, int],
        admin: Account, make_account: Any) -> None:
    inbox, _ = smtp
    w = worker(runtime)
    iid, (_alice, _bob, carol) = sev3_incident(client, w, inbox, admin, make_account)
    assert client.post(f"/api/v1/incidents/{iid}/acknowledge",
                       headers=carol.headers).status_code == 200
    clock.advance(minutes=1)
    client.post(f"/api/v1/incidents/{iid}/severity", headers=admin.headers,
                json={"severity": "SEV1", "reason": "all checkouts failing"})
    drain(w)
    assert pages_to(inbox, "alice@x.io", iid) == 1
    esc = client.get(f"/api/v1/incidents/{iid}/escalation", headers=admin.headers).json()
    assert esc["policy_name"] == "sev1" and esc["status"] == "acknowledged"
    clock.advance(minutes=30)
    drain(w)
    assert (pages_to(inbox, "alice@x.io", iid), pages_to(inbox, "bob@x.io", iid),
            pages_to(inbox, "carol@x.io", iid)) == (1, 0, 1)
    # Lowering it again pages nobody.
    client.post(f"/api/v1/incidents/{iid}/severity", headers=admin.headers,
                json={"severity": "SEV3", "reason": "only search"})
    drain(w)
    assert pages_to(inbox, "carol@x.io", iid) == 1
