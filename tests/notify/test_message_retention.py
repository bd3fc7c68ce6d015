"""The retention job deletes finished messages last due more than notify_retention_days
ago, and keeps recent ones and everything still pending or being sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from tests.notify.seed import seed_paging
from tocsin.clock import FrozenClock
from tocsin.engine.worker import JobContext
from tocsin.notify import jobs
from tocsin.notify.models import Message
from tocsin.runtime import Runtime


def test_old_finished_messages_go_recent_and_unfinished_stay(runtime: Runtime,
                                                             clock: FrozenClock) -> None:
    seed = seed_paging(runtime, webhook_url="http://127.0.0.1:9/hook")
    runtime.settings.notify_retention_days = 30
    now = clock.now()
    rows = [("old-sent", "sent", 31), ("old-failed", "failed", 40), ("old-deduped", "deduped", 31),
            ("old-pending", "pending", 31), ("old-sending", "sending", 31),
            ("new-sent", "sent", 29), ("new-cancelled", "cancelled", 1)]
    with runtime.sessions() as s, s.begin():
        s.execute(insert(Message), [dict(
            idempotency_key=key, kind="page", status=status, user_id=seed["users"][0],
            contact_method_id=seed["methods"][0], due_at=now - timedelta(days=age),
            attempts=1, payload={}, created_at=now - timedelta(days=age))
            for key, status, age in rows])
    ctx = JobContext(runtime=runtime, worker_id="test", handlers={})
    assert jobs.retention(ctx) == 3
    with runtime.sessions() as s:
        left = set(s.scalars(select(Message.idempotency_key)))
    assert left == {"old-pending", "old-sending", "new-sent", "new-cancelled"}
    assert jobs.retention(ctx) == 0
