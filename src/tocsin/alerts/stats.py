"""Alert-noise statistics (DOMAIN §5): which integrations and rules page without action."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.alerts.models import Alert, Integration, RoutingRule
from tocsin.alerts.schemas import NoiseReport, NoiseRow
from tocsin.alerts.visibility import visible_alert
from tocsin.incidents.models import Incident
from tocsin.principal import Principal

# Resolving this many times in the period makes an alert "flapping" (Alert.resolve_3_at).
FLAP_RESOLVES = 3


def noise_report(session: Session, *, now: datetime, days: int,
                 viewer: Principal) -> NoiseReport:
    """Counts over the alerts `viewer` may see only: those of incidents hidden from them
    are left out, so no figure moves when one arrives."""
    since = now - timedelta(days=days)
    # Flapping: resolved FLAP_RESOLVES (3) times or more since `since`, that is, its third
    # latest resolution (kept on the alert by triage) is in the period.
    flapped = (Alert.resolve_3_at >= since).label("flapped")
    rows = session.execute(
        select(Alert.integration_id, Alert.routing_rule_id, Alert.incident_id,
               Alert.acknowledged, Incident.acknowledged_at.is_not(None), flapped)
        .outerjoin(Incident, Incident.id == Alert.incident_id)
        .where(Alert.last_seen_at >= since, visible_alert(viewer)))
    by_integration: dict[int | None, list[tuple[bool, int | None, bool]]] = defaultdict(list)
    by_rule: dict[int | None, list[tuple[bool, int | None, bool]]] = defaultdict(list)
    for integration_id, rule_id, incident_id, acked, incident_acked, flap in rows:
        item = (bool(flap), incident_id, bool(acked or incident_acked))
        by_integration[integration_id].append(item)
        if rule_id is not None:
            by_rule[rule_id].append(item)
    names = dict(session.execute(select(Integration.id, Integration.name)).all())
    rule_names = dict(session.execute(select(RoutingRule.id, RoutingRule.name)).all())
    enabled = {("i", k): bool(v) for k, v in session.execute(
        select(Integration.id, Integration.enabled))}
    enabled |= {("r", k): bool(v) for k, v in session.execute(
        select(RoutingRule.id, RoutingRule.enabled))}

    def row(key: int | None, name: str, items: list[tuple[bool, int | None, bool]],
            kind: str) -> NoiseRow:
        acked = sum(1 for _a, _i, ack in items if ack)
        return NoiseRow(
            id=key, name=name, alerts=len(items),
            incidents=len({i for _a, i, _ack in items if i is not None}),
            acknowledged_share=round(acked / len(items), 3) if items else 0.0,
            flapping_alerts=sum(1 for flap, _i, _ack in items if flap),
            no_action_30d=len(items) - acked, no_action=bool(items) and not acked,
            enabled=enabled.get((kind, key), True) if key is not None else True)

    return NoiseReport(
        since=since,
        integrations=[row(k, names.get(k, "detection (no integration)") if k else
                          "detection (no integration)", v, "i")
                      for k, v in sorted(by_integration.items(), key=lambda kv: -len(kv[1]))],
        rules=[row(k, rule_names.get(k, f"rule {k}") if k else "", v, "r")
               for k, v in sorted(by_rule.items(), key=lambda kv: -len(kv[1]))])
