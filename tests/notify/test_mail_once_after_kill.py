"""A worker killed with SIGKILL at each step of an email handover, with a real aiosmtpd
server on loopback and a real database (the suite's, and PostgreSQL): bulletins (status
page and stakeholder mail) reach their reader at most once, pages at least once
(notify/guarantee.py). The worker is a process of its own (tests/notify/dying_sender.py),
so its SMTP connection ends the way a killed process's does; the restarted worker is this
test's delivery, once the dead worker's lease ran out."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.conftest import LOOPBACK_ALLOWED, STARTUP_SECONDS, _empty_pg
from tests.notify.servers import free_port
from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import UserCreate
from tocsin.clock import FrozenClock
from tocsin.incidents import service as incidents
from tocsin.incidents.lifecycle import Severity
from tocsin.incidents.schemas import IncidentCreate
from tocsin.notify import service as notify
from tocsin.notify.contract import ChannelKind
from tocsin.notify.delivery import deliver_due
from tocsin.notify.email import pool as smtp_pool
from tocsin.notify.models import Message, MessageStatus
from tocsin.notify.schemas import ContactMethodIn
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

pytestmark = pytest.mark.slow  # a process started (and killed) per test
ROOT = Path(__file__).resolve().parents[2]
ADDRESS = "reader@example.com"


class Counting:
    def __init__(self) -> None:
        self.got: Counter[str] = Counter()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        for rcpt in envelope.rcpt_tos:
            self.got[rcpt] += 1
        return "250 OK"


@pytest.fixture(params=["suite database", pytest.param("postgresql",
                                                        marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        _empty_pg(url)
        return url
    suite: str = request.getfixturevalue("database_url")
    return suite


@pytest.fixture
def world(db_url: str, clock: FrozenClock, tmp_path: Path
          ) -> Iterator[tuple[Runtime, Counting, int]]:
    inbox = Counting()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    rt = build_runtime(load_settings(env="dev", data_dir=tmp_path / "data", database_url=db_url,
                                     smtp_port=port, outbound_allow=LOOPBACK_ALLOWED), clock)
    try:
        yield rt, inbox, port
    finally:
        rt.close()
        smtp_pool.close_all()
        controller.stop()


def a_bulletin(rt: Runtime) -> None:
    now = rt.clock.now()
    with rt.sessions() as s, s.begin():
        notify.enqueue_bulletins(s, items=[("sp:1:s1", "email", ADDRESS,
                                            {"subject": "Update", "text": "Investigating\n"})],
                                 due_at=now, now=now)


def a_page(rt: Runtime) -> None:
    """A first page about a triggered incident to a verified email contact method."""
    now = rt.clock.now()
    with rt.sessions() as s, s.begin():
        user = accounts.create_user(s, data=UserCreate(name="On call", email="oncall@x.io",
                                                       role=Role.RESPONDER), now=now)
        method = notify.add_contact_method(
            s, actor=Principal(user_id=user.id, role=Role.RESPONDER), user_id=user.id,
            now=now, outbound=rt.settings.outbound_policy,
            data=ContactMethodIn(kind=ChannelKind.EMAIL, address=ADDRESS))
        notify.verify(s, method=method, code=method.verify_code or "", now=now)
        s.query(Message).filter(Message.kind == "verify").delete()
        incident = incidents.declare(s, actor=None, now=now, settings=rt.settings,
                                     data=IncidentCreate(title="Checkout down",
                                                         severity=Severity.SEV1))
        s.add(Message(idempotency_key=f"inc{incident.id}:l1:u{user.id}:m{method.id}:d0",
                      kind="page", status=MessageStatus.PENDING.value,
                      incident_id=incident.id, user_id=user.id, contact_method_id=method.id,
                      due_at=now, attempts=0, created_at=now,
                      payload={"title": "Checkout down", "severity": "SEV1", "level": 1}))


def kill_at(step: str, rt: Runtime, port: int, tmp_path: Path) -> None:
    """A worker of its own claims the message, sends, and is killed (SIGKILL) at `step`."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.notify.dying_sender", rt.settings.effective_database_url,
         str(port), step, rt.clock.now().isoformat(), str(tmp_path / "doomed")],
        cwd=ROOT, capture_output=True, text=True, timeout=STARTUP_SECONDS)
    assert done.returncode == -9, done.stdout + done.stderr


def arrived_after_the_kill(inbox: Counting, expected: int) -> int:
    """What the server got from the dead worker, once whatever the kernel still had to
    deliver was delivered (the server answers within milliseconds; a mail that must not
    arrive is given a second)."""
    deadline = time.monotonic() + (10 if expected else 1)
    while time.monotonic() < deadline and inbox.got[ADDRESS] < max(expected, 1):
        time.sleep(0.02)
    return inbox.got[ADDRESS]


def the_message(rt: Runtime) -> Message:
    with rt.sessions() as s:
        (m,) = s.scalars(select(Message).where(Message.address.is_(None)
                                               | (Message.address == ADDRESS)))
        return m


def restart(rt: Runtime, clock: FrozenClock) -> dict[str, int]:
    clock.advance(seconds=rt.settings.notify_lease_seconds + 1)  # the dead worker's lease
    counts = deliver_due(rt, worker_id="restarted", limit=10)
    clock.advance(seconds=3600)  # any retry or backoff falls due: nothing more may go out
    counts.update({f"later {k}": v
                   for k, v in deliver_due(rt, worker_id="restarted", limit=10).items()})
    return counts


# step -> (arrived from the dead worker, what the restarted worker sends, arrived in all,
#          delivery_unconfirmed, possibly_duplicated)
AT_MOST_ONCE = {
    # The server held an unterminated DATA and dropped it; nothing was recorded: sent again.
    "before_commit": (0, {"sent": 1}, 1, False, 0),
    # The one window: recorded committed, the dot never written. Lost, and flagged.
    "after_commit": (0, {}, 0, True, 0),
    # The kernel delivered the dot after the kill: the server has it. Not sent again.
    "after_dot": (1, {}, 1, True, 0),
}
AT_LEAST_ONCE = {
    # The handover began (recorded before DATA) and was not finished: sent again, marked.
    "before_commit": (0, {"sent": 1}, 1, False, 1),
    "after_commit": (0, {"sent": 1}, 1, False, 1),
    # The server has it and gets it again: never lost, the copy counted.
    "after_dot": (1, {"sent": 1}, 2, False, 1),
}


# (what is sent, its expected outcomes): a bulletin reaches its reader at most once, a page
# its responder at least once.
CASES = [("bulletin", a_bulletin, AT_MOST_ONCE), ("page", a_page, AT_LEAST_ONCE)]


@pytest.mark.parametrize(("kind", "step"), [(kind, step) for kind, _, table in CASES
                                            for step in table])
def test_a_message_killed_at_each_step_arrives_as_its_guarantee_says(
        kind: str, step: str, world: tuple[Runtime, Counting, int], clock: FrozenClock,
        tmp_path: Path) -> None:
    rt, inbox, port = world
    [(make, table)] = [(make, table) for k, make, table in CASES if k == kind]
    make(rt)
    at_kill, resent, total, unconfirmed, duplicated = table[step]
    kill_at(step, rt, port, tmp_path)
    assert arrived_after_the_kill(inbox, at_kill) == at_kill
    assert restart(rt, clock) == resent
    assert inbox.got[ADDRESS] == total
    m = the_message(rt)
    assert (m.status, m.delivery_unconfirmed, m.possibly_duplicated, m.committed_attempt) == \
        ("sent", unconfirmed, duplicated, None)
