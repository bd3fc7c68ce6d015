"""The process supervisor: children are started per slot, one that exits is restarted (and
logged with its exit code), and stop asks each child to stop and kills one that does not."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tocsin.engine.supervisor import Child, Supervisor, spawn

WAIT = 60.0  # generous: a deadline for a condition, not a timing assertion


def sleep_a_minute(_ready: Path | None) -> None:
    time.sleep(60)


def ignore_sigterm(ready: Path) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.touch()
    time.sleep(60)


def supervisor(target: Callable[[Path], None] = sleep_a_minute,
               ready: Path | None = None) -> Supervisor[str, Child]:
    def start(slot: str) -> Child:
        return Child(spawn(target, (ready and ready / slot,), name=f"test-{slot}", daemon=True))

    return Supervisor(["a", "b"], start, log=logging.getLogger("tests.supervisor"),
                      name=lambda slot, child: f"child {slot} (process {child.process.pid})")


def test_an_exited_child_is_restarted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    children = supervisor()
    try:
        assert children.ensure() == 2 and children.alive and children.restarts == 0
        assert children.ensure() == 0
        victim = children.pids["a"]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + WAIT
        while children.alive:
            assert time.monotonic() < deadline, "the child did not die"
            time.sleep(0.05)
        with caplog.at_level(logging.WARNING, "tests.supervisor"):
            assert children.ensure() == 1
        assert children.restarts == 1 and children.alive
        assert children.pids["a"] != victim
        assert f"child a (process {victim}) exited with -9; restarting" in caplog.text
    finally:
        children.stop()
    assert not any(child.process.is_alive() for child in children.children)


def test_stop_kills_a_child_that_ignores_sigterm(caplog: pytest.LogCaptureFixture,
                                                 tmp_path: Path) -> None:
    children = supervisor(ignore_sigterm, tmp_path)
    children.ensure()
    deadline = time.monotonic() + WAIT
    while not ((tmp_path / "a").exists() and (tmp_path / "b").exists()):
        assert time.monotonic() < deadline, "the children did not start"
        time.sleep(0.05)
    with caplog.at_level(logging.WARNING, "tests.supervisor"):
        children.stop(timeout=0.5)
    assert not any(child.process.is_alive() for child in children.children)
    assert "did not stop; killing it" in caplog.text
