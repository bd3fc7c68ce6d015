"""The cyclic garbage collector is off while a metrics answer is computed and back on when
the last one running ends; left off when it was off before; back on after an error."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from tocsin.analytics import collector


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_off_during_an_answer_and_on_after_it() -> None:
    with collector.paused():
        assert not gc.isenabled()
        with collector.paused():  # an answer made of answers (the metrics page)
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_on_after_an_error() -> None:
    with pytest.raises(RuntimeError), collector.paused():
        raise RuntimeError("failed answer")
    assert gc.isenabled()


def test_left_off_when_it_was_off_before() -> None:
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


def test_on_only_when_the_last_of_two_threads_ends() -> None:
    inside, release = threading.Event(), threading.Event()

    def answer() -> None:
        with collector.paused():
            inside.set()
            release.wait(5)

    other = threading.Thread(target=answer)
    other.start()
    assert inside.wait(5)
    with collector.paused():
        pass
    assert not gc.isenabled()  # the other thread's answer still runs
    release.set()
    other.join(5)
    assert gc.isenabled()


@collector.paused()
def _decorated() -> bool:
    return gc.isenabled()


def test_works_as_a_decorator() -> None:
    assert _decorated() is False and gc.isenabled()
