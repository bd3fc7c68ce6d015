"""The `webhooks.deliver` job: claim due event deliveries, POST them signed, record.

Body: the event as JSON (events.py, `version` 1). Headers: `X-Tocsin-Signature:
sha256=<hex>` (HMAC-SHA256 of the raw body under the subscription's secret: the scheme of
notify's webhooks), `X-Tocsin-Event` (type), `X-Tocsin-Delivery` and `Idempotency-Key`
(the event id, the same on every retry). Redirects are not followed. The receiver's host is
judged by the outbound policy just before each try, so a name that now resolves to an
internal address is refused (a permanent failure, in the log).
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx

from tocsin.engine.worker import JobContext
from tocsin.notify.webhook import sender as signing
from tocsin.outbound import refused_message, url_refusal
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


def send_one(d: Claimed, settings: Settings, client: httpx.Client) -> Result:
    reason = url_refusal(d.url, settings.outbound_policy)
    if reason is not None:
        return Result(d, None, refused_message(reason), permanent=True)
    body = body_of(d, settings)
    headers = {"Content-Type": "application/json", "User-Agent": "Tocsin",
               signing.HEADER: signing.sign(body, [d.secret]), "X-Tocsin-Event": d.event_type,
               "X-Tocsin-Delivery": d.event_id, "Idempotency-Key": d.event_id}
    try:
        r = client.post(d.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return Result(d, None, f"{type(exc).__name__}: {exc}"[:2000])
    error = None if r.status_code < 300 else f"answered {r.status_code}"
    return Result(d, r.status_code, error)


def deliver(ctx: JobContext) -> int:
    rt = ctx.runtime
    with rt.sessions() as session, session.begin():
        claimed = service.claim(session, now=rt.clock.now(), worker_id=ctx.worker_id,
                                limit=BATCH)
    if not claimed:
        return 0
    timeout = rt.settings.webhook_timeout_seconds
    # One subscription's events go one after the other, in the order they happened;
    # different subscriptions in parallel, so one slow receiver holds up only its own.
    queues: dict[int, list[Claimed]] = {}
    for d in claimed:
        queues.setdefault(d.subscription_id, []).append(d)

    def send_queue(queue: list[Claimed]) -> list[Result]:
        return [send_one(d, rt.settings, client) for d in queue]

    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=True) as client, \
            ThreadPoolExecutor(max_workers=min(8, len(queues))) as pool:
        results = [r for rs in pool.map(send_queue, queues.values()) for r in rs]
    with rt.sessions() as session, session.begin():
        service.record(session, results, worker_id=ctx.worker_id, now=rt.clock.now(),
                       settings=rt.settings)
    return len(results)
