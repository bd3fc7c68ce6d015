"""Child processes kept running: started, restarted when one exits, stopped together.

`tocsin serve` keeps its worker processes this way (server.py, `serve_processes = "split"`),
and the worker its check runner processes (checks/processes.py). Children are spawned, not
forked: their parents have threads and open database connections. A child must also stop
by itself when its parent is gone, since a kill -9 of the parent announces nothing; how it
notices is the child's own business (its parent's pid changes, its pipe reads end-of-file).
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any, Generic, TypeVar


def spawn(target: Callable[..., object], args: tuple[Any, ...], *, name: str,
          daemon: bool = False) -> BaseProcess:
    """A started child process running `target(*args)` in a fresh interpreter."""
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, name=name,
                                                           daemon=daemon)
    process.start()
    return process


@dataclass
class Child:
    """One supervised process. Subclasses keep their link to it (a pipe) and say how it is
    asked to stop and what is collected from it."""

    process: BaseProcess

    def ask_to_stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()  # SIGTERM: the child finishes what it is doing and exits

    def collect(self) -> None:
        """Take in what the child sent; called while waiting for it to exit, and once it has
        exited. A child blocked writing to a full pipe could not exit otherwise."""

    def close(self) -> None:
        """Release the parent's side once the process has exited."""


Slot = TypeVar("Slot")
C = TypeVar("C", bound=Child)


class Supervisor(Generic[Slot, C]):
    """One child per slot, made by `start(slot)`. `ensure()` starts the missing and exited
    ones (an exit is logged as a warning with its exit code); `stop()` stops them all.
    `name(slot, child)` names a child in the log."""

    def __init__(self, slots: Iterable[Slot], start: Callable[[Slot], C], *,
                 name: Callable[[Slot, C], str], log: logging.Logger) -> None:
        self._start = start
        self._name = name
        self._log = log
        self._children: dict[Slot, C | None] = dict.fromkeys(slots)
        self.restarts = 0

    @property
    def children(self) -> list[C]:
        """The current children, alive or not, in slot order."""
        return [child for child in self._children.values() if child is not None]

    @property
    def pids(self) -> dict[Slot, int]:
        return {slot: child.process.pid for slot, child in self._children.items()
                if child is not None and child.process.pid}

    @property
    def alive(self) -> bool:
        return all(child is not None and child.process.is_alive()
                   for child in self._children.values())

    def ensure(self) -> int:
        """Start the children that are missing or have exited; returns how many started."""
        started = 0
        for slot, child in list(self._children.items()):
            if child is not None and child.process.is_alive():
                continue
            if child is not None:
                child.collect()
                self._log.warning("%s exited with %s; restarting", self._name(slot, child),
                                  child.process.exitcode)
                child.close()
                self.restarts += 1
            self._children[slot] = self._start(slot)
            started += 1
        return started

    def supervise(self, stop: threading.Event, every: float) -> None:
        """Restart children that exit, checking every `every` seconds until `stop`."""
        while not stop.wait(every):
            self.ensure()

    def stop(self, timeout: float = 15.0) -> None:
        """Ask every child to stop, wait up to `timeout` for them all, kill what remains."""
        children = [(slot, child) for slot, child in self._children.items() if child is not None]
        for _slot, child in children:
            child.ask_to_stop()
        deadline = time.monotonic() + timeout
        for slot, child in children:
            while child.process.is_alive() and time.monotonic() < deadline:
                child.collect()
                child.process.join(0.05)
            child.collect()
            if child.process.is_alive():
                self._log.warning("%s did not stop; killing it", self._name(slot, child))
                child.process.kill()
                child.process.join(5)
            child.close()
