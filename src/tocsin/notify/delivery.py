"""One worker's sending, each send independent of the others.

A slow or dead receiver must delay only its own messages: delivery claims and starts due
messages while earlier sends are still in flight (up to `notify_send_concurrency` at once,
and `notify_send_concurrency_per_method` to one contact method, so a receiver that hangs
holds a few slots, not all), and records each outcome as soon as its send ends — with
whatever else ended within RECORD_GATHER, in one transaction, so a burst of fast sends is
not one transaction each. A retry is scheduled, and a permanent failure moves on to the
user's next contact method (waking delivery), when that message's outcome is recorded.
Until 2026-12 a batch was claimed, sent, and waited for as a whole: one webhook hanging
until its 10 s timeout held up every other page, retry and fallback behind it.

In its lane (`tocsin serve`, `tocsin worker`) the job returns with sends in flight; each
send that ends sets the lane's signal and the next run records it and claims more. Called
directly (`deliver_due`, `Worker.run_cycle` in tests) it returns once every send it started
has ended and been recorded.

Leases: a message is claimed for `notify_lease_seconds`; a send still going at half its
lease has the lease extended (a timer wakes the lane for it), so another worker never sends
a message again while it is in flight. After kill -9 the lease runs out and another worker
sends it again: at most one duplicate, never a loss.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from tocsin.notify.channels import SENDERS
from tocsin.notify.contract import AsyncSender, ChannelKind, Sender, on_send_loop
from tocsin.notify.pipeline import (
    Claimed,
    InFlight,
    SendOutcome,
    claim_held,
    record,
    renew,
    screen,
    send_one,
    send_one_async,
    unsent,
    with_suggestions,
)
from tocsin.notify.ports import PageSuggestions, no_suggestions
from tocsin.runtime import Runtime

# How long finished sends wait for others still in flight before being recorded together
# (seconds): one transaction for a burst instead of one per send.
RECORD_GATHER = 0.005
# Shortest wait for a lease renewal (seconds): a lease already due is renewed by the next run.
RENEW_FLOOR = 0.05
# Fewest messages a claim asks for while sends are in flight and no new message was written.
CLAIM_AT_LEAST = 16


def delivery_wake(rt: Runtime) -> threading.Event:
    """Set after every commit that wrote messages (the delivery lane waits on it)."""
    return rt.wakeups.outbox


@dataclass
class _Flight:
    message: Claimed
    lease_until: datetime


@dataclass(frozen=True)
class Step:
    """What one `Delivery.step` did. `more`: its claim took all it asked for, so more may be
    due right now; otherwise the next run can wait for a wake-up (a new message, a send
    that ended) or the poll."""

    outcomes: Counter[str]
    started: int
    more: bool


class Delivery:
    """The sends one worker has in flight, and the claims around them. Driven from one
    thread (the delivery lane, or the caller of `drain`); sends end on other threads."""

    def __init__(self, rt: Runtime, *, worker_id: str,
                 senders: Mapping[ChannelKind, Sender] = SENDERS,
                 suggestions: PageSuggestions = no_suggestions) -> None:
        self.rt = rt
        self.worker_id = worker_id
        self.senders = senders
        self.suggestions = suggestions
        # Seconds left for working out first pages' suggestions (see _with_suggestions).
        self._suggest_credit = rt.settings.learning_page_suggestions_ms / 1000
        self._suggest_credit_at = time.monotonic()
        self._flights: dict[int, _Flight] = {}
        self._ended: list[SendOutcome] = []
        self._first_ended = 0.0
        self._changed = threading.Condition()
        self._signal = delivery_wake(rt)
        self._renewal: threading.Timer | None = None
        # When the last claim ran, the wake-ups for new messages it had seen, and whether it
        # left due messages behind (room, caps): see _claim_now.
        self._claimed_at = float("-inf")
        self._claimed_wakes = -1
        self._held_back = False

    @property
    def in_flight(self) -> int:
        return len(self._flights)

    def step(self, *, limit: int, claim_more: bool = True, in_lane: bool = False) -> Step:
        """Record the sends that ended, extend leases that need it, then claim and start up
        to `limit` more (within the concurrency caps). Never waits for a send. `in_lane`:
        arm a timer that sets the lane's signal when a lease needs extending."""
        counts = self._record_ended()
        self._renew_leases()
        started, more = 0, False
        if claim_more and self._claim_now(recorded=bool(counts)):
            screened, started, more = self._launch(limit)
            counts.update(screened)
        if in_lane:
            self._arm_renewal()
        return Step(counts, started, more)

    def drain(self, *, limit: int, claim_more: bool = True,
              timeout: float | None = None) -> Counter[str]:
        """`step` until no send is in flight (or `timeout` seconds have passed); with
        `claim_more`, messages falling due meanwhile are claimed and sent too."""
        deadline = None if timeout is None else time.monotonic() + timeout
        counts = self.step(limit=limit, claim_more=claim_more).outcomes
        while self._flights:
            wait = self._renewal_in()
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    break
            with self._changed:
                if not self._ended:
                    self._changed.wait(wait)
            counts.update(self.step(limit=limit, claim_more=claim_more).outcomes)
        return counts

    # ---- recording ---------------------------------------------------------------------------

    def _gather(self) -> list[SendOutcome]:
        with self._changed:
            if not self._ended:
                return []
            deadline = self._first_ended + RECORD_GATHER
            while len(self._ended) < len(self._flights):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            ended, self._ended = self._ended, []
            return ended

    def _record_ended(self) -> Counter[str]:
        ended = self._gather()
        if not ended:
            return Counter()
        try:
            record(self.rt, ended, worker_id=self.worker_id, now=self.rt.clock.now())
        finally:
            # Recorded, or the record failed: either way no longer ours to renew. A message
            # whose record failed stays `sending` until its lease runs out, then is sent
            # again (the crash guarantee: a duplicate, never a loss).
            for o in ended:
                self._flights.pop(o.message.id, None)
        return Counter(o.result for o in ended)

    def _ended_one(self, m: Claimed, future: Future[SendOutcome]) -> None:
        """Runs on the thread the send ended on (the send loop, or a sending thread)."""
        try:
            outcome = future.result()
        except BaseException as exc:  # a crashed send is retried, not lost
            outcome = unsent(self.rt, m, exc, self.rt.clock.now())
        with self._changed:
            if not self._ended:
                self._first_ended = time.monotonic()
            self._ended.append(outcome)
            self._changed.notify_all()
        self._signal.set()

    # ---- claiming and sending ----------------------------------------------------------------

    def _claim_now(self, *, recorded: bool) -> bool:
        """Whether a claim may find something. A run woken by sends that ended claims only
        if messages were written since the last claim, the last claim left some behind, or
        a poll interval has passed (retries falling due): on SQLite each claim, empty or
        not, takes the write lock that triage needs."""
        if not recorded or self._held_back \
                or self.rt.wakeups.outbox_writes != self._claimed_wakes:
            return True
        poll = self.rt.settings.worker_poll_interval
        return time.monotonic() - self._claimed_at >= poll

    def _busy(self) -> InFlight:
        flights = [f.message for f in self._flights.values()]
        return InFlight(
            ids=frozenset(self._flights),
            methods=Counter(m.target for m in flights),
            pages=frozenset((m.incident_id, m.method_id) for m in flights
                            if m.kind == "page" and m.incident_id is not None),
            per_method=self.rt.settings.notify_send_concurrency_per_method)

    def _launch(self, limit: int) -> tuple[Counter[str], int, bool]:
        room = min(limit, self.rt.settings.notify_send_concurrency - len(self._flights))
        written = self.rt.wakeups.outbox_writes != self._claimed_wakes
        if room <= 0 or (self._flights and not written
                         and room < min(limit, CLAIM_AT_LEAST)):
            # A send that ends wakes the lane. While sends are in flight and nothing new was
            # written, wait until a claim can take CLAIM_AT_LEAST: each claim is a write
            # transaction, and a backlog (10,000 subscribers' mails) otherwise went out in
            # claims of three.
            self._held_back = True
            return Counter(), 0, False
        # Read before claiming: a message written during the claim wakes another one.
        self._claimed_wakes, self._claimed_at = self.rt.wakeups.outbox_writes, time.monotonic()
        now = self.rt.clock.now()
        claimed, held = claim_held(self.rt, worker_id=self.worker_id, now=now, limit=room,
                                   busy=self._busy())
        self._held_back = held or len(claimed) == room
        if not claimed:
            return Counter(), 0, False
        outcomes = screen(self.rt, claimed, now)
        screened = {o.message.id for o in outcomes}
        to_send = self._with_suggestions([m for m in claimed if m.id not in screened])
        lease_until = now + timedelta(seconds=self.rt.settings.notify_lease_seconds)
        for m in to_send:  # all registered first: a send may end before the next starts
            self._flights[m.id] = _Flight(m, lease_until)
        for m in to_send:
            self._start(m, now)
        # Cancelled and deduped messages are recorded after the sends have left.
        record(self.rt, outcomes, worker_id=self.worker_id, now=now)
        return Counter(o.result for o in outcomes), len(to_send), len(claimed) == room

    def _with_suggestions(self, to_send: list[Claimed]) -> list[Claimed]:
        """First pages with their incident's known errors and similar incidents, within a
        budget of `learning_page_suggestions_ms` per second of the lane's time (a bucket
        holding one second's worth): at a normal pace every first page gets them; in a
        storm of new incidents the budget runs dry and pages leave at once with the link
        only, so paging throughput and latency are not spent on suggestions."""
        per_second = self.rt.settings.learning_page_suggestions_ms / 1000
        now = time.monotonic()
        self._suggest_credit = min(per_second, self._suggest_credit
                                   + (now - self._suggest_credit_at) * per_second)
        self._suggest_credit_at = now
        if self._suggest_credit <= 0:
            return to_send
        out = with_suggestions(self.rt, to_send, self.suggestions, budget=self._suggest_credit)
        self._suggest_credit -= time.monotonic() - now
        return out

    def _start(self, m: Claimed, now: datetime) -> None:
        # Async senders (webhooks) share the send loop instead of a thread each: far less
        # CPU per request. Plain senders (email, Apprise) run on the sending threads.
        sender = self.senders[m.channel]
        future: Future[SendOutcome]
        if isinstance(sender, AsyncSender):
            future = on_send_loop(send_one_async(self.rt, m, sender=sender, now=now))
        else:
            future = _pool(self.rt.settings.notify_send_concurrency).submit(
                send_one, self.rt, m, senders=self.senders, now=now, worker_id=self.worker_id)
        future.add_done_callback(partial(self._ended_one, m))

    # ---- leases --------------------------------------------------------------------------

    def _renew_leases(self) -> None:
        now = self.rt.clock.now()
        half = timedelta(seconds=self.rt.settings.notify_lease_seconds / 2)
        due = sorted(mid for mid, f in self._flights.items() if f.lease_until - now <= half)
        if due:
            until = renew(self.rt, due, worker_id=self.worker_id, now=now)
            for mid in due:
                self._flights[mid].lease_until = until

    def _renewal_in(self) -> float:
        """Seconds until the first lease in flight needs extending."""
        if not self._flights:
            return float(self.rt.settings.notify_lease_seconds)
        half = timedelta(seconds=self.rt.settings.notify_lease_seconds / 2)
        first = min(f.lease_until for f in self._flights.values()) - half
        return max(RENEW_FLOOR, (first - self.rt.clock.now()).total_seconds())

    def _arm_renewal(self) -> None:
        """One timer at a time wakes the lane when a lease needs extending (its poll
        interval may be longer than half a lease)."""
        timer = self._renewal
        if not self._flights:
            if timer is not None:
                timer.cancel()
                self._renewal = None
            return
        if timer is None or not timer.is_alive():
            self._renewal = threading.Timer(self._renewal_in(), self._signal.set)
            self._renewal.daemon = True
            self._renewal.start()


def deliver_due(rt: Runtime, *, worker_id: str, limit: int,
                senders: Mapping[ChannelKind, Sender] = SENDERS,
                suggestions: PageSuggestions = no_suggestions) -> dict[str, int]:
    """Claim → screen (stale, duplicate) → send → record, until every message due now and
    every send started here is done; returns the outcomes."""
    return dict(Delivery(rt, worker_id=worker_id, senders=senders,
                         suggestions=suggestions).drain(limit=limit))


def _pool(threads: int) -> ThreadPoolExecutor:
    """One sending pool per process, grown when the setting asks for more threads."""
    global _senders_pool
    with _pool_lock:
        if _senders_pool is None or _senders_pool._max_workers < threads:
            _senders_pool = ThreadPoolExecutor(max_workers=threads,
                                               thread_name_prefix="tocsin-send")
        return _senders_pool


_senders_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
