"""A post-mortem's review loop from a shell: the owner starts it and sends it to review, the
reviewer comments on a section, the owner answers and resolves the thread, the reviewer
approves and the owner publishes and exports it — every step `tocsin postmortem …` against a
real server on loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import cli_for
from tests.conftest import Account
from tocsin.runtime import Runtime


def test_review_loop_runs_from_the_cli(
        runtime: Runtime, client: TestClient, make_account: Callable[..., Account],
        monkeypatch: pytest.MonkeyPatch) -> None:
    owner, rita = make_account(name="Olga Owner"), make_account(name="Rita Reviewer")
    iid = client.post("/api/v1/incidents", headers=owner.headers,
                      json={"title": "Search slow", "severity": "SEV2"}).json()["id"]
    client.post(f"/api/v1/incidents/{iid}/resolve", headers=owner.headers, json={})

    with cli_for(runtime, owner.token, monkeypatch) as cli:
        pm = cli.json("postmortem", "start", f"INC-{iid}")
        assert pm["status"] == "draft"
        sent = cli.json("postmortem", "review", str(pm["id"]), "--reviewer", rita.user.email)
        assert sent["status"] == "in_review"
        # One of --section / --reply-to, said before anything is sent.
        assert "--section" in cli.fails("postmortem", "comment", str(pm["id"]), "Hm")

        monkeypatch.setenv("TOCSIN_TOKEN", rita.token)
        asked = cli.json("postmortem", "comment", str(pm["id"]),
                         "Why did the index rebuild start at peak time?",
                         "--section", "root_cause")
        assert (asked["section"], asked["author_name"]) == ("root_cause", "Rita Reviewer")
        assert "Why did the index rebuild" in cli.run("postmortem", "comments", str(pm["id"]))

        monkeypatch.setenv("TOCSIN_TOKEN", owner.token)
        reply = cli.json("postmortem", "comment", str(pm["id"]), "The cron was in UTC.",
                         "--reply-to", str(asked["id"]))
        assert (reply["parent_id"], reply["section"]) == (asked["id"], "root_cause")
        assert [c["id"] for c in cli.json("postmortem", "comments", str(pm["id"]),
                                          "--open")] == [asked["id"], reply["id"]]
        resolved = cli.json("postmortem", "resolve", str(pm["id"]), str(asked["id"]))
        assert resolved["resolved_at"] is not None
        assert cli.json("postmortem", "comments", str(pm["id"]), "--open") == []
        # Not asked to review: refused with the reason.
        assert cli.fails("postmortem", "approve", str(pm["id"]))

        monkeypatch.setenv("TOCSIN_TOKEN", rita.token)
        cli.json("postmortem", "approve", str(pm["id"]))
        monkeypatch.setenv("TOCSIN_TOKEN", owner.token)
        assert cli.json("postmortem", "publish", str(pm["id"]))["status"] == "published"
        assert "Search slow" in cli.run("postmortem", "export", str(pm["id"]))
