"""Signed, expiring acknowledge links: `/ack/<token>`.

The token names the incident and the user it was sent to, and when it expires; an HMAC
under the server's signing key makes it unforgeable. Nothing is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from tocsin.errors import Invalid


def _sig(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), f"ack:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def ack_token(secret: str, *, incident_id: int, user_id: int, expires: datetime) -> str:
    payload = f"{incident_id}.{user_id}.{int(expires.timestamp())}"
    return f"{payload}.{_sig(secret, payload)}"


def read_ack_token(secret: str, token: str, *, now: datetime) -> tuple[int, int]:
    """(incident_id, user_id) of a valid token; raises Invalid otherwise."""
    parts = token.split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts[:3]):
        raise Invalid("this acknowledge link is malformed")
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_sig(secret, payload), parts[3]):
        raise Invalid("this acknowledge link is not valid (was it copied completely?)")
    if datetime.fromtimestamp(int(parts[2]), UTC) <= now:
        raise Invalid("this acknowledge link has expired; acknowledge in the app or CLI")
    return int(parts[0]), int(parts[1])
