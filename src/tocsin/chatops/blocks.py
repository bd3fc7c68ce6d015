"""What Tocsin says in chat: channel names, topics, the pinned summary, alert messages with
buttons and the declare form, as Slack Block Kit (Mattermost reads the same message
attachments' text). Pure: plain values in, JSON-ready dicts out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tocsin.chatops.storm import StormLine
from tocsin.incidents.lifecycle import Severity

# DOMAIN §3, short enough for a Slack option's description (75 characters).
SEVERITY_GUIDANCE: dict[str, str] = {
    "SEV1": "Critical: core function down for most users, payments failing, data loss",
    "SEV2": "Major: significant degradation, or a large subset of users affected",
    "SEV3": "Minor: non-critical feature impaired, a workaround exists",
    "SEV4": "Low: cosmetic, negligible impact",
}
SEVERITY_MARK = {"SEV1": "🔴", "SEV2": "🟠", "SEV3": "🟡", "SEV4": "⚪"}
ACTION_ACK, ACTION_RESOLVE, ACTION_ESCALATE, ACTION_OPEN = (
    "tocsin_ack", "tocsin_resolve", "tocsin_escalate", "tocsin_open")
DECLARE_CALLBACK = "tocsin_declare"
TIMELINE_SHORTCUT = "tocsin_timeline"
NAME_LIMIT = 80  # Slack's longest channel name
TOPIC_LIMIT = 250


@dataclass(frozen=True)
class IncidentView:
    """An incident as chat shows it (names resolved, links built)."""

    id: int
    title: str
    status: str
    severity: str
    url: str
    commander: str | None = None
    tech_lead: str | None = None
    comms_lead: str | None = None
    next_update_due: datetime | None = None
    status_page: str | None = None
    channel: str | None = None  # the incident channel's id, when it has one
    bridge: str | None = None  # the conference link (respond/)
    drill: bool = False  # a game day (drills/): marked in the topic


    @property
    def number(self) -> str:
        return f"INC-{self.id}"


DRILL_MARK = "[DRILL] "
SECTION_LIMIT = 3000  # Slack's longest section text


@dataclass(frozen=True)
class Hint:
    """A suggestion as chat lists it (learning, issue 17): a known error with the first line
    of its workaround, or a similar past incident; `url` is where it links."""

    kind: str  # "known error" or "similar incident"
    title: str
    detail: str
    url: str


def looks_like(hints: Sequence[Hint]) -> list[dict[str, Any]]:
    """The "Looks like:" section (one block, none without hints): a line per hint, best
    first, within Slack's 3,000 characters (the last lines are dropped, never cut)."""
    lines = ["*Looks like:*"]
    for h in hints:
        line = f"• {h.kind.capitalize()}: <{h.url}|{_escape(h.title)[:200]}>"
        if h.detail:
            line += f"\n    Workaround: {_escape(h.detail)[:300]}"
        if len("\n".join([*lines, line])) > SECTION_LIMIT:
            break
        lines.append(line)
    if len(lines) == 1:
        return []
    return [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]


def channel_name(*, title: str, declared_at: datetime, suffix: str = "",
                 drill: bool = False) -> str:
    """`inc-YYYYMMDD-slug` (`drill-YYYYMMDD-slug` for a game day): lower case letters,
    digits and hyphens, at most 80 characters."""
    if drill:
        title = title.removeprefix(DRILL_MARK)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "incident"
    head = f"{'drill' if drill else 'inc'}-{declared_at:%Y%m%d}-"
    tail = f"-{suffix}" if suffix else ""
    slug = slug[: NAME_LIMIT - len(head) - len(tail)].rstrip("-")
    return f"{head}{slug}{tail}"


def _who(name: str | None) -> str:
    return name or "nobody yet"


def topic(view: IncidentView) -> str:
    parts = [f"{view.severity}", view.status, f"IC: {_who(view.commander)}"]
    if view.status_page:
        parts.append(f"Status page: {view.status_page}")
    text = " · ".join(parts)
    if view.drill:
        text = DRILL_MARK + text
    return text[:TOPIC_LIMIT]


def _due(view: IncidentView) -> str:
    if view.next_update_due is None:
        return "none"
    return f"{view.next_update_due:%Y-%m-%d %H:%M} UTC"


def summary(view: IncidentView, hints: Sequence[Hint] = ()
            ) -> tuple[str, list[dict[str, Any]]]:
    """The pinned summary: status, severity, roles, next update due, and what the incident
    looks like (`hints`)."""
    head = f"{SEVERITY_MARK.get(view.severity, '')} {view.number}: {view.title}".strip()
    fields = [
        ("Status", view.status), ("Severity", view.severity),
        ("Commander", _who(view.commander)), ("Tech lead", _who(view.tech_lead)),
        ("Comms lead", _who(view.comms_lead)), ("Next update due", _due(view)),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"}
                                       for k, v in fields]},
        *looks_like(hints),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": text}
                                         for text in _links(view)]},
    ]
    text = (f"{head} — {view.status}, {view.severity}, IC {_who(view.commander)}, "
            f"next update due {_due(view)}")
    return text, blocks


def _links(view: IncidentView) -> list[str]:
    links = [f"<{view.url}|Open in Tocsin>"]
    if view.bridge:
        links.append(f"<{view.bridge}|Join the bridge>")
    if view.status_page:
        links.append(f"<{view.status_page}|Status page>")
    return links


def alert(view: IncidentView, hints: Sequence[Hint] = ()) -> tuple[str, list[dict[str, Any]]]:
    """An alert/page message: what happened, what it looks like (`hints`), and buttons to
    act on it."""
    head = f"{SEVERITY_MARK.get(view.severity, '')} *{view.number}* {view.title}".strip()
    state = f"{view.severity} · {view.status}"
    if view.commander:
        state += f" · IC {view.commander}"
    if view.channel:
        state += f" · <#{view.channel}>"
    buttons: list[dict[str, Any]] = []
    if view.status == "triggered":
        buttons.append(_button("Acknowledge", ACTION_ACK, str(view.id), style="primary"))
    if view.status not in {"resolved", "closed"}:
        buttons.append(_button("Resolve", ACTION_RESOLVE, str(view.id)))
        buttons.append(_button("Escalate", ACTION_ESCALATE, str(view.id), style="danger"))
    buttons.append({"type": "button", "action_id": ACTION_OPEN,
                    "text": {"type": "plain_text", "text": "Open"}, "url": view.url})
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{head}\n{state}"[:3000]}},
        *looks_like(hints),
        {"type": "actions", "block_id": f"incident-{view.id}", "elements": buttons},
    ]
    return f"{view.number} {view.title} ({state})", blocks


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                              "text": {"type": "plain_text", "text": label}}
    if style:
        button["style"] = style
    return button


def declare_modal(*, channel_id: str, title: str,
                  services: list[tuple[int, str]]) -> dict[str, Any]:
    """The declare form: title, severity (with DOMAIN §3's guidance), service, private?"""
    severity_options = [
        {"text": {"type": "plain_text", "text": s.value},
         "description": {"type": "plain_text", "text": SEVERITY_GUIDANCE[s.value]},
         "value": s.value} for s in Severity]
    title_input: dict[str, Any] = {"type": "plain_text_input", "action_id": "title",
                                   "max_length": 300}
    if title:
        title_input["initial_value"] = title[:300]
    blocks: list[dict[str, Any]] = [
        {"type": "input", "block_id": "title", "label": _plain("Title"), "element": title_input},
        {"type": "input", "block_id": "severity", "label": _plain("Severity"),
         "hint": _plain("By user impact; over-classify early, lower it later."),
         "element": {"type": "static_select", "action_id": "severity",
                     "options": severity_options, "initial_option": severity_options[1]}},
    ]
    if services:
        blocks.append({
            "type": "input", "block_id": "service", "optional": True,
            "label": _plain("Service"),
            "element": {"type": "static_select", "action_id": "service",
                        "options": [{"text": _plain(name[:75]), "value": str(sid)}
                                    for sid, name in services[:100]]}})
    blocks.append({
        "type": "input", "block_id": "private", "optional": True, "label": _plain("Private?"),
        "element": {"type": "checkboxes", "action_id": "private", "options": [
            {"text": _plain("Private incident: a private channel, members only"),
             "value": "private"}]}})
    return {"type": "modal", "callback_id": DECLARE_CALLBACK, "private_metadata": channel_id,
            "title": _plain("Declare an incident"), "submit": _plain("Declare"),
            "close": _plain("Cancel"), "blocks": blocks}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def event_line(*, kind: str, body: str, actor: str | None) -> str:
    """One timeline entry as a channel message."""
    who = f" — {actor}" if actor else ""
    return f"*{kind.replace('_', ' ')}*: {body}{who}"[:3000]


def status_text(view: IncidentView) -> str:
    """What `/incident status` answers: the summary line, then the bridge and status page."""
    extra = [f"{label}: {link}" for label, link in (("Bridge", view.bridge),
                                                    ("Status page", view.status_page)) if link]
    return " · ".join([summary(view)[0], *extra])


@dataclass(frozen=True)
class StormView:
    """A storm message's content: how many incidents it groups, by status, and the latest."""

    count: int
    by_status: dict[str, int]
    latest: list[StormLine]
    started_at: datetime
    list_url: str


def storm_message(view: StormView) -> tuple[str, list[dict[str, Any]]]:
    """One message for a storm's incidents in an alert channel, edited as the storm grows:
    the count, the count per status, the latest few, a link to Tocsin's list. Five blocks,
    each within Slack's limits (header 150 characters, section text 3,000)."""
    head = f"⚡ Alert storm: {view.count} incidents since {view.started_at:%H:%M} UTC"
    statuses = " · ".join(f"{n} {status}" for status, n in sorted(view.by_status.items()))
    lines = [f"{SEVERITY_MARK.get(line.severity, '')} <{line.url}|{line.number}> "
             f"{_escape(line.title)[:120]} — {line.severity} · {line.status}"
             for line in view.latest]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"{statuses or 'none yet'}\nMore incidents a minute than chat can show one by "
            "one: these have no channel or alert message of their own.")[:3000]}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": ("\n".join(lines) or "none yet")[:3000]}},
        {"type": "actions", "block_id": "storm", "elements": [
            {"type": "button", "action_id": ACTION_OPEN, "url": view.list_url,
             "text": {"type": "plain_text", "text": "Open the incident list"}}]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"The latest {len(view.latest)} of {view.count} shown.")}]},
    ]
    return f"{head}: {statuses}", blocks


def _escape(text: str) -> str:
    """Slack's mrkdwn control characters, so a title cannot make links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
