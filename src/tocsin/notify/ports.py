"""What notify needs from features above it, declared here and handed in by the composition
root (docs/architecture.md, "How a lower feature reaches a higher one")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy.orm import Session

# One suggestion as a page lists it: "kind" ("known error" or "similar incident"), "title",
# "detail" (a known error's workaround, first line; may be empty) and "path" (a link below
# the public URL; empty: the incident's Learn card).
Suggestion = Mapping[str, str]


class PageSuggestions(Protocol):
    """Known errors and similar past incidents for the first page of each incident named
    (learning, issue 17): read on a read-only snapshot at send time, at most a few per
    incident, best first. Working out what is not recorded yet stops once `budget` seconds
    have gone; an incident left out (none found, or no time left) gets the link only."""

    def __call__(self, session: Session, incident_ids: Sequence[int], *, budget: float
                 ) -> Mapping[int, Sequence[Suggestion]]: ...


def no_suggestions(session: Session, incident_ids: Sequence[int], *, budget: float
                   ) -> Mapping[int, Sequence[Suggestion]]:
    """Until learning is connected (tests of notify alone): pages only link to them."""
    return {}
