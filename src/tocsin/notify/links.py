"""Signed, expiring links in messages: acknowledge (`/ack/<token>`) and invitation
(`/welcome/<token>`).

An acknowledge token names the incident and the user it was sent to, and when it expires;
an HMAC under the server's signing key makes it unforgeable. Nothing is stored.

An invitation token names the user and its expiry, and its HMAC also covers a stamp of the
user's password hash at the time of the invitation: setting a password with the link
changes the hash, so the same link is refused afterwards (single use without a table).
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


def password_stamp(password_hash: str | None) -> str:
    """A short digest of the password hash: changes whenever the password is set."""
    return hashlib.sha256((password_hash or "-").encode()).hexdigest()[:16]


def _invite_sig(secret: str, payload: str, stamp: str) -> str:
    digest = hmac.new(secret.encode(), f"invite:{payload}:{stamp}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:20]).decode().rstrip("=")


def invite_token(secret: str, *, user_id: int, expires: datetime, stamp: str) -> str:
    payload = f"{user_id}.{int(expires.timestamp())}"
    return f"{payload}.{_invite_sig(secret, payload, stamp)}"


def invite_user(token: str) -> int:
    """The user an invitation token names (not yet checked); raises Invalid if malformed."""
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isdigit() and len(p) < 20 for p in parts[:2]):
        raise Invalid("this sign-in link is malformed (was it copied completely?)")
    return int(parts[0])


def check_invite_token(secret: str, token: str, *, stamp: str, now: datetime) -> int:
    """The user id of a valid, unused, unexpired invitation token; raises Invalid."""
    user_id = invite_user(token)
    payload, sig = token.rsplit(".", 1)
    if not hmac.compare_digest(_invite_sig(secret, payload, stamp), sig):
        raise Invalid("this sign-in link was already used, or is not valid: sign in with "
                      "your password, or ask an admin for a new invitation")
    if datetime.fromtimestamp(int(payload.split(".")[1]), UTC) <= now:
        raise Invalid("this sign-in link has expired: ask an admin for a new invitation")
    return user_id
