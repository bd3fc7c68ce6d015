"""Severity classification (DOMAIN §3) as a pure function of alert context and rules.

Rules are data: `{"name", "when": [conditions], "severity", "tier_adjust"?}`, first match
wins. Conditions read `signals.*` (error_rate and users_affected_pct 0..100, p99_ms,
dependent_services, data_loss, security) and `service.tier` / `service.revenue`. When no
signal rule matches, the sender's own severity is mapped (PagerDuty critical/error/warning/
info, Opsgenie P1-P5, Alertmanager's `severity` label) and the service tier raises
(critical) or lowers (low) it one level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tocsin.alerts.match import RuleError, all_match, check_condition

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")


def _c(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


CRITICAL = _c("service.tier", "equals", "critical")
REVENUE = _c("service.revenue", "equals", True)

DEFAULT_RULES: list[dict[str, Any]] = [
    {"name": "data loss", "when": [_c("signals.data_loss", "equals", True)], "severity": "SEV1"},
    {"name": "security event on a critical service",
     "when": [_c("signals.security", "equals", True), CRITICAL], "severity": "SEV1"},
    {"name": ">=80% users on a critical service",
     "when": [_c("signals.users_affected_pct", "gte", 80), CRITICAL], "severity": "SEV1"},
    {"name": "error rate >=50% on a revenue service",
     "when": [_c("signals.error_rate", "gte", 50), REVENUE], "severity": "SEV1"},
    {"name": "error rate >=25% on a critical service",
     "when": [_c("signals.error_rate", "gte", 25), CRITICAL], "severity": "SEV2"},
    {"name": ">=30% users affected", "when": [_c("signals.users_affected_pct", "gte", 30)],
     "severity": "SEV2"},
    {"name": "error rate >=10% on a revenue service",
     "when": [_c("signals.error_rate", "gte", 10), REVENUE], "severity": "SEV2"},
    {"name": ">=3 dependents and error rate >=15%",
     "when": [_c("signals.dependent_services", "gte", 3), _c("signals.error_rate", "gte", 15)],
     "severity": "SEV2"},
    {"name": "p99 >=5 s on a critical service",
     "when": [_c("signals.p99_ms", "gte", 5000), CRITICAL], "severity": "SEV2"},
    {"name": "error rate >=5%", "when": [_c("signals.error_rate", "gte", 5)], "severity": "SEV3"},
    {"name": ">=5% users affected", "when": [_c("signals.users_affected_pct", "gte", 5)],
     "severity": "SEV3"},
    {"name": "p99 >=2 s", "when": [_c("signals.p99_ms", "gte", 2000)], "severity": "SEV3"},
    {"name": "any security event", "when": [_c("signals.security", "equals", True)],
     "severity": "SEV3"},
]

SOURCE_SEVERITY = {
    # PagerDuty Events v2
    "critical": "SEV1", "error": "SEV2", "warning": "SEV3", "info": "SEV4",
    # Opsgenie priorities
    "p1": "SEV1", "p2": "SEV2", "p3": "SEV3", "p4": "SEV4", "p5": "SEV4",
    # Common Alertmanager / Grafana `severity` label values
    "page": "SEV2", "major": "SEV2", "high": "SEV2", "minor": "SEV3", "medium": "SEV3",
    "low": "SEV4", "none": "SEV4", "debug": "SEV4",
    # Already a Tocsin severity
    "sev1": "SEV1", "sev2": "SEV2", "sev3": "SEV3", "sev4": "SEV4",
}
TIER_ADJUST = {"critical": -1, "high": 0, "medium": 0, "low": 1}
# Impact x urgency kept alongside the severity for the incident record.
IMPACT_URGENCY = {"SEV1": ("high", "high"), "SEV2": ("high", "medium"),
                  "SEV3": ("medium", "medium"), "SEV4": ("low", "low")}


@dataclass(frozen=True)
class Classification:
    severity: str
    impact: str
    urgency: str
    reason: str


def check_rules(rules: Sequence[Mapping[str, Any]]) -> None:
    """Raise RuleError unless every rule is well formed."""
    for i, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            raise RuleError(f"rules[{i}] must be an object")
        if rule.get("severity") not in SEVERITIES:
            raise RuleError(f"rules[{i}].severity must be one of {', '.join(SEVERITIES)}")
        when = rule.get("when", [])
        if not isinstance(when, list) or not when:
            raise RuleError(f"rules[{i}].when must be a non-empty list of conditions")
        for cond in when:
            check_condition(cond)


def _shift(severity: str, steps: int) -> str:
    index = min(max(SEVERITIES.index(severity) + steps, 0), len(SEVERITIES) - 1)
    return SEVERITIES[index]


def map_source_severity(source_severity: str | None) -> str | None:
    if not source_severity:
        return None
    return SOURCE_SEVERITY.get(source_severity.strip().lower())


def classify(context: Mapping[str, Any], *, source_severity: str | None,
             rules: Sequence[Mapping[str, Any]], tier: str | None) -> Classification:
    """Signal rules first (they describe user impact); then the sender's severity adjusted
    by the service tier; otherwise SEV4 adjusted by tier."""
    for rule in rules:
        if all_match(rule.get("when", []), context):
            sev = str(rule["severity"])
            return Classification(sev, *IMPACT_URGENCY[sev], reason=f"rule: {rule.get('name')}")
    adjust = TIER_ADJUST.get(tier or "medium", 0)
    mapped = map_source_severity(source_severity)
    if mapped is not None:
        sev = _shift(mapped, adjust)
        why = f"sender severity '{source_severity}' → {mapped}"
    else:
        sev = _shift("SEV4", adjust)
        why = "no rule matched: SEV4"
    if sev != (mapped or "SEV4"):
        why += f", {'raised' if adjust < 0 else 'lowered'} for a {tier} service"
    return Classification(sev, *IMPACT_URGENCY[sev], reason=why)
