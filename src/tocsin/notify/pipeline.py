"""Delivery: claim due messages (rate limit per contact method applied while claiming), then
for each one: drop if stale → dedup → send → record.

Claiming is a conditional update (`status` and `attempts` unchanged) committed before
sending, plus `FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent workers take disjoint
rows. The claim is a lease: if the worker dies after sending but before recording, the
lease runs out and another worker sends again — at most one duplicate, never a loss.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.notify.channels import (
    SENDERS,
    ChannelKind,
    PermanentError,
    Sender,
    TemporaryError,
)
from tocsin.notify.models import ContactMethod, Message, MessageStatus
from tocsin.notify.render import render
from tocsin.notify.service import plan, wake_after_commit
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.notify")
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    kind: str
    user_id: int
    method_id: int
    incident_id: int | None
    payload: dict[str, Any]
    attempts: int
    channel: ChannelKind
    address: str


def claim(rt: Runtime, *, worker_id: str, now: datetime, limit: int) -> list[Claimed]:
    """Claim due messages, applying the per-contact-method rate limit on the way: a method
    that already had its share this minute (sent, or being sent) gets the rest postponed."""
    lease = timedelta(seconds=rt.settings.notify_lease_seconds)
    per_minute = rt.settings.notify_rate_limit_per_minute
    out: list[Claimed] = []
    with rt.sessions() as session, session.begin():
        postgres = session.get_bind().dialect.name == "postgresql"
        query = (select(Message.id, Message.status, Message.attempts,
                        Message.contact_method_id)
                 .where(or_(and_(Message.status == MessageStatus.PENDING.value,
                                 Message.due_at <= now),
                            and_(Message.status == MessageStatus.SENDING.value,
                                 Message.lease_until <= now)))
                 .order_by(Message.due_at).limit(limit))
        if postgres:
            query = query.with_for_update(skip_locked=True)
        by_method: dict[int, list[tuple[int, str, int]]] = {}
        for mid, status, attempts, method_id in session.execute(query).all():
            by_method.setdefault(method_id, []).append((mid, status, attempts))
        for method_id, rows in by_method.items():
            if postgres:
                # Serialises workers counting the same method's share.
                session.execute(select(ContactMethod.id).where(ContactMethod.id == method_id)
                                .with_for_update())
            room = per_minute - _used(session, method_id, now)
            for n, (mid, status, attempts) in enumerate(rows):
                if n >= room:
                    # Rate limited: postponed, never dropped; the attempt does not count.
                    session.execute(update(Message).where(
                        Message.id == mid, Message.status == status,
                        Message.attempts == attempts).values(
                        status=MessageStatus.PENDING.value, due_at=now + RATE_WINDOW / 6,
                        last_error="rate limited"))
                    continue
                claimed = _claim_one(session, mid, status, attempts, worker_id, now + lease)
                if claimed is not None:
                    out.append(claimed)
    return out


def _used(session: Session, method_id: int, now: datetime) -> int:
    """Messages this method got in the last minute, counting those being sent right now."""
    return int(session.scalar(select(func.count()).select_from(Message).where(
        Message.contact_method_id == method_id,
        or_(and_(Message.status == MessageStatus.SENT.value,
                 Message.sent_at > now - RATE_WINDOW),
            and_(Message.status == MessageStatus.SENDING.value,
                 Message.lease_until > now)))) or 0)


def _claim_one(session: Session, mid: int, status: str, attempts: int, worker_id: str,
               lease_until: datetime) -> Claimed | None:
    result = session.execute(
        update(Message)
        .where(Message.id == mid, Message.status == status, Message.attempts == attempts)
        .values(status=MessageStatus.SENDING.value, claimed_by=worker_id,
                lease_until=lease_until, attempts=attempts + 1))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    m, cm = session.execute(
        select(Message, ContactMethod).join(
            ContactMethod, ContactMethod.id == Message.contact_method_id)
        .where(Message.id == mid)).one()
    return Claimed(m.id, m.idempotency_key, m.kind, m.user_id, cm.id, m.incident_id,
                   dict(m.payload), attempts + 1, ChannelKind(cm.kind), cm.address)


# ---- stages (each decides from the database; None means "go on") ------------------------------

def _stale(session: Session, m: Claimed) -> str | None:
    """A page about an incident someone already took, or that ended, is not sent."""
    if m.kind != "page" or m.incident_id is None:
        return None
    incident = session.get(Incident, m.incident_id)
    if incident is None:
        return "incident deleted"
    status = lc.Status(incident.status)
    if status in (lc.Status.RESOLVED, lc.Status.CLOSED):
        return f"incident {status.value}"
    if status is not lc.Status.TRIGGERED and ":manual" not in m.key:
        return f"incident {status.value}"
    return None


def _duplicate(session: Session, m: Claimed, now: datetime, window: int) -> bool:
    if m.kind != "page" or window <= 0:
        return False
    return session.scalars(select(Message.id).where(
        Message.incident_id == m.incident_id, Message.contact_method_id == m.method_id,
        Message.status == MessageStatus.SENT.value,
        Message.sent_at >= now - timedelta(seconds=window), Message.id != m.id)).first() \
        is not None


def _mine(m: Claimed, worker_id: str) -> Any:
    return and_(Message.id == m.id, Message.status == MessageStatus.SENDING.value,
                Message.claimed_by == worker_id)


def _settle(rt: Runtime, m: Claimed, worker_id: str, status: MessageStatus,
            **values: Any) -> bool:
    with rt.sessions() as session, session.begin():
        result = session.execute(update(Message).where(_mine(m, worker_id))
                                 .values(status=status.value, lease_until=None, **values))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** (attempts - 1)))


def process(rt: Runtime, m: Claimed, *, worker_id: str, senders: Mapping[ChannelKind, Sender],
            now: datetime) -> str:
    """Run one claimed message through the stages; returns its outcome."""
    s = rt.settings
    with rt.sessions() as session:
        stale = _stale(session, m)
        duplicate = stale is None and _duplicate(session, m, now, s.notify_dedup_seconds)
    if stale:
        _settle(rt, m, worker_id, MessageStatus.CANCELLED, last_error=f"not sent: {stale}")
        return "cancelled"
    if duplicate:
        _settle(rt, m, worker_id, MessageStatus.DEDUPED, last_error="duplicate within window")
        return "deduped"
    out = render(kind=m.kind, channel=m.channel, address=m.address, payload=m.payload,
                 user_id=m.user_id, incident_id=m.incident_id, idempotency_key=m.key,
                 settings=s, now=now)
    try:
        senders[m.channel](out, s)
    except TemporaryError as exc:
        if m.attempts < s.notify_max_attempts:
            _settle(rt, m, worker_id, MessageStatus.PENDING, last_error=str(exc)[:2000],
                    due_at=now + _backoff(m.attempts))
            return "retry"
        _permanent(rt, m, worker_id, f"gave up after {m.attempts} attempts: {exc}", now)
        return "failed"
    except PermanentError as exc:
        _permanent(rt, m, worker_id, str(exc), now)
        return "failed"
    except Exception as exc:  # a sender bug must not lose the page
        log.exception("sender for %s crashed", m.channel)
        _settle(rt, m, worker_id, MessageStatus.PENDING, last_error=repr(exc)[:2000],
                due_at=now + _backoff(m.attempts))
        return "retry"
    _record_sent(rt, m, worker_id, now)
    return "sent"


def _record_sent(rt: Runtime, m: Claimed, worker_id: str, now: datetime) -> None:
    with rt.sessions() as session, session.begin():
        result = session.execute(update(Message).where(_mine(m, worker_id)).values(
            status=MessageStatus.SENT.value, sent_at=now, lease_until=None, last_error=None))
        if result.rowcount and m.kind == "page" and m.incident_id is not None:  # type: ignore[attr-defined]
            incident = session.get(Incident, m.incident_id)
            if incident is not None:
                incidents.append_event(
                    session, incident, kind=lc.EventKind.PAGE_SENT, now=now, actor=None,
                    body=f"page sent to user {m.user_id} by {m.channel.value}",
                    data={"user_id": m.user_id, "contact_method_id": m.method_id,
                          "message_id": m.id})


def _permanent(rt: Runtime, m: Claimed, worker_id: str, error: str, now: datetime) -> None:
    """Mark failed; for a page, move to the user's next method and say so on the timeline."""
    with rt.sessions() as session, session.begin():
        result = session.execute(update(Message).where(_mine(m, worker_id)).values(
            status=MessageStatus.FAILED.value, lease_until=None, last_error=error[:2000]))
        if not result.rowcount or m.kind != "page" or m.incident_id is None:  # type: ignore[attr-defined]
            return
        incident = session.get(Incident, m.incident_id)
        if incident is None:
            return
        base = m.key.split(":u", 1)[0]
        # Methods this page already used; a later rule's message still waiting is moved up.
        earlier = {mid: (msg_id, status) for msg_id, mid, status in session.execute(
            select(Message.id, Message.contact_method_id, Message.status).where(
                Message.incident_id == m.incident_id, Message.user_id == m.user_id,
                Message.idempotency_key.like(f"{base}:%"))).all()}
        tried = {mid for mid, (_, status) in earlier.items()
                 if status != MessageStatus.PENDING.value}
        high = lc.Severity(incident.severity).is_high_urgency()
        options = [mid for _, mid in plan(session, user_id=m.user_id, high_urgency=high)]
        others = sorted({cm.id for cm in session.scalars(select(ContactMethod).where(
            ContactMethod.user_id == m.user_id, ContactMethod.verified_at.is_not(None)))})
        nxt = next((mid for mid in [*options, *others] if mid not in tried), None)
        if nxt is not None and nxt in earlier:
            session.execute(update(Message).where(Message.id == earlier[nxt][0]).values(
                due_at=now))
            wake_after_commit(session)
        elif nxt is not None:
            session.add(Message(
                idempotency_key=f"{base}:u{m.user_id}:m{nxt}:fallback", kind="page",
                status=MessageStatus.PENDING.value, incident_id=m.incident_id,
                user_id=m.user_id, contact_method_id=nxt, due_at=now, attempts=0,
                payload=m.payload, created_at=now))
            wake_after_commit(session)
        what = f"trying contact method {nxt} next" if nxt is not None else \
            "NO OTHER CONTACT METHOD LEFT: this user was not reached"
        incidents.append_event(
            session, incident, kind=lc.EventKind.PAGE_FAILED, now=now, actor=None,
            body=f"page to user {m.user_id} by {m.channel.value} failed: {error}; {what}",
            data={"user_id": m.user_id, "contact_method_id": m.method_id,
                  "message_id": m.id, "next_contact_method_id": nxt})


def deliver_due(rt: Runtime, *, worker_id: str, limit: int,
                senders: Mapping[ChannelKind, Sender] = SENDERS) -> dict[str, int]:
    now = rt.clock.now()
    claimed = claim(rt, worker_id=worker_id, now=now, limit=limit)
    # Sending is mostly waiting on the network: a slow SMTP server or webhook must not hold
    # up the pages behind it, so a batch is sent concurrently (each message is independent).
    threads = min(len(claimed), rt.settings.notify_send_concurrency)
    if threads <= 1:
        results = [process(rt, m, worker_id=worker_id, senders=senders, now=now)
                   for m in claimed]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tocsin-send") as pool:
            results = list(pool.map(lambda m: process(rt, m, worker_id=worker_id,
                                                      senders=senders, now=now), claimed))
    return dict(Counter(results))
