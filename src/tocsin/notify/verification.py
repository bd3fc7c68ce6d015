"""Contact-method verification: how long a code lives and when guessing must wait. Pure
decisions of plain values and `now`; notify/service.py loads the failures and records them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from tocsin.settings import Settings


class VerifyOutcome(enum.StrEnum):
    VERIFIED = "verified"
    ALREADY = "already"      # verified before; nothing to check
    WRONG = "wrong"
    EXPIRED = "expired"
    THROTTLED = "throttled"  # too many recent failures: the code was not even compared


@dataclass(frozen=True)
class Limits:
    """Defaults are the settings' defaults; the routes pass `from_settings`."""

    code_lifetime: timedelta = timedelta(minutes=60)
    per_method: int = 5
    per_user: int = 20
    window: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(code_lifetime=timedelta(minutes=settings.verify_code_minutes),
                   per_method=settings.verify_max_failures_per_method,
                   per_user=settings.verify_max_failures_per_user,
                   window=timedelta(minutes=settings.verify_failure_window_minutes))


@dataclass(frozen=True)
class Attempt:
    outcome: VerifyOutcome
    retry_after: timedelta | None = None


def wait_before_next(failures: list[datetime], limit: int, window: timedelta,
                     now: datetime) -> timedelta | None:
    """How long until another attempt is allowed, given failure times newest first (at
    least the `limit` newest, if there are that many); None when one is allowed now."""
    recent = [t for t in failures if now - t < window]
    if len(recent) < limit:
        return None
    # Allowed again once the limit-th newest failure leaves the window.
    return recent[limit - 1] + window - now


def code_expired(*, expires_at: datetime | None, created_at: datetime, now: datetime,
                 lifetime: timedelta) -> bool:
    return now >= (expires_at or created_at + lifetime)
