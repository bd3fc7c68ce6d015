"""What a message says, per kind; built at send time from the stored payload."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

from tocsin.notify.channels import ChannelKind, Outgoing
from tocsin.notify.links import ack_token
from tocsin.settings import Settings


def render(*, kind: str, channel: ChannelKind, address: str, payload: dict[str, Any],
           user_id: int, incident_id: int | None, idempotency_key: str, settings: Settings,
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
    lines += [f"Acknowledge: {ack_url}", f"Details: {url}/incidents/{incident_id}",
              f"Or reply ACK {incident_id} (SMS) / run `tocsin incident ack {number}`."]
    text = "\n".join(lines)
    body = html.escape(subject)
    page = (f"<p><strong>{body}</strong></p><p><a href=\"{html.escape(ack_url)}\">"
            f"Acknowledge {number}</a></p>")
    data.update({"incident_id": incident_id, "number": number, "title": title,
                 "severity": sev, "ack_url": ack_url, "level": payload.get("level")})
    return Outgoing(channel, address, subject, text, html=page, data=data)
