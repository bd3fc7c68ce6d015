"""Who can be paged, in words with names: the pure reading of policies, schedules and teams
(escalation/reach.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from tocsin.escalation import reach
from tocsin.escalation.policy import Level, Policy, Target, TargetKind

ANA, BO, CY = 1, 2, 3
PEOPLE = reach.People(
    user_names={ANA: "Ana Lima", BO: "Bo Chen", CY: "Cy Old"},
    active=frozenset({ANA, BO}), verified=frozenset({BO, CY}),
    team_names={7: "SRE", 8: "Empty"}, team_members={7: [ANA, BO], 8: []},
    schedule_names={5: "Ops", 6: "Nights"}, on_call_now={5: ANA, 6: None})


def _level(*targets: Target) -> Level:
    return Level(0, targets)


def test_a_level_of_unreachable_people_pages_nobody_and_says_who() -> None:
    policy = Policy((_level(Target(TargetKind.USER, ANA), Target(TargetKind.USER, CY)),))
    assert reach.policy_problems(policy, PEOPLE) == [
        "level 1 pages nobody", "level 1: Ana Lima has no verified contact method",
        "level 1: Cy Old is deactivated"]


def test_a_reachable_person_keeps_the_level_paging_but_the_others_are_still_named() -> None:
    policy = Policy((_level(Target(TargetKind.TEAM, 7)),))
    assert reach.policy_problems(policy, PEOPLE) == [
        "level 1: Ana Lima has no verified contact method (team SRE)"]


def test_schedules_and_teams_without_people_are_named() -> None:
    policy = Policy((_level(Target(TargetKind.SCHEDULE, 6), Target(TargetKind.TEAM, 8)),
                     _level(Target(TargetKind.SCHEDULE, 5))))
    assert reach.policy_problems(policy, PEOPLE) == [
        "level 1 pages nobody", "level 1: schedule Nights has nobody on call now",
        "level 1: team Empty has no members", "level 2 pages nobody",
        "level 2: Ana Lima has no verified contact method (on call now for schedule Ops)"]


def test_a_service_without_a_policy_for_urgent_incidents_is_flagged() -> None:
    good = ("primary", Policy((_level(Target(TargetKind.USER, BO)),)))
    assert reach.service_problems({}, ["SEV1", "SEV2"], PEOPLE) == [
        "no escalation policy: its incidents page nobody"]
    assert reach.service_problems({"SEV1": good}, ["SEV1", "SEV2"], PEOPLE) == [
        "no escalation policy for SEV2: those incidents page nobody"]
    assert reach.service_problems({"SEV1": good, "SEV2": good}, ["SEV1", "SEV2"],
                                  PEOPLE) == []


def test_a_schedule_with_nobody_on_call_and_an_unreachable_member() -> None:
    assert reach.schedule_problems(6, [BO, ANA], PEOPLE) == [
        "nobody is on call now", "Ana Lima has no verified contact method"]
    assert reach.schedule_problems(5, [BO], PEOPLE) == []


def test_gaps_ahead_are_named_in_the_schedules_own_zone() -> None:
    night = (datetime(2026, 1, 6, 1, tzinfo=UTC), datetime(2026, 1, 6, 8, tzinfo=UTC))
    weekend = (datetime(2026, 1, 9, 22, tzinfo=UTC), datetime(2026, 1, 10, 8, tzinfo=UTC))
    assert reach.schedule_problems(5, [], PEOPLE, gaps=[night, weekend],
                                   time_zone="Europe/Paris") == [
        "nobody on call from Tue 06 Jan 02:00 to 09:00 (Europe/Paris)",
        "nobody on call from Fri 09 Jan 23:00 to Sat 10 Jan 09:00 (Europe/Paris)"]
    many = [night] * 5
    assert reach.gap_words(many, "UTC")[-1] == "and 2 more gaps"
