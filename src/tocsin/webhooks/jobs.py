"""The `webhooks.deliver` job: claim due event deliveries, POST them signed, record.

Body: the event as JSON (events.py, `version` 1). Headers: `X-Tocsin-Signature:
sha256=<hex>` (HMAC-SHA256 of the raw body under the subscription's secret: the scheme of
notify's webhooks), `X-Tocsin-Event` (type), `X-Tocsin-Delivery` and `Idempotency-Key`
(the event id, the same on every retry). Redirects are not followed. Sent through notify's
guarded webhook sender (notify/webhook/sender.py::post): the receiver's name is resolved once
at connect time, every answer is judged by the outbound policy, and the address judged is the
one connected to, so a name that now resolves to an internal address (DNS rebinding included)
is refused (a permanent failure, in the log).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from tocsin.engine.worker import JobContext
from tocsin.notify.webhook import sender
from tocsin.settings import Settings
from tocsin.webhooks import service
from tocsin.webhooks.service import Claimed, Result

BATCH = 32


def body_of(d: Claimed, settings: Settings) -> bytes:
    payload = dict(d.payload)
    incident = payload.get("incident")
    if isinstance(incident, dict) and "id" in incident:
        payload["incident"] = {**incident,
                               "url": f"{settings.public_url}/incidents/{incident['id']}"}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()


def send_one(d: Claimed, settings: Settings) -> Result:
    """One try, through notify's guarded sender: the receiver's name is resolved once, each
    answer judged by the outbound policy, and that address connected to."""
    body = body_of(d, settings)
    headers = {"Content-Type": "application/json", "User-Agent": "Tocsin",
               sender.HEADER: sender.sign(body, [d.secret]), "X-Tocsin-Event": d.event_type,
               "X-Tocsin-Delivery": d.event_id, "Idempotency-Key": d.event_id}
    answer = sender.post_blocking(d.url, body, headers, settings)
    if answer.status is None:
        return Result(d, None, (answer.error or "no answer")[:2000], permanent=answer.refused)
    error = None if answer.status < 300 else f"answered {answer.status}"
    return Result(d, answer.status, error)


def deliver(ctx: JobContext) -> int:
    rt = ctx.runtime
    with rt.sessions() as session, session.begin():
        claimed = service.claim(session, now=rt.clock.now(), worker_id=ctx.worker_id,
                                limit=BATCH)
    if not claimed:
        return 0
    # One subscription's events go one after the other, in the order they happened;
    # different subscriptions in parallel, so one slow receiver holds up only its own.
    queues: dict[int, list[Claimed]] = {}
    for d in claimed:
        queues.setdefault(d.subscription_id, []).append(d)

    def send_queue(queue: list[Claimed]) -> list[Result]:
        return [send_one(d, rt.settings) for d in queue]

    with ThreadPoolExecutor(max_workers=min(8, len(queues))) as pool:
        results = [r for rs in pool.map(send_queue, queues.values()) for r in rs]
    with rt.sessions() as session, session.begin():
        service.record(session, results, worker_id=ctx.worker_id, now=rt.clock.now(),
                       settings=rt.settings)
    return len(results)
