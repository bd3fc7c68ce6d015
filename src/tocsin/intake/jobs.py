"""Worker jobs of intake: triage the inbox; count its backlog; forget old processed rows."""

from __future__ import annotations

from datetime import timedelta
from weakref import WeakKeyDictionary

from prometheus_client import Gauge
from sqlalchemy import and_, delete, func, or_, select

from tocsin.engine.worker import JobContext
from tocsin.intake.models import InboxRow, InboxStatus
from tocsin.intake.processor import process_pending
from tocsin.metrics import Metrics
from tocsin.runtime import Runtime

FAILED_RETENTION = timedelta(days=7)
_GAUGES: WeakKeyDictionary[Metrics, Gauge] = WeakKeyDictionary()


def inbox_gauge(metrics: Metrics) -> Gauge:
    """`tocsin_intake_inbox_rows{status}` in this runtime's registry (made on first use)."""
    gauge = _GAUGES.get(metrics)
    if gauge is None:
        gauge = Gauge("tocsin_intake_inbox_rows",
                      "Intake inbox rows by status: pending is the triage backlog, failed "
                      "rows gave up after intake_max_attempts.", ["status"],
                      registry=metrics.registry)
        _GAUGES[metrics] = gauge
    return gauge


def inbox_counts(runtime: Runtime) -> dict[str, int]:
    """Pending (backlog) and failed rows."""
    wanted = [InboxStatus.PENDING.value, InboxStatus.FAILED.value]
    with runtime.read_sessions() as session:
        rows = session.execute(select(InboxRow.status, func.count())
                               .where(InboxRow.status.in_(wanted))
                               .group_by(InboxRow.status)).all()
    found = {status: int(n) for status, n in rows}
    return {status: found.get(status, 0) for status in wanted}


def process(ctx: JobContext) -> int:
    return process_pending(ctx.runtime)


def housekeeping(ctx: JobContext) -> int:
    rt = ctx.runtime
    gauge = inbox_gauge(rt.metrics)
    for status, n in inbox_counts(rt).items():
        gauge.labels(status).set(n)
    now = rt.clock.now()
    done_before = now - timedelta(minutes=rt.settings.intake_done_retention_minutes)
    expired = or_(
        and_(InboxRow.status == InboxStatus.DONE.value, InboxRow.processed_at < done_before),
        and_(InboxRow.status == InboxStatus.FAILED.value,
             InboxRow.received_at < now - FAILED_RETENTION))
    # Peek first with a read-only snapshot: an idle job never takes SQLite's write lock.
    with rt.read_sessions() as session:
        if session.scalar(select(InboxRow.id).where(expired).limit(1)) is None:
            return 0
    with rt.sessions() as session, session.begin():
        gone = session.execute(delete(InboxRow).where(expired))
    return int(gone.rowcount or 0)  # type: ignore[attr-defined]
