"""In Chromium: create an integration, post an event to the URL the page shows, and watch
the incident appear on an open dashboard without a reload; its page lists the alert."""

from __future__ import annotations

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.conftest import Account, drain_intake
from tests.web.conftest import sign_in


def test_integration_event_appears_live(live_url: str, new_page: Any, admin: Account,
                                        client: Any, runtime: Any) -> None:
    r = client.post("/api/v1/services", json={"name": "checkout", "tier": "critical",
                                              "revenue": True}, headers=admin.headers)
    assert r.status_code == 201, r.text
    setup = new_page()
    sign_in(setup, live_url, admin)
    setup.get_by_role("link", name="Integrations").click()
    setup.get_by_role("button", name="Create integration").click()
    expect(setup.locator("#name-error")).to_be_visible()
    setup.locator("#f-name").fill("Prometheus production")
    setup.get_by_label("Format").select_option("alertmanager")
    setup.get_by_label("Service").select_option(label="checkout")
    setup.get_by_role("button", name="Create integration").click()
    expect(setup.get_by_text("Integration Prometheus production created.")).to_be_visible()
    url = setup.locator("[data-integration-url]").first.inner_text().strip()
    assert "/api/v1/intake/alertmanager/" in url
    expect(setup.locator("pre.example").first).to_contain_text(url)

    dashboard = new_page()
    sign_in(dashboard, live_url, admin)
    expect(dashboard.get_by_text("No open incidents")).to_be_visible()

    # The URL in the page is the public one; the test server listens on its own port.
    path = url.split("/api/v1/", 1)[1]
    body = {"version": "4", "status": "firing", "receiver": "tocsin", "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://prom",
            "alerts": [{"status": "firing", "labels": {"alertname": "CheckoutErrors",
                                                       "severity": "critical"},
                        "annotations": {"summary": "Checkout error rate 60%"},
                        "startsAt": "2026-01-05T11:58:00Z", "fingerprint": "abc123"}]}
    sent = httpx.post(f"{live_url}/api/v1/{path}", json=body, timeout=10)
    assert sent.status_code < 300, sent.text
    drain_intake(runtime)

    row = dashboard.locator(".incident-row").first
    expect(row).to_be_visible(timeout=15_000)
    expect(dashboard.get_by_text("Checkout error rate 60%").first).to_be_visible()
    row.locator("a").click()
    expect(dashboard.locator(".incident-head")).to_contain_text("checkout")
    alerts = dashboard.locator("section[aria-labelledby=alerts-h]")
    expect(alerts).to_contain_text("Checkout error rate 60%")
