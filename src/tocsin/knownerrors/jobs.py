"""The engine's job for suggestions (`knownerrors.suggest` and `.reindex` timers).

A search over past incidents takes milliseconds, and the engine's general `timers` job runs
its handlers inside one write transaction: on SQLite, 200 new incidents a second kept the
write lock taken by searches and paging's claims waited behind them (event to page p50 went
from about 20 to about 250 ms). So these timers are left out of the general job
(`BACKGROUND_TIMERS`) and run here: the search on a read-only snapshot, then one short
write that claims each timer (a conditional update: another worker's claim wins) and
records what was found, taking the write lock as bulk work, so urgent writers go first.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from tocsin.db.write_lock import write_lock
from tocsin.engine.models import Timer, TimerStatus
from tocsin.engine.worker import JobContext
from tocsin.knownerrors import service
from tocsin.knownerrors.service import TIMER_REINDEX, TIMER_SUGGEST

log = logging.getLogger(__name__)

# Timer kinds the general `timers` job leaves to `suggest_due`.
BACKGROUND_TIMERS = frozenset({TIMER_SUGGEST, TIMER_REINDEX})

# Timers handled per run: one short write for all of them.
BATCH = 20


def suggest_due(ctx: JobContext) -> int:
    rt = ctx.runtime
    now = rt.clock.now()
    with rt.read_sessions() as session:
        due = session.execute(
            select(Timer.id, Timer.kind, Timer.payload)
            .where(Timer.status == TimerStatus.PENDING.value,
                   Timer.kind.in_(BACKGROUND_TIMERS), Timer.due_at <= now)
            .order_by(Timer.due_at).limit(BATCH)).all()
        worked = {t.id: service.work_out(session, incident_id=int(t.payload["incident_id"]))
                  for t in due if t.kind == TIMER_SUGGEST}
    if not due:
        return 0
    with write_lock(rt.engine, urgent=False), rt.sessions() as session, session.begin():
        for t in due:
            claimed = session.execute(
                update(Timer).where(Timer.id == t.id,
                                    Timer.status == TimerStatus.PENDING.value)
                .values(status=TimerStatus.DONE.value, key=None, fired_at=now,
                        fired_by=ctx.worker_id)).rowcount  # type: ignore[attr-defined]
            if not claimed:
                continue  # another worker's
            try:
                with session.begin_nested():
                    if t.kind == TIMER_REINDEX:
                        service.reindex(session, incident_id=int(t.payload["incident_id"]))
                    elif (found := worked.get(t.id)) is not None:
                        service.record(session, worked=found, now=now)
            except Exception:  # suggestions are advice: one failing never stops the rest
                log.exception("timer %s (%s) failed; its incident gets no suggestions",
                              t.id, t.kind)
    return len(due)
