"""Chat-ops routes: Slack's and Mattermost's request URLs (signed, not API-keyed), and the
admin API for channel maps, user links and the chat outbox (/api/v1/chatops/...)."""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from starlette.background import BackgroundTask

from tocsin.api import pagination
from tocsin.api.deps import Admin, Responder, RuntimeDep, SessionDep, Viewer
from tocsin.api.pagination import Limit, Page
from tocsin.api.problems import problem
from tocsin.chatops import service
from tocsin.chatops.inbound import Inbound, Reply
from tocsin.chatops.manifest import manifest
from tocsin.chatops.models import CallStatus, ChannelMap, ChatCall, IncidentChannel, Platform, UserLink
from tocsin.chatops.ports import NO_STATUS_PAGE, StatusPagePort
from tocsin.chatops.schemas import (
    CallOut,
    ChannelMapIn,
    ChannelMapOut,
    ChatStatus,
    CheckMessage,
    CheckQueued,
    IncidentChannelOut,
    LinkRedeem,
    LookupsQueued,
    UserLinkIn,
    UserLinkOut,
)
from tocsin.chatops.verify import signed_by_slack
from tocsin.errors import NotFound, Unauthorized
from tocsin.incidents import service as incidents
from tocsin.limits import Id
from tocsin.runtime import Runtime

router = APIRouter(prefix="/api/v1/chatops", tags=["chatops"])
# Request URLs that chat platforms call: signed by them, not API-keyed.
inbound_router = APIRouter(prefix="/api/v1/inbound", tags=["chatops"])


def _status_pages(request: Request) -> StatusPagePort:
    port: StatusPagePort = getattr(request.app.state, "chatops_status_pages", NO_STATUS_PAGE)
    return port


class _Refused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


async def _signed_body(request: Request, rt: Runtime) -> bytes:
    secret = rt.settings.slack_signing_secret
    if secret is None:
        raise _Refused(401, "Slack requests cannot be verified here: no signing secret is "
                            "configured")
    limit = rt.settings.api_max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _Refused(413, f"the body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _Refused(413, f"the body is larger than {limit} bytes")
    if not signed_by_slack(secret.get_secret_value(), rt.clock, bytes(body), request.headers):
        raise _Refused(401, "bad or expired Slack signature")
    return bytes(body)


def _answer(reply: Reply, inbound: Inbound) -> Response:
    # Slack waits 3 s for this answer; what a person waits for goes right after it is sent.
    task = BackgroundTask(inbound.send_now, reply) if reply.calls else None
    if reply.body is None:
        return Response(status_code=200, background=task)
    return JSONResponse(reply.body, background=task)


def _form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _slack(handle: Callable[[Inbound, bytes], Reply | Response]
           ) -> Callable[[Request, str], Awaitable[Response]]:
    """A Slack request URL: body capped and signature checked, then `handle` in a worker
    thread (it runs one database transaction), its answer sent, then its immediate calls.
    The same handler serves the FastAPI route and the fast lane (chatops/fastlane.py)."""
    async def accept(request: Request, _key: str) -> Response:
        rt: Runtime = request.app.state.runtime
        try:
            body = await _signed_body(request, rt)
        except _Refused as refused:
            return problem(refused.status, "Unauthorized" if refused.status == 401
                           else "Payload too large", refused.detail)
        inbound = Inbound(rt, _status_pages(request))
        reply = await run_in_threadpool(handle, inbound, body)
        return reply if isinstance(reply, Response) else _answer(reply, inbound)
    return accept


def _command(inbound: Inbound, body: bytes) -> Reply | Response:
    return inbound.command(_form(body))


def _interaction(inbound: Inbound, body: bytes) -> Reply | Response:
    try:
        payload = json.loads(_form(body).get("payload", ""))
    except ValueError:
        return JSONResponse({"error": "payload is not JSON"}, status_code=400)
    return inbound.interaction(payload if isinstance(payload, dict) else {})


def _event(inbound: Inbound, body: bytes) -> Reply | Response:
    try:
        payload = json.loads(body)
    except ValueError:
        return JSONResponse({"error": "body is not JSON"}, status_code=400)
    return inbound.event(payload if isinstance(payload, dict) else {})


accept_slack_command = _slack(_command)
accept_slack_interaction = _slack(_interaction)
accept_slack_event = _slack(_event)
_REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"description": "bad or expired signature"}, 413: {"description": "body too large"}}


@inbound_router.post("/slack/commands", summary="Slack slash command (/incident)",
                     responses=_REFUSED)
async def slack_command(request: Request) -> Response:
    return await accept_slack_command(request, "")


@inbound_router.post("/slack/interactions", summary="Slack buttons, forms and shortcuts",
                     responses=_REFUSED)
async def slack_interaction(request: Request) -> Response:
    return await accept_slack_interaction(request, "")


@inbound_router.post("/slack/events", summary="Slack Events API", responses=_REFUSED)
async def slack_event(request: Request) -> Response:
    return await accept_slack_event(request, "")


@inbound_router.post("/mattermost/command", summary="Mattermost slash command (/incident)",
             responses={401: {"description": "bad token"}})
async def mattermost_command(request: Request, rt: RuntimeDep) -> Response:
    tokens = rt.settings.mattermost_token
    if tokens is None:
        raise Unauthorized("Mattermost commands cannot be verified here: no token is "
                           "configured")
    form = _form(await request.body())
    allowed = {t.strip() for t in tokens.get_secret_value().split(",") if t.strip()}
    if form.get("token") not in allowed:
        raise Unauthorized("bad Mattermost command token")
    inbound = Inbound(rt, _status_pages(request), Platform.MATTERMOST)
    return _answer(await run_in_threadpool(inbound.command, form), inbound)


@inbound_router.post("/mattermost/actions", summary="Mattermost interactive button press",
             responses={401: {"description": "context not signed by this server"}})
async def mattermost_action(request: Request, rt: RuntimeDep) -> JSONResponse:
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = {}  # nothing signed in it: refused below
    body = body if isinstance(body, dict) else {}
    context: dict[str, Any] = body["context"] if isinstance(body.get("context"), dict) else {}
    action, incident_id = str(context.get("action", "")), context.get("incident_id")
    if not isinstance(incident_id, int) or not hmac.compare_digest(
            str(context.get("sig", "")), service.action_signature(
                rt.settings.secret(), action=action, incident_id=incident_id)):
        raise Unauthorized("this button was not made by this server")
    inbound = Inbound(rt, _status_pages(request), Platform.MATTERMOST)
    reply = await run_in_threadpool(inbound.interaction, {
        "type": "block_actions", "user": {"id": str(body.get("user_id", ""))},
        "actions": [{"action_id": f"tocsin_{action}", "value": str(incident_id)}]})
    return JSONResponse(reply.body or {})


# ---- admin and people --------------------------------------------------------------------

def _map_out(row: ChannelMap) -> ChannelMapOut:
    return ChannelMapOut(id=row.id, platform=Platform(row.platform), channel_id=row.channel_id,
                         team_id=row.team_id, service_id=row.service_id,
                         created_at=row.created_at)


def _link_out(row: UserLink) -> UserLinkOut:
    return UserLinkOut(id=row.id, platform=Platform(row.platform), external_id=row.external_id,
                       user_id=row.user_id, via=row.via, created_at=row.created_at)


@router.get("/status", response_model=ChatStatus, summary="What is connected; the outbox")
def chat_status(session: SessionDep, rt: RuntimeDep, who: Admin) -> ChatStatus:
    waiting = [CallStatus.PENDING.value, CallStatus.SENDING.value]
    failed = session.scalar(select(func.count()).where(
        ChatCall.status == CallStatus.FAILED.value)) or 0
    by_method = {method: count for method, count in session.execute(
        select(ChatCall.method, func.count()).where(ChatCall.status.in_(waiting))
        .group_by(ChatCall.method).order_by(ChatCall.method))}
    newest_failure = session.execute(select(ChatCall.method, ChatCall.last_error).where(
        ChatCall.status == CallStatus.FAILED.value).order_by(ChatCall.id.desc()).limit(1)).first()
    s = rt.settings
    return ChatStatus(slack_configured=s.slack_bot_token is not None
                      and s.slack_signing_secret is not None,
                      socket_mode=s.slack_app_token is not None,
                      mattermost_configured=s.mattermost_token is not None,
                      calls_pending=sum(by_method.values()), calls_failed=failed,
                      pending_by_method=by_method,
                      oldest_pending_since=session.scalar(select(func.min(ChatCall.created_at))
                                                          .where(ChatCall.status.in_(waiting))),
                      last_sent_at=session.scalar(select(func.max(ChatCall.sent_at)).where(
                          ChatCall.status == CallStatus.DONE.value)),
                      last_failure=f"{newest_failure[0]}: {newest_failure[1]}"
                      if newest_failure else None)


@router.post("/test", response_model=CheckQueued, status_code=202,
             summary="Queue a test message to a Slack channel (through the outbox)")
def send_test(data: CheckMessage, session: SessionDep, rt: RuntimeDep,
              who: Admin) -> CheckQueued:
    call_id = service.enqueue(session, method="chat.postMessage", purpose="reply.post",
                              now=rt.clock.now(),
                              args={"channel": data.channel_id, "text": data.text})
    session.commit()
    return CheckQueued(call_id=call_id)


@router.get("/manifest", summary="The Slack app manifest for this server (its URL, its "
            "Socket Mode setting)")
def slack_manifest(rt: RuntimeDep, who: Admin) -> dict[str, Any]:
    return manifest(rt.settings.public_url, socket_mode=rt.settings.slack_app_token is not None)


@router.get("/channel-maps", response_model=Page[ChannelMapOut], summary="Alert channels, by id")
def list_channel_maps(session: SessionDep, who: Admin, cursor: str | None = None,
                      limit: Limit = 100) -> Page[ChannelMapOut]:
    rows = list(session.scalars(select(ChannelMap).where(
        ChannelMap.id > (pagination.decode(cursor) or 0)).order_by(ChannelMap.id)
        .limit(limit + 1)))
    return pagination.page(rows, limit, _map_out, lambda r: r.id)


@router.post("/channel-maps", response_model=ChannelMapOut, status_code=201)
def add_channel_map(data: ChannelMapIn, session: SessionDep, rt: RuntimeDep,
                    who: Admin) -> ChannelMapOut:
    row = service.add_channel_map(session, platform=data.platform, channel_id=data.channel_id,
                                  team_id=data.team_id, service_id=data.service_id,
                                  now=rt.clock.now())
    session.commit()
    return _map_out(row)


@router.delete("/channel-maps/{map_id}", status_code=204)
def delete_channel_map(map_id: Id, session: SessionDep, who: Admin) -> Response:
    service.delete_channel_map(session, map_id=map_id)
    session.commit()
    return Response(status_code=204)


@router.get("/user-links", response_model=Page[UserLinkOut], summary="Linked people, by id")
def list_user_links(session: SessionDep, who: Admin, cursor: str | None = None,
                    limit: Limit = 100) -> Page[UserLinkOut]:
    rows = list(session.scalars(select(UserLink).where(
        UserLink.id > (pagination.decode(cursor) or 0)).order_by(UserLink.id)
        .limit(limit + 1)))
    return pagination.page(rows, limit, _link_out, lambda r: r.id)


@router.post("/user-links", response_model=UserLinkOut, status_code=201)
def add_user_link(data: UserLinkIn, session: SessionDep, rt: RuntimeDep,
                  who: Admin) -> UserLinkOut:
    row = service.link_user(session, platform=data.platform, external_id=data.external_id,
                            user_id=data.user_id, via="admin", now=rt.clock.now())
    session.commit()
    return _link_out(row)


@router.delete("/user-links/{link_id}", status_code=204)
def delete_user_link(link_id: Id, session: SessionDep, who: Admin) -> Response:
    service.unlink(session, link_id=link_id)
    session.commit()
    return Response(status_code=204)


@router.post("/user-links/lookups", response_model=LookupsQueued, status_code=202,
             summary="Look every unlinked user up in Slack by email (through the outbox)")
def request_lookups(session: SessionDep, rt: RuntimeDep, who: Admin) -> LookupsQueued:
    queued = service.request_email_links(session, now=rt.clock.now())
    session.commit()
    return LookupsQueued(queued=queued)


@router.post("/link", response_model=UserLinkOut, status_code=201,
             summary="Link your chat account with the token from `/incident link` "
             "(responders: acting from chat needs that role)")
def redeem_link(data: LinkRedeem, session: SessionDep, rt: RuntimeDep,
                who: Responder) -> UserLinkOut:
    row = service.redeem_link(session, secret=rt.settings.secret(), token=data.token, user=who,
                              now=rt.clock.now())
    session.commit()
    return _link_out(row)


@router.get("/incidents/{incident_id}/channel", response_model=IncidentChannelOut)
def incident_channel(incident_id: Id, session: SessionDep, who: Viewer) -> IncidentChannelOut:
    incident = incidents.get_visible(session, incident_id=incident_id, viewer=who)
    channel = session.get(IncidentChannel, incident.id)
    if channel is None:
        raise NotFound(f"{incident.number} has no chat channel")
    return IncidentChannelOut(incident_id=incident.id, platform=Platform(channel.platform),
                              name=channel.name, channel_id=channel.channel_id,
                              private=channel.private, url=channel_url(channel))


def channel_url(channel: IncidentChannel) -> str | None:
    if channel.channel_id is None or channel.platform != Platform.SLACK.value:
        return None
    return f"https://slack.com/app_redirect?channel={channel.channel_id}"


@router.get("/calls", response_model=Page[CallOut], summary="The chat outbox, newest first")
def list_calls(session: SessionDep, who: Admin, status: CallStatus | None = None,
               cursor: str | None = None, limit: Limit = 100) -> Page[CallOut]:
    query = select(ChatCall).order_by(ChatCall.id.desc()).limit(limit + 1)
    before = pagination.decode(cursor)
    if before is not None:
        query = query.where(ChatCall.id < before)
    if status is not None:
        query = query.where(ChatCall.status == status.value)
    return pagination.page(list(session.scalars(query)), limit, _call_out, lambda c: c.id)


def _call_out(c: ChatCall) -> CallOut:
    return CallOut(id=c.id, platform=c.platform, method=c.method, purpose=c.purpose,
                   incident_id=c.incident_id, status=c.status, attempts=c.attempts,
                   due_at=c.due_at, sent_at=c.sent_at, last_error=c.last_error)
