"""Prometheus Alertmanager webhook (payload version 4) and Grafana alerting webhook.

Grafana's unified-alerting webhook is Alertmanager's payload plus a few fields (`title`,
`state`, `message`, `orgId`, per-alert `values`), so one parser serves both; Grafana's
legacy format (ruleId/state/evalMatches) is one event per rule. Each alert in the batch
becomes one event, keyed by its `fingerprint` (a hash of its labels when absent):
`status: firing` triggers, `resolved` resolves.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from tocsin.alerts.normalized import EventAction, NormalizedEvent
from tocsin.intake.errors import BadInput
from tocsin.intake.formats.fields import Stored, parse_time, signals_from, string_map
from tocsin.limits import fit

# The integration kinds, and the inbox rows' formats.
ALERTMANAGER, GRAFANA = "alertmanager", "grafana"
FORMATS = (ALERTMANAGER, GRAFANA)
MAX_ALERTS = 10_000
DEDUP_KEY_MAX = 255  # alerts.dedup_key: String(255)


def fingerprint_of(labels: Mapping[str, str]) -> str:
    text = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _one(item: Any, index: int, *, now: datetime, sender: str,
         errors: list[str]) -> NormalizedEvent | None:
    where = f"alerts[{index}]"
    if not isinstance(item, Mapping):
        errors.append(f"{where}: must be an object")
        return None
    raw_labels = item.get("labels", {})
    if not isinstance(raw_labels, Mapping):
        errors.append(f"{where}.labels: must be an object of strings")
        return None
    labels = string_map(raw_labels)
    annotations = string_map(item.get("annotations"))
    status = item.get("status")
    if status not in ("firing", "resolved"):
        errors.append(f"{where}.status: must be 'firing' or 'resolved'")
        return None
    fingerprint = item.get("fingerprint")
    if fingerprint is not None and (not isinstance(fingerprint, str) or len(fingerprint) > 255):
        errors.append(f"{where}.fingerprint: must be a string of at most 255 characters")
        return None
    if not labels and not fingerprint:
        errors.append(f"{where}: needs labels or a fingerprint to identify the alert")
        return None
    summary = (annotations.get("summary") or annotations.get("description")
               or labels.get("alertname") or "alert")
    details: dict[str, Any] = dict(annotations)
    for key in ("generatorURL", "silenceURL", "dashboardURL", "panelURL", "valueString"):
        if isinstance(item.get(key), str) and item[key]:
            details[key] = item[key]
    links = [{"href": details["generatorURL"], "text": "source"}] \
        if "generatorURL" in details else []
    action = EventAction.TRIGGER if status == "firing" else EventAction.RESOLVE
    field = "startsAt" if action is EventAction.TRIGGER else "endsAt"
    occurred = parse_time(item.get(field), now, errors, f"{where}.{field}")
    return NormalizedEvent(
        action=action, dedup_key=fingerprint or fingerprint_of(labels), summary=summary[:1024],
        source=labels.get("instance") or labels.get("job") or sender, occurred_at=occurred,
        severity=labels.get("severity"), labels=labels, details=details, links=links,
        signals=signals_from(annotations))


def parse_webhook(body: Any, *, now: datetime, sender: str) -> list[NormalizedEvent]:
    """Validate an Alertmanager/Grafana webhook body; raises BadInput with every problem."""
    if not isinstance(body, Mapping):
        raise BadInput(["body must be a JSON object with an 'alerts' list"])
    alerts = body.get("alerts")
    if not isinstance(alerts, list):
        raise BadInput(["'alerts' must be a list"])
    if len(alerts) > MAX_ALERTS:
        raise BadInput([f"'alerts' has more than {MAX_ALERTS} items"])
    errors: list[str] = []
    events = [_one(item, i, now=now, sender=sender, errors=errors)
              for i, item in enumerate(alerts)]
    if errors:
        raise BadInput(errors[:20])
    return [e for e in events if e is not None]


def parse_grafana(body: Any, *, now: datetime) -> list[NormalizedEvent]:
    """Unified alerting (an `alerts` list) or the legacy format (ruleId/state/evalMatches)."""
    if isinstance(body, Mapping) and "alerts" not in body and "state" in body:
        state = body.get("state")
        if state not in ("alerting", "ok", "no_data", "pending", "paused"):
            raise BadInput(["'state' must be alerting, ok, no_data, pending or paused"])
        rule = body.get("ruleId", body.get("ruleName"))
        if not isinstance(rule, int | str) or isinstance(rule, bool):
            raise BadInput(["legacy payload needs 'ruleId' or 'ruleName'"])
        title = body.get("title") or body.get("ruleName") or "Grafana alert"
        action = EventAction.RESOLVE if state == "ok" else EventAction.TRIGGER
        tags = string_map(body.get("tags"))
        return [NormalizedEvent(action=action, dedup_key=fit(f"rule-{rule}", DEDUP_KEY_MAX),
                                summary=str(title)[:1024],
                                source="grafana", occurred_at=now, labels=tags,
                                severity=tags.get("severity"),
                                details={"message": str(body.get("message", ""))[:2000]})]
    return parse_webhook(body, now=now, sender="grafana")


def parse(body: Any, kind: str, *, now: datetime) -> list[NormalizedEvent]:
    """The events of a webhook body from an integration of `kind` (ALERTMANAGER, GRAFANA)."""
    return parse_grafana(body, now=now) if kind == GRAFANA \
        else parse_webhook(body, now=now, sender="alertmanager")


def events_from(row: Stored, kind: str) -> tuple[list[NormalizedEvent], str]:
    """The batch's events again, and the raw text each keeps: a batch shares one body, so
    each alert event keeps only its head, not 100 copies."""
    events = parse(json.loads(row.body), kind, now=row.received_at)
    raw = row.body if len(events) == 1 else row.body[:2000]
    return [replace(e, integration_id=row.integration_id) for e in events], raw
