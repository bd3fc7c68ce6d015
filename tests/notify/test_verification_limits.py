"""Contact-method verification codes cannot be guessed: wrong codes are limited per method
and per user (counted in the database, shared by every API process), codes expire, and
every failure is recorded for admins, logged and counted."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.app import create_app
from tocsin.clock import FrozenClock
from tocsin.notify import service as notify
from tocsin.notify.models import ContactMethod
from tocsin.notify.verification import Limits, VerifyOutcome, wait_before_next
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime
from tocsin.settings import Settings
from tocsin.wiring import build_runtime

PER_METHOD, PER_USER = 3, 5


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url, verify_max_failures_per_method=PER_METHOD,
                         verify_max_failures_per_user=PER_USER, verify_code_minutes=30,
                         verify_failure_window_minutes=15)


def _add_method(client: TestClient, who: Account, address: str = "rui@example.com") -> int:
    r = client.post(f"/api/v1/users/{who.id}/contact-methods",
                    json={"kind": "email", "address": address}, headers=who.headers)
    assert r.status_code == 201, r.text
    method_id: int = r.json()["id"]
    return method_id


def _code(runtime: Runtime, method_id: int) -> str:
    with runtime.sessions() as session:
        method = session.get(ContactMethod, method_id)
        assert method is not None and method.verify_code
        return method.verify_code


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _verify(client: TestClient, who: Account, method_id: int, code: str) -> int:
    return client.post(f"/api/v1/contact-methods/{method_id}/verify", json={"code": code},
                       headers=who.headers).status_code


def test_wait_before_next_counts_only_the_window() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    window = timedelta(minutes=15)
    newest_first = [now - timedelta(minutes=m) for m in (1, 2, 10, 20)]
    assert wait_before_next(newest_first, 4, window, now) is None  # one is out of the window
    assert wait_before_next(newest_first, 3, window, now) == timedelta(minutes=5)
    assert wait_before_next(newest_first[:1], 1, window, now) == timedelta(minutes=14)
    assert wait_before_next([], 1, window, now) is None


def test_wrong_codes_per_method_then_429_even_for_the_right_code(
        client: TestClient, runtime: Runtime, clock: FrozenClock, responder: Account) -> None:
    method_id = _add_method(client, responder)
    code = _code(runtime, method_id)
    assert [_verify(client, responder, method_id, _wrong(code))
            for _ in range(PER_METHOD)] == [422] * PER_METHOD
    r = client.post(f"/api/v1/contact-methods/{method_id}/verify", json={"code": code},
                    headers=responder.headers)
    assert r.status_code == 429  # no oracle: the right code waits too
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 429 and 1 <= int(r.headers["Retry-After"]) <= 15 * 60
    clock.advance(timedelta(minutes=16))
    assert _verify(client, responder, method_id, code) == 200


def test_adding_methods_buys_no_more_guesses_than_the_user_limit(
        client: TestClient, runtime: Runtime, responder: Account) -> None:
    first = _add_method(client, responder, "a@example.com")
    second = _add_method(client, responder, "b@example.com")
    for _ in range(PER_METHOD):
        assert _verify(client, responder, first, _wrong(_code(runtime, first))) == 422
    for _ in range(PER_USER - PER_METHOD):
        assert _verify(client, responder, second, _wrong(_code(runtime, second))) == 422
    assert _verify(client, responder, second, _code(runtime, second)) == 429


def test_the_count_is_shared_by_every_api_process(
        client: TestClient, runtime: Runtime, settings: Settings, clock: FrozenClock,
        responder: Account) -> None:
    method_id = _add_method(client, responder)
    code = _code(runtime, method_id)
    other_runtime = build_runtime(settings, clock)  # another process: its own engine, memory
    try:
        with TestClient(create_app(other_runtime)) as other:
            for i in range(PER_METHOD):
                api = client if i % 2 else other
                assert _verify(api, responder, method_id, _wrong(code)) == 422
            assert _verify(client, responder, method_id, code) == 429
            assert _verify(other, responder, method_id, code) == 429
    finally:
        other_runtime.close()


def test_concurrent_guesses_from_two_processes_record_no_more_than_the_limit(
        runtime: Runtime, settings: Settings, clock: FrozenClock, client: TestClient,
        responder: Account) -> None:
    method_id = _add_method(client, responder)
    wrong = _wrong(_code(runtime, method_id))
    other_runtime = build_runtime(settings, clock)
    outcomes: list[VerifyOutcome] = []
    start = threading.Barrier(8)
    who = Principal(user_id=responder.id, role=Role.RESPONDER)

    def guess(rt: Runtime) -> None:
        start.wait()
        with rt.sessions() as session:
            method = session.get(ContactMethod, method_id)
            assert method is not None
            attempt = notify.verify(session, method=method, code=wrong, now=rt.clock.now(),
                                    limits=Limits.from_settings(rt.settings), actor=who)
            session.commit()
        outcomes.append(attempt.outcome)

    threads = [threading.Thread(target=guess, args=(runtime if i % 2 else other_runtime,))
               for i in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other_runtime.close()
    assert sorted(outcomes) == sorted([VerifyOutcome.WRONG] * PER_METHOD
                                      + [VerifyOutcome.THROTTLED] * (8 - PER_METHOD))


def test_codes_expire_and_a_new_one_can_be_sent(client: TestClient, runtime: Runtime,
                                                clock: FrozenClock, responder: Account) -> None:
    method_id = _add_method(client, responder)
    old = _code(runtime, method_id)
    clock.advance(timedelta(minutes=31))
    r = client.post(f"/api/v1/contact-methods/{method_id}/verify", json={"code": old},
                    headers=responder.headers)
    assert r.status_code == 422 and "expired" in r.json()["detail"]
    r = client.post(f"/api/v1/contact-methods/{method_id}/resend-code",
                    headers=responder.headers)
    assert r.status_code == 202
    new = _code(runtime, method_id)
    if new != old:
        assert _verify(client, responder, method_id, old) == 422
    assert _verify(client, responder, method_id, new) == 200


@pytest.fixture
def scraper(client: TestClient) -> Iterator[TestClient]:
    yield TestClient(client.app, client=("127.0.0.1", 50000))


def test_failures_are_recorded_for_admins_logged_and_counted(
        client: TestClient, runtime: Runtime, responder: Account, admin: Account,
        scraper: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    method_id = _add_method(client, responder)
    code = _code(runtime, method_id)
    with caplog.at_level(logging.WARNING, logger="tocsin.notify"):
        for _ in range(PER_METHOD + 1):
            _verify(client, responder, method_id, _wrong(code))
    warnings = [r for r in caplog.records if "wrong verification code" in r.getMessage()]
    assert len(warnings) == PER_METHOD

    assert client.get("/api/v1/verification-failures",
                      headers=responder.headers).status_code == 403
    r = client.get("/api/v1/verification-failures", params={"user_id": responder.id},
                   headers=admin.headers)
    assert r.status_code == 200
    rows = r.json()["items"]
    assert len(rows) == PER_METHOD
    assert {(x["contact_method_id"], x["user_id"], x["actor_user_id"], x["reason"])
            for x in rows} == {(method_id, responder.id, responder.id, "wrong")}
    assert rows[0]["client_address"] == "testclient"

    metrics = scraper.get("/metrics").text
    assert f'tocsin_verification_attempts_total{{outcome="wrong"}} {PER_METHOD}.0' in metrics
    assert 'tocsin_verification_attempts_total{outcome="throttled"} 1.0' in metrics
