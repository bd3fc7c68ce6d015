"""Which occurrences of a recurring maintenance window to announce now (pure).

Each occurrence becomes its own maintenance post, announced once it falls within the
horizon and never twice: the series remembers the start of the last occurrence announced
(`announced_through`; at first, when announcing began), and only later ones are new. An
occurrence that has already begun when it would be announced is left out (a worker that
was down does not announce the past). The times come from the maintenance window's own
recurrence rule (`alerts.suppress.occurrences`), so the page says what suppression does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tocsin.alerts.suppress import Window, occurrences


def to_announce(window: Window, *, announced_through: datetime, now: datetime,
                horizon: timedelta) -> list[tuple[datetime, datetime]]:
    """(begins, ends) of each occurrence to announce now, earliest first: it begins after
    `announced_through`, after `now`, and before `now + horizon`."""
    after = max(announced_through, now)
    return [(b, e) for b, e in occurrences(window, start=after, end=now + horizon) if b > after]
