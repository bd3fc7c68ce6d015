"""Concurrent intake requests share inbox transactions (group commit), yet each is answered
on its own: a refused request stores nothing and does not fail the others, and every 2xx
becomes an alert occurrence once the inbox is processed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from tests.conftest import drain_intake
from tocsin.alerts.models import Alert
from tocsin.runtime import Runtime


def test_concurrent_requests_fail_alone_and_every_2xx_is_stored(
        live_url: str, runtime: Runtime, make_integration: Callable[..., dict[str, Any]]) -> None:
    key = make_integration("pagerduty")["key"]
    hook = make_integration("generic", mapping={"title": "t", "service": "svc"})

    def pd(i: int) -> dict[str, Any]:
        return {"routing_key": key if i % 5 else "f" * 32, "event_action": "trigger",
                "dedup_key": f"k{i % 17}",
                "payload": {"summary": f"s{i}", "source": "x", "severity": "info"}}

    # 55 requests at once stay under the in-flight limit (64), so none is refused.
    async def fire() -> list[tuple[str, int, httpx.Response]]:
        async with httpx.AsyncClient(base_url=live_url, timeout=30) as c:
            pd_calls = [c.post("/v2/enqueue", json=pd(i)) for i in range(50)]
            # Fails inside the batch (the mapped service does not exist) after its
            # integration was found: its savepoint must roll back alone.
            bad_hooks = [c.post(f"/api/v1/intake/generic/{hook['key']}",
                                json={"t": "x", "svc": "missing"}) for _ in range(5)]
            answers = await asyncio.gather(*pd_calls, *bad_hooks)
        return ([("pd", i, r) for i, r in enumerate(answers[:50])]
                + [("hook", i, r) for i, r in enumerate(answers[50:])])

    answers = asyncio.run(fire())
    accepted = {f"k{i % 17}" for kind, i, r in answers if kind == "pd" and i % 5}
    for kind, i, r in answers:
        if kind == "hook":
            assert r.status_code == 400 and "missing" in r.json()["detail"]
        elif i % 5 == 0:
            assert r.status_code == 400 and r.json()["status"] == "invalid event"
        else:
            assert r.status_code == 202, r.text
    drain_intake(runtime)
    with runtime.sessions() as session:
        rows = session.execute(select(Alert.dedup_key, Alert.occurrences)).all()
    assert {k for k, _n in rows} == accepted
    assert sum(n for _k, n in rows) == 40  # exactly the accepted triggers, none lost
