"""A delivery worker that kills itself with SIGKILL at one step of an email handover, for
test_mail_once_after_kill.py. Run as a process of its own (the kernel then does to its SMTP
connection what it does after a real kill -9: data already written is still delivered,
nothing more is written, the connection ends):

    python -m tests.notify.dying_sender DATABASE_URL SMTP_PORT STEP NOW DATA_DIR

STEP: `before_commit` (the whole mail went out but the final dot, `commit` not recorded),
`after_commit` (recorded, the dot not written), `after_dot` (the dot written, the reply not
read). NOW: the frozen clock's time (ISO 8601), so its leases match the test's clock.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tests.conftest import LOOPBACK_ALLOWED
from tocsin.clock import FrozenClock
from tocsin.notify.channels import SENDERS
from tocsin.notify.contract import ChannelKind, Handover, HandoverSender, Outgoing
from tocsin.notify.delivery import deliver_due
from tocsin.notify.email.sender import send
from tocsin.settings import Settings, load_settings
from tocsin.wiring import build_runtime

STEPS = ("before_commit", "after_commit", "after_dot")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


class Dying:
    """The worker's real handover, with a SIGKILL at `step`."""

    def __init__(self, real: Handover, step: str) -> None:
        self.real, self.step = real, step

    def begin(self) -> None:
        self.real.begin()

    def commit(self, finish: Callable[[], None]) -> None:
        if self.step == "before_commit":
            die()

        def dying_finish() -> None:
            if self.step == "after_commit":
                die()
            finish()  # the dot
            if self.step == "after_dot":
                die()

        self.real.commit(dying_finish)

    def accepted(self) -> None:
        self.real.accepted()


def main() -> None:
    url, port, step, now, data_dir = sys.argv[1:6]
    assert step in STEPS, step
    rt = build_runtime(load_settings(env="dev", data_dir=Path(data_dir), database_url=url,
                                     smtp_port=int(port), outbound_allow=LOOPBACK_ALLOWED),
                       FrozenClock(datetime.fromisoformat(now)))

    def dying_send(out: Outgoing, settings: Settings, handover: Handover) -> None:
        send(out, settings, Dying(handover, step))

    senders = {**SENDERS, ChannelKind.EMAIL: HandoverSender(dying_send)}
    deliver_due(rt, worker_id="doomed", limit=10, senders=senders)
    raise SystemExit("not killed")  # the step never came


if __name__ == "__main__":
    main()
