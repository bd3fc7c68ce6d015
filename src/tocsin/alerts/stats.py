"""Alert-noise statistics (DOMAIN §5): which integrations and rules page without action."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, or_, select
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
    # Acknowledged: the alert, or its incident. (An outer join, not a correlated EXISTS:
    # PostgreSQL costs a subplan per alert so high that it compiles the query with JIT,
    # which took longer than the query.)
    acked = case((or_(Alert.acknowledged.is_(True), Incident.acknowledged_at.is_not(None)),
                  1), else_=0)
    flapped = case((Alert.resolve_3_at >= since, 1), else_=0)
    figures = (func.count(), func.count(distinct(Alert.incident_id)), func.sum(acked),
               func.sum(flapped))

    def grouped(column: Any, *where: ColumnElement[bool]
                ) -> dict[int | None, tuple[int, int, int, int]]:
        """(alerts, incidents, acknowledged, flapping) per value of `column`: one grouped
        statement over the period's alerts, read from ix_alerts_noise alone. (Grouped by
        COALESCE(column, 0), an expression, so that SQLite does not walk the column's own
        index to group - the whole table - instead of the period's range; ids start at 1.)"""
        key = func.coalesce(column, 0)
        return {int(k) or None: (int(n), int(incidents), int(ack or 0), int(flap or 0))
                for k, n, incidents, ack, flap in session.execute(
                    select(key, *figures)
                    .outerjoin(Incident, Incident.id == Alert.incident_id)
                    .where(Alert.last_seen_at >= since, visible_alert(viewer), *where)
                    .group_by(key))}

    by_integration = grouped(Alert.integration_id)
    by_rule = grouped(Alert.routing_rule_id, Alert.routing_rule_id.is_not(None))
    names = dict(session.execute(select(Integration.id, Integration.name)).all())
    rule_names = dict(session.execute(select(RoutingRule.id, RoutingRule.name)).all())
    enabled = {("i", k): bool(v) for k, v in session.execute(
        select(Integration.id, Integration.enabled))}
    enabled |= {("r", k): bool(v) for k, v in session.execute(
        select(RoutingRule.id, RoutingRule.enabled))}

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
