"""What counts against a contact method's per-minute rate limit: messages sent to it in
the last minute and messages being sent to it under a live lease — nothing older, nothing
of other methods — counted up to the limit."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from tests.notify.seed import seed_paging
from tocsin.notify.models import Message, MessageStatus
from tocsin.notify.pipeline import _used
from tocsin.runtime import Runtime


def test_the_rate_window_counts_recent_and_in_flight_sends(runtime: Runtime) -> None:
    seed = seed_paging(runtime, webhook_url="http://127.0.0.1:9/page", levels=2)
    mine, other = seed["methods"][:2]
    user_id = seed["users"][0]
    now = runtime.clock.now()
    rows: list[dict[str, Any]] = []

    def message(method: int, status: MessageStatus, *, sent_ago: float | None = None,
                lease_left: float | None = None) -> None:
        rows.append({
            "idempotency_key": f"k{len(rows)}", "kind": "page", "status": status.value,
            "user_id": user_id, "contact_method_id": method, "due_at": now, "attempts": 1,
            "payload": {}, "created_at": now,
            "sent_at": None if sent_ago is None else now - timedelta(seconds=sent_ago),
            "lease_until": None if lease_left is None else now + timedelta(seconds=lease_left)})

    for ago in (1, 30, 59):
        message(mine, MessageStatus.SENT, sent_ago=ago)  # counted
    message(mine, MessageStatus.SENT, sent_ago=61)  # before the window
    message(mine, MessageStatus.SENDING, lease_left=20)  # being sent: counted
    message(mine, MessageStatus.SENDING, lease_left=-1)  # lease ran out: claimable again
    message(mine, MessageStatus.PENDING)
    message(other, MessageStatus.SENT, sent_ago=1)
    message(other, MessageStatus.SENDING, lease_left=20)
    with runtime.sessions() as s, s.begin():
        s.execute(insert(Message), rows)
    with runtime.sessions() as s:
        assert _used(s, mine, now, cap=100) == 4
        assert _used(s, other, now, cap=100) == 2
        # Counting stops at the limit: beyond it the answer makes no difference.
        assert _used(s, mine, now, cap=2) == 3  # 2 sent (capped) + 1 in flight
