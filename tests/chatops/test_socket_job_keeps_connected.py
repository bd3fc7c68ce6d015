"""The `chatops.socket` job: in its lane it connects with the app token and stays connected;
the worker's stop closes it; outside a lane it does nothing."""

from __future__ import annotations

from tests.chatops.slack_standin import Slack, SocketSide
from tocsin.chatops.socket import KeepConnected
from tocsin.engine.worker import JobContext
from tocsin.runtime import Runtime


def test_lane_job_connects_once_and_closes_on_stop(runtime: Runtime,
                                                   standin: tuple[Slack, SocketSide]) -> None:
    slack, socket_side = standin
    job = KeepConnected()
    assert job(JobContext(runtime=runtime, worker_id="w", handlers={})) == 0
    assert not slack.ok_calls("apps.connections.open")  # not in a lane: nothing started
    ctx = JobContext(runtime=runtime, worker_id="w", handlers={}, in_lane=True)
    job(ctx)
    assert socket_side.connected()
    job(ctx)  # still connected: no second connection
    assert len(slack.ok_calls("apps.connections.open")) == 1
    KeepConnected.finish(ctx)
    assert getattr(ctx.kept, "closed", False)
