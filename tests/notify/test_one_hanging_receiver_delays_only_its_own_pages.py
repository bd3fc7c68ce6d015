"""Sends are independent: with one receiver that accepts and never answers (120 s timeout),
other incidents' pages, a fallback after a 410 and retries go out on time. The delivery job
runs in its own lane as under `tocsin serve`, polling only every 60 s, so only its wake-ups
can explain anything that happens sooner. Waits are generous (30 s, for a loaded machine)
and still shorter than the hanging send's timeout and the lane's poll, so whatever waited
for either fails them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from tests.notify.seed import declare_many, seed_paging
from tests.notify.servers import hanging_receiver, http_receiver
from tocsin.clock import FrozenClock
from tocsin.engine.worker import Worker
from tocsin.jobs import DELIVERY_JOB, JOBS
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.notify.delivery import delivery_wake
from tocsin.notify.models import Message
from tocsin.notify.pipeline import claim
from tocsin.notify.schemas import ContactMethodIn, RuleIn, RulesIn
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime
from tocsin.settings import Settings

HANG_TIMEOUT = 120  # seconds: the hanging receiver's sends end only when the test ends
WAIT = 30.0  # seconds: generous for a loaded machine, shorter than the timeout and the poll

@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url, base_url="http://tocsin.test",
                         webhook_timeout_seconds=HANG_TIMEOUT, worker_poll_interval=60,
                         notify_rate_limit_per_minute=1000)


@contextmanager
def delivery_lane(rt: Runtime) -> Iterator[None]:
    """The production delivery job in its own lane, as `tocsin serve` runs it."""
    stop = threading.Event()
    worker = Worker(runtime=rt, handlers={}, worker_id="lane",
                    jobs=[job for job in JOBS if job.name == DELIVERY_JOB])
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(60)
        assert not thread.is_alive()


def wait_for(what: Callable[[], Any], seconds: float = WAIT) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := what():
            return found
        time.sleep(0.01)
    return what()


def page_to(rt: Runtime, method_id: int) -> Message | None:
    with rt.sessions() as s:
        return s.scalars(select(Message).where(Message.contact_method_id == method_id,
                                               Message.kind == "page")).first()


def aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC


def stuck_page(rt: Runtime, hung: list[float], url: str) -> int:
    """Page an incident to the receiver that never answers; returns its contact method once
    the request is in flight."""
    seed = seed_paging(rt, webhook_url=url, name="stuck")
    declare_many(rt, service_id=seed["service_id"], count=1, now=rt.clock.now())
    assert wait_for(lambda: hung), "the stuck page was never sent"
    method: int = seed["methods"][0]  # this seed's one user's method
    return method


def test_a_page_to_a_healthy_receiver_does_not_wait_for_a_hanging_one(
        runtime: Runtime) -> None:
    with http_receiver() as (got, url):
        fine = seed_paging(runtime, webhook_url=url + "/page", name="fine")
        with delivery_lane(runtime), hanging_receiver() as (hung, stuck):
            stuck_method = stuck_page(runtime, hung, stuck)
            began = time.monotonic()
            declare_many(runtime, service_id=fine["service_id"], count=1,
                         now=runtime.clock.now())
            assert wait_for(lambda: got), "the healthy page never arrived"
            took = time.monotonic() - began
            in_flight = page_to(runtime, stuck_method)
            assert in_flight is not None and in_flight.status == "sending"
    assert took < WAIT, f"the healthy page waited {took:.1f} s for the hanging one"


def test_a_410_pages_the_next_contact_method_at_once(runtime: Runtime) -> None:
    with http_receiver(status=410) as (gone, gone_url), \
            http_receiver() as (got, url):
        seed = seed_paging(runtime, webhook_url=gone_url, name="moved")
        user, first = seed["users"][0], seed["methods"][0]
        now = runtime.clock.now()
        with runtime.sessions() as s, s.begin():
            who = Principal(user_id=user, role=Role.RESPONDER)
            second = notify.add_contact_method(s, actor=who, user_id=user, now=now,
                                               outbound=runtime.settings.outbound_policy,
                                               data=ContactMethodIn(kind=ChannelKind.WEBHOOK,
                                                                    address=url + "/page"))
            notify.verify(s, method=second, code=second.verify_code or "", now=now)
            s.query(Message).filter(Message.kind == "verify").delete()
            # The second method only after ten minutes: only the fallback moves it up.
            notify.set_rules(s, actor=who, user_id=user, data=RulesIn(rules=[
                RuleIn(urgency="high", delay_minutes=0, contact_method_id=first),
                RuleIn(urgency="high", delay_minutes=10, contact_method_id=second.id)]))
        with delivery_lane(runtime), hanging_receiver() as (hung, stuck):
            stuck_page(runtime, hung, stuck)
            declare_many(runtime, service_id=seed["service_id"], count=1,
                         now=runtime.clock.now())
            assert wait_for(lambda: gone), "the first method was never tried"
            refused = gone[0].at
            assert wait_for(lambda: got), "the next method was never paged"
            took = got[0].at - refused
    assert took < WAIT, f"the fallback went out {took:.1f} s after the 410"


def test_retries_are_due_their_backoff_after_the_failed_attempt(
        runtime: Runtime, clock: FrozenClock) -> None:
    # Each attempt "takes" 3 s of the frozen clock before its 503: the next one is due 5 s,
    # then 10 s, then 20 s after that (docs/paging.md), read from the database.
    with http_receiver(status=503, on_post=lambda: clock.advance(seconds=3)) as (got, url):
        seed = seed_paging(runtime, webhook_url=url, name="flaky")
        method = seed["methods"][0]
        with delivery_lane(runtime), hanging_receiver() as (hung, stuck):
            stuck_page(runtime, hung, stuck)
            started, dues = [clock.now()], []
            declare_many(runtime, service_id=seed["service_id"], count=1, now=clock.now())
            for attempt in (1, 2, 3):
                m = wait_for(partial(retry_after, runtime, method, attempt))
                assert m, f"attempt {attempt} was not recorded"
                dues.append(aware(m.due_at))
                if attempt < 3:  # the retry falls due: wake delivery, as its poll would
                    clock.set(dues[-1])
                    started.append(clock.now())
                    delivery_wake(runtime).set()
    ended = [at + timedelta(seconds=3) for at in started]
    assert [due - end for due, end in zip(dues, ended, strict=True)] == [
        timedelta(seconds=5), timedelta(seconds=10), timedelta(seconds=20)]
    assert len(got) == 3


def retry_after(rt: Runtime, method: int, attempts: int) -> Message | None:
    """The page to `method` once its attempt number `attempts` is recorded as a retry."""
    m = page_to(rt, method)
    return m if m is not None and m.attempts == attempts and m.status == "pending" else None


def lease_of(rt: Runtime, method: int) -> datetime | None:
    m = page_to(rt, method)
    return aware(m.lease_until) if m is not None and m.lease_until is not None else None


def test_a_hanging_receiver_takes_only_its_own_slots(runtime: Runtime,
                                                     make_settings: Any) -> None:
    runtime.settings = make_settings(
        database_url=runtime.settings.database_url, webhook_timeout_seconds=HANG_TIMEOUT,
        worker_poll_interval=60, notify_rate_limit_per_minute=1000,
        notify_send_concurrency=4, notify_send_concurrency_per_method=2)
    with http_receiver() as (got, url):
        fine = seed_paging(runtime, webhook_url=url + "/page", name="fine")
        with delivery_lane(runtime), hanging_receiver() as (hung, stuck):
            seed = seed_paging(runtime, webhook_url=stuck, name="stuck")
            declare_many(runtime, service_id=seed["service_id"], count=6,
                         now=runtime.clock.now())
            assert wait_for(lambda: len(hung) >= 2)
            declare_many(runtime, service_id=fine["service_id"], count=2,
                         now=runtime.clock.now())
            assert wait_for(lambda: len(got) == 2), "the other pages found no free slot"
            assert len(hung) == 2, "more sends to the hanging receiver than its share"


def test_a_send_still_in_flight_keeps_its_lease(runtime: Runtime, clock: FrozenClock,
                                                make_settings: Any) -> None:
    runtime.settings = make_settings(
        database_url=runtime.settings.database_url, webhook_timeout_seconds=HANG_TIMEOUT,
        worker_poll_interval=60, notify_lease_seconds=10)
    with delivery_lane(runtime), hanging_receiver() as (hung, stuck):
        method = stuck_page(runtime, hung, stuck)
        clock.advance(seconds=6)  # past half the lease: the lane extends it
        delivery_wake(runtime).set()
        extended = clock.now() + timedelta(seconds=10)
        assert wait_for(lambda: lease_of(runtime, method) == extended), \
            f"lease still ends at {lease_of(runtime, method)}"
        clock.advance(seconds=5)  # the first lease has run out; the send still goes on
        assert claim(runtime, worker_id="other", now=clock.now(), limit=10) == []
