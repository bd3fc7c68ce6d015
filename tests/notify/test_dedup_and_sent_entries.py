"""The dedup stage (one query per delivery batch): a page for an incident to a contact method
that had a page sent within `notify_dedup_seconds` is dropped, another method's is not, and
after the window it is sent again. Sent pages go on the incident's timeline (written in
bulk, without the hooks, which only entries no feature reacts to may skip)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from tests.notify.paging import drain, worker
from tests.notify.seed import seed_paging
from tests.notify.servers import http_receiver
from tocsin.clock import FrozenClock
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident, IncidentEvent
from tocsin.incidents.schemas import IncidentCreate
from tocsin.notify.models import Message
from tocsin.runtime import Runtime


def _page(runtime: Runtime, key: str, incident_id: int, user_id: int, method_id: int) -> None:
    with runtime.sessions() as s, s.begin():
        s.execute(insert(Message).values(
            idempotency_key=key, kind="page", status="pending", incident_id=incident_id,
            user_id=user_id, contact_method_id=method_id, due_at=runtime.clock.now(),
            attempts=0, payload={}, created_at=runtime.clock.now()))


def _status(runtime: Runtime, key: str) -> str:
    with runtime.sessions() as s:
        return s.scalars(select(Message.status).where(Message.idempotency_key == key)).one()


def test_dedup_window_per_incident_and_method(runtime: Runtime, clock: FrozenClock) -> None:
    w = worker(runtime)
    with http_receiver() as (got, url):
        seed = seed_paging(runtime, webhook_url=url + "/a", levels=2)
        (alice, bob), (hook_a, hook_b) = seed["users"], seed["methods"]
        with runtime.sessions() as s, s.begin():
            incident = incidents.declare(s, actor=None, now=clock.now(),
                                         settings=runtime.settings, data=IncidentCreate(
                                             title="db down", severity=lc.Severity.SEV1,
                                             service_ids=[seed["service_id"]]))
            iid = incident.id
        drain(w)
        assert len(got) == 1  # level 1: alice's webhook
        clock.advance(seconds=10)
        _page(runtime, "again-a", iid, alice, hook_a)
        _page(runtime, "other-b", iid, bob, hook_b)
        drain(w)
        assert (_status(runtime, "again-a"), _status(runtime, "other-b")) == ("deduped", "sent")
        assert len(got) == 2
        clock.advance(seconds=runtime.settings.notify_dedup_seconds)
        _page(runtime, "later-a", iid, alice, hook_a)
        drain(w)
        assert _status(runtime, "later-a") == "sent" and len(got) == 3
    with runtime.sessions() as s:
        sent = s.scalars(select(IncidentEvent).where(
            IncidentEvent.incident_id == iid, IncidentEvent.kind == "page_sent")
            .order_by(IncidentEvent.id)).all()
        assert [e.data["user_id"] for e in sent] == [alice, bob, alice]
        assert sent[-1].at == clock.now()
        assert s.get(Incident, iid).updated_at == clock.now()  # type: ignore[union-attr]


def test_quiet_entries_only_for_quiet_kinds_and_live_incidents(runtime: Runtime,
                                                               clock: FrozenClock) -> None:
    seed = seed_paging(runtime, webhook_url="http://127.0.0.1:9/hook")
    now = clock.now()
    with runtime.sessions() as s, s.begin():
        iid = incidents.declare(s, actor=None, now=now, settings=runtime.settings,
                                data=IncidentCreate(title="x", severity=lc.Severity.SEV3,
                                                    service_ids=[seed["service_id"]])).id
    with runtime.sessions() as s, s.begin(), pytest.raises(ValueError, match="hooks"):
        incidents.append_quiet_events(s, [(iid, lc.EventKind.STATUS_CHANGED, "x", {})], now)
    later = now + timedelta(minutes=1)
    with runtime.sessions() as s, s.begin():
        incidents.append_quiet_events(s, [(iid, lc.EventKind.PAGE_SENT, "sent", {"n": 1}),
                                          (10**6, lc.EventKind.PAGE_SENT, "gone", {})], later)
    with runtime.sessions() as s:
        rows = s.execute(select(IncidentEvent.incident_id, IncidentEvent.body).where(
            IncidentEvent.kind == "page_sent")).all()
        assert [tuple(r) for r in rows] == [(iid, "sent")]  # the missing incident's dropped
        assert s.get(Incident, iid).updated_at == later  # type: ignore[union-attr]
