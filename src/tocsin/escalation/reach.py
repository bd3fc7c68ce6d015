"""Who can be paged: a pure reading of policies, schedules and teams against the people behind
them, in words with names (never ids), so a page that would reach nobody is flagged before
the night it matters.

Reachable means: the user exists, is active, and has at least one verified contact method
(what notify.plan pages with). Everything here works on plain values; `reachability.py`
loads them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from tocsin.escalation.policy import Level, Policy, Target, TargetKind


@dataclass(frozen=True)
class People:
    """The facts the decisions need, loaded once per request."""

    user_names: dict[int, str]
    active: frozenset[int]
    verified: frozenset[int]  # users with a verified contact method
    team_names: dict[int, str] = field(default_factory=dict)
    team_members: dict[int, list[int]] = field(default_factory=dict)
    schedule_names: dict[int, str] = field(default_factory=dict)
    on_call_now: dict[int, int | None] = field(default_factory=dict)


def user_name(people: People, user_id: int) -> str:
    return people.user_names.get(user_id, f"a deleted user (#{user_id})")


def user_problem(people: People, user_id: int) -> str | None:
    """Why this user cannot be paged, in words; None when they can."""
    name = user_name(people, user_id)
    if user_id not in people.user_names:
        return f"{name} no longer exists"
    if user_id not in people.active:
        return f"{name} is deactivated"
    if user_id not in people.verified:
        return f"{name} has no verified contact method"
    return None


@dataclass(frozen=True)
class Reach:
    """One target's people: who would get the page, and why the others would not."""

    reachable: tuple[int, ...]
    problems: tuple[str, ...]


def target_reach(target: Target, people: People) -> Reach:
    if target.kind is TargetKind.USER:
        problem = user_problem(people, target.id)
        return Reach((), (problem,)) if problem else Reach((target.id,), ())
    if target.kind is TargetKind.SCHEDULE:
        name = people.schedule_names.get(target.id, f"#{target.id}")
        who = people.on_call_now.get(target.id)
        if who is None:
            return Reach((), (f"schedule {name} has nobody on call now",))
        problem = user_problem(people, who)
        if problem:
            return Reach((), (f"{problem} (on call now for schedule {name})",))
        return Reach((who,), ())
    name = people.team_names.get(target.id, f"#{target.id}")
    members = people.team_members.get(target.id, [])
    if not members:
        return Reach((), (f"team {name} has no members",))
    ok = tuple(m for m in members if user_problem(people, m) is None)
    problems = tuple(f"{user_problem(people, m)} (team {name})" for m in members if m not in ok)
    return Reach(ok, problems)


def level_problems(level: Level, people: People, number: int) -> list[str]:
    """Every target's problem at this level, and a loud line when the level reaches nobody."""
    reaches = [target_reach(t, people) for t in level.targets]
    out = [f"level {number}: {p}" for r in reaches for p in r.problems]
    if not any(r.reachable for r in reaches):
        out.insert(0, f"level {number} pages nobody")
    return out


def policy_problems(policy: Policy, people: People) -> list[str]:
    if not policy.levels:
        return ["the policy has no levels: it pages nobody"]
    out: list[str] = []
    for number, level in enumerate(policy.levels, start=1):
        out += level_problems(level, people, number)
    return out


def service_problems(policies: dict[str, tuple[str, Policy]], severities: Iterable[str],
                     people: People) -> list[str]:
    """`policies`: severity → (policy name, policy) for the service's configured severities;
    `severities`: those that must page someone (the high-urgency ones: leaving SEV4 unpaged
    is a choice, leaving SEV1 unpaged is an accident)."""
    if not policies:
        return ["no escalation policy: its incidents page nobody"]
    missing = [s for s in severities if s not in policies]
    out = [f"no escalation policy for {', '.join(missing)}: those incidents page nobody"] \
        if missing else []
    seen: set[str] = set()
    for name, policy in policies.values():
        if name in seen:
            continue
        seen.add(name)
        out += [f"policy {name}: {p}" for p in policy_problems(policy, people)]
    return out


def gap_words(gaps: Sequence[tuple[datetime, datetime]], time_zone: str,
              limit: int = 3) -> list[str]:
    """Uncovered stretches in the schedule's own zone, soonest first ("nobody on call from
    Tue 06 Jan 02:00 to 09:00 (Europe/Paris)")."""
    zone = ZoneInfo(time_zone)
    out = []
    for start, end in list(gaps)[:limit]:
        a, b = start.astimezone(zone), end.astimezone(zone)
        until = b.strftime("%H:%M") if a.date() == b.date() else b.strftime("%a %d %b %H:%M")
        out.append(f"nobody on call from {a.strftime('%a %d %b %H:%M')} to {until} "
                   f"({time_zone})")
    if len(gaps) > limit:
        out.append(f"and {len(gaps) - limit} more gaps")
    return out


def schedule_problems(schedule_id: int, members: Iterable[int], people: People, *,
                      gaps: Sequence[tuple[datetime, datetime]] = (),
                      time_zone: str = "UTC") -> list[str]:
    """Nobody on call now, gaps ahead (in the schedule's zone), and people in the rotation
    or overrides who cannot be paged."""
    out: list[str] = []
    if people.on_call_now.get(schedule_id) is None:
        out.append("nobody is on call now")
    out += gap_words(gaps, time_zone)
    for uid in sorted(set(members), key=lambda u: user_name(people, u)):
        problem = user_problem(people, uid)
        if problem:
            out.append(problem)
    return out
