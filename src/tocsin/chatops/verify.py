"""Slack's request signatures, checked with slack_sdk's SignatureVerifier on our clock."""

from __future__ import annotations

from collections.abc import Mapping

from slack_sdk.signature import Clock as SlackClock
from slack_sdk.signature import SignatureVerifier

from tocsin.clock import Clock


class _RuntimeClock(SlackClock):
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock.now().timestamp()


def signed_by_slack(secret: str, clock: Clock, body: bytes,
                    headers: Mapping[str, str]) -> bool:
    """True when `body` carries a valid signature made less than 5 minutes ago."""
    return SignatureVerifier(secret, clock=_RuntimeClock(clock)).is_valid_request(body, headers)
