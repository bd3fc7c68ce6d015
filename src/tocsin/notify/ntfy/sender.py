"""ntfy push with action buttons, published with ntfy's JSON API (not through Apprise, whose
ntfy plugin sends no actions).

The address is the Apprise-style ntfy URL people already use: `ntfy://[user:pass@]host
[:port]/topic` (http), `ntfys://…` (https), `ntfy://topic` (the public ntfy.sh), with an
optional `?token=tk_…` access token. A page carries two buttons: Acknowledge (an `http`
action: the phone POSTs Tocsin's signed, single-use acknowledge link, no app needed) and
Open (a `view` action on the incident). Other messages (verification codes, briefings) are
plain notifications.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from tocsin.notify.contract import Outgoing, PermanentError, TemporaryError
from tocsin.outbound import refused_message, url_refusal
from tocsin.settings import Settings

PUBLIC_SERVER = "https://ntfy.sh"


@dataclass(frozen=True)
class Target:
    server: str  # e.g. http://127.0.0.1:8080
    topic: str
    auth: tuple[str, str] | None = None
    token: str | None = None


def target_of(address: str) -> Target:
    """Where an ntfy address publishes; PermanentError if it is not one."""
    parts = urlsplit(address)
    scheme = parts.scheme.lower()
    if scheme not in ("ntfy", "ntfys"):
        raise PermanentError(f"not an ntfy address: {address}")
    path = parts.path.strip("/")
    tokens = parse_qs(parts.query).get("token")
    token = tokens[0] if tokens else None
    if not path:  # ntfy://topic: the public server
        if not parts.hostname:
            raise PermanentError("an ntfy address needs a topic")
        return Target(PUBLIC_SERVER, parts.hostname, token=token)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    server = f"{'https' if scheme == 'ntfys' else 'http'}://{host}{port}"
    return Target(server, path.split("/")[0], auth=auth, token=token)


def message_of(out: Outgoing, topic: str) -> dict[str, Any]:
    """The JSON body ntfy's publish API takes (POST to the server's root URL)."""
    body: dict[str, Any] = {"topic": topic, "title": out.subject[:250], "message": out.text}
    ack_url, open_url = out.data.get("ack_url"), out.data.get("incident_url")
    if out.data.get("kind") == "page" and ack_url and open_url:
        body.update(priority=5, tags=["rotating_light"], click=open_url, actions=[
            {"action": "http", "label": "Acknowledge", "url": ack_url, "method": "POST",
             "clear": True},
            {"action": "view", "label": "Open", "url": open_url},
        ])
    return body


def send(out: Outgoing, settings: Settings) -> None:
    target = target_of(out.address)
    reason = url_refusal(target.server, settings.outbound_policy)
    if reason is not None:
        raise PermanentError(f"ntfy {target.server}: {refused_message(reason)}")
    headers = {"Content-Type": "application/json", "User-Agent": "Tocsin"}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    body = json.dumps(message_of(out, target.topic)).encode()
    try:
        r = httpx.post(target.server + "/", content=body, headers=headers, auth=target.auth,
                       timeout=settings.webhook_timeout_seconds, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise TemporaryError(f"ntfy {target.server}: {type(exc).__name__}: {exc}") from exc
    if r.status_code < 300:
        return
    err = f"ntfy {target.server} answered {r.status_code}: {r.text[:200]}"
    if r.status_code in (408, 425, 429) or r.status_code >= 500:
        raise TemporaryError(err)
    raise PermanentError(err)
