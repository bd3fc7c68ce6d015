"""Alert-noise statistics (DOMAIN §5): which integrations and rules page without action."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, distinct, func, literal, or_, select
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
    # Acknowledged: the alert, or its incident. An incident is acknowledged unless its id is
    # among those never acknowledged, read once from their partial index
    # (ix_incidents_unacknowledged) and probed in memory per alert: looking each alert's
    # incident up in the incidents table cost most of the report. (An incident id always
    # names an incident: the foreign key sets it to null when the incident goes.)
    acked = or_(Alert.acknowledged.is_(True),
                and_(Alert.incident_id.is_not(None), Alert.incident_id.not_in(
                    select(Incident.id).where(Incident.acknowledged_at.is_(None)))))
    # Counts with FILTER, not sums of CASE: fewer steps per alert; and the distinct
    # incidents see only alerts that have one (SQLite's DISTINCT would take in every null).
    figures = (func.count(),
               func.count(distinct(Alert.incident_id)).filter(Alert.incident_id.is_not(None)),
               func.count().filter(acked), func.count().filter(Alert.resolve_3_at >= since))
    period = (Alert.last_seen_at >= since, visible_alert(viewer))

    def figures_of(k: Any, n: Any, incidents: Any, ack: Any, flap: Any
               ) -> tuple[int | None, tuple[int, int, int, int]]:
        return (int(k) or None), (int(n), int(incidents), int(ack), int(flap))

    # Per integration: each integration's range of the period in ix_alerts_noise_by_integration
    # (integration, last seen, ...), read in integration order, so grouping needs no sort;
    # then the alerts of no integration (detection sources), the same index's null range.
    by_integration = dict(figures_of(*r) for r in session.execute(
        select(Alert.integration_id, *figures)
        .where(Alert.integration_id.in_(select(Integration.id)), *period)
        .group_by(Alert.integration_id)))
    detection = session.execute(select(literal(0), *figures).where(
        Alert.integration_id.is_(None), *period)).one()
    if detection[1]:
        by_integration.update([figures_of(*detection)])
    # Per rule: the period's alerts with a rule from ix_alerts_noise (last seen, ...); rules
    # have no foreign key (a deleted rule's alerts keep its id). Grouped by COALESCE(rule, 0),
    # an expression, so that SQLite does not walk the column's own index to group - the
    # whole table - instead of the period's range; ids start at 1.
    rule_key = func.coalesce(Alert.routing_rule_id, 0)
    by_rule = dict(figures_of(*r) for r in session.execute(
        select(rule_key, *figures)
        .where(Alert.routing_rule_id.is_not(None), *period).group_by(rule_key)))
    integrations = session.execute(
        select(Integration.id, Integration.name, Integration.enabled)).all()
    rules = session.execute(select(RoutingRule.id, RoutingRule.name, RoutingRule.enabled)).all()
    names = {k: name for k, name, _ in integrations}
    rule_names = {k: name for k, name, _ in rules}
    enabled = {("i", k): bool(on) for k, _, on in integrations}
    enabled |= {("r", k): bool(on) for k, _, on in rules}

    def row(key: int | None, name: str, counts: tuple[int, int, int, int],
            kind: str) -> NoiseRow:
        n, incidents, ack, flapping = counts
        return NoiseRow(
            id=key, name=name, alerts=n, incidents=incidents,
            acknowledged_share=round(ack / n, 3) if n else 0.0,
            flapping_alerts=flapping, no_action_30d=n - ack, no_action=bool(n) and not ack,
            enabled=enabled.get((kind, key), True) if key is not None else True)

    def busiest(groups: dict[int | None, tuple[int, int, int, int]]
                ) -> list[tuple[int | None, tuple[int, int, int, int]]]:
        return sorted(groups.items(), key=lambda kv: (-kv[1][0], kv[0] or 0))

    return NoiseReport(
        since=since,
        integrations=[row(k, names.get(k, "detection (no integration)") if k else
                          "detection (no integration)", v, "i")
                      for k, v in busiest(by_integration)],
        rules=[row(k, rule_names.get(k, f"rule {k}") if k else "", v, "r")
               for k, v in busiest(by_rule)])
