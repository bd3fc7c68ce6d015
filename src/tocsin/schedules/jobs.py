"""Timer handlers of schedules (listed in tocsin/jobs.py)."""

from __future__ import annotations

from tocsin.engine.timers import TimerContext
from tocsin.schedules import handoff


def handoff_due(ctx: TimerContext) -> None:
    handoff.on_handoff(ctx.session, payload=dict(ctx.timer.payload), now=ctx.now)
