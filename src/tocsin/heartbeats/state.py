"""How one ping moves a heartbeat: status, deadline, run duration, and whether to alert. Pure.

Plain values in and out, so the ping writer can apply a whole batch to rows it read with one
query and write back only what changed, and the same rules serve the ORM path that alerts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from tocsin.alerts.normalized import EventAction
from tocsin.heartbeats import due


class HeartbeatStatus(enum.StrEnum):
    NEW = "new"          # never pinged: nothing is expected yet
    UP = "up"
    STARTED = "started"  # a run began (/start) and must finish within the grace time
    LATE = "late"
    FAILED = "failed"
    PAUSED = "paused"


class PingKind(enum.StrEnum):
    START = "start"
    SUCCESS = "success"
    FAIL = "fail"


ALERTING = frozenset({HeartbeatStatus.LATE.value, HeartbeatStatus.FAILED.value})
WATCHED = (HeartbeatStatus.UP.value, HeartbeatStatus.STARTED.value)


@dataclass(slots=True)
class Beat:
    """The fields of a heartbeat a ping reads (schedule) or moves (the rest)."""

    status: str
    due_at: datetime | None
    last_ping_at: datetime | None
    last_start_at: datetime | None
    last_duration_ms: int | None
    period_seconds: int | None
    cron: str | None
    time_zone: str
    grace_seconds: int

    def moved(self) -> tuple[object, ...]:
        return (self.status, self.due_at, self.last_ping_at, self.last_start_at,
                self.last_duration_ms)


@dataclass(frozen=True, slots=True)
class Applied:
    kind: PingKind  # an exit code turned into success (0) or fail (1-255)
    duration_ms: int | None  # run duration, when this ping ends a started run
    alert: EventAction | None  # TRIGGER on a new failure, RESOLVE on recovery, else None


def apply_ping(beat: Beat, kind: PingKind, exit_code: int | None, now: datetime) -> Applied:
    """Move `beat` in place for one ping received at `now`."""
    if exit_code is not None:
        kind = PingKind.SUCCESS if exit_code == 0 else PingKind.FAIL
    previous = beat.status
    if kind == PingKind.START:
        beat.last_start_at = now
        beat.due_at = due.deadline_after_start(now, grace_seconds=beat.grace_seconds)
        if previous not in ALERTING:
            beat.status = HeartbeatStatus.STARTED.value
        return Applied(kind, None, None)
    duration: int | None = None
    if beat.last_start_at is not None and (beat.last_ping_at is None
                                           or beat.last_start_at > beat.last_ping_at):
        duration = int((now - beat.last_start_at).total_seconds() * 1000)
        beat.last_duration_ms = duration
    beat.last_ping_at = now
    beat.due_at = due.deadline_after_ping(now, period_seconds=beat.period_seconds,
                                          cron=beat.cron, time_zone=beat.time_zone,
                                          grace_seconds=beat.grace_seconds)
    alert: EventAction | None = None
    if kind == PingKind.SUCCESS:
        beat.status = HeartbeatStatus.UP.value
        if previous in ALERTING:
            alert = EventAction.RESOLVE
    else:
        beat.status = HeartbeatStatus.FAILED.value
        if previous not in ALERTING:
            alert = EventAction.TRIGGER
    return Applied(kind, duration, alert)
