"""What Slack (or Mattermost) sends us, over HTTP request URLs or Socket Mode: slash commands,
button presses and form submissions, and events. Each handler runs in one transaction and
answers at once (Slack waits 3 seconds); slower work is chat outbox rows, sent right after the
answer and, should this process die first, by the worker."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.accounts.models import User
from tocsin.catalog.models import Service
from tocsin.chatops import blocks, commands, delivery, service
from tocsin.chatops.commands import Command
from tocsin.chatops.models import AlertMessage, Platform
from tocsin.chatops.ports import StatusPagePort
from tocsin.errors import TocsinError
from tocsin.escalation import service as escalation
from tocsin.escalation.schemas import PageIn
from tocsin.incidents import lifecycle as lc
from tocsin.incidents import service as incidents
from tocsin.incidents.models import Incident
from tocsin.incidents.schemas import EntryCreate, IncidentCreate, ResolveRequest
from tocsin.principal import Principal, Role
from tocsin.runtime import Runtime


@dataclass
class Reply:
    """The answer to send back now, and the outbox calls worth sending right after it."""

    body: dict[str, Any] | None = None
    calls: list[int] = field(default_factory=list)


# `ack INC-42`, `note #42 text`: an incident named where the channel has none.
_REFERENCE = re.compile(r"^(?:INC-|#)(\d{1,12})\b\s*", re.IGNORECASE)
_BY_REFERENCE = frozenset({"ack", "resolve", "status", "note", "update"})


def _say(text: str) -> dict[str, Any]:
    return {"response_type": "ephemeral", "text": text}


# What a person waits for: the declare form (its trigger expires 3 s after the command) and
# private answers. The requesting process sends these right after its answer; everything else
# (channel posts, summaries, topics) is the chat lane's, in the engine process, so a burst of
# commands does not make the API process do Slack's round trips between answers.
RIGHT_AFTER = frozenset({"modal.open", "reply.post"})
# Commands that only read: answered from a read-only snapshot, without the write lock.
_READS = frozenset({"help", "link", "status"})


_READ_ONLY = "tocsin.chatops.read_only"


class _Writes(Exception):
    """A read-only answer turned out to need a write (an unlinked person is looked up)."""


@dataclass
class Inbound:
    runtime: Runtime
    status_pages: StatusPagePort
    platform: Platform = Platform.SLACK

    # ---- entry points ----------------------------------------------------------------

    def command(self, form: dict[str, str]) -> Reply:
        if commands.parse(form.get("text", "")).verb in _READS:
            try:
                return self._in_transaction(lambda s, now: self._command(s, form, now),
                                            read_only=True)
            except _Writes:
                pass
        return self._in_transaction(lambda s, now: self._command(s, form, now))

    def interaction(self, payload: dict[str, Any]) -> Reply:
        return self._in_transaction(lambda s, now: self._interaction(s, payload, now))

    def event(self, body: dict[str, Any]) -> Reply:
        if body.get("type") == "url_verification":
            return Reply({"challenge": body.get("challenge", "")})
        return self._in_transaction(lambda s, now: self._event(s, body, now))

    def send_now(self, reply: Reply) -> None:
        """After answering: send the calls this request queued (the worker would too)."""
        if reply.calls:
            delivery.send_due(self.runtime, status_pages=self.status_pages, only=reply.calls,
                              budget_seconds=self.runtime.settings.chatops_call_timeout * 2)

    def _in_transaction(self, handle: Any, *, read_only: bool = False) -> Reply:
        rt = self.runtime
        factory = rt.read_sessions if read_only else rt.sessions
        with factory() as session, session.begin():
            session.info[_READ_ONLY] = read_only
            session.info[service.QUEUED] = []
            body = handle(session, rt.clock.now())
            queued = session.info.pop(service.QUEUED, [])
        return Reply(body, [call_id for call_id, purpose in queued if purpose in RIGHT_AFTER])

    # ---- who ---------------------------------------------------------------------------

    def _user(self, session: Session, external_id: str) -> User | None:
        return service.linked_user(session, platform=self.platform, external_id=external_id)

    def _not_linked(self, session: Session, external_id: str, now: datetime) -> str:
        """Look the person up by email (outbox) and offer the one-time link meanwhile."""
        if session.info.get(_READ_ONLY):
            raise _Writes()
        if self.platform is Platform.SLACK:
            service.enqueue(session, method="users.info", purpose="user.info", now=now,
                            args={"user": external_id})
        token = service.link_token(self.runtime.settings.secret(), platform=self.platform,
                                   external_id=external_id, now=now)
        url = f"{self.runtime.settings.public_url}/chatops/link?token={token}"
        return ("I don't know who you are in Tocsin yet. If your chat email is confirmed and "
                f"matches your Tocsin account, try again in a moment; otherwise link once: {url}")

    # ---- slash command ------------------------------------------------------------------

    def _command(self, session: Session, form: dict[str, str], now: datetime) -> dict[str, Any]:
        cmd = commands.parse(form.get("text", ""))
        chat_user, channel_id = form.get("user_id", ""), form.get("channel_id", "")
        if cmd.verb == "help":
            problem = f"{cmd.problem[:1].upper()}{cmd.problem[1:]}.\n" if cmd.problem else ""
            return _say(problem + commands.HELP)
        if cmd.verb == "link":
            token = service.link_token(self.runtime.settings.secret(), platform=self.platform,
                                       external_id=chat_user, now=now)
            return _say("Open this link while signed in to Tocsin to link your account "
                        f"(valid {service.LINK_HOURS} h): "
                        f"{self.runtime.settings.public_url}/chatops/link?token={token}")
        user = self._user(session, chat_user)
        if cmd.verb == "declare":
            if user is None:
                return _say(self._not_linked(session, chat_user, now))
            if not Role(user.role).allows(Role.RESPONDER):
                return _say("Declaring an incident needs the responder role.")
            if self.platform is not Platform.SLACK:
                return self._declare_directly(session, cmd, user, channel_id, now)
            services = [(s.id, s.name) for s in session.scalars(
                select(Service).order_by(Service.name).limit(100))]
            service.enqueue(session, method="views.open", purpose="modal.open", now=now,
                            args={"trigger_id": form.get("trigger_id", ""),
                                  "view": blocks.declare_modal(channel_id=channel_id,
                                                               title=cmd.text,
                                                               services=services)})
            return _say("Opening the declare form…")
        incident = service.incident_of_channel(session, platform=self.platform,
                                               channel_id=channel_id)
        named = _REFERENCE.match(cmd.text)
        if incident is None and named and cmd.verb in _BY_REFERENCE:
            # Outside an incident channel (Mattermost has none): `ack INC-42`.
            incident = session.get(Incident, int(named.group(1)))
            cmd = replace(cmd, text=cmd.text[named.end():])
            if incident is None:
                return _say(f"There is no incident INC-{named.group(1)}.")
        if incident is None:
            return _say("There is no incident in this channel. `/incident declare` declares "
                        "one; `/incident help` lists the commands.")
        if user is None:
            return _say(self._not_linked(session, chat_user, now))
        who = service.principal_of(user)
        try:
            visible = incidents.get_visible(session, incident_id=incident.id, viewer=who,
                                            for_update=not session.info.get(_READ_ONLY))
            return _say(self._act(session, cmd, visible, who, now))
        except (TocsinError, ValueError) as error:
            return _say(f"Refused: {error}")

    def _declare_directly(self, session: Session, cmd: Command, user: User, channel_id: str,
                          now: datetime) -> dict[str, Any]:
        """Mattermost has no modal in the Slack format: `declare SEV2 title`."""
        words = cmd.text.split(maxsplit=1)
        severity = lc.Severity.SEV2
        if words and words[0].upper() in lc.Severity.__members__:
            severity, words = lc.Severity(words[0].upper()), words[1:]
        title = words[0] if words else ""
        if not title:
            return _say("`declare [SEV1..SEV4] <title>` needs a title")
        incident = incidents.declare(session, actor=service.principal_of(user), now=now,
                                     settings=self.runtime.settings,
                                     data=IncidentCreate(title=title, severity=severity))
        return {"response_type": "in_channel",
                "text": f"{incident.number} declared ({severity.value}): {title}"}

    def _act(self, session: Session, cmd: Command, incident: Incident, who: Principal,
             now: datetime) -> str:
        settings = self.runtime.settings
        if cmd.verb == "status":
            view = service.incident_view(session, incident, settings=settings,
                                         status_page=self.status_pages.link_for(
                                             session, incident, base_url=settings.public_url))
            return blocks.status_text(view)
        who.require(Role.RESPONDER)
        if cmd.verb == "ack":
            if not incidents.acknowledge(session, incident=incident, actor=who, now=now,
                                         settings=settings):
                return f"{incident.number} is already {incident.status}."
            return f"{incident.number} acknowledged."
        if cmd.verb == "resolve":
            incidents.resolve(session, incident=incident, actor=who, now=now, settings=settings,
                              data=ResolveRequest(resolution_summary=cmd.text or None))
            self.status_pages.on_resolved(session, incident=incident, now=now,
                                          base_url=settings.public_url)
            return f"{incident.number} resolved."
        if cmd.verb == "severity" and cmd.severity is not None:
            incidents.change_severity(session, incident=incident, actor=who,
                                      severity=cmd.severity, now=now, settings=settings,
                                      reason=cmd.text or "changed from chat")
            return f"{incident.number} is now {cmd.severity.value}."
        if cmd.verb == "role" and cmd.role is not None:
            target = who.user_id if cmd.who == "me" else None
            if target is None:
                linked = self._user(session, cmd.who or "")
                if linked is None:
                    return f"I don't know who <@{cmd.who}> is in Tocsin (not linked yet)."
                target = linked.id
            incidents.assign_role(session, incident=incident, actor=who, role=cmd.role,
                                  user_id=target, now=now)
            return f"{cmd.role.replace('_', ' ')} of {incident.number} assigned."
        body = cmd.text if cmd.verb == "note" else f"Status update: {cmd.text}"
        incidents.add_entry(session, incident=incident, actor=who, now=now, settings=settings,
                            entry=EntryCreate(kind="note", body=body))
        return f"Added to the timeline of {incident.number}."

    # ---- buttons, forms, shortcuts --------------------------------------------------------

    def _interaction(self, session: Session, payload: dict[str, Any],
                     now: datetime) -> dict[str, Any] | None:
        kind = payload.get("type")
        chat_user = str((payload.get("user") or {}).get("id", ""))
        if kind == "view_submission":
            return self._submitted(session, payload, chat_user, now)
        if kind == "block_actions":
            return self._pressed(session, payload, chat_user, now)
        if kind in {"message_action", "shortcut"} and \
                payload.get("callback_id") == blocks.TIMELINE_SHORTCUT:
            return self._shortcut(session, payload, chat_user, now)
        return None

    def _submitted(self, session: Session, payload: dict[str, Any], chat_user: str,
                   now: datetime) -> dict[str, Any] | None:
        view = payload.get("view") or {}
        if view.get("callback_id") != blocks.DECLARE_CALLBACK:
            return None
        # One incident per form, however often Slack retries the submission.
        if service.seen_before(session, f"slack:view:{view.get('id')}", now):
            return None
        user = self._user(session, chat_user)
        if user is None or not Role(user.role).allows(Role.RESPONDER):
            return {"response_action": "errors",
                    "errors": {"title": "Link your chat account to a Tocsin responder first "
                                        "(/incident link)"}}
        values = (view.get("state") or {}).get("values") or {}
        title = str(((values.get("title") or {}).get("title") or {}).get("value") or "").strip()
        if not title:
            return {"response_action": "errors", "errors": {"title": "A title is needed"}}
        severity_option = ((values.get("severity") or {}).get("severity") or {}).get(
            "selected_option") or {"value": "SEV2"}
        service_option = ((values.get("service") or {}).get("service") or {}).get(
            "selected_option")
        private = bool(((values.get("private") or {}).get("private") or {}).get(
            "selected_options"))
        service_ids = [int(service_option["value"])] if service_option else []
        incident = incidents.declare(
            session, actor=service.principal_of(user), now=now, settings=self.runtime.settings,
            data=IncidentCreate(title=title[:300], severity=lc.Severity(
                severity_option["value"]), service_ids=service_ids, restricted=private))
        origin = str(view.get("private_metadata") or "")
        if origin and not private:
            service.enqueue(session, method="chat.postMessage", purpose="reply.post", now=now,
                            args={"channel": origin,
                                  "text": f"{incident.number} declared by <@{chat_user}> "
                                          f"({incident.severity}): {incident.title}"})
        return None

    def _pressed(self, session: Session, payload: dict[str, Any], chat_user: str,
                 now: datetime) -> dict[str, Any] | None:
        actions = payload.get("actions") or []
        if not actions:
            return None
        action = actions[0]
        action_id = action.get("action_id")
        if action_id not in {blocks.ACTION_ACK, blocks.ACTION_RESOLVE, blocks.ACTION_ESCALATE}:
            return None  # "Open" is a link; nothing to do here
        user = self._user(session, chat_user)
        if user is None:
            return self._tell(session, payload, self._not_linked(session, chat_user, now), now)
        who = service.principal_of(user)
        try:
            incident = incidents.get_visible(session, incident_id=int(action.get("value", 0)),
                                             viewer=who, for_update=True)
            who.require(Role.RESPONDER)
            text = self._button(session, action_id, incident, who, now)
        except (TocsinError, ValueError) as error:
            text = f"Refused: {error}"
        else:
            message = payload.get("container") or {}
            channel = str((payload.get("channel") or {}).get("id") or
                          message.get("channel_id") or "")
            ts = str(message.get("message_ts") or "")
            if channel and ts and not _is_alert(session, incident.id, channel, ts):
                service.enqueue(session, method="chat.update", purpose="alert.update",
                                incident_id=incident.id, now=now,
                                args={"channel": channel, "ts": ts})
        return self._tell(session, payload, text, now)

    def _button(self, session: Session, action_id: str, incident: Incident, who: Principal,
                now: datetime) -> str:
        settings = self.runtime.settings
        if action_id == blocks.ACTION_ACK:
            done = incidents.acknowledge(session, incident=incident, actor=who, now=now,
                                         settings=settings)
            return f"{incident.number} acknowledged." if done else \
                f"{incident.number} is already {incident.status}."
        if action_id == blocks.ACTION_RESOLVE:
            incidents.resolve(session, incident=incident, actor=who, data=ResolveRequest(),
                              now=now, settings=settings)
            self.status_pages.on_resolved(session, incident=incident, now=now,
                                          base_url=settings.public_url)
            return f"{incident.number} resolved."
        teams = sorted({t for t in session.scalars(
            select(Service.owner_team_id).where(Service.id.in_(
                incidents.service_ids_of(session, [incident.id])[incident.id])))
            if t is not None})
        if not teams:
            return f"{incident.number} has no owning team to escalate to."
        paged = escalation.page_on_demand(session, incident=incident, actor_id=who.user_id,
                                          now=now, data=PageIn(team_id=teams[0],
                                                               note="escalated from chat"))
        return f"{incident.number} escalated: {len(paged)} people paged."

    def _tell(self, session: Session, payload: dict[str, Any], text: str,
              now: datetime) -> dict[str, Any] | None:
        """A button's answer, to the presser only (through the outbox, as an ephemeral
        message would need a call anyway)."""
        channel = str((payload.get("channel") or {}).get("id") or "")
        user = str((payload.get("user") or {}).get("id") or "")
        if channel and user and self.platform is Platform.SLACK:
            service.enqueue(session, method="chat.postEphemeral", purpose="reply.post",
                            now=now, args={"channel": channel, "user": user, "text": text})
            return None
        return {"ephemeral_text": text}

    def _shortcut(self, session: Session, payload: dict[str, Any], chat_user: str,
                  now: datetime) -> dict[str, Any] | None:
        channel = str((payload.get("channel") or {}).get("id") or "")
        incident = service.incident_of_channel(session, platform=self.platform,
                                               channel_id=channel)
        message = payload.get("message") or {}
        if incident is not None and message:
            delivery.record_message(session, incident_id=incident.id, message=dict(message),
                                    marked_by=chat_user, channel_id=channel, now=now)
        return None

    # ---- events ---------------------------------------------------------------------------

    def _event(self, session: Session, body: dict[str, Any], now: datetime) -> None:
        event_id = str(body.get("event_id") or "")
        if event_id and service.seen_before(session, f"slack:event:{event_id}", now):
            return None
        event = body.get("event") or {}
        kind = event.get("type")
        item = event.get("item") or {}
        channel = str(item.get("channel") or event.get("channel_id") or "")
        incident = service.incident_of_channel(session, platform=self.platform,
                                               channel_id=channel) if channel else None
        if incident is None:
            return None
        if kind == "reaction_added" and item.get("type") == "message" and \
                event.get("reaction") == self.runtime.settings.chatops_timeline_emoji:
            service.enqueue(session, method="conversations.history", purpose="timeline.fetch",
                            now=now, incident_id=incident.id,
                            args={"channel": channel, "latest": str(item.get("ts")),
                                  "inclusive": True, "limit": 1, "incident_id": incident.id,
                                  "marked_by": str(event.get("user") or "")})
        elif kind == "pin_added" and item.get("type") == "message":
            message = dict(item.get("message") or {})
            if message.get("bot_id"):
                return None  # our own pinned summary
            delivery.record_message(session, incident_id=incident.id, message=message,
                                    marked_by=str(event.get("user") or ""), channel_id=channel,
                                    now=now)
        return None


def _is_alert(session: Session, incident_id: int, channel: str, ts: str) -> bool:
    """Alert messages we posted are updated by the incident hook already."""
    return session.scalar(select(AlertMessage.id).where(
        AlertMessage.incident_id == incident_id, AlertMessage.channel_id == channel,
        AlertMessage.ts == ts)) is not None
