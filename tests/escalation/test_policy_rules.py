"""Pure escalation decisions (no database)."""

from datetime import timedelta

from tocsin.escalation.policy import (
    Level,
    Policy,
    Position,
    Target,
    TargetKind,
    after,
    first,
    is_stricter,
    problems,
    round_robin,
)

U = TargetKind.USER


def test_levels_then_repeats_then_done() -> None:
    policy = Policy((Level(5, (Target(U, 1),)), Level(10, (Target(U, 2),))), repeat=1)
    pos = first(policy)
    seen = []
    while pos is not None:
        nxt = after(policy, pos)
        seen.append((pos, nxt[1] if nxt else None))
        pos = nxt[0] if nxt else None
    assert seen == [(Position(0, 0), timedelta(minutes=5)), (Position(1, 0), timedelta(minutes=10)),
                    (Position(0, 1), timedelta(minutes=5)), (Position(1, 1), None)]


def test_problems_are_named() -> None:
    assert problems(Policy(())) == ["a policy needs at least one level"]
    assert problems(Policy((Level(5, ()),))) == [
        "level 1 has no targets: name users, schedules or teams"]
    assert "repeats instantly" in problems(Policy((Level(0, (Target(U, 1),)),), repeat=2))[0]


def test_round_robin_takes_turns_and_strictness() -> None:
    assert [round_robin([3, 1, 2], t) for t in range(4)] == [[1], [2], [3], [1]]
    assert round_robin([], 0) == []
    assert is_stricter("SEV1", "SEV2") and not is_stricter("SEV3", "SEV2")
