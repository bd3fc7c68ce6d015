"""The stages of a public post and the moves between them (pure).

Incident posts go Investigating → Identified → Monitoring → Resolved; maintenance posts
Scheduled → In progress → Verifying → Completed. A stage may be skipped or repeated (a new
update at the same stage), never moved back; nothing follows the last stage. Every update
says something.
"""

from __future__ import annotations

from tocsin.errors import Conflict, Invalid

INCIDENT_STAGES = ("investigating", "identified", "monitoring", "resolved")
MAINTENANCE_STAGES = ("scheduled", "in_progress", "verifying", "completed")
STAGES = {"incident": INCIDENT_STAGES, "maintenance": MAINTENANCE_STAGES}
MAX_BODY = 10_000


def stages_of(kind: str) -> tuple[str, ...]:
    try:
        return STAGES[kind]
    except KeyError:
        raise Invalid(f"kind: must be one of {', '.join(STAGES)}") from None


def is_final(kind: str, stage: str) -> bool:
    return stage == stages_of(kind)[-1]


def check_update(*, kind: str, current: str | None, new: str, body: str) -> None:
    """Raise Invalid (unknown stage, empty or overlong body) or Conflict (a backward move,
    or an update after the last stage) unless `new` may follow `current`."""
    order = stages_of(kind)
    if new not in order:
        raise Invalid(f"stage: must be one of {', '.join(order)}")
    if not body.strip():
        raise Invalid("body: an update must say something")
    if len(body) > MAX_BODY:
        raise Invalid(f"body: at most {MAX_BODY} characters")
    if current is None:
        return
    if current == order[-1]:
        raise Conflict(f"this post is {current}: it takes no more updates")
    if order.index(new) < order.index(current):
        allowed = ", ".join(order[order.index(current):])
        raise Conflict(f"stage cannot move back from {current} to {new}; next: {allowed}")
