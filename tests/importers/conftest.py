from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.importers.opsgenie_account import build
from tests.importers.opsgenie_standin import Account, serve
from tocsin.clock import FrozenClock

# Two weeks that cross the change to summer time in Berlin and London (2027-03-28).
NOW = datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
KEY = "8a3e6c0e-1b1c-4e6f-9d2a-0123456789ab"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


def anchor_for(now: datetime) -> datetime:
    """The Monday 00:00 UTC of the week before `now`: rotations are mid-way when it runs."""
    return (now - timedelta(days=now.weekday() + 7)).replace(hour=0, minute=0, second=0,
                                                             microsecond=0)


@pytest.fixture
def opsgenie_account() -> Account:
    account = build(KEY, anchor_for(NOW))
    account.throttle_once.add("/v2/escalations")
    return account


@pytest.fixture
def opsgenie_url(opsgenie_account: Account) -> Iterator[str]:
    with serve(opsgenie_account) as url:
        yield url
