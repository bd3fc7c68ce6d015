"""Pure suppression decisions: maintenance windows, silences, routing rules and failed
dependencies. Suppression only stops paging: the alert stays visible, and resolves are
always processed (unlike Alertmanager's inhibition, which swallows them)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tocsin.alerts.match import RuleError


@dataclass(frozen=True)
class Window:
    """A maintenance window in plain values. One-off: `starts_at`/`ends_at`. Weekly:
    `weekdays` (0 = Monday), local `start_time` "HH:MM", `duration_minutes`, `time_zone`."""

    id: int
    name: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: list[int] = field(default_factory=list)
    start_time: str | None = None
    duration_minutes: int | None = None
    time_zone: str = "UTC"


@dataclass(frozen=True)
class SilenceRule:
    id: int
    matchers: list[dict[str, Any]]
    starts_at: datetime
    ends_at: datetime


def window_active(window: Window, now: datetime) -> bool:
    if window.starts_at is not None and window.ends_at is not None:
        return window.starts_at <= now < window.ends_at
    if not (window.weekdays and window.start_time and window.duration_minutes):
        return False
    zone = ZoneInfo(window.time_zone)
    hour, minute = (int(p) for p in window.start_time.split(":"))
    local_now = now.astimezone(zone)
    duration = timedelta(minutes=window.duration_minutes)
    # A window may start on an earlier day and still be running (e.g. Sunday 22:00 for 6 h),
    # so look back as many days as the duration spans. Local wall-clock starts are resolved
    # in the zone on each day, so DST shifts the UTC instant but not the local time.
    for back in range(0, duration.days + 2):
        day = (local_now - timedelta(days=back)).date()
        if day.weekday() not in window.weekdays:
            continue
        start = datetime.combine(day, time(hour, minute), tzinfo=zone)
        if start <= local_now < start + duration:
            return True
    return False


def occurrences(window: Window, *, start: datetime,
                end: datetime) -> list[tuple[datetime, datetime]]:
    """The times the window is on, as (begins, ends) in UTC, of those that begin in
    [start, end), earliest first. A one-off window is its one time. A weekly window's start
    is its local `start_time` on each chosen day and its end `duration_minutes` later on the
    local clock, resolved in the zone as `window_active` does, so a DST change moves the UTC
    instant but not the local time."""
    if window.starts_at is not None and window.ends_at is not None:
        return [(window.starts_at, window.ends_at)] if start <= window.starts_at < end else []
    if not (window.weekdays and window.start_time and window.duration_minutes):
        return []
    zone = ZoneInfo(window.time_zone)
    hour, minute = (int(p) for p in window.start_time.split(":"))
    duration = timedelta(minutes=window.duration_minutes)
    out: list[tuple[datetime, datetime]] = []
    # A day either side: the local date of `start` and `end` differs from their UTC date.
    day, last = (start.astimezone(zone).date() - timedelta(days=1),
                 end.astimezone(zone).date() + timedelta(days=1))
    while day <= last:
        if day.weekday() in window.weekdays:
            local = datetime.combine(day, time(hour, minute), tzinfo=zone)
            begins = local.astimezone(UTC)
            if start <= begins < end:
                out.append((begins, (local + duration).astimezone(UTC)))
        day += timedelta(days=1)
    return out


def check_window(*, starts_at: datetime | None, ends_at: datetime | None, weekdays: list[int],
                 start_time: str | None, duration_minutes: int | None, time_zone: str) -> None:
    """Raise RuleError unless the window is exactly one of one-off or weekly."""
    try:
        ZoneInfo(time_zone)
    except Exception:
        raise RuleError(f"time_zone: unknown time zone '{time_zone}'") from None
    one_off = starts_at is not None or ends_at is not None
    weekly = bool(weekdays) or start_time is not None or duration_minutes is not None
    if one_off == weekly:
        raise RuleError("give either starts_at and ends_at (one-off) or weekdays, start_time "
                        "and duration_minutes (weekly)")
    if one_off:
        if starts_at is None or ends_at is None or ends_at <= starts_at:
            raise RuleError("a one-off window needs starts_at before ends_at")
        return
    if not weekdays or any(d not in range(7) for d in weekdays):
        raise RuleError("weekdays: list of 0 (Monday) to 6 (Sunday)")
    if start_time is None or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", start_time):
        raise RuleError("start_time: local time as HH:MM")
    if not duration_minutes or duration_minutes <= 0 or duration_minutes > 7 * 24 * 60:
        raise RuleError("duration_minutes: 1 to 10080")


def check_matchers(matchers: Sequence[Mapping[str, Any]]) -> None:
    if not matchers:
        raise RuleError("matchers: a silence needs at least one matcher")
    for m in matchers:
        if not isinstance(m.get("name"), str) or not m["name"]:
            raise RuleError("matchers[].name must be a label name")
        if not isinstance(m.get("value"), str):
            raise RuleError("matchers[].value must be a string")
        if m.get("is_regex"):
            try:
                re.compile(m["value"])
            except re.error as exc:
                raise RuleError(f"matchers[].value: bad regex: {exc}") from None


def silence_matches(silence: SilenceRule, labels: Mapping[str, str], now: datetime) -> bool:
    """Alertmanager semantics: every matcher must hold; a missing label is the empty string."""
    if not silence.starts_at <= now < silence.ends_at:
        return False
    for m in silence.matchers:
        actual = labels.get(m["name"], "")
        hit = (re.fullmatch(m["value"], actual) is not None if m.get("is_regex")
               else actual == m["value"])
        if hit != bool(m.get("is_equal", True)):
            return False
    return True


def suppression_reason(*, labels: Mapping[str, str], now: datetime, rule_suppress: str | None,
                       windows: Sequence[Window], silences: Sequence[SilenceRule]) -> str | None:
    """Why this firing should page no one, or None. Dependency suppression is decided
    separately because it attaches the alert to the dependency's incident instead."""
    if rule_suppress:
        return f"routing rule: {rule_suppress}"
    for window in windows:
        if window_active(window, now):
            return f"maintenance window #{window.id}: {window.name}"
    for silence in silences:
        if silence_matches(silence, labels, now):
            return f"silence #{silence.id}"
    return None


def silence_for_rule(conditions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]] | None:
    """Silence matchers that match exactly the alerts a routing rule's `conditions` match,
    or None when some condition has no exact matcher form: then a silence would be broader
    than the rule, and is not offered.

    labels.X equals V -> X = V; regex R -> X =~ R; in [a, b] -> X =~ a|b (each escaped).
    Only text values that are not numbers (a rule compares "5" and "5.0" as numbers, a
    matcher as text), and only regexes that do not match the empty string (a matcher sees a
    missing label as "", a rule as not matching)."""
    out: list[dict[str, Any]] = []

    def text(v: Any) -> bool:
        if not isinstance(v, str) or not v:
            return False
        try:
            float(v)
        except ValueError:
            return True
        return False

    for c in conditions:
        field_name = str(c.get("field", ""))
        op = c.get("op", "equals")
        value = c.get("value")
        if not field_name.startswith("labels.") or len(field_name) == len("labels."):
            return None
        name = field_name[len("labels."):]
        if op == "equals" and text(value):
            out.append({"name": name, "value": value, "is_regex": False, "is_equal": True})
        elif op == "regex" and isinstance(value, str) and re.fullmatch(value, "") is None:
            out.append({"name": name, "value": value, "is_regex": True, "is_equal": True})
        elif op == "in" and isinstance(value, list) and value and all(text(v) for v in value):
            out.append({"name": name, "value": "|".join(re.escape(v) for v in value),
                        "is_regex": True, "is_equal": True})
        else:
            return None
    return out or None
