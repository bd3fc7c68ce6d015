"""A strict stand-in for Slack on loopback: the Web API methods Tocsin uses (checked against
Slack's published method reference: token type, required arguments, their types and limits,
the errors Slack answers), a Socket Mode websocket, and signed requests as Slack sends them.

Driven by the real slack_sdk (WebClient(base_url=...), SocketModeClient); a call Slack would
refuse is refused here too, and every call is recorded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

import websockets
from slack_sdk.signature import SignatureVerifier
from websockets.asyncio.server import ServerConnection, serve

BOT_TOKEN = "xoxb-1111-2222-standin"
APP_TOKEN = "xapp-1-A111-3333-standin"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER = "UBOT00001"
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
TS = re.compile(r"^\d{10}\.\d{6}$")


class Refuse(Exception):
    def __init__(self, error: str, status: int = 200, headers: dict[str, str] | None = None):
        super().__init__(error)
        self.error, self.status, self.headers = error, status, headers or {}


# Slack's method reference, for the methods used: token kind, required and optional
# arguments with their types ("str", "bool", "int", "json": an object or list).
METHODS: dict[str, dict[str, Any]] = {
    "apps.connections.open": {"token": "app", "required": {}, "optional": {}},
    "chat.postMessage": {"token": "bot", "required": {"channel": "str"},
                         "optional": {"text": "str", "blocks": "json", "attachments": "json",
                                      "thread_ts": "str", "mrkdwn": "bool",
                                      "unfurl_links": "bool"}},
    "chat.postEphemeral": {"token": "bot", "required": {"channel": "str", "user": "str"},
                           "optional": {"text": "str", "blocks": "json"}},
    "chat.update": {"token": "bot", "required": {"channel": "str", "ts": "str"},
                    "optional": {"text": "str", "blocks": "json", "attachments": "json"}},
    "conversations.create": {"token": "bot", "required": {"name": "str"},
                             "optional": {"is_private": "bool", "team_id": "str"}},
    "conversations.setTopic": {"token": "bot", "required": {"channel": "str", "topic": "str"},
                               "optional": {}},
    "conversations.invite": {"token": "bot", "required": {"channel": "str", "users": "str"},
                             "optional": {"force": "bool"}},
    "conversations.history": {"token": "bot", "required": {"channel": "str"},
                              "optional": {"latest": "str", "oldest": "str",
                                           "inclusive": "bool", "limit": "int",
                                           "cursor": "str"}},
    "pins.add": {"token": "bot", "required": {"channel": "str", "timestamp": "str"},
                 "optional": {}},
    "views.open": {"token": "bot", "required": {"view": "json"},
                   "optional": {"trigger_id": "str", "interactivity_pointer": "str"}},
    "users.info": {"token": "bot", "required": {"user": "str"},
                   "optional": {"include_locale": "bool"}},
    "users.lookupByEmail": {"token": "bot", "required": {"email": "str"}, "optional": {}},
}


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    topic: str = ""
    members: set[str] = field(default_factory=lambda: {BOT_USER})
    messages: list[dict[str, Any]] = field(default_factory=list)
    pins: list[str] = field(default_factory=list)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    ok: bool
    error: str = ""


class Slack:
    """The workspace: users, channels, messages, the views opened, and every call."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, float] = {}
        # Slack's: a trigger_id works once, within 3 s of the action that made it. The flow
        # tests give more (conftest.py): they test what happens, not this machine's speed
        # under a loaded suite (the answer's time is bench/chatops.py's).
        self.trigger_seconds = 3.0
        self.calls: list[Call] = []
        self.ids = itertools.count(1001)
        self.ts_clock = itertools.count(1)
        self.fail_next: dict[str, list[Refuse]] = {}
        self.down = False
        self.base_url = ""
        self.ws_url = ""
        self.team_id = "T0STANDIN"

    # ---- fixtures ---------------------------------------------------------------------

    def add_user(self, email: str, *, confirmed: bool = True, name: str = "") -> str:
        uid = f"U{next(self.ids)}"
        self.users[uid] = {"id": uid, "name": name or email.split("@")[0],
                           "is_email_confirmed": confirmed,
                           "profile": {"email": email}}
        return uid

    def add_channel(self, name: str) -> str:
        cid = f"C{next(self.ids)}"
        self.channels[cid] = Channel(cid, name, False)
        return cid

    def trigger(self) -> str:
        trigger_id = f"{next(self.ids)}.{next(self.ids)}.{uuid.uuid4().hex[:12]}"
        self.triggers[trigger_id] = time.monotonic()
        return trigger_id

    def ok_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok]

    def channel_named(self, prefix: str) -> Channel:
        found = [c for c in self.channels.values() if c.name.startswith(prefix)]
        assert len(found) == 1, f"channels named {prefix}*: {[c.name for c in found]}"
        return found[0]

    # ---- the methods ------------------------------------------------------------------

    def call(self, method: str, token: str, args: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            try:
                result = self._call(method, token, args)
            except Refuse as refused:
                self.calls.append(Call(method, args, False, refused.error))
                raise
            self.calls.append(Call(method, args, True))
            return result

    def _call(self, method: str, token: str, args: dict[str, Any]) -> dict[str, Any]:
        if self.down:
            raise Refuse("service_unavailable", status=503)
        spec = METHODS.get(method)
        if spec is None:
            raise Refuse("unknown_method")
        if not token:
            raise Refuse("not_authed")
        expected = APP_TOKEN if spec["token"] == "app" else BOT_TOKEN
        if token != expected:
            raise Refuse("not_allowed_token_type" if token in {APP_TOKEN, BOT_TOKEN}
                         else "invalid_auth")
        queued = self.fail_next.get(method)
        if queued:
            raise queued.pop(0)
        args = _typed(method, spec, args)
        return getattr(self, "_" + method.replace(".", "_"))(args)

    def _ts(self) -> str:
        return f"{1765000000 + next(self.ts_clock):010d}.{next(self.ts_clock):06d}"

    def _member_channel(self, cid: str) -> Channel:
        channel = self.channels.get(cid)
        if channel is None or not CHANNEL_ID.match(cid):
            raise Refuse("channel_not_found")
        if BOT_USER not in channel.members:
            raise Refuse("not_in_channel")
        return channel

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.ws_url}

    def _check_blocks(self, args: dict[str, Any]) -> None:
        blocks = args.get("blocks")
        if blocks is None:
            if not str(args.get("text") or "").strip() and not args.get("attachments"):
                raise Refuse("no_text")
            return
        if not isinstance(blocks, list) or not 0 < len(blocks) <= 50:
            raise Refuse("invalid_blocks")
        for block in blocks:
            _check_block(block, modal=False)

    def _chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args["channel"])
        self._check_blocks(args)
        if len(str(args.get("text") or "")) > 40000:
            raise Refuse("msg_too_long")
        message = {"type": "message", "ts": self._ts(), "user": BOT_USER, "bot_id": "BSTANDIN",
                   "text": args.get("text", ""), "blocks": args.get("blocks")}
        channel.messages.append(message)
        return {"channel": channel.id, "ts": message["ts"], "message": message}

    def _chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args["channel"])
        if args["user"] not in self.users:
            raise Refuse("user_not_found")
        self._check_blocks(args)
        return {"message_ts": self._ts(), "channel": channel.id}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args["channel"])
        self._check_blocks(args)
        for message in channel.messages:
            if message["ts"] == args["ts"]:
                if message.get("user") != BOT_USER:
                    raise Refuse("cant_update_message")
                message.update(text=args.get("text", message["text"]),
                               blocks=args.get("blocks", message.get("blocks")))
                return {"channel": channel.id, "ts": message["ts"], "text": message["text"]}
        raise Refuse("message_not_found")

    def _conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = args["name"]
        if not NAME.match(name):
            raise Refuse("invalid_name_specials" if len(name) <= 80 else "invalid_name_maxlength")
        if any(c.name == name for c in self.channels.values()):
            raise Refuse("name_taken")
        cid = f"{'G' if args.get('is_private') else 'C'}{next(self.ids)}"
        self.channels[cid] = Channel(cid, name, bool(args.get("is_private")))
        return {"channel": {"id": cid, "name": name,
                            "is_private": bool(args.get("is_private"))}}

    def _conversations_setTopic(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args["channel"])
        if len(args["topic"]) > 250:
            raise Refuse("too_long")
        channel.topic = args["topic"]
        return {"channel": {"id": channel.id, "topic": {"value": channel.topic}}}

    def _conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args["channel"])
        users = [u for u in args["users"].split(",") if u]
        if not users or len(users) > 1000:
            raise Refuse("no_user" if not users else "too_many_users")
        for uid in users:
            if uid == BOT_USER:
                raise Refuse("cant_invite_self")
            if not USER_ID.match(uid) or uid not in self.users:
                raise Refuse("user_not_found")
        if all(u in channel.members for u in users):
            raise Refuse("already_in_channel")
        channel.members.update(users)
        return {"channel": {"id": channel.id}}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args["channel"])
        latest = args.get("latest")
        found = [m for m in channel.messages
                 if latest is None or m["ts"] < latest
                 or (args.get("inclusive") and m["ts"] == latest)]
        found.sort(key=lambda m: m["ts"], reverse=True)
        return {"messages": found[: int(args.get("limit") or 100)], "has_more": False}

    def _pins_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._member_channel(args["channel"])
        if not any(m["ts"] == args["timestamp"] for m in channel.messages):
            raise Refuse("message_not_found")
        if args["timestamp"] in channel.pins:
            raise Refuse("already_pinned")
        channel.pins.append(args["timestamp"])
        return {}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger_id = args.get("trigger_id")
        if not trigger_id and not args.get("interactivity_pointer"):
            raise Refuse("invalid_arguments")
        issued = self.triggers.pop(trigger_id or "", None)
        if issued is None:
            raise Refuse("invalid_trigger_id")
        if time.monotonic() - issued > self.trigger_seconds:
            raise Refuse("expired_trigger_id")
        view = args["view"]
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise Refuse("invalid_arguments")
        title = view.get("title") or {}
        if title.get("type") != "plain_text" or not 0 < len(title.get("text", "")) <= 24:
            raise Refuse("invalid_arguments")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or not 0 < len(blocks) <= 100:
            raise Refuse("invalid_arguments")
        for block in blocks:
            _check_block(block, modal=True)
        if any(b["type"] == "input" for b in blocks) and not view.get("submit"):
            raise Refuse("invalid_arguments")
        if len(str(view.get("private_metadata") or "")) > 3000:
            raise Refuse("invalid_arguments")
        view_id = f"V{next(self.ids)}"
        self.views[view_id] = {**view, "id": view_id}
        return {"view": self.views[view_id]}

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(args["user"])
        if user is None:
            raise Refuse("user_not_found")
        return {"user": user}

    def _users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        for user in self.users.values():
            if user["profile"]["email"].lower() == args["email"].lower():
                return {"user": user}
        raise Refuse("users_not_found")


def _typed(method: str, spec: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Arguments converted to their reference types; missing or mistyped ones refused."""
    allowed = {**spec["required"], **spec["optional"]}
    out: dict[str, Any] = {}
    for name in spec["required"]:
        if name not in args or args[name] in (None, ""):
            raise Refuse("invalid_arguments" if name == "view" else
                         {"channel": "channel_not_found", "text": "no_text",
                          "users": "no_user"}.get(name, "invalid_arguments"))
    for name, value in args.items():
        kind = allowed.get(name)
        if kind is None:
            raise Refuse("invalid_arguments")  # an argument the method does not take
        out[name] = _convert(kind, value)
    return out


def _convert(kind: str, value: Any) -> Any:
    if kind == "str":
        if not isinstance(value, str):
            raise Refuse("invalid_arguments")
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in {"true", "1"}:
            return True
        if str(value).lower() in {"false", "0"}:
            return False
        raise Refuse("invalid_arguments")
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise Refuse("invalid_arguments") from exc
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as exc:
            raise Refuse("invalid_arguments") from exc
    return value


BLOCK_TYPES = {"section", "actions", "context", "header", "divider", "input", "image"}


def _check_block(block: Any, *, modal: bool) -> None:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        raise Refuse("invalid_blocks")
    kind = block["type"]
    if kind == "input" and not modal:
        raise Refuse("invalid_blocks")
    if kind == "header" and (block.get("text") or {}).get("type") != "plain_text":
        raise Refuse("invalid_blocks")
    text = block.get("text") or {}
    if len(str(text.get("text") or "")) > (150 if kind == "header" else 3000):
        raise Refuse("invalid_blocks")
    if kind == "section" and not text and not block.get("fields"):
        raise Refuse("invalid_blocks")
    if len(block.get("fields") or []) > 10:
        raise Refuse("invalid_blocks")
    if kind == "actions":
        elements = block.get("elements") or []
        if not 0 < len(elements) <= 25:
            raise Refuse("invalid_blocks")
        ids = [e.get("action_id") for e in elements]
        if len(ids) != len(set(ids)):
            raise Refuse("invalid_blocks")
        for element in elements:
            if element.get("type") == "button":
                label = (element.get("text") or {}).get("text", "")
                if not 0 < len(label) <= 75 or len(str(element.get("value", ""))) > 2000:
                    raise Refuse("invalid_blocks")
                if element.get("style") not in {None, "primary", "danger"}:
                    raise Refuse("invalid_blocks")
    if kind == "input":
        element = block.get("element") or {}
        if not block.get("label") or not element.get("type"):
            raise Refuse("invalid_blocks")
        for option in element.get("options") or []:
            if len(option["text"]["text"]) > 75 or \
                    len((option.get("description") or {}).get("text", "")) > 75:
                raise Refuse("invalid_blocks")


# ---- the HTTP side -------------------------------------------------------------------------

def _handler(slack: Slack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            url = urlparse(self.path)
            if not url.path.startswith("/api/"):
                self.send_error(404)
                return
            method = url.path[len("/api/"):]
            args: dict[str, Any] = dict(parse_qsl(url.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kind = self.headers.get("Content-Type", "")
            if raw and kind.startswith("application/json"):
                args.update(json.loads(raw))
            elif raw:
                args.update(dict(parse_qsl(raw.decode())))
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
            token = token or str(args.pop("token", ""))
            try:
                body, status, headers = {"ok": True, **slack.call(method, token, args)}, 200, {}
            except Refuse as refused:
                body, status, headers = ({"ok": False, "error": refused.error}, refused.status,
                                         refused.headers)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    return Handler


# ---- Socket Mode ---------------------------------------------------------------------------

class SocketSide:
    """The websocket Slack keeps with a Socket Mode app: sends envelopes, collects acks."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.connections: list[ServerConnection] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.acked = threading.Condition()
        self.port = 0
        self.stopped: asyncio.Future[None] | None = None

    async def _session(self, connection: ServerConnection) -> None:
        self.connections.append(connection)
        await connection.send(json.dumps({"type": "hello", "num_connections": 1,
                                          "connection_info": {"app_id": "A111"}}))
        try:
            async for raw in connection:
                ack = json.loads(raw)
                if "envelope_id" not in ack:
                    continue
                with self.acked:
                    self.acks[ack["envelope_id"]] = ack
                    self.acked.notify_all()
        except websockets.ConnectionClosed:
            pass  # the app went away (closed, or reconnecting)

    def start(self) -> None:
        started = threading.Event()

        async def main() -> None:
            async with serve(self._session, "127.0.0.1", 0) as server:
                self.port = next(iter(server.sockets)).getsockname()[1]
                self.stopped = asyncio.get_running_loop().create_future()
                started.set()
                await self.stopped

        threading.Thread(target=self.loop.run_until_complete, args=(main(),),
                         daemon=True).start()
        assert started.wait(10)

    def stop(self) -> None:
        stopped = self.stopped
        if stopped is not None:
            self.loop.call_soon_threadsafe(lambda: stopped.done() or stopped.set_result(None))

    def connected(self, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.connections:
                return True
            time.sleep(0.05)
        return False

    def send(self, kind: str, payload: dict[str, Any], timeout: float = 30) -> dict[str, Any]:
        """Push one envelope and wait for the app's acknowledgement (returned)."""
        envelope_id = str(uuid.uuid4())
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api", "retry_attempt": 0,
                    "retry_reason": ""}
        connection = self.connections[-1]
        asyncio.run_coroutine_threadsafe(connection.send(json.dumps(envelope)),
                                         self.loop).result(10)
        with self.acked:
            assert self.acked.wait_for(lambda: envelope_id in self.acks, timeout), \
                f"no ack for {kind}"
            return self.acks[envelope_id]


def wait_for(condition: Callable[[], object], timeout: float = 20) -> None:
    """Until `condition()` is true: what the app sends right after its ack arrives after it."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


@contextmanager
def slack_standin() -> Iterator[tuple[Slack, SocketSide]]:
    slack = Slack()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(slack))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    slack.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    socket_side = SocketSide()
    socket_side.start()
    slack.ws_url = f"ws://127.0.0.1:{socket_side.port}/link/?ticket=standin"
    try:
        yield slack, socket_side
    finally:
        server.shutdown()
        server.server_close()
        socket_side.stop()


# ---- requests as Slack sends them -----------------------------------------------------------

def signed(body: bytes, *, now: float, secret: str = SIGNING_SECRET,
           retry: int | None = None) -> dict[str, str]:
    """Slack's headers for `body`, signed with the real SignatureVerifier's scheme."""
    timestamp = str(int(now))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    headers = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature or ""}
    if retry is not None:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    return headers


def command_form(slack: Slack, *, text: str, user: str, channel: str) -> dict[str, str]:
    return {"token": "deprecated-verification-token", "team_id": slack.team_id,
            "team_domain": "standin", "channel_id": channel, "channel_name": "somewhere",
            "user_id": user, "user_name": slack.users.get(user, {}).get("name", "someone"),
            "command": "/incident", "text": text, "api_app_id": "A111",
            "is_enterprise_install": "false",
            "response_url": "https://hooks.slack.com/commands/T0/1/x",
            "trigger_id": slack.trigger()}


def encode_form(form: dict[str, str]) -> bytes:
    return urlencode(form).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def submission(slack: Slack, *, view_id: str, user: str, values: dict[str, Any]
               ) -> dict[str, Any]:
    """A view_submission for an opened view, its inputs filled as a person would."""
    view = slack.views[view_id]
    state: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        block_id, action_id, value = block["block_id"], element["action_id"], values.get(
            block["block_id"])
        if element["type"] == "plain_text_input":
            state[block_id] = {action_id: {"type": "plain_text_input", "value": value}}
        elif element["type"] == "static_select":
            chosen = next((o for o in element["options"] if o["value"] == value), None)
            state[block_id] = {action_id: {"type": "static_select",
                                           "selected_option": chosen}}
        elif element["type"] == "checkboxes":
            state[block_id] = {action_id: {"type": "checkboxes", "selected_options":
                                           element["options"] if value else []}}
    return {"type": "view_submission", "team": {"id": slack.team_id},
            "user": {"id": user, "name": slack.users[user]["name"]}, "api_app_id": "A111",
            "trigger_id": slack.trigger(),
            "view": {**view, "state": {"values": state}, "hash": "h1"}}


def button_press(slack: Slack, *, user: str, channel: str, ts: str, action_id: str,
                 value: str) -> dict[str, Any]:
    return {"type": "block_actions", "team": {"id": slack.team_id},
            "user": {"id": user, "name": slack.users[user]["name"]},
            "api_app_id": "A111", "trigger_id": slack.trigger(),
            "container": {"type": "message", "message_ts": ts, "channel_id": channel},
            "channel": {"id": channel}, "message": {"ts": ts},
            "actions": [{"type": "button", "action_id": action_id, "value": value,
                         "block_id": "b", "action_ts": "1.2"}]}


def event_body(slack: Slack, event: dict[str, Any]) -> dict[str, Any]:
    return {"token": "x", "team_id": slack.team_id, "api_app_id": "A111",
            "type": "event_callback", "event_id": f"Ev{uuid.uuid4().hex[:10].upper()}",
            "event_time": int(time.time()), "event": event}


