"""Post-mortem and action-item completion (DOMAIN §9, §10), as pure functions of plain values.

The incidents measured are the metrics' own (analytics: counted incidents created in the
window, grouped by period, severity, service or team exactly as the other figures); each
one's post-mortem and action items are counted in its groups. docs/metrics.md defines each
figure; this module is those definitions in code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.analytics.measures import Facts, Keys


@dataclass(frozen=True)
class Review:
    """An incident's post-mortem, as the measures read it."""

    incident_id: int
    status: str  # draft / in_review / published
    due_at: datetime
    published_at: datetime | None


@dataclass(frozen=True)
class Action:
    incident_id: int
    status: str  # open / in_progress / done / cancelled
    due_at: datetime
    done_at: datetime | None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass(frozen=True)
class Completion:
    group: str
    # Post-mortems. Needed: the incident is resolved and its severity requires one
    # (settings.postmortem_required_severities).
    needed: int
    published: int  # needed, and its post-mortem is published
    published_on_time: int  # ... published at or before the post-mortem's due date
    overdue: int  # needed, started, not published, due date reached
    missing: int  # needed, none started
    # Action items of the group's incidents; cancelled ones are left out.
    actions: int
    actions_done: int
    actions_done_on_time: int  # done at or before their due date
    actions_overdue: int  # not done, due date reached

    @property
    def published_rate(self) -> float | None:
        return _rate(self.published, self.needed)

    @property
    def on_time_rate(self) -> float | None:
        return _rate(self.published_on_time, self.needed)

    @property
    def actions_done_rate(self) -> float | None:
        return _rate(self.actions_done, self.actions)

    @property
    def actions_on_time_rate(self) -> float | None:
        return _rate(self.actions_done_on_time, self.actions)

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "needed": self.needed, "published": self.published,
                "published_on_time": self.published_on_time, "overdue": self.overdue,
                "missing": self.missing, "published_rate": self.published_rate,
                "on_time_rate": self.on_time_rate, "actions": self.actions,
                "actions_done": self.actions_done,
                "actions_done_on_time": self.actions_done_on_time,
                "actions_overdue": self.actions_overdue,
                "actions_done_rate": self.actions_done_rate,
                "actions_on_time_rate": self.actions_on_time_rate}


def completion(group: str, facts: Iterable[Facts], reviews: Mapping[int, Review],
               actions: Mapping[int, Sequence[Action]], required: Iterable[str], *,
               now: datetime) -> Completion:
    needs = frozenset(required)
    needed = published = on_time = overdue = missing = 0
    n_actions = done = done_on_time = actions_overdue = 0
    for f in facts:
        if f.severity in needs and f.resolved_at is not None:
            needed += 1
            review = reviews.get(f.id)
            if review is None:
                missing += 1
            elif review.status == "published" and review.published_at is not None:
                published += 1
                on_time += review.published_at <= review.due_at
            elif review.due_at <= now:
                overdue += 1
        for a in actions.get(f.id, ()):
            if a.status == "cancelled":
                continue
            n_actions += 1
            if a.status == "done":
                done += 1
                done_on_time += a.done_at is not None and a.done_at <= a.due_at
            elif a.due_at <= now:
                actions_overdue += 1
    return Completion(group, needed, published, on_time, overdue, missing, n_actions, done,
                      done_on_time, actions_overdue)


def completions(facts: Iterable[Facts], keys: Keys, reviews: Mapping[int, Review],
                actions: Mapping[int, Sequence[Action]], required: Iterable[str], *,
                now: datetime) -> list[Completion]:
    needs = frozenset(required)
    groups = keys.groups(facts)
    return [completion(k, groups[k], reviews, actions, needs, now=now) for k in sorted(groups)]
