"""Suggestions are searched by their own job, not in the engine's general timers
transaction: on SQLite that transaction holds the one write lock, and 200 searches a second
there made paging's claims wait (event to page p50 about 20 -> 250 ms, bench/paging.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Account
from tocsin.engine.models import Timer, TimerStatus
from tocsin.engine.worker import Job, Worker
from tocsin.jobs import JOBS, TIMER_HANDLERS, run_timers
from tocsin.knownerrors.jobs import BACKGROUND_TIMERS, suggest_due
from tocsin.knownerrors.service import TIMER_SUGGEST
from tocsin.runtime import Runtime


def _run(runtime: Runtime, *jobs: Job) -> None:
    Worker(runtime=runtime, jobs=list(jobs), handlers=TIMER_HANDLERS,
           worker_id="t").run_cycle()


def _suggest_timers(runtime: Runtime) -> list[str]:
    with runtime.read_sessions() as s:
        return list(s.scalars(select(Timer.status).where(Timer.kind == TIMER_SUGGEST)))


def test_the_timers_job_leaves_suggestions_to_their_own_job(
        client: TestClient, runtime: Runtime, responder: Account) -> None:
    client.post("/api/v1/problems", headers=responder.headers, json={
        "title": "Disk full on ingest nodes", "workaround": "Delete old segments"})
    iid = client.post("/api/v1/incidents", headers=responder.headers, json={
        "title": "Ingest disk full", "severity": "SEV3"}).json()["id"]

    _run(runtime, Job("timers", run_timers))
    assert _suggest_timers(runtime) == [TimerStatus.PENDING.value]
    assert client.get(f"/api/v1/incidents/{iid}/suggestions",
                      headers=responder.headers).json()["items"] == []

    _run(runtime, Job("knownerrors.suggest", suggest_due))
    assert _suggest_timers(runtime) == [TimerStatus.DONE.value]
    found = client.get(f"/api/v1/incidents/{iid}/suggestions",
                       headers=responder.headers).json()["items"]
    assert [s["kind"] for s in found] == ["problem"]

    # A second run finds nothing due and records nothing twice.
    _run(runtime, Job("knownerrors.suggest", suggest_due))
    assert len(client.get(f"/api/v1/incidents/{iid}/suggestions",
                          headers=responder.headers).json()["items"]) == 1


def test_every_background_timer_kind_has_its_job_in_the_worker() -> None:
    names = {job.name for job in JOBS}
    assert "knownerrors.suggest" in names and "timers" in names
    assert not BACKGROUND_TIMERS & set(TIMER_HANDLERS)  # one path per timer kind
