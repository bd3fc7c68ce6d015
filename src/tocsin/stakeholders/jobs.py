"""Timer handlers of stakeholder updates (listed in tocsin/jobs.py::TIMER_HANDLERS)."""

from __future__ import annotations

from tocsin.engine.timers import TimerContext
from tocsin.stakeholders import service


def remind(ctx: TimerContext) -> None:
    service.on_remind(ctx.session, incident_id=int(ctx.timer.payload["incident_id"]),
                      promise=str(ctx.timer.payload["promise"]), now=ctx.now)


def missed(ctx: TimerContext) -> None:
    service.on_missed(ctx.session, incident_id=int(ctx.timer.payload["incident_id"]),
                      promise=str(ctx.timer.payload["promise"]), now=ctx.now)
