"""Response-time chart geometry: hourly median and maximum as SVG paths, drawn by the
template as inline SVG (no script, no chart library). Pure: values and times in, shapes out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class HourLatency:
    start: datetime
    p50_ms: int
    max_ms: int
    runs: int


WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 12, 28
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    p50_path: str
    max_path: str
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    empty: bool
    # Medians with no neighbour on either side: a path draws no line for them, so a dot.
    lone_points: list[tuple[float, float]] = field(default_factory=list)


def nice_ceiling(value: float) -> float:
    """The next 1, 2 or 5 times a power of ten at or above `value` (axis top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)


def _path(points: list[tuple[float, float] | None]) -> str:
    """An SVG path; a missing hour breaks the line instead of bridging the gap."""
    parts: list[str] = []
    pen_down = False
    for point in points:
        if point is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{point[0]:.1f},{point[1]:.1f}")
        pen_down = True
    return " ".join(parts)


def _lone(points: list[tuple[float, float] | None]) -> list[tuple[float, float]]:
    padded = [None, *points, None]
    return [p for before, p, after in zip(padded, padded[1:], padded[2:], strict=False)
            if p is not None and before is None and after is None]


def latency_chart(hours: list[HourLatency], *, first_hour: datetime, count: int,
                  zone: str) -> Chart:
    """`count` hourly slots from `first_hour`; hours without results are gaps."""
    by_start = {h.start: h for h in hours}
    top = nice_ceiling(max((h.max_ms for h in hours), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(count - 1, 1)

    def y(ms: int) -> float:
        return TOP + plot_h * (1 - ms / top)

    p50: list[tuple[float, float] | None] = []
    peak: list[tuple[float, float] | None] = []
    for i in range(count):
        h = by_start.get(first_hour + i * HOUR)
        x = LEFT + i * step
        p50.append((x, y(h.p50_ms)) if h else None)
        peak.append((x, y(h.max_ms)) if h else None)
    y_ticks = [Tick(y(int(top * f)), f"{int(top * f)} ms") for f in (0, 0.5, 1)]
    tz = ZoneInfo(zone)
    every = 6 if count <= 48 else 24
    x_ticks = []
    for i in range(count):
        local = (first_hour + i * HOUR).astimezone(tz)
        if local.hour % every == 0 and local.minute == 0:
            label = local.strftime("%H:%M") if every < 24 else local.strftime("%a %d")
            x_ticks.append(Tick(LEFT + i * step, label))
    return Chart(WIDTH, HEIGHT, _path(p50), _path(peak), y_ticks, x_ticks, LEFT, WIDTH - RIGHT,
                 TOP, HEIGHT - BOTTOM, empty=not hours, lone_points=_lone(p50))
