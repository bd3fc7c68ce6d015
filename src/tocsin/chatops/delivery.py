"""Sending the chat outbox: claim due calls, complete their arguments from the incident as it
is now, keep to Slack's per-method limits, send with slack_sdk's WebClient, record.

Calls of one incident go in order (the channel exists before its topic is set). A 429's
`Retry-After` defers the call that long; a connection failure or a 5xx backs off and ends the
run (the platform is down: the other calls would only wait for their timeouts too). Nothing
here touches paging, which has its own outbox and process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.chatops import blocks, cards, service, tiers
from tocsin.chatops.models import (
    AlertMessage,
    CallStatus,
    ChatCall,
    IncidentChannel,
    Platform,
    StormMessage,
)
from tocsin.chatops.ports import NO_STATUS_PAGE, StatusPagePort
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.knownerrors import service as knownerrors
from tocsin.notify.links import ack_token
from tocsin.outbound import refused_message, url_refusal
from tocsin.runtime import Runtime
from tocsin.settings import Settings

log = logging.getLogger("tocsin.chatops")
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 12
WAIT = timedelta(seconds=2)  # a call waiting for an earlier one's result looks again after
# Slack's answers that mean "already so": the call did what it was for.
ALREADY = frozenset({"already_in_channel", "already_pinned", "cant_invite_self",
                     "already_reacted"})


class Skip(Exception):
    """Nothing to send any more (the channel never came, the message is gone)."""


class Wait(Exception):
    """An earlier call's result is needed first."""


def web_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    # No retry handlers: the outbox retries, with its own backoff and the platform's limits.
    return WebClient(token=token, base_url=settings.slack_api_url,
                     timeout=int(max(1, settings.chatops_call_timeout)), retry_handlers=[])


# ---- arguments, completed at send time ------------------------------------------------------

def _incident(session: Session, call: ChatCall) -> Incident:
    incident = session.get(Incident, call.incident_id) if call.incident_id else None
    if incident is None:
        raise Skip("the incident is gone")
    return incident


def _channel(session: Session, call: ChatCall) -> IncidentChannel:
    channel = session.get(IncidentChannel, call.incident_id)
    if channel is None:
        raise Skip("the incident has no channel")
    if channel.channel_id is None:
        creating = session.scalar(select(ChatCall.id).where(
            ChatCall.incident_id == call.incident_id, ChatCall.purpose == "channel.create",
            ChatCall.status.in_([CallStatus.PENDING.value, CallStatus.SENDING.value])))
        if creating is None:
            raise Skip("the incident channel could not be created")
        raise Wait()
    return channel


class SuggestBudget:
    """Time the chat lane may spend working out suggestions not recorded yet:
    `learning_page_suggestions_ms` per second of the lane's time, in a bucket holding one
    second's worth (as paging's delivery lane). Recorded suggestions are always read."""

    def __init__(self, settings: Settings) -> None:
        self.per_second = settings.learning_page_suggestions_ms / 1000
        self.credit, self.at = self.per_second, time.monotonic()

    def available(self) -> float:
        now = time.monotonic()
        self.credit = min(self.per_second, self.credit + (now - self.at) * self.per_second)
        self.at = now
        return max(0.0, self.credit)

    def spend(self, seconds: float) -> None:
        self.credit -= seconds


def hints(session: Session, incident: Incident, *, settings: Settings,
          budget: SuggestBudget | None) -> list[blocks.Hint]:
    """The known errors and similar past incidents the incident's first chat messages list
    (knownerrors.service.page_suggestions: recorded ones, else worked out read-only while
    `budget` lasts; restricted past incidents and drills never among them). Never fails a
    message: on any error it goes without them."""
    started = time.monotonic()
    try:
        with session.begin_nested():  # a failed read must not spoil the claim's transaction
            found = knownerrors.page_suggestions(
                session, [incident.id], budget=budget.available() if budget else 0.0
            ).get(incident.id, [])
    except Exception:
        log.exception("suggestions for the chat messages of incident %s failed; sent "
                      "without them", incident.id)
        found = []
    finally:
        if budget is not None:
            budget.spend(time.monotonic() - started)
    learn = f"{settings.public_url}/incidents/{incident.id}#learning"
    return [blocks.Hint(kind=h["kind"], title=h["title"], detail=h.get("detail", ""),
                        url=f"{settings.public_url}{h['path']}" if h.get("path") else learn)
            for h in found]


def arguments(session: Session, call: ChatCall, *, settings: Settings,
              status_pages: StatusPagePort, suggest: SuggestBudget | None = None
              ) -> dict[str, Any]:
    """The call's arguments as they go now; raises Wait or Skip. An alert message and the
    pinned summary list what the incident looks like (`hints`; `suggest` is the time that
    may go into working out those not recorded yet)."""
    purpose, args = call.purpose, dict(call.args)
    if purpose == "timeline.fetch":
        return {k: args[k] for k in ("channel", "latest", "inclusive", "limit")}
    if purpose in {"modal.open", "user.lookup", "user.info", "reply.post"}:
        return args
    if purpose in {"storm.post", "storm.update"}:
        return _storm(session, call, settings)
    incident = _incident(session, call)

    def view() -> blocks.IncidentView:
        return service.incident_view(session, incident, settings=settings,
                                     status_page=status_pages.link_for(
                                         session, incident, base_url=settings.public_url))

    if purpose == "channel.create":
        channel = session.get(IncidentChannel, incident.id)
        if channel is None or channel.channel_id is not None:
            raise Skip("nothing to create")
        name = blocks.channel_name(title=incident.title, declared_at=channel.created_at,
                                   suffix=str(args.get("suffix", "")), drill=incident.drill)
        return {"name": name, "is_private": channel.private}
    if call.platform != Platform.SLACK.value:
        return {"url": args["url"], "json": _webhook_body(session, call, view(), settings)}
    if purpose in {"alert.post", "alert.update"}:
        # A restricted incident posts no alert message (service._post_alerts); should one
        # be asked for, it lists nothing more than the incident itself.
        text, body = blocks.alert(view(), [] if incident.restricted else hints(
            session, incident, settings=settings, budget=suggest))
        target = _channel(session, call).channel_id if args.get("drill_channel") \
            else args["channel"]
        out = {"channel": target, "text": text, "blocks": body}
        return {**out, "ts": args["ts"]} if purpose == "alert.update" else out
    channel = _channel(session, call)
    cid = channel.channel_id
    if purpose == "channel.topic":
        return {"channel": cid, "topic": blocks.topic(view())}
    if purpose == "channel.invite":
        wanted = service.external_ids(session, service.channel_members(session, incident))
        new = [u for u in wanted if u not in set(channel.invited)]
        if not new:
            raise Skip("everyone is in the channel")
        return {"channel": cid, "users": ",".join(new)}
    if purpose in {"summary.post", "summary.update"}:
        # Shown in the channel of a restricted incident only when that channel is private.
        shown = not incident.restricted or channel.private
        text, body = blocks.summary(view(), hints(session, incident, settings=settings,
                                                  budget=suggest) if shown else [])
        if purpose == "summary.post":
            return {"channel": cid, "text": text, "blocks": body}
        if channel.summary_ts is None:
            raise Skip("no summary posted yet (it will show the incident as it is)")
        return {"channel": cid, "ts": channel.summary_ts, "text": text, "blocks": body}
    if purpose == "summary.pin":
        if channel.summary_ts is None:
            raise Wait()
        return {"channel": cid, "timestamp": channel.summary_ts}
    if purpose == "timeline.post":
        entry = service.timeline_entry(session, incident.id, str(args["kind"]),
                                       datetime.fromisoformat(str(args["at"])),
                                       int(args.get("nth", 0)))
        if entry is None:
            raise Skip("timeline entry not found")
        actor = service._name(session, entry.actor_id)
        return {"channel": cid, "text": blocks.event_line(kind=entry.kind, body=entry.body,
                                                          actor=actor)}
    raise Skip(f"unknown purpose {purpose}")


def _storm(session: Session, call: ChatCall, settings: Settings) -> dict[str, Any]:
    message = session.get(StormMessage, int(call.args["storm"]))
    if message is None:
        raise Skip("the storm message is gone")
    if call.purpose == "storm.update" and message.ts is None:
        posting = session.scalar(select(ChatCall.id).where(
            ChatCall.purpose == "storm.post", ChatCall.channel_id == message.channel_id,
            ChatCall.status.in_([CallStatus.PENDING.value, CallStatus.SENDING.value])))
        if posting is None:
            raise Skip("the storm message was never posted")
        raise Wait()
    text, body = blocks.storm_message(service.storm_view(session, message, settings=settings))
    out = {"channel": message.channel_id, "text": text, "blocks": body}
    return {**out, "ts": message.ts} if call.purpose == "storm.update" else out


def _webhook_body(session: Session, call: ChatCall, view: blocks.IncidentView,
                  settings: Settings) -> dict[str, Any]:
    secret = settings.secret()
    if call.platform == Platform.MATTERMOST.value:
        contexts = {action: {"action": action, "incident_id": view.id,
                             "sig": service.action_signature(secret, action=action,
                                                             incident_id=view.id)}
                    for action, _label in cards.MM_ACTIONS}
        return cards.mattermost_alert(
            view, contexts=contexts,
            action_url=f"{settings.public_url}/api/v1/inbound/mattermost/actions")
    incident = _incident(session, call)
    expires = incident.updated_at + timedelta(hours=settings.ack_link_hours)
    links = []
    for user_id in service.paged_users(session, incident.id):
        name = service._name(session, user_id) or f"user {user_id}"
        token = ack_token(secret, incident_id=incident.id, user_id=user_id, expires=expires)
        links.append((name, f"{settings.public_url}/ack/{token}"))
    return cards.teams_card(view, ack_links=links)


# ---- what an answer changes ------------------------------------------------------------------

def apply_result(session: Session, call: ChatCall, sent: dict[str, Any], answer: dict[str, Any],
                 now: datetime) -> None:
    purpose = call.purpose
    if purpose == "channel.create":
        channel = session.get(IncidentChannel, call.incident_id)
        if channel is not None:
            channel.channel_id = str(answer["channel"]["id"])
            channel.name = str(answer["channel"].get("name", channel.name))
    elif purpose == "channel.invite":
        channel = session.get(IncidentChannel, call.incident_id)
        if channel is not None:
            channel.invited = sorted({*channel.invited, *str(sent["users"]).split(",")})
    elif purpose == "summary.post":
        channel = session.get(IncidentChannel, call.incident_id)
        if channel is not None:
            channel.summary_ts = str(answer["ts"])
    elif purpose == "storm.post":
        message = session.get(StormMessage, int(call.args["storm"]))
        if message is not None:
            message.ts = str(answer["ts"])
    elif purpose == "alert.post" and call.incident_id is not None \
            and call.platform == Platform.SLACK.value:
        session.add(AlertMessage(incident_id=call.incident_id, platform=call.platform,
                                 channel_id=str(answer["channel"]), ts=str(answer["ts"]),
                                 created_at=now))
    elif purpose in {"user.lookup", "user.info"}:
        service.link_by_email(session, platform=Platform(call.platform),
                              chat_user=dict(answer.get("user") or {}), now=now)
    elif purpose == "timeline.fetch":
        messages = answer.get("messages") or []
        if messages:
            record_message(session, incident_id=int(call.args["incident_id"]),
                           message=dict(messages[0]), marked_by=str(call.args["marked_by"]),
                           channel_id=str(call.args["channel"]), now=now)


def record_message(session: Session, *, incident_id: int, message: dict[str, Any],
                   marked_by: str, channel_id: str, now: datetime) -> None:
    """A channel message marked for the timeline becomes a note, with its author."""
    incident = session.get(Incident, incident_id)
    if incident is None or not str(message.get("text") or "").strip():
        return
    author_id = str(message.get("user") or "")
    author = service.linked_user(session, platform=Platform.SLACK, external_id=author_id)
    marker = service.linked_user(session, platform=Platform.SLACK, external_id=marked_by)
    actor = service.principal_of(author) if author else (
        service.principal_of(marker) if marker else None)
    name = author.name if author else (f"<@{author_id}>" if author_id else "someone")
    incidents.append_event(
        session, incident, kind=lc.EventKind.NOTE, now=now, actor=actor,
        body=f"{name} in chat: {message['text']}",
        data={"source": service.FROM_CHAT, "channel": channel_id,
              "ts": str(message.get("ts") or ""), "author": author_id,
              "marked_by": marked_by})


# ---- the run -------------------------------------------------------------------------------

# Which due calls go first in a run: what a person waits for or acts on (answers, the
# declare form, alert messages), then what opens an incident's channel, then its timeline,
# then edits of summaries, topics and storm messages (each shows the newest state when it
# goes, so waiting costs it nothing).
PRIORITY: dict[str, int] = {"modal.open": 0, "reply.post": 0, "user.info": 0,
                            "alert.post": 1, "alert.update": 1, "storm.post": 1,
                            "channel.create": 2, "channel.invite": 2, "summary.post": 2,
                            "summary.pin": 2, "timeline.post": 3, "timeline.fetch": 3}


def _due_heads(session: Session, now: datetime, only: Sequence[int] | None) -> list[int]:
    """The first unfinished call of each incident on each platform (and every call of no
    incident), if due, most urgent first."""
    query = (select(ChatCall.id, ChatCall.incident_id, ChatCall.platform, ChatCall.due_at,
                    ChatCall.purpose)
             .where(ChatCall.status.in_([CallStatus.PENDING.value, CallStatus.SENDING.value]))
             .order_by(ChatCall.id).limit(500))
    heads: list[tuple[int, int]] = []
    blocked: set[tuple[int, str]] = set()
    for call_id, incident_id, platform, due_at, purpose in session.execute(query):
        if incident_id is not None:  # in order per incident and platform
            if (incident_id, platform) in blocked:
                continue
            blocked.add((incident_id, platform))
        if due_at <= now and (only is None or call_id in only):
            heads.append((PRIORITY.get(purpose, 4), call_id))
    return [call_id for _priority, call_id in sorted(heads)]


def _claim(session: Session, call_id: int, now: datetime) -> ChatCall | None:
    claimed = session.execute(
        update(ChatCall).where(ChatCall.id == call_id,
                               ChatCall.status.in_([CallStatus.PENDING.value,
                                                    CallStatus.SENDING.value]),
                               ChatCall.due_at <= now)
        .values(status=CallStatus.SENDING.value, due_at=now + LEASE))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return session.get(ChatCall, call_id, populate_existing=True)


def _allowed_at(session: Session, method: str, purpose: str, channel: str | None,
                now: datetime) -> datetime:
    limit = tiers.limit_of(method)
    query = select(ChatCall.sent_at).where(ChatCall.method == method,
                                           ChatCall.sent_at > now - limit.window)
    if limit.per_channel:
        query = query.where(ChatCall.channel_id == channel)
    recent = [t for t in session.scalars(query) if t is not None]
    allowed = tiers.next_allowed(method, recent, now)
    if purpose in tiers.SHARES:  # and within its share, counted among its own calls
        mine = [t for t in session.scalars(query.where(ChatCall.purpose == purpose))
                if t is not None]
        allowed = max(allowed, tiers.next_allowed(method, mine, now, purpose))
    return allowed


def _defer(call: ChatCall, due: datetime, error: str = "", *, attempt: bool = False) -> None:
    call.status = CallStatus.PENDING.value
    call.due_at = due
    call.last_error = error[:2000]
    if attempt:
        call.attempts += 1
        if call.attempts >= MAX_ATTEMPTS:
            call.status = CallStatus.FAILED.value


def _finish(call: ChatCall, status: CallStatus, error: str = "") -> None:
    call.status = status.value
    call.last_error = error[:2000]


def _prepare(rt: Runtime, call_id: int, status_pages: StatusPagePort,
             suggest: SuggestBudget | None = None) -> tuple[str, str, dict[str, Any]] | None:
    """Claim the call and complete its arguments (one transaction): what to send, or None."""
    now = rt.clock.now()
    with rt.sessions() as session, session.begin():
        call = _claim(session, call_id, now)
        if call is None:
            return None
        try:
            args = arguments(session, call, settings=rt.settings, status_pages=status_pages,
                             suggest=suggest)
        except Wait:
            _defer(call, now + WAIT)
            return None
        except Skip as skip:
            _finish(call, CallStatus.DONE, f"skipped: {skip}")
            return None
        channel = str(args.get("channel")) if args.get("channel") else None
        allowed = _allowed_at(session, call.method, call.purpose, channel, now)
        if allowed > now:
            _defer(call, allowed, "waiting for the method's rate limit")
            return None
        call.channel_id = channel
        call.sent_at = now  # counts against the limit from now, whatever the answer
        return call.platform, call.method, args


Send = Callable[[str, dict[str, Any]], dict[str, Any]]


class WebhookRefused(Exception):
    """A webhook answered 4xx (other than 429), or its address is not allowed: for good."""


class WebhookLater(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def post_webhook(settings: Settings, args: dict[str, Any]) -> dict[str, Any]:
    url = str(args["url"])
    refused = url_refusal(url, settings.outbound_policy)
    if refused:
        raise WebhookRefused(refused_message(refused))
    response = httpx.post(url, json=args["json"], timeout=settings.chatops_call_timeout)
    if response.status_code == 429 or response.status_code >= 500:
        after = response.headers.get("Retry-After")
        raise WebhookLater(f"{response.status_code}",
                           float(after) if after and after.isdigit() else None)
    if response.status_code >= 400:
        raise WebhookRefused(f"{response.status_code}: {response.text[:200]}")
    return {}


def slack_sender(client: WebClient, settings: Settings) -> Send:
    def send(method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "webhook.post":
            return post_webhook(settings, args)
        response = getattr(client, method.replace(".", "_"))(**args)
        return dict(response.data) if isinstance(response.data, dict) else {}
    return send


def _record(rt: Runtime, call_id: int, sent: dict[str, Any], outcome: dict[str, Any] | None,
            error: Exception | None) -> bool:
    """Store the outcome; True when the platform looks down (stop this run)."""
    now = rt.clock.now()
    down = False
    with rt.sessions() as session, session.begin():
        call = session.get(ChatCall, call_id)
        if call is None:
            return False
        if error is None:
            _finish(call, CallStatus.DONE)
            apply_result(session, call, sent, outcome or {}, now)
        elif isinstance(error, SlackApiError):
            response = error.response
            code = str(response.get("error") or "") if isinstance(response.data, dict) else ""
            if response.status_code == 429:
                wait = float(response.headers.get("Retry-After")
                             or response.headers.get("retry-after") or 1)
                _defer(call, now + timedelta(seconds=wait), "429: rate limited by the platform")
            elif response.status_code >= 500:
                _defer(call, now + _backoff(call.attempts), f"{response.status_code}",
                       attempt=True)
                down = True
            elif code in ALREADY:
                _finish(call, CallStatus.DONE, code)
                if call.purpose == "channel.invite":
                    apply_result(session, call, sent, {}, now)
            elif code == "name_taken" and call.purpose == "channel.create" \
                    and "suffix" not in call.args:
                call.args = {**call.args, "suffix": str(call.incident_id)}
                _defer(call, now, code)
            else:
                _finish(call, CallStatus.FAILED, code or str(error))
                log.warning("chat call %s %s refused: %s", call.id, call.method, code)
        elif isinstance(error, WebhookRefused):
            _finish(call, CallStatus.FAILED, str(error))
        elif isinstance(error, WebhookLater) and error.retry_after is not None:
            _defer(call, now + timedelta(seconds=error.retry_after), str(error))
        else:
            _defer(call, now + _backoff(call.attempts), repr(error), attempt=True)
            down = call.platform == Platform.SLACK.value
    return down


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** (attempts + 1)))


def send_due(rt: Runtime, *, status_pages: StatusPagePort = NO_STATUS_PAGE,
             send: Send | None = None, only: Sequence[int] | None = None,
             budget_seconds: float = 5.0, suggest: SuggestBudget | None = None) -> int:
    """Send due calls until none is left or `budget_seconds` passed; returns how many went.
    `suggest` (the lane's, kept across runs; else one second's worth for this run) bounds
    the time spent working out suggestions for alert messages and summaries."""
    send = send or slack_sender(web_client(rt.settings), rt.settings)
    suggest = suggest or SuggestBudget(rt.settings)
    sent_count, started = 0, time.monotonic()
    while time.monotonic() - started < budget_seconds:
        with rt.read_sessions() as session:
            heads = _due_heads(session, rt.clock.now(), only)
        progressed = False
        for call_id in heads:
            prepared = _prepare(rt, call_id, status_pages, suggest)
            if prepared is None:
                continue
            _platform, method, args = prepared
            progressed = True
            try:
                answer, error = send(method, args), None
            except (SlackApiError, SlackClientError, OSError, httpx.HTTPError, WebhookLater,
                    WebhookRefused) as exc:
                answer, error = None, exc
            if _record(rt, call_id, args, answer, error):
                return sent_count
            sent_count += error is None
            if time.monotonic() - started >= budget_seconds:
                break
        if not progressed:
            break
    return sent_count
