"""Severity classification (DOMAIN §3): default rules as data, sender severities mapped,
service tier raising or lowering, rule sets editable per scope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.alerts.classify import DEFAULT_RULES, classify


def ctx(tier: str = "medium", revenue: bool = False, **signals: Any) -> dict[str, Any]:
    return {"signals": signals, "service": {"tier": tier, "revenue": revenue}}


@pytest.mark.parametrize(("context", "expected"), [
    (ctx(data_loss=True), "SEV1"),
    (ctx("critical", security=True), "SEV1"),
    (ctx("low", security=True), "SEV3"),
    (ctx("critical", users_affected_pct=85), "SEV1"),
    (ctx(revenue=True, error_rate=55), "SEV1"),
    (ctx("critical", error_rate=30), "SEV2"),
    (ctx(users_affected_pct=35), "SEV2"),
    (ctx(revenue=True, error_rate=12), "SEV2"),
    (ctx(dependent_services=3, error_rate=16), "SEV2"),
    (ctx("critical", p99_ms=6000), "SEV2"),
    (ctx(error_rate=6), "SEV3"),
    (ctx(users_affected_pct=6), "SEV3"),
    (ctx(p99_ms=2500), "SEV3"),
    (ctx(error_rate=1), "SEV4"),
])
def test_default_rules(context: dict[str, Any], expected: str) -> None:
    tier = context["service"]["tier"]
    verdict = classify(context, source_severity=None, rules=DEFAULT_RULES, tier=tier)
    assert verdict.severity == expected, verdict.reason


@pytest.mark.parametrize(("source", "tier", "expected"), [
    ("critical", "medium", "SEV1"), ("error", "medium", "SEV2"), ("warning", "medium", "SEV3"),
    ("info", "medium", "SEV4"), ("P1", "medium", "SEV1"), ("P5", "medium", "SEV4"),
    ("warning", "critical", "SEV2"), ("error", "low", "SEV3"), ("critical", "critical", "SEV1"),
    (None, "critical", "SEV3"), ("gibberish", "medium", "SEV4"),
])
def test_sender_severity_mapped_and_tier_adjusted(source: str | None, tier: str,
                                                  expected: str) -> None:
    verdict = classify(ctx(tier), source_severity=source, rules=DEFAULT_RULES, tier=tier)
    assert verdict.severity == expected, verdict.reason
    assert (verdict.impact, verdict.urgency) != ("", "")


def test_rule_sets_are_data_per_service(client: TestClient, admin: Account,
                                        new_service: Callable[..., int],
                                        ingest: Callable[..., Any]) -> None:
    builtin = client.get("/api/v1/classification-rules/global", headers=admin.headers).json()
    assert builtin["built_in"] and len(builtin["rules"]) == len(DEFAULT_RULES)
    sid = new_service()
    rules = [{"name": "queue depth", "severity": "SEV2",
              "when": [{"field": "labels.queue", "op": "exists"}]}]
    r = client.put(f"/api/v1/classification-rules/service:{sid}", json={"rules": rules},
                   headers=admin.headers)
    assert r.status_code == 200, r.text
    assert ingest(sid, "q", labels={"queue": "mail"}).severity == "SEV2"
    assert ingest(sid, "other").severity == "SEV4"
    bad = client.put("/api/v1/classification-rules/service:1", headers=admin.headers,
                     json={"rules": [{"name": "x", "severity": "SEV9", "when": []}]})
    assert bad.status_code == 422
