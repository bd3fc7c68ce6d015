"""90 daily bars per component: the percentage from check results when there are any,
otherwise from outages; a day's tooltip says what happened (never an internal title)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Account
from tests.statuspages.helpers import component, page, public, run_refresh, service
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime
from tocsin.statuspages.uptime import Outage, days, overall

DAY = date(2026, 3, 10)


def test_a_day_from_checks_wins_over_outages_and_days_before_creation_have_no_data() -> None:
    start = datetime(2026, 3, 10, 6, tzinfo=UTC)
    out = days(end=DAY, count=3, since=DAY - timedelta(days=1),
               outages=[Outage(start, start + timedelta(hours=6), 1.0, "Major outage")],
               checks={DAY - timedelta(days=1): (1000, 990)})
    assert [d.percent for d in out] == [None, 99.0, 75.0]
    assert out[2].notes == ("Major outage (360 min)",) and out[2].level == "down"
    assert out[0].level == "nodata" and overall(out) == 87.0


@given(st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 3000), st.sampled_from([0.5, 1.0])),
                max_size=6))
def test_percentages_stay_between_0_and_100(spans: list[tuple[int, int, float]]) -> None:
    base = datetime(2026, 3, 9, tzinfo=UTC)
    outages = [Outage(base + timedelta(minutes=s), base + timedelta(minutes=s + n), w, "x")
               for s, n, w in spans]
    for d in days(end=DAY, count=3, since=DAY - timedelta(days=5), outages=outages, checks={}):
        assert d.percent is not None and 0 <= d.percent <= 100


def test_the_page_shows_90_bars_and_the_public_title_of_a_bad_day(
        client: TestClient, runtime: Runtime, admin: Account, clock: FrozenClock,
        make_incident: Callable[..., dict[str, Any]]) -> None:
    api = service(client, admin, "api")
    p = page(client, admin)
    component(client, admin, p["id"], "API", [api])
    incident = make_incident(severity="SEV1", service_ids=[api], title="internal-only-name")
    r = client.post(f"/api/v1/statuspages/{p['id']}/posts", headers=admin.headers, json={
        "title": "API unavailable", "stage": "investigating", "body": "Down.",
        "incident_id": incident["id"]})
    assert r.status_code == 201, r.text
    clock.advance(hours=2)
    client.post(f"/api/v1/incidents/{incident['id']}/resolve", headers=admin.headers, json={})
    run_refresh(runtime)
    html = public(client, "acme").text
    assert html.count('<li class="') == 90
    assert "API unavailable (120 min)" in html and "internal-only-name" not in html
    assert "Days with incidents (1)" in html
    assert "91.67%" in html  # 2 h of a 24 h day down
