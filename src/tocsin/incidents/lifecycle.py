"""Pure rules of the incident lifecycle: statuses, legal moves, recovery watch, closing.

No I/O here; every function takes plain values (and `now` where time matters).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tocsin.errors import Conflict


class Status(enum.StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Severity(enum.StrEnum):
    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"

    @property
    def rank(self) -> int:
        """1 is the most severe."""
        return int(self.value[3])

    def is_high_urgency(self) -> bool:
        return self.rank <= 2


class Impact(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Urgency(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class CategorySystem(enum.StrEnum):
    NETWORK = "network"
    APPLICATION = "application"
    DATABASE = "database"
    INFRASTRUCTURE = "infrastructure"


class CategoryType(enum.StrEnum):
    PERFORMANCE = "performance"
    AVAILABILITY = "availability"
    SECURITY = "security"
    DATA_INTEGRITY = "data_integrity"


def is_security(category_type: str | None) -> bool:
    """A security incident: restricted from the start, its chat channel private, and left
    out of status pages and metrics detail (those features ask this one predicate)."""
    return category_type == CategoryType.SECURITY.value


class DetectionSource(enum.StrEnum):
    MONITOR = "monitor"
    INTERNAL = "internal"
    CUSTOMER = "customer"


class EventKind(enum.StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    SEVERITY_CHANGED = "severity_changed"
    ROLE_CHANGED = "role_changed"
    FIELD_CHANGED = "field_changed"
    MEMBER_ADDED = "member_added"
    NOTE = "note"
    HYPOTHESIS = "hypothesis"
    ACTION = "action"
    DECISION = "decision"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    RECURRENCE = "recurrence"
    RECOVERY_WATCH_ENDED = "recovery_watch_ended"
    UPDATE_DUE = "update_due"
    # Security incidents (security/): a legal notification deadline approaches or passed,
    # and when the notification was made.
    NOTIFICATION_DUE = "notification_due"
    NOTIFICATION_MADE = "notification_made"
    # Paging (escalation/, notify/).
    ESCALATION_STARTED = "escalation_started"
    ESCALATION_SKIPPED = "escalation_skipped"
    ESCALATED = "escalated"
    NOBODY_PAGED = "nobody_paged"
    PAGE_SENT = "page_sent"
    PAGE_FAILED = "page_failed"
    # Respond (respond/): the bridge, tasks and checklists, roles beyond the three, handoffs.
    BRIDGE_SET = "bridge_set"
    TASK_ADDED = "task_added"
    TASK_DONE = "task_done"
    TASK_REOPENED = "task_reopened"
    ROLE_HANDOFF = "role_handoff"


OPEN_STATUSES = frozenset(
    {
        Status.TRIGGERED,
        Status.ACKNOWLEDGED,
        Status.INVESTIGATING,
        Status.IDENTIFIED,
        Status.MONITORING,
    }
)

# Work states may move among themselves freely once someone is on it (a hypothesis can be
# wrong: identified -> investigating), but never back to "triggered" or "acknowledged" except
# by reopening. Resolved and closed leave only by closing or reopening.
_WORKING = {Status.INVESTIGATING, Status.IDENTIFIED, Status.MONITORING}
LEGAL_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.TRIGGERED: frozenset({Status.ACKNOWLEDGED, *_WORKING, Status.RESOLVED}),
    Status.ACKNOWLEDGED: frozenset({*_WORKING, Status.RESOLVED}),
    Status.INVESTIGATING: frozenset({Status.IDENTIFIED, Status.MONITORING, Status.RESOLVED}),
    Status.IDENTIFIED: frozenset({Status.INVESTIGATING, Status.MONITORING, Status.RESOLVED}),
    Status.MONITORING: frozenset({Status.INVESTIGATING, Status.IDENTIFIED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.TRIGGERED, Status.INVESTIGATING}),
    Status.CLOSED: frozenset({Status.TRIGGERED, Status.INVESTIGATING}),
}

# Moves that only the reopen action may make.
REOPEN_TARGETS = frozenset({Status.TRIGGERED, Status.INVESTIGATING})


class IllegalTransition(Conflict):
    """A status change the lifecycle does not allow: 409, naming the legal next statuses."""

    title = "Illegal status change"

    def __init__(self, current: Status, target: Status, legal: list[Status]) -> None:
        self.current, self.target, self.legal = current, target, legal
        names = ", ".join(s.value for s in legal) or "none"
        super().__init__(
            f"cannot move an incident from '{current.value}' to '{target.value}'; "
            f"from '{current.value}' it can move to: {names}",
            extra={"legal_next_statuses": [s.value for s in legal]},
        )


def legal_next(current: Status, *, reopening: bool = False) -> list[Status]:
    """Statuses reachable from `current`, in lifecycle order."""
    allowed = LEGAL_TRANSITIONS[current]
    if current in (Status.RESOLVED, Status.CLOSED):
        allowed = allowed & REOPEN_TARGETS if reopening else allowed - REOPEN_TARGETS
    return [s for s in Status if s in allowed]


def check_transition(current: Status, target: Status, *, reopening: bool = False) -> None:
    """Raise IllegalTransition unless `current -> target` is legal."""
    legal = legal_next(current, reopening=reopening)
    if target not in legal:
        raise IllegalTransition(current, target, legal)


def recovery_window(severity: Severity, minutes_by_severity: dict[str, int]) -> timedelta:
    return timedelta(minutes=minutes_by_severity.get(severity.value, 15))


def in_recovery_watch(recovery_until: datetime | None, now: datetime) -> bool:
    return recovery_until is not None and now < recovery_until


@dataclass(frozen=True)
class Gap:
    """One thing a record lacks before it may close: said for the API (with its field
    names) and for a person reading the close form (in its labels' words)."""

    api: str
    human: str


@dataclass(frozen=True)
class CloseCheck:
    gaps: list[Gap]

    @property
    def ok(self) -> bool:
        return not self.gaps

    @property
    def missing(self) -> list[str]:
        return [g.api for g in self.gaps]

    @property
    def in_words(self) -> list[str]:
        return [g.human for g in self.gaps]


def close_check(
    *,
    status: Status,
    resolution_summary: str | None,
    impact_started_at: datetime | None,
    impact_ended_at: datetime | None,
    users_affected: int | None,
    recovery_until: datetime | None,
    skip_recovery_watch: bool,
    now: datetime,
) -> CloseCheck:
    """What the record still lacks before it may close (empty when it may)."""
    gaps: list[Gap] = []
    if status is not Status.RESOLVED:
        gaps.append(Gap(f"status must be 'resolved' (it is '{status.value}')",
                        f"The incident must be resolved first (it is {status.value})."))
    if not (resolution_summary or "").strip():
        gaps.append(Gap("resolution_summary: what fixed it, in words someone absent can follow",
                        "A resolution summary: what fixed it, in words someone absent can "
                        "follow."))
    if impact_started_at is None or impact_ended_at is None:
        gaps.append(Gap("impact duration: impact_started_at and impact_ended_at",
                        "When the impact started and when it ended."))
    elif impact_ended_at < impact_started_at:
        gaps.append(Gap("impact duration: impact_ended_at is before impact_started_at",
                        "The impact ends before it starts: check both times."))
    if users_affected is None:
        gaps.append(Gap("users_affected: how many users were affected (0 if none)",
                        "How many users were affected (0 if none)."))
    if in_recovery_watch(recovery_until, now) and not skip_recovery_watch:
        assert recovery_until is not None
        until = recovery_until.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        gaps.append(Gap(
            f"recovery watch runs until {recovery_until.isoformat()}; wait, or close with "
            "skip_recovery_watch and a reason",
            f"The recovery watch runs until {until}: wait for it, or tick \"Close before "
            "the recovery watch ends\" and give a reason."))
    return CloseCheck(gaps)


def reminder_delay(severity: Severity, minutes_by_severity: dict[str, int]) -> timedelta | None:
    """How long after the last update the commander is reminded; None means no reminder."""
    minutes = minutes_by_severity.get(severity.value)
    return timedelta(minutes=minutes) if minutes else None
