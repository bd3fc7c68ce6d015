"""The response-time chart's geometry: axis top, one point per hour, gaps left open."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.web.chart import HourLatency, latency_chart, nice_ceiling
from tocsin.web.check_queries import location_state, target_of

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)


def test_axis_top_is_a_round_number_above_the_maximum() -> None:
    assert [nice_ceiling(v) for v in (0, 7, 120, 300, 501, 2100)] == [1, 10, 200, 500, 1000,
                                                                      5000]


def test_a_missing_hour_breaks_the_line() -> None:
    hours = [HourLatency(START + timedelta(hours=h), 100 + h, 200 + h, 60) for h in (0, 1, 3)]
    chart = latency_chart(hours, first_hour=START, count=4, zone="UTC")
    assert chart.p50_path.count("M") == 2 and chart.p50_path.count("L") == 1
    assert len(chart.lone_points) == 1  # hour 3 stands alone: drawn as a dot
    assert [t.label for t in chart.y_ticks] == ["0 ms", "250 ms", "500 ms"]
    assert chart.x_ticks[0].label == "00:00" and not chart.empty


def test_week_ticks_are_days_in_the_viewers_zone() -> None:
    chart = latency_chart([], first_hour=START, count=168, zone="America/New_York")
    assert chart.empty and chart.p50_path == ""
    assert chart.x_ticks[0].label == "Mon 05"  # midnight in New York is 05:00 UTC
    assert len(chart.x_ticks) == 7


def test_targets_and_location_states() -> None:
    assert target_of("tcp", {"host": "db", "port": 5432}) == "db:5432"
    assert target_of("postgres", {"dsn": "postgresql://app:s3cret@db/app"}) == \
        "postgresql://app:***@db/app"
    assert target_of("postgres", {"dsn": "host=db password=s3cret"}) == "host=db password=***"
    assert location_state(enabled=False, offline=True, ok=False) == "paused"
    assert location_state(enabled=True, offline=True, ok=False) == "offline"
    assert location_state(enabled=True, offline=False, ok=None) == "unknown"
