"""Generic outgoing webhooks, signed with HMAC-SHA256 over the raw body.

Header `X-Tocsin-Signature: sha256=<hex>[,sha256=<hex>]` carries one signature per active
secret (two during a rotation), so a receiver that knows either secret accepts the request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading

import httpx

from tocsin.notify.channels import Outgoing, PermanentError, TemporaryError
from tocsin.settings import Settings

HEADER = "X-Tocsin-Signature"
# One pooled client per process: building a client (and its TLS context) per page costs
# tens of milliseconds, which is most of a page's latency budget.
_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(limits=httpx.Limits(max_connections=64))
        return _client


def sign(body: bytes, secrets: list[str]) -> str:
    return ",".join("sha256=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest()
                    for s in secrets)


def verify(body: bytes, header: str, secret: str) -> bool:
    """Receiver side: does any signature in `header` match `secret`?"""
    want = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(part.strip().removeprefix("sha256="), want)
               for part in header.split(","))


def send(out: Outgoing, settings: Settings) -> None:
    body = json.dumps({"subject": out.subject, "text": out.text, **out.data},
                      separators=(",", ":"), sort_keys=True, default=str).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Tocsin"}
    secrets = [s.get_secret_value() for s in settings.webhook_signing_secrets]
    if secrets:
        headers[HEADER] = sign(body, secrets)
    if "idempotency_key" in out.data:
        headers["Idempotency-Key"] = str(out.data["idempotency_key"])
    try:
        r = _http().post(out.address, content=body, headers=headers,
                         timeout=settings.webhook_timeout_seconds)
    except httpx.HTTPError as exc:
        raise TemporaryError(f"webhook {out.address}: {exc}") from exc
    if r.status_code < 300:
        return
    err = f"webhook {out.address} answered {r.status_code}"
    if r.status_code in (408, 425, 429) or r.status_code >= 500:
        raise TemporaryError(err)
    raise PermanentError(err)
