"""Incident and paging figures for Prometheus, read from the database when /metrics is
scraped (so every process answers the same, whichever process acknowledged or paged).

- `tocsin_incident_ack_seconds{severity}`: histogram of creation → first acknowledgement
  (MTTA's definition, docs/metrics.md) over every counted incident acknowledged so far;
- `tocsin_pages{channel,outcome}`: page messages by channel and outcome (sent, failed,
  deduped, cancelled, pending, sending) among those the outbox keeps
  (TOCSIN_NOTIFY_RETENTION_DAYS), so a gauge, not a counter;
- `tocsin_incidents_by_status{severity,status}`: counted incidents by severity and status.
A scrape within CACHE_SECONDS of the last one is answered from that one's figures.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.analytics.queries import counted_incident
from tocsin.incidents.models import Incident
from tocsin.notify.models import ContactMethod, Message

ACK_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
CACHE_SECONDS = 10.0


class IncidentCollector(Collector):
    def __init__(self, sessions: Callable[[], AbstractContextManager[Session]]) -> None:
        self._sessions = sessions
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        return []  # figures come from the database at scrape time, not at registration

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > CACHE_SECONDS:
                with self._sessions() as session:
                    self._cached = (time.monotonic(), figures(session))
            yield from self._cached[1]


def figures(session: Session) -> list[Metric]:
    ack = HistogramMetricFamily("tocsin_incident_ack_seconds",
                                "Seconds from an incident's creation to its first "
                                "acknowledgement, by severity (drills left out).",
                                labels=["severity"])
    waits: dict[str, list[float]] = {}
    for severity, created, acked in session.execute(
            select(Incident.severity, Incident.created_at, Incident.acknowledged_at)
            .where(Incident.acknowledged_at.is_not(None), counted_incident())):
        if acked is not None:
            waits.setdefault(severity, []).append((acked - created).total_seconds())
    for severity in sorted(waits):
        values = sorted(waits[severity])
        buckets: list[tuple[str, Any]] = [
            (str(b), bisect.bisect_right(values, b)) for b in ACK_BUCKETS]
        buckets.append(("+Inf", len(values)))
        ack.add_metric([severity], buckets, sum(values))
    pages = GaugeMetricFamily("tocsin_pages", "Page messages the outbox keeps, by channel "
                              "and outcome.", labels=["channel", "outcome"])
    for channel, status, n in session.execute(
            select(ContactMethod.kind, Message.status, func.count())
            .join(ContactMethod, ContactMethod.id == Message.contact_method_id)
            .where(Message.kind == "page").group_by(ContactMethod.kind, Message.status)
            .order_by(ContactMethod.kind, Message.status)):
        pages.add_metric([channel, status], n)
    by_status = GaugeMetricFamily("tocsin_incidents_by_status", "Incidents by severity and "
                                  "status (drills left out).", labels=["severity", "status"])
    for severity, status, n in session.execute(
            select(Incident.severity, Incident.status, func.count()).where(counted_incident())
            .group_by(Incident.severity, Incident.status)
            .order_by(Incident.severity, Incident.status)):
        by_status.add_metric([severity, status], n)
    return [ack, pages, by_status]
