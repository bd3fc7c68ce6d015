"""How alike a new incident and a known error or past incident are. Pure: the text score
from full-text search, services and labels in; a ranked list with reasons out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

TEXT_WEIGHT, SERVICE_WEIGHT, LABEL_WEIGHT = 0.6, 0.25, 0.15


@dataclass(frozen=True)
class Candidate:
    id: int
    text_score: float  # from the database's search; only compared within one search
    services: frozenset[int] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)
    # A known error's label matchers: every one must hold on the new incident.
    matchers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    id: int
    score: float
    reasons: tuple[str, ...]


def _shared(a: Mapping[str, str], b: Mapping[str, str]) -> list[str]:
    return sorted(f"{k}={v}" for k, v in a.items() if b.get(k) == v)


def rank(*, services: frozenset[int], labels: Mapping[str, str],
         candidates: Sequence[Candidate], limit: int, minimum: float = 0.2) -> list[Match]:
    """Best first; ties by the newer (higher) id. A candidate below `minimum` is noise."""
    best_text = max((c.text_score for c in candidates), default=0.0) or 1.0
    out: list[Match] = []
    for c in candidates:
        reasons: list[str] = []
        text = max(c.text_score, 0.0) / best_text
        if text > 0:
            reasons.append("similar text")
        same_service = bool(services & c.services)
        if same_service:
            reasons.append("same service")
        if c.matchers:
            shared = _shared(c.matchers, labels)
            label_part = 1.0 if len(shared) == len(c.matchers) else 0.0
        else:
            shared = _shared(c.labels, labels)
            union = set(c.labels.items()) | set(labels.items())
            label_part = len(shared) / len(union) if union else 0.0
        if shared and label_part:
            reasons.append("labels " + ", ".join(shared))
        score = TEXT_WEIGHT * text + SERVICE_WEIGHT * same_service + LABEL_WEIGHT * label_part
        if score >= minimum:
            out.append(Match(id=c.id, score=round(score, 4), reasons=tuple(reasons)))
    out.sort(key=lambda m: (-m.score, -m.id))
    return out[:limit]
