"""In Chromium: the metrics page over twelve weeks of generated history draws its charts
(bars per severity, trend lines, the hour-of-week heat map) with a table under each, the
filters narrow it, and the quarterly review prints (print media) without the navigation.
Screenshots for docs/screenshots (TOCSIN_DOC_SCREENSHOTS=1)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playwright.sync_api import expect

from tests.analytics.history import seed_history
from tests.conftest import Account
from tests.web.conftest import DOC_SCREENSHOTS, sign_in
from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime

END = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_metrics_page_in_a_browser(live_url: str, new_page: Any, runtime: Runtime,
                                   clock: FrozenClock, admin: Account) -> None:
    clock.set(END)
    seed_history(runtime, end=END, weeks=12, incidents_n=120)
    page = new_page(viewport={"width": 1280, "height": 900})
    # The figures over twelve weeks are computed on each load: seconds beside three other
    # test workers on 2 cores (a merged run hit the 15 s default), so a generous bound here.
    page.set_default_timeout(60_000)
    sign_in(page, live_url, admin, path="/analytics")
    page.goto(live_url + "/analytics?period=week&tz=Europe/Berlin")
    expect(page.get_by_role("heading", name="Incidents per severity")).to_be_visible()
    for name in ("Incidents per severity", "Median and p90 minutes to acknowledge per week",
                 "Pages by hour of the week (Europe/Berlin)"):
        chart = page.get_by_role("img", name=name)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.locator("svg rect.bar").count() == 4
    assert page.locator("svg path.series-p50").count() == 2
    assert page.locator("svg rect[class^=heat-]").count() == 7 * 24
    assert page.locator("svg rect.heat-4").count() >= 1
    DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_SCREENSHOTS / "metrics-desktop.png"), full_page=True)

    page.get_by_label("Severity", exact=True).select_option("SEV1")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "severity=SEV1" in page.url
    assert page.locator("table.metrics-table").first.locator("tbody tr").count() == 4

    page.goto(live_url + "/analytics/review?quarter=2026-Q4")
    expect(page.get_by_role("heading", name="Quarterly review 2026-Q4")).to_be_visible()
    page.emulate_media(media="print")
    assert not page.locator("nav[aria-label=Main]").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    page.screenshot(path=str(DOC_SCREENSHOTS / "quarterly-review-print.png"), full_page=True)
