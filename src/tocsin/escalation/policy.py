"""Pure escalation decisions: which level fires next, and when.

A policy is an ordered list of levels; after level i fires, level i+1 fires
`levels[i].delay_minutes` later. After the last level the whole list runs again `repeat`
more times. Positions are (level, loop); nothing here touches the database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


class TargetKind(enum.StrEnum):
    USER = "user"
    SCHEDULE = "schedule"
    TEAM = "team"


class TeamMode(enum.StrEnum):
    ALL = "all"
    ROUND_ROBIN = "round_robin"


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    id: int
    mode: TeamMode = TeamMode.ALL


@dataclass(frozen=True)
class Level:
    delay_minutes: int
    targets: tuple[Target, ...]


@dataclass(frozen=True)
class Policy:
    levels: tuple[Level, ...]
    repeat: int = 0


@dataclass(frozen=True)
class Position:
    level: int
    loop: int


def problems(policy: Policy) -> list[str]:
    """Why this policy cannot page anyone (empty when it can)."""
    out = []
    if not policy.levels:
        out.append("a policy needs at least one level")
    for i, level in enumerate(policy.levels, start=1):
        if not level.targets:
            out.append(f"level {i} has no targets: name users, schedules or teams")
        if level.delay_minutes < 0:
            out.append(f"level {i}: delay_minutes must be zero or more")
    if policy.repeat < 0:
        out.append("repeat must be zero or more")
    if policy.repeat and policy.levels and sum(lv.delay_minutes for lv in policy.levels) == 0:
        out.append("a repeating policy needs a delay somewhere, or it repeats instantly")
    return out


def first(policy: Policy) -> Position | None:
    return Position(0, 0) if policy.levels else None


def after(policy: Policy, pos: Position) -> tuple[Position, timedelta] | None:
    """The position that follows `pos` and how long after `pos` fired; None when done."""
    delay = timedelta(minutes=policy.levels[pos.level].delay_minutes)
    if pos.level + 1 < len(policy.levels):
        return Position(pos.level + 1, pos.loop), delay
    if pos.loop < policy.repeat:
        return Position(0, pos.loop + 1), delay
    return None


def round_robin(members: list[int], turn: int) -> list[int]:
    """One member, taking turns (`turn` counts pages to this team)."""
    return [sorted(members)[turn % len(members)]] if members else []


def is_stricter(new: str, old: str) -> bool:
    """SEV1 is stricter than SEV2."""
    return int(new[3]) < int(old[3])


def to_snapshot(policy_id: int, name: str, policy: Policy) -> dict[str, Any]:
    return {"policy_id": policy_id, "name": name, "repeat": policy.repeat,
            "levels": [{"delay_minutes": lv.delay_minutes,
                        "targets": [{"kind": t.kind.value, "id": t.id, "mode": t.mode.value}
                                    for t in lv.targets]} for lv in policy.levels]}


def from_snapshot(raw: dict[str, Any]) -> Policy:
    return Policy(
        repeat=int(raw.get("repeat", 0)),
        levels=tuple(Level(int(lv["delay_minutes"]), tuple(
            Target(TargetKind(t["kind"]), int(t["id"]), TeamMode(t.get("mode", "all")))
            for t in lv["targets"])) for lv in raw["levels"]))
