"""Slack Socket Mode: the same requests as the HTTP request URLs, over a websocket that
Tocsin opens to Slack (slack_sdk's SocketModeClient), so a server behind a firewall needs no
public address. Each request is acknowledged with its answer, then its queued calls go."""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from tocsin.chatops import delivery
from tocsin.chatops.inbound import Inbound, Reply
from tocsin.chatops.ports import NO_STATUS_PAGE, StatusPagePort
from tocsin.engine.worker import JobContext
from tocsin.runtime import Runtime

log = logging.getLogger("tocsin.chatops.socket")


def handle(inbound: Inbound, kind: str, payload: dict[str, Any]) -> Reply:
    if kind == "slash_commands":
        return inbound.command({k: str(v) for k, v in payload.items()})
    if kind == "interactive":
        return inbound.interaction(payload)
    if kind == "events_api":
        return inbound.event(payload)
    return Reply()


def connect(rt: Runtime, *, status_pages: StatusPagePort = NO_STATUS_PAGE) -> SocketModeClient:
    """A connected client answering Slack's requests until `close()`."""
    settings = rt.settings
    if settings.slack_app_token is None:
        raise RuntimeError("Socket Mode needs TOCSIN_SLACK_APP_TOKEN (xapp-…)")
    inbound = Inbound(rt, status_pages)
    client = SocketModeClient(app_token=settings.slack_app_token.get_secret_value(),
                              web_client=delivery.web_client(settings),
                              auto_reconnect_enabled=True, ping_interval=10)

    def listener(socket: BaseSocketModeClient, request: SocketModeRequest) -> None:
        try:
            reply = handle(inbound, request.type, dict(request.payload or {}))
        except Exception:  # a request that fails is logged; the socket stays up
            log.exception("socket mode request %s failed", request.type)
            reply = Reply()
        socket.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload=reply.body))
        inbound.send_now(reply)

    client.socket_mode_request_listeners.append(listener)
    client.connect()
    return client


class KeepConnected:
    """The `chatops.socket` job, in its own lane: connect when an app token is set, and stay
    connected (the client reconnects by itself); closed when the worker stops. Outside a lane
    (a test driving run_cycle) it does nothing, as it could not finish what it starts."""

    def __init__(self, status_pages: StatusPagePort = NO_STATUS_PAGE) -> None:
        self.status_pages = status_pages

    def __call__(self, ctx: JobContext) -> int:
        if not ctx.in_lane or ctx.runtime.settings.slack_app_token is None:
            return 0
        client = ctx.kept
        if not isinstance(client, SocketModeClient) or client.closed:
            try:
                ctx.kept = connect(ctx.runtime, status_pages=self.status_pages)
            except Exception:  # Slack unreachable: try again at the next poll
                log.warning("socket mode: could not connect", exc_info=True)
        return 0

    @staticmethod
    def finish(ctx: JobContext) -> int:
        if isinstance(ctx.kept, SocketModeClient):
            ctx.kept.close()
        return 0


def socket_wake(rt: Runtime) -> threading.Event:
    return _signals.setdefault(id(rt), threading.Event())


_signals: dict[int, threading.Event] = {}
