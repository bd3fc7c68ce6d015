"""Stakeholder update templates (DOMAIN §7) and filling them from an incident (pure).

A template is text with `{field}` placeholders. Filling never fails on a field the incident
cannot supply: it is left visible as `[field]` so the author sees what to write. A template
whose braces do not parse is refused when it is saved.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from tocsin.errors import Invalid

KINDS = ("initial", "progress", "resolution")
FIELDS = ("number", "title", "service", "impact", "severity", "status", "next_update",
          "duration", "cause", "fix", "hypothesis", "actions", "next_step",
          "postmortem_within", "apology")

DEFAULTS: dict[str, tuple[str, str]] = {
    "initial": (
        "[{severity}] Investigating an issue affecting {service}",
        "We are investigating an issue affecting {service}.\n\n"
        "Impact: {impact}\nSeverity: {severity}\n\n"
        "Next update by {next_update}."),
    "progress": (
        "[{severity}] Update: {service}",
        "Status: {status}\n\nCurrent hypothesis: {hypothesis}\n"
        "Actions taken: {actions}\nNext step: {next_step}\n\n"
        "Next update by {next_update}."),
    "resolution": (
        "[{severity}] Resolved: {service}",
        "The issue affecting {service} is resolved.\n\n"
        "Cause: {cause}\nFix: {fix}\nDuration: {duration}\n\n"
        "A post-mortem will follow within {postmortem_within}. {apology}"),
}
EXECUTIVE = ("[{severity}] Executive summary: {service}",
             "{severity} on {service}: {impact}. Status: {status}. Duration so far: "
             "{duration}. Next update by {next_update}.")


class _Seen(dict[str, Any]):
    """Records the fields a template names."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def __missing__(self, key: str) -> str:
        self.names.add(key)
        return ""


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return f"[{key}]"


def check(text: str) -> None:
    """Raise Invalid unless `text` is a template that can be filled."""
    seen = _Seen()
    try:
        text.format_map(seen)
    except (ValueError, AttributeError, IndexError, KeyError) as exc:
        raise Invalid(f"template: {exc} (write {{{{ and }}}} for literal braces)") from None
    # Only plain field names: no attribute, index, conversion or format spec.
    named = set(re.findall(r"\{([^{}]*)\}", text.replace("{{", "").replace("}}", "")))
    unknown = sorted(n for n in seen.names | named if n not in FIELDS)
    if unknown:
        raise Invalid(f"template: unknown field {', '.join(unknown)}; known: "
                      f"{', '.join(FIELDS)}")


def fill(text: str, fields: dict[str, str]) -> str:
    """`text` with each `{field}` replaced; one the incident cannot supply stays `[field]`."""
    return text.format_map(_Missing({k: v for k, v in fields.items() if v}))


def duration(start: datetime, end: datetime) -> str:
    minutes = max(0, int((end - start) / timedelta(minutes=1)))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def next_update_at(severity: str, now: datetime, cadence: dict[str, int],
                   minutes: int | None = None) -> datetime | None:
    """When the next update is promised: `minutes` when the author says, else the
    severity's cadence (None: no promise)."""
    if minutes is not None:
        return now + timedelta(minutes=minutes) if minutes > 0 else None
    every = cadence.get(severity)
    return now + timedelta(minutes=every) if every else None
