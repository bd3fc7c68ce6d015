"""Waking workers in other processes when work commits, on SQLite.

On PostgreSQL a transaction that writes inbox rows or outgoing messages issues a NOTIFY and
workers LISTEN (db/wakeup.py, which also rings this doorbell). SQLite has nothing of the
kind, so when the API and the workers run as separate processes on one SQLite file (`tocsin
serve` does this by default, server.py), each listening worker binds a Unix datagram socket
and registers it in a directory next to the database (`<database>-wake/`, one empty file
per listener, named by its process id). A process that commits work sends a one-byte
datagram to every registered listener: `INBOX` (inbox rows: triage has work) or `OUTBOX`
(messages to send). A ring costs one `sendto` per listener and never blocks: a listener
whose buffer is full already has a wake-up waiting, and one that went away is dropped from
the directory. Without a ring a worker still wakes every poll interval, so a lost datagram
delays work, never loses it.

The sockets live in Linux's abstract namespace (no socket file, so no path length limit and
nothing to clean up after a crash but the registry entry); elsewhere there is no doorbell
and workers in separate processes rely on their poll interval.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("tocsin.engine")

INBOX = b"i"
OUTBOX = b"m"
# How long a ringer trusts its list of listeners before reading the directory again.
PEERS_TTL = 1.0


def supported() -> bool:
    return sys.platform.startswith("linux")


class Doorbell:
    """The doorbell of one SQLite database file (see the module docstring)."""

    def __init__(self, database_path: str) -> None:
        resolved = str(Path(database_path).resolve())
        self.registry = Path(resolved + "-wake")
        self._prefix = b"\0tocsin-wake-" + hashlib.sha1(resolved.encode()).hexdigest()[:16].encode()
        self._sender: socket.socket | None = None
        self._peers: list[tuple[int, bytes]] = []
        self._peers_read = -PEERS_TTL
        self._lock = threading.Lock()

    def _address(self, pid: int) -> bytes:
        return self._prefix + b"-" + str(pid).encode()

    def _listeners(self) -> list[tuple[int, bytes]]:
        now = time.monotonic()
        if now - self._peers_read >= PEERS_TTL:
            self._peers_read = now
            try:
                names = os.listdir(self.registry)
            except FileNotFoundError:
                names = []
            me = os.getpid()
            self._peers = [(int(n), self._address(int(n))) for n in names
                           if n.isdigit() and int(n) != me]
        return self._peers

    def ring(self, what: bytes) -> None:
        """Tell every other listening process that `what` committed. Never blocks."""
        with self._lock:
            peers = self._listeners()
            if not peers:
                return
            if self._sender is None:
                self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._sender.setblocking(False)
            for pid, address in peers:
                try:
                    self._sender.sendto(what, address)
                except BlockingIOError:
                    pass  # its buffer is full: it has wake-ups waiting already
                except OSError as exc:
                    if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
                        self._forget(pid)
                    else:
                        log.debug("doorbell ring to %s failed: %s", pid, exc)

    def _forget(self, pid: int) -> None:
        """A registered listener that is gone (crashed): drop its entry."""
        self._peers = [(p, a) for p, a in self._peers if p != pid]
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            with contextlib.suppress(FileNotFoundError):
                (self.registry / str(pid)).unlink()
        except PermissionError:
            pass

    def listen(self, on_ring: Callable[[bytes], None],
               stop: threading.Event) -> threading.Thread:
        """Bind this process's socket, register it, and call `on_ring(what)` for each ring
        in a daemon thread until `stop`; the registration is removed on the way out."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(self._address(os.getpid()))
        sock.settimeout(0.5)  # to notice `stop`
        self.registry.mkdir(exist_ok=True)
        entry = self.registry / str(os.getpid())
        entry.touch()

        def run() -> None:
            try:
                while not stop.is_set():
                    try:
                        data = sock.recv(64)
                    except TimeoutError:
                        continue
                    except OSError as exc:
                        log.warning("doorbell stopped listening: %s", exc)
                        return
                    # Several rings may be waiting: one wake-up answers them all.
                    sock.setblocking(False)
                    with contextlib.suppress(BlockingIOError):
                        while more := sock.recv(64):
                            data += more
                    sock.settimeout(0.5)
                    for what in (INBOX, OUTBOX):
                        if what in data:
                            on_ring(what)
            finally:
                sock.close()
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()

        thread = threading.Thread(target=run, name="tocsin-doorbell", daemon=True)
        thread.start()
        return thread


def for_database(url: str) -> Doorbell | None:
    """The doorbell of a SQLite database file; None for other databases, in-memory SQLite
    and systems without abstract Unix sockets."""
    if not url.startswith("sqlite") or not supported():
        return None
    path = url.split("///", 1)[1] if "///" in url else ""
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Doorbell(path)
