"""The cyclic garbage collector held off while a metrics answer is computed.

An answer builds tens of thousands of small objects (facts, verdicts, pages) that live until
it is sent, and the facts cache (queries.py) keeps many more for good. Each allocation burst
made CPython run collections that walked every one of them again - the largest share of the
gap between the answers' median and p99 time. None of these objects form cycles (plain
values and frozen dataclasses), so reference counting frees them: no memory waits for the
collector. Collections resume, as before, when the last computation running ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Process-wide, as the collector is: computations in several threads share one pause.
_LOCK = threading.Lock()
_state = {"running": 0, "was_enabled": False}


@contextmanager
def paused() -> Iterator[None]:
    """Automatic collection off from the first computation running to the last one's end
    (left off if it was off before)."""
    with _LOCK:
        if _state["running"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["running"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _state["running"] -= 1
            if _state["running"] == 0 and _state["was_enabled"]:
                gc.enable()
