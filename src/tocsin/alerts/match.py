"""Pure condition matching shared by routing and classification rules.

A condition is data: `{"field": "labels.env", "op": "equals", "value": "prod"}`. Fields are
dotted paths into the alert context (`summary`, `source`, `severity`, `labels.<name>`,
`details.<path>`, `signals.<name>`, `service.tier`, …). Unknown fields never match, except
under `not_exists`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

OPS = ("equals", "not_equals", "regex", "exists", "not_exists", "gt", "gte", "lt", "lte", "in")
_MISSING = object()


class RuleError(ValueError):
    """A rule is malformed; the message names the field and the problem."""


def lookup(context: Mapping[str, Any], path: str) -> Any:
    """The value at dotted `path`, or `_MISSING`. Label names may contain dots, so a key
    that exists whole wins over splitting."""
    current: Any = context
    steps = _candidates(path)
    i = 0
    while i < len(steps):
        if not isinstance(current, Mapping):
            return _MISSING
        for key, end in steps[i]:
            if key in current:
                current = current[key]
                i = end
                break
        else:
            return _MISSING
    return current


@lru_cache(maxsize=4096)
def _candidates(path: str) -> tuple[tuple[tuple[str, int], ...], ...]:
    """For each part of `path`, the keys that may start there and the part after each.
    Longest key first: `labels.app.kubernetes.io/name` must find that label. (Built once
    per path: every rule condition looks its field up for every alert.)"""
    parts = path.split(".")
    return tuple(tuple((".".join(parts[i:j]), j) for j in range(len(parts), i, -1))
                 for i in range(len(parts)))


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def check_condition(condition: Mapping[str, Any]) -> None:
    """Raise RuleError unless `condition` is well formed."""
    if not isinstance(condition, Mapping):
        raise RuleError("a condition must be an object with field, op and value")
    field = condition.get("field")
    op = condition.get("op", "equals")
    if not isinstance(field, str) or not field:
        raise RuleError("condition.field must be a non-empty string such as 'labels.env'")
    if op not in OPS:
        raise RuleError(f"condition.op '{op}' is unknown; use one of {', '.join(OPS)}")
    value = condition.get("value")
    if op in ("gt", "gte", "lt", "lte") and _number(value) is None:
        raise RuleError(f"condition on {field}: '{op}' needs a numeric value")
    if op == "regex":
        if not isinstance(value, str):
            raise RuleError(f"condition on {field}: 'regex' needs a string pattern")
        try:
            _compiled(value)
        except re.error as exc:
            raise RuleError(f"condition on {field}: bad regex: {exc}") from None
    if op == "in" and not isinstance(value, list):
        raise RuleError(f"condition on {field}: 'in' needs a list of values")


def matches(condition: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    op = condition.get("op", "equals")
    found = lookup(context, str(condition.get("field", "")))
    if op == "exists":
        return found is not _MISSING and found is not None
    if op == "not_exists":
        return found is _MISSING or found is None
    if found is _MISSING:
        return False
    value = condition.get("value")
    if op == "equals":
        return _same(found, value)
    if op == "not_equals":
        return not _same(found, value)
    if op == "in":
        return any(_same(found, v) for v in (value or []))
    if op == "regex":
        # Anchored like Alertmanager matchers: the whole value must match.
        return isinstance(value, str) and _compiled(value).fullmatch(str(found)) is not None
    left, right = _number(found), _number(value)
    if left is None or right is None:
        return False
    return {"gt": left > right, "gte": left >= right, "lt": left < right,
            "lte": left <= right}.get(op, False)


def _same(found: Any, value: Any) -> bool:
    if isinstance(found, bool) or isinstance(value, bool):
        return found is value or str(found).lower() == str(value).lower()
    left, right = _number(found), _number(value)
    if left is not None and right is not None:
        return left == right  # label "5" equals rule value 5
    return str(found) == str(value)


def all_match(conditions: Sequence[Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    return all(matches(c, context) for c in conditions)
