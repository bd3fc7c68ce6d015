"""Under overload the API refuses with 429 and Retry-After — and every event it did accept
is stored and triaged: never accepted and then dropped."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select, text

from tests.conftest import drain_intake
from tests.intake.conftest import serve
from tocsin.alerts.models import Alert
from tocsin.clock import FrozenClock
from tocsin.intake.models import InboxRow
from tocsin.settings import Settings
from tocsin.wiring import build_runtime

LIMIT, SENT = 4, 20


def test_overload_refuses_with_retry_after_and_keeps_every_accepted_event(
        make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock,
        make_integration: Callable[..., dict[str, Any]]) -> None:
    key = make_integration("pagerduty")["key"]
    rt = build_runtime(make_settings(database_url=database_url, intake_max_in_flight=LIMIT),
                       clock)
    # Hold the inbox's write lock: the first LIMIT requests wait for their commit, so the
    # rest find the process full — a deterministic overload.
    blocker = rt.engine.connect()
    if blocker.dialect.name == "sqlite":
        blocker.exec_driver_sql("SELECT 1")  # the engine begins with BEGIN IMMEDIATE
    else:
        blocker.execute(text("LOCK TABLE intake_inbox IN EXCLUSIVE MODE"))

    async def flood(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            calls = [asyncio.ensure_future(c.post("/v2/enqueue", json={
                "routing_key": key, "event_action": "trigger", "dedup_key": f"k{i}",
                "payload": {"summary": f"s{i}", "source": "x", "severity": "info"}}))
                for i in range(SENT)]
            refused = 0
            for done in asyncio.as_completed(calls):
                if (await done).status_code == 429:
                    refused += 1
                if refused == SENT - LIMIT:
                    break
            blocker.rollback()  # the waiting commits go through now
            return await asyncio.gather(*calls)

    try:
        with serve(rt) as port:
            answers = asyncio.run(flood(f"http://127.0.0.1:{port}"))
    finally:
        blocker.close()
    accepted = {r.json()["dedup_key"] for r in answers if r.status_code == 202}
    refused = [r for r in answers if r.status_code == 429]
    assert len(accepted) == LIMIT and len(refused) == SENT - LIMIT
    assert all(r.headers["Retry-After"] == "2" and r.json()["status"] == "throttle event"
               for r in refused)
    with rt.sessions() as session:
        assert session.scalar(select(func.count()).select_from(InboxRow)) == LIMIT
    assert drain_intake(rt) == LIMIT
    with rt.sessions() as session:
        assert set(session.scalars(select(Alert.dedup_key))) == accepted
    rt.close()
