"""Timer handlers of escalation (listed in tocsin/jobs.py)."""

from __future__ import annotations

from tocsin.engine.timers import TimerContext
from tocsin.escalation import service


def step(ctx: TimerContext) -> None:
    service.on_step(ctx.session, payload=dict(ctx.timer.payload), now=ctx.now)
