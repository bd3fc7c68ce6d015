"""The chat outbox's job: send due calls (its own lane, so a slow chat platform holds up
neither triage nor timers), and forget old ones."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import delete

from tocsin.chatops import delivery
from tocsin.chatops.models import CallStatus, ChatArrival, ChatCall, InboundSeen, StormMessage
from tocsin.chatops.ports import NO_STATUS_PAGE, StatusPagePort
from tocsin.engine.worker import JobContext
from tocsin.runtime import Runtime

RETENTION = timedelta(days=7)
_signals: dict[int, threading.Event] = {}


def chat_wake(rt: Runtime) -> threading.Event:
    """The lane's signal (set by nothing but stopping: the lane polls; requests that queue
    calls send them themselves right after answering)."""
    return _signals.setdefault(id(rt), threading.Event())


@dataclass
class Deliver:
    """`chatops.deliver`; `status_pages` is handed in by the composition root."""

    status_pages: StatusPagePort = field(default=NO_STATUS_PAGE)
    # The lane's time for working out suggestions, kept across runs, per runtime.
    _suggest: dict[int, delivery.SuggestBudget] = field(default_factory=dict, init=False,
                                                        repr=False)

    def __call__(self, ctx: JobContext) -> int:
        rt = ctx.runtime
        suggest = self._suggest.setdefault(id(rt), delivery.SuggestBudget(rt.settings))
        return delivery.send_due(rt, status_pages=self.status_pages, suggest=suggest)


def retention(ctx: JobContext) -> int:
    rt = ctx.runtime
    cutoff = rt.clock.now() - RETENTION
    with rt.sessions() as session, session.begin():
        calls = session.execute(delete(ChatCall).where(
            ChatCall.status.in_([CallStatus.DONE.value, CallStatus.FAILED.value]),
            ChatCall.due_at < cutoff))
        seen = session.execute(delete(InboundSeen).where(InboundSeen.at < cutoff))
        arrivals = session.execute(delete(ChatArrival).where(ChatArrival.at < cutoff))
        storms = session.execute(delete(StormMessage).where(StormMessage.last_at < cutoff))
    counts: list[int] = [r.rowcount or 0 for r in (calls, seen, arrivals,  # type: ignore[attr-defined]
                                                  storms)]
    return sum(counts)
