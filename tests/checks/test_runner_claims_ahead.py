"""The runner claims checks shortly before they are due and starts them at their due time;
a check's parsed settings are reused between runs only while they are unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from tests.checks import servers
from tests.checks.conftest import run_due_checks
from tocsin.checks import service as checks
from tocsin.checks.models import Check, CheckResult
from tocsin.checks.runner import LOOKAHEAD, CheckRunner
from tocsin.checks.schemas import HttpConfig
from tocsin.runtime import Runtime


def set_due(runtime: Runtime, check_id: int, ahead: timedelta) -> None:
    with runtime.sessions() as s, s.begin():
        s.execute(update(Check).where(Check.id == check_id)
                  .values(next_due_at=runtime.clock.now() + ahead))


def test_a_check_due_within_the_lookahead_runs_without_lateness(
        runtime: Runtime, make_check: Callable[..., dict[str, Any]],
        http_server: servers.LoopbackServer) -> None:
    check = make_check(config={"url": http_server.url("/ok")})
    set_due(runtime, check["id"], LOOKAHEAD / 2)  # the (frozen) clock never gets there
    runner = run_due_checks(runtime, expected=1)
    assert list(runner.stats.lateness) == [0.0]
    with runtime.sessions() as s:
        assert s.scalars(select(CheckResult.ok)).all() == [True]


def test_a_check_due_beyond_the_lookahead_is_not_claimed(
        runtime: Runtime, make_check: Callable[..., dict[str, Any]]) -> None:
    check = make_check()
    set_due(runtime, check["id"], LOOKAHEAD * 3)
    with runtime.sessions() as s, s.begin():
        assert checks.claim_due(s, now=runtime.clock.now() + LOOKAHEAD, limit=10) == []


def test_parsed_settings_are_reused_only_while_unchanged(
        runtime: Runtime, make_check: Callable[..., dict[str, Any]]) -> None:
    check = make_check(config={"url": "http://127.0.0.1:9/a"})
    runner = CheckRunner(runtime)
    with runtime.sessions() as s, s.begin():
        s.execute(update(Check).values(next_due_at=runtime.clock.now()))
        [item] = checks.claim_due(s, now=runtime.clock.now(), limit=10)
    assert json.loads(item.config_json) == check["config"]
    first = runner._settings_of(item)
    assert isinstance(first, HttpConfig) and first.url == "http://127.0.0.1:9/a"
    # The next claim brings an equal but new string: no second validation.
    assert runner._settings_of(replace(item, config_json=(item.config_json + " ")[:-1])) is first
    changed = json.dumps({**check["config"], "url": "http://127.0.0.1:9/b"})
    second = runner._settings_of(replace(item, config_json=changed))
    assert second is not first and second.url == "http://127.0.0.1:9/b"  # type: ignore[union-attr]
    broken = runner._settings_of(replace(item, config_json='{"url": 1}'))
    # Reported as a failed run, not cached, not raised.
    assert isinstance(broken, str) and broken.startswith("invalid check settings: ")
    assert runner._settings_of(replace(item, config_json=changed)) is second
