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


# ---- metrics charts (analytics): trend lines, bars, an hour-of-week heat map -------------

@dataclass(frozen=True)
class Line:
    name: str
    css: str  # class of the path: series-p50, series-max, ...
    path: str
    dots: list[tuple[float, float]]


@dataclass(frozen=True)
class TrendChart:
    width: int
    height: int
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    empty: bool


def trend_chart(labels: list[str], series: list[tuple[str, str, list[float | None]]], *,
                unit: str = "", scale: float = 1.0) -> TrendChart:
    """One x slot per label; each series (name, css class, values) a line broken where a
    value is missing, with a dot on every value. Values are divided by `scale` for the
    axis labels (seconds shown as minutes: scale=60, unit='min')."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = nice_ceiling(max(values, default=0) / scale) * scale
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def point(i: int, v: float | None) -> tuple[float, float] | None:
        return None if v is None else (LEFT + i * step, TOP + plot_h * (1 - v / top))

    lines = []
    for name, css, vs in series:
        points = [point(i, v) for i, v in enumerate(vs)]
        lines.append(Line(name, css, _path(points), [p for p in points if p is not None]))
    every = max(1, math.ceil(len(labels) / 8))
    x_ticks = [Tick(LEFT + i * step, label) for i, label in enumerate(labels) if i % every == 0]
    y_ticks = [Tick(TOP + plot_h * (1 - f), f"{top * f / scale:g} {unit}".strip())
               for f in (0, 0.5, 1)]
    return TrendChart(WIDTH, HEIGHT, lines, y_ticks, x_ticks, LEFT, WIDTH - RIGHT, TOP,
                      HEIGHT - BOTTOM, empty=not values)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    x: float
    y: float
    width: float
    height: float
    css: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[Tick]
    plot_left: int
    plot_right: int
    plot_bottom: int
    empty: bool


def bar_chart(bars: list[tuple[str, float, str]], *, height: int = 200) -> BarChart:
    """Vertical bars (label, value, css class), evenly spaced, from a zero baseline."""
    top = nice_ceiling(max((v for _, v, _ in bars), default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - BOTTOM
    slot = plot_w / max(len(bars), 1)
    out = []
    for i, (label, value, css) in enumerate(bars):
        h = plot_h * value / top
        out.append(Bar(label, value, LEFT + i * slot + slot * 0.2, TOP + plot_h - h, slot * 0.6,
                       h, css))
    y_ticks = [Tick(TOP + plot_h * (1 - f), f"{top * f:g}") for f in (0, 0.5, 1)]
    return BarChart(WIDTH, height, out, y_ticks, LEFT, WIDTH - RIGHT, height - BOTTOM,
                    empty=not any(v for _, v, _ in bars))


@dataclass(frozen=True)
class Cell:
    day: int
    hour: int
    count: int
    x: float
    y: float
    level: int  # 0 (none) .. 4 (the busiest hour)


@dataclass(frozen=True)
class HeatMap:
    width: int
    height: int
    cells: list[Cell]
    cell: float
    day_labels: list[Tick]
    hour_labels: list[Tick]
    busiest: int


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def heat_map(grid: list[list[int]]) -> HeatMap:
    """7 x 24 counts (Monday first) as cells shaded in five steps relative to the busiest."""
    size, left, top = 24.0, 44, 18
    busiest = max((c for row in grid for c in row), default=0)
    cells = [Cell(d, h, c, left + h * size, top + d * size,
                  0 if not c else max(1, math.ceil(4 * c / busiest)))
             for d, row in enumerate(grid) for h, c in enumerate(row)]
    return HeatMap(int(left + 24 * size + 8), int(top + 7 * size + 4), cells, size,
                   [Tick(top + d * size + size / 2 + 4, name) for d, name in enumerate(DAYS)],
                   [Tick(left + h * size + size / 2, f"{h:02d}") for h in range(0, 24, 3)],
                   busiest)
