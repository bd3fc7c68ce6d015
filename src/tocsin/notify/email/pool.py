"""Open SMTP connections to one server, reused for many messages.

Each message used to open its own connection: TCP, EHLO (and STARTTLS, AUTH), MAIL, RCPT,
DATA, QUIT — twice the round trips of the message itself, and a TLS handshake each with
STARTTLS. Now a process keeps at most `smtp_connections` open to the server; a send takes an
idle one (the most recently used) or opens one, and gives it back after its message:

- after the server's reply refused the message, the transaction may still be open: RSET
  first (a connection that cannot even do that is closed);
- after a network error or a timeout it is closed (its state is unknown);
- a send that finds every connection busy waits for one, up to the SMTP timeout.

Idle connections are closed after `smtp_idle_seconds` (a reaper thread while any is idle);
a server may close them sooner. A connection taken from the idle ones that fails on its
first command (closed by the server meanwhile, or 421 "closing") is replaced by a new one
and the command tried again: nothing of the message was handed over yet (sender.py).
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import socket
import threading
import time
from dataclasses import dataclass

from tocsin.notify.contract import TemporaryError
from tocsin.settings import Settings


@dataclass
class _Idle:
    smtp: smtplib.SMTP
    since: float  # time.monotonic() when it was given back


class SmtpPool:
    """The connections of one process to one SMTP server (with one login)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.size = settings.smtp_connections
        self.idle_seconds = settings.smtp_idle_seconds
        self.opened = 0  # connections opened so far (tests and benchmarks read it)
        self._idle: list[_Idle] = []
        self._open = 0  # idle + busy
        self._changed = threading.Condition()
        self._reaper: threading.Thread | None = None

    # ---- taking and giving back ----------------------------------------------------------

    def take(self, *, fresh: bool = False) -> tuple[smtplib.SMTP, bool]:
        """A connection ready for MAIL, and whether it was used before (it may have been
        closed by the server since). `fresh`: a new one (the idle ones are closed: one of
        them was just found closed by the server)."""
        deadline = time.monotonic() + self.settings.smtp_timeout_seconds
        stale: list[_Idle] = []
        with self._changed:
            while True:
                if fresh and self._idle:
                    stale += self._idle
                    self._open -= len(self._idle)
                    self._idle = []
                if self._idle:
                    return self._idle.pop().smtp, True
                if self._open < self.size:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TemporaryError(f"all {self.size} SMTP connections to "
                                         f"{self.settings.smtp_host}:{self.settings.smtp_port}"
                                         " stayed busy")
                self._changed.wait(left)
            self._open += 1
        for i in stale:
            _quit(i.smtp)
        try:
            return self._connect(), False
        except BaseException:
            self._forget()
            raise

    def give_back(self, smtp: smtplib.SMTP, *, reset: bool = False) -> None:
        """Back to the idle ones; `reset`: a transaction may be open (RSET it first)."""
        if reset:
            try:
                smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.discard(smtp)
                return
        with self._changed:
            self._idle.append(_Idle(smtp, time.monotonic()))
            self._changed.notify()
            if self._reaper is None or not self._reaper.is_alive():
                self._reaper = threading.Thread(target=self._reap, name="tocsin-smtp-reaper",
                                                daemon=True)
                self._reaper.start()

    def discard(self, smtp: smtplib.SMTP) -> None:
        """Close a connection in an unknown state (after a network error)."""
        smtp.close()
        self._forget()

    def close_idle(self) -> int:
        """Close every idle connection (QUIT); returns how many."""
        with self._changed:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._changed.notify_all()
        for i in idle:
            _quit(i.smtp)
        return len(idle)

    # ---- inside ------------------------------------------------------------------------------

    def _forget(self) -> None:
        with self._changed:
            self._open -= 1
            self._changed.notify()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            # A message's final dot is written on its own after the rest (sender.py); with
            # Nagle's algorithm it would wait for the ACK of the rest, which the server's
            # delayed ACK holds back up to 40 ms.
            if smtp.sock is not None and smtp.sock.family in (socket.AF_INET, socket.AF_INET6):
                smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo_or_helo_if_needed()
            if s.smtp_starttls:
                smtp.starttls()
                smtp.ehlo_or_helo_if_needed()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
        except BaseException:
            smtp.close()
            raise
        with self._changed:
            self.opened += 1
        return smtp

    def _reap(self) -> None:
        """Close connections idle for `idle_seconds`; ends when none is idle."""
        while True:
            with self._changed:
                if not self._idle:
                    return
                now = time.monotonic()
                old = [i for i in self._idle if now - i.since >= self.idle_seconds]
                self._idle = [i for i in self._idle if now - i.since < self.idle_seconds]
                self._open -= len(old)
                if old:
                    self._changed.notify_all()
                first = min((i.since for i in self._idle), default=now)
            for i in old:
                _quit(i.smtp)
            time.sleep(max(0.05, first + self.idle_seconds - time.monotonic()))


def _quit(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.quit()
    smtp.close()


def pool_for(settings: Settings) -> SmtpPool:
    """This process's pool for the server and login `settings` name (a forked child makes
    its own: the parent's sockets are not its to use)."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    key = (os.getpid(), settings.smtp_host, settings.smtp_port, settings.smtp_starttls,
           settings.smtp_username, password, settings.smtp_timeout_seconds,
           settings.smtp_connections, settings.smtp_idle_seconds)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = SmtpPool(settings)
        return pool


def close_all() -> int:
    """Close the idle connections of every pool (a worker stopping); returns how many."""
    with _pools_lock:
        pools = list(_pools.values())
    return sum(p.close_idle() for p in pools)


_pools: dict[tuple[object, ...], SmtpPool] = {}
_pools_lock = threading.Lock()
