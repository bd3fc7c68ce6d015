"""The delivery stages: claim due messages (rate limit per contact method applied while
claiming) → screen (drop stale pages, dedup) → send → record. delivery.py runs them, each
send independent of the others.

Claiming is one conditional update (only rows still claimable change) committed before
sending, plus `FOR UPDATE SKIP LOCKED` on PostgreSQL so concurrent workers take disjoint
rows. The claim is a lease: if the worker dies after sending but before recording, the
lease runs out and another worker sends again — at most one duplicate, never a loss —
except for email sent at most once (bulletins, notify/guarantee.py): one recorded
"committed to send" is then recorded sent unconfirmed instead of being sent again.
Recording changes only rows this worker still holds, one transaction for many messages.
On SQLite the claim and the records take the write lock before triage (db/write_lock.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from tocsin.db.wakeup import wake_after_commit
from tocsin.db.write_lock import write_lock
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.notify.contract import (
    AsyncSender,
    ChannelKind,
    HandoverSender,
    Outgoing,
    PermanentError,
    Sender,
    TemporaryError,
    UnknownOutcome,
)
from tocsin.notify.guarantee import Guarantee, guarantee
from tocsin.notify.models import ContactMethod, Message, MessageStatus
from tocsin.notify.ports import PageSuggestions
from tocsin.notify.render import render
from tocsin.notify.service import MANUAL_MARK, OWNED_MARK, plan
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.notify")
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    kind: str
    user_id: int | None    # None: a message to an address outside the users (a subscriber)
    method_id: int | None
    incident_id: int | None
    payload: dict[str, Any]
    attempts: int
    channel: ChannelKind
    address: str

    @property
    def target(self) -> int | str:
        """What rate limits and in-flight counts are kept per: the contact method, or the
        address of a message that names none."""
        return self.method_id if self.method_id is not None else f"@{self.address}"


@dataclass(frozen=True)
class InFlight:
    """What one worker is sending right now, as its next claim must see it: those messages
    are not claimed again, a contact method with `per_method` sends in flight gets no more
    (a receiver that hangs holds only its own slots), and a page about an incident is not
    sent to a method while another page about it to that method is in flight (the second
    waits, then meets the dedup stage)."""

    ids: frozenset[int] = frozenset()
    methods: Mapping[int | str, int] = field(default_factory=dict)  # target -> sends in flight
    pages: frozenset[tuple[int, int | None]] = frozenset()  # (incident id, method id)
    per_method: int = 1 << 30


IDLE = InFlight()


def claim(rt: Runtime, *, worker_id: str, now: datetime, limit: int,
          busy: InFlight = IDLE) -> list[Claimed]:
    """claim_held, without saying whether `busy` held any message back."""
    return claim_held(rt, worker_id=worker_id, now=now, limit=limit, busy=busy)[0]


def claim_held(rt: Runtime, *, worker_id: str, now: datetime, limit: int,
               busy: InFlight = IDLE) -> tuple[list[Claimed], bool]:
    """Claim up to `limit` due messages, applying the per-contact-method rate limit on the
    way: a method that already had its share this minute (sent, or being sent) gets the rest
    postponed. `busy`: this worker's sends in flight, left alone. One write transaction; on
    PostgreSQL the candidates are locked with `SKIP LOCKED` and each method's count is
    serialised by locking its row, so concurrent workers share the limit. (Reading the
    candidates from a snapshot before taking SQLite's write lock was tried: woken delivery
    then sometimes found nothing and a page waited for the next wake, 0.37 s in
    bench/paging.py precision.) Also says whether `busy` held back a due message."""
    lease_until = now + timedelta(seconds=rt.settings.notify_lease_seconds)
    per_minute = rt.settings.notify_rate_limit_per_minute
    with write_lock(rt.engine, urgent=True), rt.sessions() as session, session.begin():
        postgres = session.get_bind().dialect.name == "postgresql"
        wanted, postponed, unconfirmed, held = _plan(session, now, limit, per_minute, busy,
                                                     postgres=postgres)
        _settle_unconfirmed(session, unconfirmed, now)
        return _take(session, wanted, postponed, now, worker_id, lease_until), held


def _plan(session: Session, now: datetime, limit: int, per_minute: int, busy: InFlight, *,
          postgres: bool) -> tuple[list[int], list[tuple[int, str, int]], list[int], bool]:
    """Which claimable messages to claim, which to postpone (id, status, attempts) as their
    method has had its share this minute, which were committed to send by a sender that
    is gone (not to be sent again: _settle_unconfirmed); and whether `busy` held any back.
    Those held back stay as they are: the send in their way wakes delivery when it ends."""
    query = (select(Message.id, Message.status, Message.attempts, Message.contact_method_id,
                    Message.incident_id, Message.address, Message.committed_attempt)
             .where(_claimable(now)).order_by(Message.due_at).limit(limit))
    full = [m for m, n in busy.methods.items() if n >= busy.per_method]
    held = bool(full)  # (over-cautious: the full methods may have nothing due)
    full_methods = sorted(m for m in full if isinstance(m, int))
    full_addresses = sorted(m[1:] for m in full if isinstance(m, str))
    if full_methods:  # in SQL: a hanging method's backlog must not fill the candidates
        query = query.where(or_(Message.contact_method_id.is_(None),
                                Message.contact_method_id.not_in(full_methods)))
    if full_addresses:
        query = query.where(or_(Message.address.is_(None),
                                Message.address.not_in(full_addresses)))
    if busy.ids:  # a lease that ran out while its send is still going: not sent twice
        query = query.where(Message.id.not_in(sorted(busy.ids)))
    if postgres:
        query = query.with_for_update(skip_locked=True)
    by_method: dict[int | str, list[tuple[int, str, int, int | None]]] = {}
    unconfirmed: list[int] = []
    for mid, status, attempts, method_id, incident_id, address, committed in \
            session.execute(query).all():
        if committed is not None:
            unconfirmed.append(mid)
            continue
        target: int | str = method_id if method_id is not None else f"@{address}"
        by_method.setdefault(target, []).append((mid, status, attempts, incident_id))
    wanted: list[int] = []
    postponed: list[tuple[int, str, int]] = []
    addresses = _used_by_addresses(session, [k[1:] for k in by_method if isinstance(k, str)],
                                   now)
    for key, rows in by_method.items():
        if postgres and isinstance(key, int):
            # Serialises workers counting the same method's share.
            session.execute(select(ContactMethod.id).where(ContactMethod.id == key)
                            .with_for_update())
        used = addresses.get(key[1:], 0) if isinstance(key, str) else \
            _used(session, key, now, per_minute)
        room = max(0, per_minute - used)
        slots = busy.per_method - busy.methods.get(key, 0)
        free = [mid for mid, _, _, iid in rows[:room]
                if iid is None or not isinstance(key, int) or (iid, key) not in busy.pages]
        held = held or len(free) < len(rows[:room]) or len(free) > slots
        wanted += free[:slots]
        postponed += [(mid, status, attempts) for mid, status, attempts, _ in rows[room:]]
    return wanted, postponed, unconfirmed, held


def _settle_unconfirmed(session: Session, ids: list[int], now: datetime) -> None:
    """Messages sent at most once whose sender recorded "committed to send" and then died
    (its lease ran out) before recording the reply: the final dot was written, or was about
    to be, so the server has them (but for that one window): recorded sent, flagged
    `delivery_unconfirmed`, never sent again."""
    if not ids:
        return
    settled = list(session.execute(
        update(Message).where(Message.id.in_(ids), _claimable(now),
                              Message.committed_attempt.is_not(None))
        .values(status=MessageStatus.SENT.value, sent_at=now, lease_until=None,
                committed_attempt=None, delivery_unconfirmed=True,
                last_error=UNCONFIRMED_AFTER_CRASH)
        .returning(Message.id).execution_options(synchronize_session=False)).scalars())
    if settled:
        log.warning("messages %s were committed to send by a worker that stopped before "
                    "the reply: recorded sent, delivery unconfirmed (not sent again)",
                    sorted(settled))


# SQLite's default: checkpoint the write-ahead log once it holds this many pages.
_CHECKPOINT_PAGES = 1000
UNCONFIRMED_AFTER_CRASH = ("delivery unconfirmed: the sender stopped after committing to "
                           "send (the end of the message was written or about to be) and "
                           "before the reply; not sent again")
UNCONFIRMED_REPLY_LOST = ("delivery unconfirmed: the end of the message was written but no "
                          "reply came; not sent again")


def _take(session: Session, wanted: list[int], postponed: list[tuple[int, str, int]],
          now: datetime, worker_id: str, lease_until: datetime) -> list[Claimed]:
    for mid, status, attempts in postponed:
        # Rate limited: postponed, never dropped; the attempt does not count.
        session.execute(update(Message).where(
            Message.id == mid, Message.status == status, Message.attempts == attempts).values(
            status=MessageStatus.PENDING.value, due_at=now + RATE_WINDOW / 6,
            last_error="rate limited"))
    return _claimed(session, _claim(session, wanted, now, worker_id, lease_until))


def _used_by_addresses(session: Session, addresses: list[str], now: datetime) -> dict[str, int]:
    """_used for many addresses outside the contact methods (status page subscribers: a
    claim of 100 bulletins is 100 addresses), two grouped queries per 500. The counts need
    no cap: the rate limit itself keeps an address's last minute small."""
    used: dict[str, int] = {}
    connection = session.connection()
    for start in range(0, len(addresses), 500):
        chunk = sorted(addresses[start:start + 500])
        for query, params in ((_SENT_RECENTLY_TO_ANY, {"since": now - RATE_WINDOW}),
                              (_BEING_SENT_TO_ANY, {"now": now})):
            for address, n in connection.execute(query, {"addresses": chunk, **params}):
                if address is not None:
                    used[address] = used.get(address, 0) + int(n)
    return used


def _used(session: Session, method_id: int | str, now: datetime, cap: int) -> int:
    """Messages this method got in the last minute, counting those being sent right now;
    counted up to `cap` (the limit: more makes no difference). Two index range scans: the
    method's messages sent since the window began (`sent_at` is set only when a message is
    sent), and its messages claimed and still leased. One query with an OR walked every
    message the method ever had, inside the claim's write lock."""
    connection = session.connection()
    if isinstance(method_id, str):  # an address outside the contact methods: "@address"
        sent = connection.execute(_SENT_RECENTLY_TO, {
            "address": method_id[1:], "since": now - RATE_WINDOW, "cap": cap}).scalar_one()
        return int(sent) + int(connection.execute(_BEING_SENT_TO, {
            "address": method_id[1:], "now": now}).scalar_one())
    sent = connection.execute(_SENT_RECENTLY, {
        "method": method_id, "since": now - RATE_WINDOW, "cap": cap}).scalar_one()
    sending = connection.execute(_BEING_SENT, {"method": method_id, "now": now}).scalar_one()
    return int(sent) + int(sending)


# Built once; run as Core on the claim's connection.
_SENT_RECENTLY = select(func.count()).select_from(
    select(Message.id).where(Message.contact_method_id == bindparam("method"),
                             Message.sent_at > bindparam("since"))
    .limit(bindparam("cap")).subquery())
_BEING_SENT = select(func.count()).select_from(Message).where(
    Message.status == MessageStatus.SENDING.value,
    Message.contact_method_id == bindparam("method"), Message.lease_until > bindparam("now"))


_SENT_RECENTLY_TO = select(func.count()).select_from(
    select(Message.id).where(Message.address == bindparam("address"),
                             Message.sent_at > bindparam("since"))
    .limit(bindparam("cap")).subquery())
_BEING_SENT_TO = select(func.count()).select_from(Message).where(
    Message.status == MessageStatus.SENDING.value,
    Message.address == bindparam("address"), Message.lease_until > bindparam("now"))


_SENT_RECENTLY_TO_ANY = select(Message.address, func.count()).where(
    Message.address.in_(bindparam("addresses", expanding=True)),
    Message.sent_at > bindparam("since")).group_by(Message.address)
_BEING_SENT_TO_ANY = select(Message.address, func.count()).where(
    Message.address.in_(bindparam("addresses", expanding=True)),
    Message.status == MessageStatus.SENDING.value,
    Message.lease_until > bindparam("now")).group_by(Message.address)


def _claimable(now: datetime) -> Any:
    return or_(and_(Message.status == MessageStatus.PENDING.value, Message.due_at <= now),
               and_(Message.status == MessageStatus.SENDING.value, Message.lease_until <= now))


def _claim(session: Session, ids: list[int], now: datetime, worker_id: str,
           lease_until: datetime) -> list[int]:
    """Claim the rows still claimable, in one conditional UPDATE; returns the ids won."""
    if not ids:
        return []
    # A message whose last handover has no known outcome (its sender died between DATA and
    # recording the reply, or lost the reply) is sent again: counted as possibly duplicated.
    # One committed to send (at most once) is not claimed: _settle_unconfirmed records it.
    won = session.execute(
        update(Message).where(Message.id.in_(ids), _claimable(now),
                              Message.committed_attempt.is_(None))
        .values(status=MessageStatus.SENDING.value, claimed_by=worker_id,
                lease_until=lease_until, attempts=Message.attempts + 1,
                possibly_duplicated=Message.possibly_duplicated + case(
                    (Message.handover_attempt.is_not(None), 1), else_=0),
                handover_attempt=None)
        .returning(Message.id).execution_options(synchronize_session=False)).scalars()
    return list(won)


def _claimed(session: Session, ids: list[int]) -> list[Claimed]:
    """What the worker needs to send the claimed messages, read in one query (by due time,
    so the oldest pages go first). `attempts` is already the claimed attempt."""
    if not ids:
        return []
    rows = session.execute(
        select(Message.id, Message.idempotency_key, Message.kind, Message.user_id,
               Message.contact_method_id, Message.incident_id, Message.payload,
               Message.attempts, func.coalesce(Message.channel, ContactMethod.kind),
               func.coalesce(Message.address, ContactMethod.address))
        .outerjoin(ContactMethod, ContactMethod.id == Message.contact_method_id)
        .where(Message.id.in_(ids)).order_by(Message.due_at, Message.id)).all()
    return [Claimed(mid, key, kind, uid, cmid, iid, dict(payload), attempts,
                    ChannelKind(channel), address)
            for mid, key, kind, uid, cmid, iid, payload, attempts, channel, address in rows]


# ---- stages ---------------------------------------------------------------------------------

def _stale(statuses: Mapping[int, str], m: Claimed) -> str | None:
    """A page about an incident someone already took, or that ended, is not sent."""
    if m.kind != "page" or m.incident_id is None:
        return None
    if m.incident_id not in statuses:
        return "incident deleted"
    status = lc.Status(statuses[m.incident_id])
    if status in (lc.Status.RESOLVED, lc.Status.CLOSED):
        return f"incident {status.value}"
    if status is not lc.Status.TRIGGERED and MANUAL_MARK not in m.key \
            and OWNED_MARK not in m.key:
        return f"incident {status.value}"
    return None


def _recently_sent(session: Session, claimed: list[Claimed], now: datetime,
                   window: int) -> set[tuple[int | None, int | None]]:
    """(incident, contact method) pairs of the batch's pages that had a page sent within
    the dedup window: one query for the batch."""
    ids = sorted({m.incident_id for m in claimed if m.kind == "page" and m.incident_id})
    if window <= 0 or not ids:
        return set()
    return {(iid, mid) for iid, mid in session.execute(
        select(Message.incident_id, Message.contact_method_id).distinct().where(
            Message.incident_id.in_(ids), Message.status == MessageStatus.SENT.value,
            Message.sent_at >= now - timedelta(seconds=window)))}


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one claimed message, recorded with the others of its batch."""

    message: Claimed
    result: str  # sent / retry / failed / cancelled / deduped
    error: str | None = None
    retry_at: datetime | None = None
    recorded: bool = False  # already recorded sent, by the sending thread (handover)
    unknown: bool = False  # the receiver may have it: the retry may duplicate it
    unconfirmed: bool = False  # sent (at most once) but its reply was never read


def screen(rt: Runtime, claimed: list[Claimed], now: datetime) -> list[SendOutcome]:
    """The stages before sending, for a whole batch in one read: stale pages are cancelled,
    duplicates within the dedup window are dropped."""
    ids = sorted({m.incident_id for m in claimed if m.incident_id is not None})
    with rt.read_sessions() as session:  # a snapshot: no write lock for reading
        statuses: dict[int, str] = {
            iid: status for iid, status in session.execute(
                select(Incident.id, Incident.status).where(Incident.id.in_(ids)))}
        sent = _recently_sent(session, claimed, now, rt.settings.notify_dedup_seconds)
        out: list[SendOutcome] = []
        for m in claimed:
            stale = _stale(statuses, m)
            if stale:
                out.append(SendOutcome(m, "cancelled", f"not sent: {stale}"))
            elif m.kind == "page" and (m.incident_id, m.method_id) in sent:
                out.append(SendOutcome(m, "deduped", "duplicate within window"))
    return out


def first_page(m: Claimed) -> bool:
    """The first page about an incident: escalation's first level, first time round (not a
    lateral page, a repeat loop or a later level)."""
    return m.kind == "page" and m.incident_id is not None and m.payload.get("level") == 1 \
        and not m.payload.get("loop") and MANUAL_MARK not in m.key


def with_suggestions(rt: Runtime, claimed: list[Claimed], port: PageSuggestions, *,
                     budget: float) -> list[Claimed]:
    """The claimed messages, each first page carrying the known errors and similar past
    incidents of its incident (`payload["suggestions"]`), read through `port` on one
    read-only snapshot for the batch; working out those not recorded yet stops once
    `budget` seconds have gone. A page is never held up by a failure here: it then leaves
    with the link to them only."""
    ids = sorted({m.incident_id for m in claimed if first_page(m) and m.incident_id})
    if not ids:
        return claimed
    try:
        with rt.read_sessions() as session:
            found = port(session, ids, budget=budget)
    except Exception:
        log.exception("suggestions for the first pages of incidents %s failed; sent "
                      "with the link only", ids)
        return claimed
    return [replace(m, payload={**m.payload, "suggestions": [
        dict(x) for x in found[m.incident_id]]})
        if m.incident_id is not None and m.incident_id in found and first_page(m) else m
        for m in claimed]


def send_one(rt: Runtime, m: Claimed, *, senders: Mapping[ChannelKind, Sender],
             now: datetime, worker_id: str) -> SendOutcome:
    """Render (as of `now`, the claim) and send. A plain sender touches no database (the
    outcome is recorded afterwards); a HandoverSender's handover is recorded as it happens
    (RecordedHandover). A retry is due its backoff after this attempt ended."""
    out = _render(rt, m, now)
    sender = senders[m.channel]
    handover = RecordedHandover(rt, m, worker_id)
    try:
        if isinstance(sender, HandoverSender):
            sender.send(out, rt.settings, handover)
        else:
            sender(out, rt.settings)
    except NotMine:
        return SendOutcome(m, "retry", "taken over by another worker before it was sent")
    except UnknownOutcome as exc:
        if handover.committed:  # at most once: the end went out, so it is not sent again
            return SendOutcome(m, "sent", f"{UNCONFIRMED_REPLY_LOST}: {exc}"[:2000],
                               unconfirmed=True)
        return unsent(rt, m, exc, rt.clock.now())
    except Exception as exc:
        return unsent(rt, m, exc, rt.clock.now())
    return SendOutcome(m, "sent", recorded=handover.recorded)


class NotMine(Exception):
    """The message is no longer this worker's to send (its lease ran out and another
    worker claimed it)."""


class RecordedHandover:
    """A HandoverSender's reports, each recorded in its own small transaction before the
    send goes on, as the message's guarantee says (notify/guarantee.py). At least once:
    `begin` sets `handover_attempt`, so after a crash a message between it and `accepted`
    is sent again (possibly duplicated). At most once: `commit` sets `committed_attempt`,
    so after a crash a message past it is recorded sent unconfirmed, never sent again. The
    one recorded checks that this worker still holds the message (else NotMine: the sender
    abandons it, unsent). `accepted` marks the message sent at once."""

    def __init__(self, rt: Runtime, m: Claimed, worker_id: str) -> None:
        self.rt, self.m, self.worker_id = rt, m, worker_id
        self.guarantee = guarantee(m.kind,
                                   bulk_at_most_once=rt.settings.notify_bulletins_at_most_once)
        self.recorded = False
        self.committed = False  # at most once, and `commit` was recorded

    def begin(self) -> None:
        if self.guarantee is not Guarantee.AT_LEAST_ONCE:
            return
        # On the engine, not a session: one UPDATE, nothing for the session's listeners.
        with write_lock(self.rt.engine, urgent=True), self.rt.engine.begin() as connection:
            held = connection.execute(_BEGIN_HANDOVER, {
                "mid": self.m.id, "worker": self.worker_id}).rowcount
        if not held:
            raise NotMine(f"message {self.m.id}")

    def commit(self, finish: Callable[[], None]) -> None:
        if self.guarantee is not Guarantee.AT_MOST_ONCE:
            finish()
            return
        # A crash after the COMMIT and before `finish` loses the message, so nothing runs
        # between them: `finish` comes before the write lock and the connection are given
        # back (each a system call, where another thread may take the interpreter for
        # milliseconds), and SQLite is told not to checkpoint its log inside this COMMIT
        # (it would, once the log is long enough: milliseconds of I/O after the commit is
        # durable). The next commit on the connection checkpoints instead.
        # On PostgreSQL the server commits once it reads COMMIT, even if this process dies
        # waiting for the answer: the window starts there, and the answer waits for the
        # server's WAL flush (a millisecond or more). This one commit does not wait for it
        # (synchronous_commit off): only a crash of the database server itself could forget
        # it, and then the mail is sent again — a copy, never a loss.
        with write_lock(self.rt.engine, urgent=True), self.rt.engine.connect() as connection:
            # On the driver's connection: outside any transaction (no BEGIN for a setting).
            raw: Any = connection.connection.driver_connection
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                raw.execute("PRAGMA wal_autocheckpoint=0")
            elif connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            try:
                held = connection.execute(_COMMIT_TO_SEND, {
                    "mid": self.m.id, "worker": self.worker_id}).rowcount
                connection.commit()
                if held:
                    self.committed = True
                    finish()
            finally:
                if sqlite:
                    raw.execute(f"PRAGMA wal_autocheckpoint={_CHECKPOINT_PAGES}")
        if not held:
            raise NotMine(f"message {self.m.id}")

    def accepted(self) -> None:
        now = self.rt.clock.now()
        try:
            if self.m.kind == "page" and self.m.incident_id is not None:
                params = {"ids": [self.m.id], "worker": self.worker_id, "now": now}
                with write_lock(self.rt.engine, urgent=True), self.rt.sessions() as session, \
                        session.begin():
                    mine = list(session.connection().execute(_MARK_SENT, params).scalars())
                    _timeline_sent(session, [self.m] if mine else [], now)
            else:  # nothing for the timeline: one UPDATE on the engine
                with write_lock(self.rt.engine, urgent=True), \
                        self.rt.engine.begin() as connection:
                    connection.execute(_MARK_ONE_SENT, {
                        "mid": self.m.id, "worker": self.worker_id, "now": now})
        except Exception:
            # Sent but not recorded: the lane's record tries again (and should that fail
            # too, the message is sent again once its lease runs out, possibly duplicated).
            log.exception("recording message %s sent failed", self.m.id)
            return
        self.recorded = True


async def send_one_async(rt: Runtime, m: Claimed, *, sender: AsyncSender,
                         now: datetime) -> SendOutcome:
    """send_one on the send loop."""
    out = _render(rt, m, now)
    try:
        await sender.send(out, rt.settings)
    except Exception as exc:
        return unsent(rt, m, exc, rt.clock.now())
    return SendOutcome(m, "sent")


def _render(rt: Runtime, m: Claimed, now: datetime) -> Outgoing:
    return render(kind=m.kind, channel=m.channel, address=m.address, payload=m.payload,
                  user_id=m.user_id, incident_id=m.incident_id, idempotency_key=m.key,
                  settings=rt.settings, now=now)


def unsent(rt: Runtime, m: Claimed, exc: BaseException, now: datetime) -> SendOutcome:
    """The outcome of a send that raised `exc` (call it while handling `exc`), `now` being
    when the attempt ended: the backoff counts from there, as docs/paging.md says."""
    if isinstance(exc, TemporaryError):
        if m.attempts < rt.settings.notify_max_attempts:
            return SendOutcome(m, "retry", str(exc)[:2000], now + _backoff(m.attempts),
                               unknown=isinstance(exc, UnknownOutcome))
        return SendOutcome(m, "failed", f"gave up after {m.attempts} attempts: {exc}")
    if isinstance(exc, PermanentError):
        return SendOutcome(m, "failed", str(exc))
    # A sender bug must not lose the page.
    log.exception("sender for %s crashed", m.channel)
    return SendOutcome(m, "retry", repr(exc)[:2000], now + _backoff(m.attempts))


def _mine(m: Claimed, worker_id: str) -> Any:
    return and_(Message.id == m.id, Message.status == MessageStatus.SENDING.value,
                Message.claimed_by == worker_id)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 5 * 2 ** (attempts - 1)))


SETTLED = {"sent": MessageStatus.SENT, "retry": MessageStatus.PENDING,
           "cancelled": MessageStatus.CANCELLED, "deduped": MessageStatus.DEDUPED}


def record(rt: Runtime, outcomes: list[SendOutcome], *, worker_id: str, now: datetime) -> None:
    """Record a batch's outcomes in one transaction (one SQLite write lock, not one per
    message). Only rows this worker still holds change: a message whose lease ran out and
    was taken by another worker is left to that one. Sent pages go on their incident's
    timeline; permanent failures move on to the user's next method (own transaction).
    Messages their sending thread already recorded sent are left alone."""
    failed = [o for o in outcomes if o.result == "failed"]
    if any(o.result != "failed" and not o.recorded for o in outcomes):
        _record_settled(rt, outcomes, worker_id=worker_id, now=now)
    for o in failed:
        _permanent(rt, o.message, worker_id, o.error or "failed", now)


def _record_settled(rt: Runtime, outcomes: list[SendOutcome], *, worker_id: str,
                    now: datetime) -> None:
    with write_lock(rt.engine, urgent=True), rt.sessions() as session, session.begin():
        for o in outcomes:
            if o.result in ("failed", "sent"):
                continue
            values: dict[str, Any] = {"status": SETTLED[o.result].value, "lease_until": None,
                                      "last_error": o.error}
            if o.retry_at is not None:
                values["due_at"] = o.retry_at
            if not o.unknown:  # refused by a reply, or never handed over: not ambiguous
                values["handover_attempt"] = None
            # Committed to send, then refused by a reply or the dot could not be written:
            # the server does not have it.
            values["committed_attempt"] = None
            session.execute(update(Message).where(_mine(o.message, worker_id))
                            .values(**values))
        sent = {o.message.id: o.message for o in outcomes
                if o.result == "sent" and not o.recorded and not o.unconfirmed}
        if sent:
            still_mine = session.connection().execute(_MARK_SENT, {
                "ids": sorted(sent), "worker": worker_id, "now": now}).scalars()
            _timeline_sent(session, [sent[i] for i in sorted(still_mine)], now)
        for o in outcomes:
            if o.result == "sent" and o.unconfirmed:
                session.execute(update(Message).where(_mine(o.message, worker_id)).values(
                    status=MessageStatus.SENT.value, sent_at=now, lease_until=None,
                    committed_attempt=None, delivery_unconfirmed=True, last_error=o.error))


# Built once (building it cost about as much as running it); on the connection, as Core.
_MARK_SENT = (update(Message).where(Message.id.in_(bindparam("ids", expanding=True)),
                                    Message.status == MessageStatus.SENDING.value,
                                    Message.claimed_by == bindparam("worker"))
              .values(status=MessageStatus.SENT.value, sent_at=bindparam("now"),
                      lease_until=None, last_error=None, handover_attempt=None,
                      committed_attempt=None)
              .returning(Message.id))
_MARK_ONE_SENT = (update(Message).where(Message.id == bindparam("mid"),
                                        Message.status == MessageStatus.SENDING.value,
                                        Message.claimed_by == bindparam("worker"))
                  .values(status=MessageStatus.SENT.value, sent_at=bindparam("now"),
                          lease_until=None, last_error=None, handover_attempt=None,
                          committed_attempt=None))
_BEGIN_HANDOVER = (update(Message).where(Message.id == bindparam("mid"),
                                         Message.status == MessageStatus.SENDING.value,
                                         Message.claimed_by == bindparam("worker"))
                   .values(handover_attempt=Message.attempts))
_COMMIT_TO_SEND = (update(Message).where(Message.id == bindparam("mid"),
                                         Message.status == MessageStatus.SENDING.value,
                                         Message.claimed_by == bindparam("worker"))
                   .values(committed_attempt=Message.attempts))


def _timeline_sent(session: Session, sent: list[Claimed], now: datetime) -> None:
    incidents.append_quiet_events(session, [
        (m.incident_id, lc.EventKind.PAGE_SENT,
         f"page sent to user {m.user_id} by {m.channel.value}",
         {"user_id": m.user_id, "contact_method_id": m.method_id, "message_id": m.id})
        for m in sent if m.kind == "page" and m.incident_id is not None], now)

def _permanent(rt: Runtime, m: Claimed, worker_id: str, error: str, now: datetime) -> None:
    """Mark failed; for a page, move to the user's next method and say so on the timeline."""
    with write_lock(rt.engine, urgent=True), rt.sessions() as session, session.begin():
        result = session.execute(update(Message).where(_mine(m, worker_id)).values(
            status=MessageStatus.FAILED.value, lease_until=None, last_error=error[:2000],
            committed_attempt=None))
        done = result.rowcount  # type: ignore[attr-defined]
        if not done or m.kind != "page" or m.incident_id is None or m.user_id is None:
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


def renew(rt: Runtime, ids: list[int], *, worker_id: str, now: datetime) -> datetime:
    """Extend the leases of messages this worker is still sending, so no other worker takes
    over a send that is slow but alive (SMTP's timeout is per exchange, not per message).
    Returns the new end of the lease."""
    lease_until = now + timedelta(seconds=rt.settings.notify_lease_seconds)
    with write_lock(rt.engine, urgent=True), rt.sessions() as session, session.begin():
        session.execute(update(Message).where(
            Message.id.in_(ids), Message.status == MessageStatus.SENDING.value,
            Message.claimed_by == worker_id).values(lease_until=lease_until))
    return lease_until
