"""The official `pagerduty` REST client against a strict loopback stand-in: an account with
3 teams, 5 schedules and 4 policies imported — dry run, for real, re-run with no change —
and 14 days of on-call hour by hour equal to PagerDuty's own final schedule."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.importers.conftest import NOW, anchor_for
from tests.importers.pagerduty_account import build
from tests.importers.pagerduty_standin import Account, serve
from tocsin.importers import pagerduty, pagerduty_map, runner
from tocsin.importers.service import Report
from tocsin.importers.vendor import VendorError
from tocsin.runtime import Runtime

TOKEN = "y_NbAkKc66ryYTWUXYEu"


@pytest.fixture
def pd_account() -> Account:
    account = build(TOKEN, anchor_for(NOW))
    account.throttle_once.add("/escalation_policies")
    account.retry_after = "17"  # far from the client's own back-off (1.5 s, doubling)
    return account


def _reader(server: tuple[str, Path], token: str = TOKEN,
            slept: list[float] | None = None) -> pagerduty.Reader:
    """The waits go to `slept` (a fake sleep: no test waits 17 s for real)."""
    return pagerduty.Reader(token, server[0], sleep_timer=0.05, ca_file=str(server[1]),
                            sleep=(slept if slept is not None else []).append)


def _import(runtime: Runtime, server: tuple[str, Path], dry_run: bool,
            slept: list[float] | None = None) -> tuple[Report, pagerduty.Reader]:
    reader = _reader(server, slept=slept)
    data = pagerduty_map.to_plan(pagerduty.fetch(reader, NOW))
    return runner.apply(runtime, data, dry_run=dry_run), reader


def _made(report: Report, verb: str) -> Counter[str]:
    return Counter(a.kind for a in report.actions if a.verb == verb)


def test_dry_run_import_rerun_and_fourteen_days_match(runtime: Runtime, pd_account: Account,
                                                      tmp_path: Path) -> None:
    with serve(pd_account, tmp_path) as url:
        slept: list[float] = []
        dry, _ = _import(runtime, url, dry_run=True, slept=slept)
        wanted = {"user": 6, "team": 3, "schedule": 5, "policy": 4, "service": 3,
                  "integration": 1, "override": 1, "maintenance": 1}
        assert {k: _made(dry, "create")[k] for k in wanted} == wanted
        # the 429, then two pages of two
        assert pd_account.log.count("/escalation_policies") == 3
        assert slept == [17.0]  # the wait PagerDuty asked for in Retry-After
        assert pd_account.log.count("/users") == 3  # 6 users, 2 a page
        notes = "\n".join(n.line() for n in dry.notes)
        assert "phone contact 4155550100" in notes
        assert "generic_email_inbound_integration" in notes
        assert "round robin among its targets" in notes

        real, reader = _import(runtime, url, dry_run=False)
        assert {k: _made(real, "create")[k] for k in wanted} == wanted
        again, _ = _import(runtime, url, dry_run=False)
        assert _made(again, "create") == Counter() and _made(again, "change") == Counter()

        data = pagerduty_map.to_plan(pagerduty.fetch(reader, NOW))
        assert runner.check(runtime, reader, data, pagerduty.timeline) == []
        # And the check can fail: the source changes after the import.
        pd_account.schedules[2]["schedule_layers"].reverse()
        diffs = runner.check(runtime, reader, data, pagerduty.timeline)
        assert diffs and {d.schedule for d in diffs} == {"Edge weekend"}


def test_a_refused_token_is_a_clear_error(pd_account: Account, tmp_path: Path) -> None:
    with serve(pd_account, tmp_path) as server, \
            pytest.raises(VendorError, match="refused the API token"):
        pagerduty.fetch(_reader(server, "wrong"), NOW)


def test_a_429_that_never_ends_is_an_error_after_bounded_waits(pd_account: Account,
                                                               tmp_path: Path) -> None:
    """Each round waits the Retry-After between tries; the client's own back-off retries
    the round once; then a clear error, not an endless loop."""
    pd_account.throttle_always.add("/teams")
    slept: list[float] = []
    with serve(pd_account, tmp_path) as server, pytest.raises(VendorError, match="/teams"):
        _reader(server, slept=slept).all("/teams")
    assert slept == [17.0] * 10  # 2 rounds of 6 tries, 5 waits each
    assert pd_account.log.count("/teams") == 12
