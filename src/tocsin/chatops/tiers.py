"""Slack's per-method rate limits ("tiers"), and when the next call of a method may go (pure).

Slack documents each Web API method's tier: Tier 1 about 1 call a minute, Tier 2 about 20,
Tier 3 about 50, Tier 4 about 100; `chat.postMessage` is "special": about one message a
second per channel. Staying under these keeps Slack from answering 429; when it does anyway,
its `Retry-After` wins (the sender defers the call that long).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Limit:
    calls: int
    window: timedelta
    per_channel: bool = False


MINUTE = timedelta(minutes=1)
TIER_1, TIER_2, TIER_3, TIER_4 = (Limit(1, MINUTE), Limit(20, MINUTE), Limit(50, MINUTE),
                                  Limit(100, MINUTE))
POST_MESSAGE = Limit(1, timedelta(seconds=1), per_channel=True)

LIMITS: dict[str, Limit] = {
    "apps.connections.open": TIER_1,
    "chat.postMessage": POST_MESSAGE,
    "chat.postEphemeral": TIER_4,
    "chat.update": TIER_3,
    "conversations.create": TIER_2,
    "conversations.history": TIER_3,
    "conversations.invite": TIER_3,
    "conversations.setTopic": TIER_2,
    "pins.add": TIER_2,
    "users.info": TIER_4,
    "users.lookupByEmail": TIER_3,
    "views.open": TIER_4,
}


# Calls of these purposes may use at most this share of their method's limit, counted among
# themselves: a storm's message edits (chat.update) never starve the edits of alert messages
# and summaries that people act on.
SHARES: dict[str, float] = {"storm.update": 0.5}


def limit_of(method: str, purpose: str | None = None) -> Limit:
    """Unknown methods get Tier 2's limit: careful, not fast. With a `purpose` that has a
    share (SHARES), that share of the method's limit, at least one call per window."""
    limit = LIMITS.get(method, TIER_2)
    share = SHARES.get(purpose or "")
    if share is None:
        return limit
    return Limit(max(1, int(limit.calls * share)), limit.window, limit.per_channel)


def next_allowed(method: str, recent: Sequence[datetime], now: datetime,
                 purpose: str | None = None) -> datetime:
    """When the next call of `method` (for `purpose`, when it has a share) may go, given when
    earlier calls went (`recent`: of the same channel for per-channel limits, of the same
    purpose for a share; any order, older ones ignored)."""
    limit = limit_of(method, purpose)
    inside = sorted(t for t in recent if t > now - limit.window)
    if len(inside) < limit.calls:
        return now
    return inside[-limit.calls] + limit.window


def minimum_span(method: str, calls: int) -> timedelta:
    """The shortest time `calls` calls of `method` (one channel) can take within the limit."""
    limit = limit_of(method)
    if calls <= limit.calls:
        return timedelta(0)
    return limit.window * ((calls - 1) // limit.calls)
