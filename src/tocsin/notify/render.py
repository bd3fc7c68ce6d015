"""What a message says, per kind; built at send time from the stored payload."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

from tocsin.notify.contract import ChannelKind, Outgoing
from tocsin.notify.links import ack_token, invite_token
from tocsin.settings import Settings

# Channels whose messages stay short (a text message, a call): a page there only links to
# the known errors and similar incidents.
SHORT = frozenset({ChannelKind.SMS, ChannelKind.VOICE})


def render(*, kind: str, channel: ChannelKind, address: str, payload: dict[str, Any],
           user_id: int | None, incident_id: int | None, idempotency_key: str, settings: Settings,
           now: datetime) -> Outgoing:
    data: dict[str, Any] = {"kind": kind, "idempotency_key": idempotency_key}
    if kind == "verify":
        text = (f"Your Tocsin verification code is {payload['code']}. Enter it to start "
                "receiving pages here.")
        return Outgoing(channel, address, "Tocsin: verify this contact method", text,
                        data={**data, "code": payload["code"]})
    if kind == "test":
        return Outgoing(channel, address, "Tocsin: test message",
                        "This is a test message from Tocsin: this contact method works.",
                        data=data)
    if kind == "bulletin":  # written whole by its author (status page subscribers)
        return Outgoing(channel, address, str(payload["subject"]), str(payload["text"]),
                        html=payload.get("html"), data={**data, **payload.get("data", {})},
                        headers=dict(payload.get("headers", {})))
    assert user_id is not None, f"a {kind} message goes to a user"
    if kind == "invite":
        return _invitation(channel, address, payload, user_id, settings, data)
    if kind == "briefing":
        return Outgoing(channel, address, str(payload["subject"]), str(payload["text"]),
                        data=data)
    assert incident_id is not None
    url = settings.public_url
    token = ack_token(settings.secret(), incident_id=incident_id, user_id=user_id,
                      expires=now + timedelta(hours=settings.ack_link_hours))
    ack_url = f"{url}/ack/{token}"
    number, title, sev = f"INC-{incident_id}", payload.get("title", ""), payload.get("severity")
    subject = f"[{sev}] {number}: {title}"
    lines = [subject]
    if payload.get("note"):
        lines.append(f"Note: {payload['note']}")
    if payload.get("level"):
        lines.append(f"Escalation level {payload['level']}")
    bridge = payload.get("bridge_url")
    if bridge:
        lines.append(f"Bridge: {bridge}")
    lines += [f"Acknowledge: {ack_url}", f"Details: {url}/incidents/{incident_id}",
              f"Runbooks and known errors: {url}/incidents/{incident_id}#learning",
              f"Or reply ACK {incident_id} (SMS) / run `tocsin incident ack {number}`."]
    learning = f"{url}/incidents/{incident_id}#learning"
    hints = [(str(h.get("kind", "")), str(h.get("title", "")), str(h.get("detail", "")),
              f"{url}{h['path']}" if h.get("path") else learning)
             for h in payload.get("suggestions") or []]
    if hints and channel not in SHORT:
        lines.append("Looks like:")
        lines += [f"- {kind.capitalize()}: {t}" + (f". Workaround: {d}" if d else "") + f" {link}"
                  for kind, t, d, link in hints]
    text = "\n".join(lines)
    body = html.escape(subject)
    page = (f"<p><strong>{body}</strong></p><p><a href=\"{html.escape(ack_url)}\">"
            f"Acknowledge {number}</a></p>")
    if bridge:
        page += f"<p>Bridge: <a href=\"{html.escape(str(bridge))}\">{html.escape(str(bridge))}</a></p>"
    if hints:
        page += "<p>Looks like:</p><ul>" + "".join(
            f"<li>{html.escape(kind.capitalize())}: <a href=\"{html.escape(link)}\">"
            f"{html.escape(t)}</a>" + (f"<br>Workaround: {html.escape(d)}" if d else "")
            + "</li>" for kind, t, d, link in hints) + "</ul>"
    data.update({"incident_id": incident_id, "number": number, "title": title,
                 "severity": sev, "ack_url": ack_url, "level": payload.get("level"),
                 "incident_url": f"{url}/incidents/{incident_id}", "bridge_url": bridge})
    if hints:
        data["suggestions"] = [{"kind": kind, "title": t, "workaround": d or None, "url": link}
                               for kind, t, d, link in hints]
    return Outgoing(channel, address, subject, text, html=page, data=data)


def _invitation(channel: ChannelKind, address: str, payload: dict[str, Any], user_id: int,
                settings: Settings, data: dict[str, Any]) -> Outgoing:
    """The token is made here, at send time, from the stored expiry and stamp: the outbox
    row alone (without the server's key) does not let anyone sign in."""
    expires = datetime.fromtimestamp(int(payload["expires"]), UTC)
    token = invite_token(settings.secret(), user_id=user_id, expires=expires,
                         stamp=str(payload["stamp"]))
    url = f"{settings.public_url}/welcome/{token}"
    when = expires.strftime("%Y-%m-%d %H:%M UTC")
    text = (f"Hello {payload.get('name', '')},\n\nYou have a Tocsin account: Tocsin pages "
            "the people on call when something breaks. Open this link to set your password "
            f"and tell Tocsin how to reach you:\n\n{url}\n\nThe link works once, until "
            f"{when}.")
    page = (f"<p>Hello {html.escape(str(payload.get('name', '')))},</p><p>You have a Tocsin "
            f"account. <a href=\"{html.escape(url)}\">Set your password and how to reach "
            f"you</a>.</p><p>The link works once, until {when}.</p>")
    return Outgoing(channel, address, "Tocsin: you are invited, set your password", text,
                    html=page, data={**data, "url": url})
