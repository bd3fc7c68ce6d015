"""Action items synced to GitHub Issues and Jira (strict loopback stand-ins speaking their
documented REST shapes): the issue is created there, and closing it there (Jira: a status in
the "done" category) marks the action item done here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.postmortems.tracker_standins import TOKEN, Tracker, standin
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.engine.worker import JobContext
from tocsin.postmortems.jobs import sync_with_trackers
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.wiring import build_runtime


@pytest.fixture
def trackers() -> Iterator[tuple[Tracker, str, Tracker, str]]:
    with standin("github") as (gh, gh_url), standin("jira") as (jira, jira_url):
        yield gh, gh_url, jira, jira_url


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str,
             trackers: tuple[Tracker, str, Tracker, str]) -> Settings:
    _, gh_url, _, jira_url = trackers
    return make_settings(database_url=database_url, github_issues_url=gh_url,
                         github_issues_token=TOKEN, github_issues_repo="acme/ops",
                         jira_url=jira_url, jira_token=TOKEN, jira_project="OPS",
                         tracker_sync_seconds=60)


def _sync(runtime: Runtime) -> int:
    return sync_with_trackers(JobContext(runtime=runtime, handlers={}, worker_id="t"))


def test_items_created_in_trackers_and_done_when_closed_there(
        client: TestClient, runtime: Runtime, clock: FrozenClock, responder: Account,
        make_incident: Any, trackers: tuple[Tracker, str, Tracker, str]) -> None:
    gh, _, jira, _ = trackers
    iid = make_incident()["id"]
    due = (clock.now() + timedelta(days=5)).isoformat()
    made = {}
    for kind in ("github", "jira"):
        r = client.post(f"/api/v1/incidents/{iid}/action-items", headers=responder.headers,
                        json={"title": f"Fix via {kind}", "owner_id": responder.id,
                              "due_at": due, "sync_to": kind})
        assert r.status_code == 201, r.text
        made[kind] = r.json()["id"]
    assert _sync(runtime) == 2
    assert gh.refused == [] and jira.refused == []
    items = {i["id"]: i for i in client.get(f"/api/v1/incidents/{iid}/action-items",
                                            headers=responder.headers).json()["items"]}
    assert (items[made["github"]]["external_ref"], items[made["jira"]]["external_ref"]) == \
        ("1", "OPS-1")
    assert gh.issues["1"]["title"] == "Fix via github"
    assert f"INC-{iid}" in jira.issues["OPS-1"]["description"]
    assert _sync(runtime) == 0  # nothing new; status read back only every 60 s

    gh.issues["1"]["state"] = "closed"
    jira.issues["OPS-1"].update(status="In Progress", category="indeterminate")
    clock.advance(seconds=61)
    assert _sync(runtime) == 2
    items = {i["id"]: i for i in client.get(f"/api/v1/incidents/{iid}/action-items",
                                            headers=responder.headers).json()["items"]}
    assert items[made["github"]]["status"] == "done"
    assert items[made["github"]]["external_status"] == "closed"
    assert (items[made["jira"]]["status"], items[made["jira"]]["external_status"]) == \
        ("open", "In Progress")
    jira.issues["OPS-1"].update(status="Done", category="done")
    clock.advance(seconds=61)
    _sync(runtime)
    item = client.get(f"/api/v1/action-items?owner_id={responder.id}&open=true",
                      headers=responder.headers).json()["items"]
    assert item == []


def test_sync_to_an_unconfigured_tracker_is_refused(
        make_settings: Callable[..., Settings], database_url: str, clock: FrozenClock,
        responder: Account) -> None:
    plain = build_runtime(make_settings(database_url=database_url), clock)
    try:
        with TestClient(create_app(plain)) as c:
            iid = c.post("/api/v1/incidents", headers=responder.headers,
                         json={"title": "t", "severity": "SEV3"}).json()["id"]
            r = c.post(f"/api/v1/incidents/{iid}/action-items", headers=responder.headers,
                       json={"title": "x", "owner_id": responder.id, "sync_to": "jira",
                             "due_at": (clock.now() + timedelta(days=1)).isoformat()})
            assert r.status_code == 422 and "not configured" in r.text
    finally:
        plain.close()
