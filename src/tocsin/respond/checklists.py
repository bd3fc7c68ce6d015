"""Which checklist templates an incident gets: a pure rule, from plain values.

A template applies when the incident is at or above the template's severity (SEV1 is the
highest; no severity: any), its services include the template's service (none: any), and its
category matches the template's (none: any). On a severity raise, only templates that apply
now and did not apply before are added, and never one the incident already has.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

RANKS = {"SEV1": 1, "SEV2": 2, "SEV3": 3, "SEV4": 4}


@dataclass(frozen=True)
class Template:
    id: int
    severity: str | None
    service_id: int | None
    category_system: str | None
    items: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    severity: str
    service_ids: frozenset[int]
    category_system: str | None


def applies(template: Template, facts: Facts) -> bool:
    if template.severity is not None and RANKS[facts.severity] > RANKS[template.severity]:
        return False
    if template.service_id is not None and template.service_id not in facts.service_ids:
        return False
    return template.category_system is None or template.category_system == facts.category_system


def to_add(templates: Sequence[Template], *, now: Facts, before: Facts | None,
           already: Iterable[int]) -> list[Template]:
    """Templates to add: those that apply `now`, did not apply `before` (None: the incident
    is new) and are not among `already` (template ids the incident has tasks from)."""
    have = set(already)
    return [t for t in templates
            if t.id not in have and applies(t, now)
            and (before is None or not applies(t, before))]
