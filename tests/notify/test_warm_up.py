"""The delivery job loads the senders when it first runs, so the first page a worker sends
does not wait for their imports (aiohttp: ~0.3 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tocsin.engine.worker import JobContext
from tocsin.notify import channels
from tocsin.notify import jobs as notify_jobs
from tocsin.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


def test_warm_up_imports_the_senders_and_starts_the_send_loop() -> None:
    code = (
        "import sys, threading\n"
        "from tocsin.notify import channels\n"
        "assert 'aiohttp' not in sys.modules, 'imported too early to tell'\n"
        "channels.warm_up()\n"
        "assert 'tocsin.notify.webhook.sender' in sys.modules and 'aiohttp' in sys.modules\n"
        "assert any(t.name == 'tocsin-send-loop' for t in threading.enumerate())\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_delivery_job_warms_up_once(runtime: Runtime,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(channels, "warm_up", lambda: calls.append(1))
    monkeypatch.setattr(notify_jobs, "_warm", False)
    ctx = JobContext(runtime, "test", {})
    assert notify_jobs.deliver(ctx) == 0 and notify_jobs.deliver(ctx) == 0
    assert calls == [1]
