"""Routing rules as a pure function: the first enabled rule whose conditions all match
decides service, severity, team, tags, or suppression. No rule matching leaves the event as
its integration sent it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tocsin.alerts.match import RuleError, all_match, check_condition

ACTION_KEYS = frozenset({"service_id", "severity", "team_id", "tags", "suppress"})


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    conditions: list[dict[str, Any]]
    actions: dict[str, Any]
    enabled: bool = True


@dataclass(frozen=True)
class Decision:
    rule_id: int | None = None
    rule_name: str | None = None
    service_id: int | None = None
    severity: str | None = None
    team_id: int | None = None
    tags: list[str] = field(default_factory=list)
    suppress: bool = False


def check_actions(actions: Mapping[str, Any]) -> None:
    unknown = sorted(set(actions) - ACTION_KEYS)
    if unknown:
        raise RuleError(f"actions: unknown key(s) {', '.join(unknown)}; use "
                        f"{', '.join(sorted(ACTION_KEYS))}")
    for key in ("service_id", "team_id"):
        if key in actions and not (isinstance(actions[key], int)
                                   and not isinstance(actions[key], bool)):
            raise RuleError(f"actions.{key} must be an integer id")
    if "tags" in actions and not (isinstance(actions["tags"], list)
                                  and all(isinstance(t, str) for t in actions["tags"])):
        raise RuleError("actions.tags must be a list of strings")
    if "suppress" in actions and not isinstance(actions["suppress"], bool):
        raise RuleError("actions.suppress must be true or false")
    if "severity" in actions and actions["severity"] not in ("SEV1", "SEV2", "SEV3", "SEV4"):
        raise RuleError("actions.severity must be SEV1, SEV2, SEV3 or SEV4")


def check_rule(conditions: Sequence[Mapping[str, Any]], actions: Mapping[str, Any]) -> None:
    """Raise RuleError unless the rule is well formed."""
    for condition in conditions:
        check_condition(condition)
    check_actions(actions)


def route(rules: Sequence[Rule], context: Mapping[str, Any]) -> Decision:
    """The decision of the first matching enabled rule (rules are in evaluation order)."""
    for rule in rules:
        if rule.enabled and all_match(rule.conditions, context):
            a = rule.actions
            return Decision(rule_id=rule.id, rule_name=rule.name,
                            service_id=a.get("service_id"), severity=a.get("severity"),
                            team_id=a.get("team_id"), tags=list(a.get("tags", [])),
                            suppress=bool(a.get("suppress", False)))
    return Decision()
