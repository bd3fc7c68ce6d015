"""Chat-ops operations: the chat outbox, the incident hook that fills it, incident channels,
alert messages, user links and channel maps.

Nothing here talks to a chat platform: every outbound call is a `ChatCall` row written in the
transaction that wants it (jobs.py sends them), so a chat outage delays chat messages and
never blocks an incident change or a page.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tocsin.accounts.models import Team, User
from tocsin.catalog.models import Service
from tocsin.chatops import blocks, storm
from tocsin.chatops.models import (
    AlertMessage,
    CallStatus,
    ChannelMap,
    ChatArrival,
    ChatCall,
    InboundSeen,
    IncidentChannel,
    Platform,
    StormMember,
    StormMessage,
    UserLink,
)
from tocsin.db import rows
from tocsin.db.config_cache import config_cached
from tocsin.db.wakeup import wake_after_commit
from tocsin.errors import Conflict, Invalid, NotFound
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident, IncidentEvent, IncidentMember, IncidentService
from tocsin.notify.models import Message
from tocsin.principal import Principal, Role
from tocsin.settings import Settings

CONFIG_KEY = "tocsin.chatops"
# In Session.info, when a request puts a list there: the calls its transaction queued, as
# (id, purpose), so it can send the ones a person waits for right after its answer without
# querying for them.
QUEUED = "tocsin.chatops.queued"
LINK_HOURS = 24
# Events whose change shows in the pinned summary and the topic.
SUMMARY_KINDS = frozenset({"status_changed", "severity_changed", "role_changed", "resolved",
                           "closed", "reopened", "field_changed", "note", "decision"})
# Events that change what an alert message shows (its buttons).
ALERT_KINDS = frozenset({"status_changed", "severity_changed", "role_changed", "reopened"})
# Timeline entries posted into the incident channel.
POSTED_KINDS = frozenset({"status_changed", "severity_changed", "role_changed", "note",
                          "decision", "action", "hypothesis", "resolved", "reopened",
                          "escalated", "nobody_paged", "update_due", "closed"})
# Entries that came from the channel itself are not posted back into it.
FROM_CHAT = "chat_message"


@dataclass(frozen=True)
class ChatConfig:
    """What the incident hook needs to know, installed on the session factories."""

    slack: bool
    channel_severities: frozenset[str]
    public_url: str
    reminder_minutes: dict[str, int]
    storm_threshold: int = 0


def config_of(settings: Settings) -> ChatConfig:
    return ChatConfig(slack=settings.slack_bot_token is not None,
                      channel_severities=frozenset(settings.chatops_channel_severities),
                      public_url=settings.public_url,
                      reminder_minutes=dict(settings.update_reminder_minutes),
                      storm_threshold=settings.chatops_storm_threshold)


def install(factory: sessionmaker[Session], settings: Settings) -> None:
    """Sessions made by `factory` carry the chat configuration the incident hook reads."""
    factory.configure(info={**factory.kw.get("info", {}), CONFIG_KEY: config_of(settings)})


# ---- the outbox ----------------------------------------------------------------------------

def enqueue(session: Session, *, method: str, purpose: str, now: datetime,
            incident_id: int | None = None, args: dict[str, Any] | None = None,
            platform: Platform = Platform.SLACK, due_at: datetime | None = None,
            channel_id: str | None = None) -> int:
    call = rows.add_object(session, ChatCall, need_id=True, platform=platform.value,
                           method=method, purpose=purpose, incident_id=incident_id,
                           channel_id=channel_id,
                           args=args or {}, status=CallStatus.PENDING.value,
                           due_at=due_at or now, attempts=0, last_error="", created_at=now)
    wake_after_commit(session)
    queued = session.info.get(QUEUED)
    if queued is not None:
        queued.append((call.id, purpose))
    return call.id


def _pending(session: Session, incident_id: int) -> set[str]:
    """Purposes of the incident's calls still waiting (one query, on the incident's index)."""
    return set(session.scalars(select(ChatCall.purpose).distinct().where(
        ChatCall.incident_id == incident_id, ChatCall.status == CallStatus.PENDING.value)))


def _enqueue_once(session: Session, *, method: str, purpose: str, incident_id: int,
                  now: datetime, waiting: set[str]) -> None:
    """A call rendered at send time (summary, topic, alert message) needs queueing only once
    while one is still waiting: it will show the incident as it is when it goes."""
    if purpose not in waiting:
        enqueue(session, method=method, purpose=purpose, incident_id=incident_id, now=now)
        waiting.add(purpose)


def seen_before(session: Session, key: str, now: datetime) -> bool:
    """Record an inbound request's key; True when it was handled already (a retry)."""
    if session.get(InboundSeen, key) is not None:
        return True
    rows.add_object(session, InboundSeen, key=key, at=now)
    session.flush()
    return False


# ---- the incident hook ---------------------------------------------------------------------

def on_incident_event(session: Session, *, incident: Incident, kind: str, data: dict[str, Any],
                      now: datetime) -> None:
    """Chat's reaction to an incident event, as outbox rows in the event's transaction."""
    config: ChatConfig | None = session.info.get(CONFIG_KEY)
    if config is None:
        return
    if kind == "created":
        service_ids = [int(s) for s in data.get("service_ids", [])]
        if config.slack and _joins_storm(session, incident, service_ids, config, now):
            _post_alerts(session, incident, service_ids, now, slack=False)  # webhooks as ever
            return
        if config.slack and incident.severity in config.channel_severities:
            open_channel(session, incident=incident, now=now)
        _post_alerts(session, incident, service_ids, now, slack=config.slack)
        return
    if kind in ALERT_KINDS:
        _post_alerts(session, incident, None, now, slack=False)  # webhooks: a new message
    if not config.slack:
        return
    channel = session.get(IncidentChannel, incident.id)
    if channel is None and kind == "severity_changed" and \
            incident.severity in config.channel_severities and \
            lc.Status(incident.status) in lc.OPEN_STATUSES:
        open_channel(session, incident=incident, now=now)  # raised into a channel severity
        return
    if channel is not None:
        if kind in POSTED_KINDS and data.get("source") != FROM_CHAT:
            # The hook is not handed the entry's text: the call finds the entry when it goes,
            # by kind and time (the nth of those, when several share the instant).
            args = {"kind": kind, "at": now.isoformat()}
            nth = len([c for c in session.scalars(select(ChatCall.args).where(
                ChatCall.incident_id == incident.id, ChatCall.purpose == "timeline.post",
                ChatCall.created_at == now)) if c.get("kind") == kind])
            enqueue(session, method="chat.postMessage", purpose="timeline.post",
                    incident_id=incident.id, now=now, args={**args, "nth": nth})
        waiting = _pending(session, incident.id) if kind in SUMMARY_KINDS or \
            kind in {"member_added", "role_changed"} else set()
        if kind in SUMMARY_KINDS:
            _enqueue_once(session, method="chat.update", purpose="summary.update",
                          incident_id=incident.id, now=now, waiting=waiting)
            _enqueue_once(session, method="conversations.setTopic", purpose="channel.topic",
                          incident_id=incident.id, now=now, waiting=waiting)
        if kind in {"member_added", "role_changed"}:
            _enqueue_once(session, method="conversations.invite", purpose="channel.invite",
                          incident_id=incident.id, now=now, waiting=waiting)
    if kind in ALERT_KINDS:
        # One waiting edit per message: it shows the incident as it is when it goes.
        editing = {(a.get("channel"), a.get("ts")) for a in session.scalars(
            select(ChatCall.args).where(ChatCall.incident_id == incident.id,
                                        ChatCall.purpose == "alert.update",
                                        ChatCall.status == CallStatus.PENDING.value))}
        for message in session.scalars(select(AlertMessage).where(
                AlertMessage.incident_id == incident.id)):
            if (message.channel_id, message.ts) not in editing:
                enqueue(session, method="chat.update", purpose="alert.update",
                        incident_id=incident.id, now=now,
                        args={"channel": message.channel_id, "ts": message.ts})
        for storm_id, storm_channel in session.execute(
                select(StormMember.storm_id, StormMessage.channel_id)
                .join(StormMessage, StormMessage.id == StormMember.storm_id)
                .where(StormMember.incident_id == incident.id)):
            _storm_edit(session, storm_id, storm_channel, now)


def open_channel(session: Session, *, incident: Incident, now: datetime) -> None:
    """The incident's channel: create, set the topic, invite, post and pin the summary."""
    if session.get(IncidentChannel, incident.id) is not None:
        return
    name = blocks.channel_name(title=incident.title, declared_at=now, drill=incident.drill)
    rows.add_object(session, IncidentChannel, incident_id=incident.id,
                    platform=Platform.SLACK.value, name=name, private=incident.restricted,
                    created_at=now)
    steps = [("conversations.create", "channel.create"),
             ("conversations.setTopic", "channel.topic"),
             ("conversations.invite", "channel.invite"),
             ("chat.postMessage", "summary.post"),
             ("pins.add", "summary.pin")]
    for method, purpose in steps:
        enqueue(session, method=method, purpose=purpose, incident_id=incident.id, now=now)


def _post_alerts(session: Session, incident: Incident, service_ids: list[int] | None,
                 now: datetime, *, slack: bool) -> None:
    """An alert message in each channel mapped to the incident's services or their owning
    teams: Slack (with buttons, updated later) when `slack`, and always the webhook platforms
    (Mattermost, Teams). A restricted incident's details go to no shared channel; a drill's
    go only to its own drill channel, never to the teams' real alert channels."""
    if incident.restricted:
        return
    if incident.drill:
        if slack and session.get(IncidentChannel, incident.id) is not None:
            enqueue(session, method="chat.postMessage", purpose="alert.post",
                    incident_id=incident.id, now=now, args={"drill_channel": True})
        return
    platforms = {p.value for p in Platform if slack or p is not Platform.SLACK}
    for platform, channel_id in _mapped_channels(session, incident, service_ids, platforms):
        if platform == Platform.SLACK.value:
            enqueue(session, method="chat.postMessage", purpose="alert.post",
                    incident_id=incident.id, now=now, args={"channel": channel_id})
        else:
            enqueue(session, method="webhook.post", purpose="alert.post", now=now,
                    incident_id=incident.id, platform=Platform(platform),
                    args={"url": channel_id})


def _mapped_channels(session: Session, incident: Incident, service_ids: list[int] | None,
                     platforms: set[str]) -> list[tuple[str, str]]:
    """(platform, channel) of the channel maps of `platforms` naming the incident's services
    (`service_ids`, or read when None) or their owning teams."""
    # Channel maps are configuration, read through the configuration cache: with none mapped
    # (most events) nothing is queried, so an intake batch's rows are not flushed early.
    maps = [m for m in _channel_maps(session) if m[0] in platforms]
    if not maps:
        return []
    if service_ids is None:
        service_ids = list(session.scalars(select(IncidentService.service_id).where(
            IncidentService.incident_id == incident.id)))
    if not service_ids:
        return []
    team_ids = {t for t in session.scalars(select(Service.owner_team_id).where(
        Service.id.in_(service_ids))) if t is not None}
    wanted = set(service_ids)
    return sorted({(p, c) for p, c, sid, tid in maps if sid in wanted or tid in team_ids})


# ---- alert storms (the rule: storm.py) -------------------------------------------------------

def _joins_storm(session: Session, incident: Incident, service_ids: list[int],
                 config: ChatConfig, now: datetime) -> bool:
    """Record the incident's arrival in Slack; when the storm rule groups it, it joins the
    storm message of each of its alert channels instead of getting a channel and alert
    messages of its own (True). An incident with no alert channel is never grouped, so it is
    never left out of chat; nor is a drill, whose messages go only to its drill channel."""
    channels = [] if incident.restricted or incident.drill else [
        c for _p, c in _mapped_channels(session, incident, service_ids,
                                        {Platform.SLACK.value})]
    if not channels and incident.severity not in config.channel_severities:
        return False  # nothing of it shows in Slack
    earlier = list(session.scalars(select(ChatArrival.at).where(
        ChatArrival.at > now - storm.WINDOW)))
    grouped = bool(channels) and storm.grouped(
        earlier, now, threshold=config.storm_threshold,
        by_person=incident.detection_source != lc.DetectionSource.MONITOR.value)
    rows.add_object(session, ChatArrival, incident_id=incident.id, at=now, grouped=grouped)
    for channel_id in channels if grouped else []:
        message = session.scalars(select(StormMessage).where(
            StormMessage.platform == Platform.SLACK.value,
            StormMessage.channel_id == channel_id).order_by(StormMessage.last_at.desc())
            .limit(1)).first()
        if message is None or not storm.open_storm(message.last_at, now):
            message = rows.add_object(session, StormMessage, need_id=True,
                                      platform=Platform.SLACK.value, channel_id=channel_id,
                                      ts=None, started_at=now, last_at=now)
            enqueue(session, method="chat.postMessage", purpose="storm.post", now=now,
                    channel_id=channel_id, args={"storm": message.id, "channel": channel_id})
        else:
            message.last_at = now
            _storm_edit(session, message.id, channel_id, now)
        rows.add_object(session, StormMember, storm_id=message.id, incident_id=incident.id,
                        at=now)
    return grouped


def _storm_edit(session: Session, storm_id: int, channel_id: str, now: datetime) -> None:
    """Queue an edit of the storm message, unless its post or an edit is still waiting: that
    one shows the storm as it is when it goes."""
    waiting = session.scalars(select(ChatCall.args).where(
        ChatCall.purpose.in_(["storm.post", "storm.update"]), ChatCall.channel_id == channel_id,
        ChatCall.status == CallStatus.PENDING.value))
    if not any(args.get("storm") == storm_id for args in waiting):
        enqueue(session, method="chat.update", purpose="storm.update", now=now,
                channel_id=channel_id, args={"storm": storm_id, "channel": channel_id})


def storm_view(session: Session, message: StormMessage, *,
               settings: Settings) -> blocks.StormView:
    """A storm message as it is now: how many incidents, by status, and the latest."""
    members = select(StormMember.incident_id).where(StormMember.storm_id == message.id)
    by_status = {status: count for status, count in session.execute(
        select(Incident.status, func.count()).where(Incident.id.in_(members))
        .group_by(Incident.status))}
    latest = [storm.StormLine(number=i.number, title=i.title, severity=i.severity,
                              status=i.status, url=f"{settings.public_url}/incidents/{i.id}")
              for i in session.scalars(select(Incident).where(Incident.id.in_(members))
                                       .order_by(Incident.id.desc()).limit(storm.LATEST))]
    return blocks.StormView(count=sum(by_status.values()), by_status=by_status, latest=latest,
                            started_at=message.started_at,
                            list_url=f"{settings.public_url}/incidents?status=triggered")


def _channel_maps(session: Session) -> list[tuple[str, str, int | None, int | None]]:
    """Every channel map as (platform, channel, service id, team id), cached per
    configuration version (db/config_cache.py: chat_channel_maps is a configuration table)."""
    def load() -> list[tuple[str, str, int | None, int | None]]:
        return [(p, c, s, t) for p, c, s, t in session.execute(select(
            ChannelMap.platform, ChannelMap.channel_id, ChannelMap.service_id,
            ChannelMap.team_id).order_by(ChannelMap.id))]
    return config_cached(session, "chatops.channel_maps", load)


# ---- how chat shows an incident --------------------------------------------------------------

def _name(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user.name if user else None


def incident_view(session: Session, incident: Incident, *, settings: Settings,
                  status_page: str | None = None) -> blocks.IncidentView:
    channel = session.get(IncidentChannel, incident.id)
    due = None
    delay = lc.reminder_delay(lc.Severity(incident.severity), settings.update_reminder_minutes)
    if delay is not None and lc.Status(incident.status) in lc.OPEN_STATUSES:
        due = incident.last_update_at + delay
    return blocks.IncidentView(
        id=incident.id, title=incident.title, status=incident.status,
        severity=incident.severity, url=f"{settings.public_url}/incidents/{incident.id}",
        commander=_name(session, incident.commander_id),
        tech_lead=_name(session, incident.tech_lead_id),
        comms_lead=_name(session, incident.comms_lead_id), next_update_due=due,
        status_page=status_page, channel=channel.channel_id if channel else None,
        bridge=incident.bridge_url, drill=incident.drill)


def channel_members(session: Session, incident: Incident) -> list[int]:
    """Tocsin users who belong in the incident channel: role holders, reporter, members and,
    unless the incident is private, everyone paged for it (the services' on-call). A drill's
    channel gets its participants only (incidents.drill_participants), never the on-call."""
    participants = incidents.drill_participants(session, incident)
    if participants is not None:
        return participants
    ids = {incident.reporter_id, incident.commander_id, incident.tech_lead_id,
           incident.comms_lead_id, incident.acknowledged_by_id}
    ids.update(session.scalars(select(IncidentMember.user_id).where(
        IncidentMember.incident_id == incident.id)))
    if not incident.restricted:
        ids.update(session.scalars(select(Message.user_id).where(
            Message.incident_id == incident.id)))
    return sorted(i for i in ids if i is not None)


def paged_users(session: Session, incident_id: int) -> list[int]:
    return sorted(set(session.scalars(select(Message.user_id).where(
        Message.incident_id == incident_id))))


def external_ids(session: Session, user_ids: list[int],
                 platform: Platform = Platform.SLACK) -> list[str]:
    if not user_ids:
        return []
    return sorted(session.scalars(select(UserLink.external_id).where(
        UserLink.platform == platform.value, UserLink.user_id.in_(user_ids))))


def timeline_entry(session: Session, incident_id: int, kind: str, at: datetime,
                   nth: int = 0) -> IncidentEvent | None:
    return session.scalars(select(IncidentEvent).where(
        IncidentEvent.incident_id == incident_id, IncidentEvent.kind == kind,
        IncidentEvent.at == at).order_by(IncidentEvent.id).offset(nth).limit(1)).first()


# ---- who is acting ---------------------------------------------------------------------------

def linked_user(session: Session, *, platform: Platform, external_id: str) -> User | None:
    user_id = session.scalar(select(UserLink.user_id).where(
        UserLink.platform == platform.value, UserLink.external_id == external_id))
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return user if user is not None and user.active else None


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, role=Role(user.role))


def link_user(session: Session, *, platform: Platform, external_id: str, user_id: int,
              via: str, now: datetime) -> UserLink:
    existing = session.scalars(select(UserLink).where(
        UserLink.platform == platform.value, UserLink.external_id == external_id)).first()
    if existing is not None:
        if existing.user_id != user_id:
            raise Conflict(f"{platform.value} user {external_id} is already linked to "
                           "another Tocsin user")
        return existing
    if session.get(User, user_id) is None:
        raise Invalid(f"user_id: no user with id {user_id}")
    return rows.add_object(session, UserLink, need_id=True, platform=platform.value,
                           external_id=external_id, user_id=user_id, via=via, created_at=now)


def link_by_email(session: Session, *, platform: Platform, chat_user: dict[str, Any],
                  now: datetime) -> UserLink | None:
    """Link a chat user (Slack's user object) to the Tocsin user with the same email, if the
    platform says the address is confirmed."""
    profile = chat_user.get("profile") or {}
    email = str(profile.get("email") or "").strip().lower()
    if not email or chat_user.get("is_email_confirmed") is not True:
        return None
    user = session.scalars(select(User).where(User.email == email)).first()
    if user is None:
        return None
    try:
        return link_user(session, platform=platform, external_id=str(chat_user["id"]),
                         user_id=user.id, via="email", now=now)
    except Conflict:
        return None


def request_email_links(session: Session, *, now: datetime) -> int:
    """Ask Slack, by email, for every active Tocsin user not linked yet (users.lookupByEmail
    through the outbox); each answer with a confirmed address links them."""
    linked = set(session.scalars(select(UserLink.user_id).where(
        UserLink.platform == Platform.SLACK.value)))
    count = 0
    for user in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)):
        if user.id not in linked:
            enqueue(session, method="users.lookupByEmail", purpose="user.lookup", now=now,
                    args={"email": user.email})
            count += 1
    return count


def _link_sig(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), f"chat-link:{payload}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def link_token(secret: str, *, platform: Platform, external_id: str, now: datetime) -> str:
    expires = int((now + timedelta(hours=LINK_HOURS)).timestamp())
    payload = f"{platform.value}.{external_id}.{expires}"
    return f"{payload}.{_link_sig(secret, payload)}"


def redeem_link(session: Session, *, secret: str, token: str, user: Principal,
                now: datetime) -> UserLink:
    """The signed-in person opening a link from `/incident link` becomes that chat user."""
    parts = token.split(".")
    if len(parts) != 4:
        raise Invalid("token: not a chat link")
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_link_sig(secret, payload), parts[3]):
        raise Invalid("token: not a chat link")
    if int(parts[2]) < now.timestamp():
        raise Invalid("token: this link has expired; type `/incident link` again")
    try:
        platform = Platform(parts[0])
    except ValueError as exc:
        raise Invalid("token: not a chat link") from exc
    return link_user(session, platform=platform, external_id=parts[1], user_id=user.user_id,
                     via="link", now=now)


def action_signature(secret: str, *, action: str, incident_id: int) -> str:
    """Signs a Mattermost button's context (Mattermost does not sign its action calls)."""
    return hmac.new(secret.encode(), f"chat-action:{action}:{incident_id}".encode(),
                    hashlib.sha256).hexdigest()[:32]


def unlink(session: Session, *, link_id: int) -> None:
    link = session.get(UserLink, link_id)
    if link is None:
        raise NotFound(f"no user link {link_id}")
    session.delete(link)


# ---- channel maps ----------------------------------------------------------------------------

def add_channel_map(session: Session, *, platform: Platform, channel_id: str,
                    team_id: int | None, service_id: int | None, now: datetime) -> ChannelMap:
    if (team_id is None) == (service_id is None):
        raise Invalid("name exactly one of team_id and service_id")
    if service_id is not None and session.get(Service, service_id) is None:
        raise Invalid(f"service_id: no service with id {service_id}")
    if team_id is not None and session.get(Team, team_id) is None:
        raise Invalid(f"team_id: no team with id {team_id}")
    return rows.add_object(session, ChannelMap, need_id=True, platform=platform.value,
                           channel_id=channel_id, team_id=team_id, service_id=service_id,
                           created_at=now)


def delete_channel_map(session: Session, *, map_id: int) -> None:
    row = session.get(ChannelMap, map_id)
    if row is None:
        raise NotFound(f"no channel map {map_id}")
    session.delete(row)


def channel_of(session: Session, incident_id: int) -> IncidentChannel | None:
    return session.get(IncidentChannel, incident_id)


def incident_of_channel(session: Session, *, platform: Platform,
                        channel_id: str) -> Incident | None:
    incident_id = session.scalar(select(IncidentChannel.incident_id).where(
        IncidentChannel.platform == platform.value, IncidentChannel.channel_id == channel_id))
    return session.get(Incident, incident_id) if incident_id is not None else None
