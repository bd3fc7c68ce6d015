"""Talking to an OpenID Connect provider with Authlib: discovery, the authorization URL
(PKCE S256, state, nonce), the code exchange, and the ID token's checks."""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError
from joserfc.jwk import KeySet

from tocsin.errors import Unauthorized

TIMEOUT = 10.0
LEEWAY_SECONDS = 60
ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"]


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


_discovered: dict[str, Provider] = {}
_lock = threading.Lock()


def discover(issuer: str) -> Provider:
    """The provider's endpoints from its discovery document (kept for the process)."""
    with _lock:
        if issuer in _discovered:
            return _discovered[issuer]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        doc = httpx.get(url, timeout=TIMEOUT).raise_for_status().json()
    except (httpx.HTTPError, ValueError) as exc:
        raise Unauthorized(f"the identity provider's discovery document at {url} could not "
                           f"be read ({exc}); try again later") from None
    if doc.get("issuer") != issuer:
        raise Unauthorized(f"the discovery document names issuer {doc.get('issuer')!r}, not "
                           f"the configured {issuer!r}")
    found = Provider(issuer=issuer, authorization_endpoint=doc["authorization_endpoint"],
                     token_endpoint=doc["token_endpoint"], jwks_uri=doc["jwks_uri"],
                     end_session_endpoint=doc.get("end_session_endpoint"))
    with _lock:
        _discovered[issuer] = found
    return found


def client(*, client_id: str, client_secret: str, redirect_uri: str) -> OAuth2Client:
    return OAuth2Client(client_id=client_id, client_secret=client_secret,
                        scope="openid email profile groups", redirect_uri=redirect_uri,
                        code_challenge_method="S256", timeout=TIMEOUT,
                        token_endpoint_auth_method="client_secret_basic")


def authorization_url(provider: Provider, oauth: OAuth2Client, *, state: str, nonce: str,
                      code_verifier: str) -> str:
    url, _state = oauth.create_authorization_url(
        provider.authorization_endpoint, state=state, nonce=nonce, code_verifier=code_verifier)
    return str(url)


def exchange(provider: Provider, oauth: OAuth2Client, *, code: str,
             code_verifier: str) -> str:
    """The ID token the token endpoint answers for `code`."""
    try:
        token = oauth.fetch_token(provider.token_endpoint, code=code,
                                  code_verifier=code_verifier,
                                  grant_type="authorization_code")
    except Exception as exc:  # Authlib raises OAuthError, httpx its own: both mean "no"
        raise Unauthorized(f"the identity provider refused the sign-in code ({exc})") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise Unauthorized("the identity provider answered without an ID token")
    return id_token


def _unverified_claims(id_token: str) -> dict[str, Any]:
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        raise Unauthorized("the ID token is not a JWT") from None
    if not isinstance(claims, dict):
        raise Unauthorized("the ID token is not a JWT")
    return claims


def verify_id_token(provider: Provider, id_token: str, *, client_id: str, nonce: str,
                    now: datetime) -> dict[str, Any]:
    """The token's claims once its issuer, signature (the provider's published keys),
    audience, nonce and lifetime are right; otherwise Unauthorized saying which is wrong."""
    issuer = _unverified_claims(id_token).get("iss")
    if issuer != provider.issuer:
        raise Unauthorized(f"the ID token was issued by {issuer!r}, not by the configured "
                           f"provider {provider.issuer!r}")
    try:
        keys = KeySet.import_key_set(
            httpx.get(provider.jwks_uri, timeout=TIMEOUT).raise_for_status().json())
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise Unauthorized(f"the identity provider's signing keys could not be read ({exc})"
                           ) from None
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise Unauthorized(f"the ID token's signature is not the provider's ({exc})") from None
    registry = jwt.JWTClaimsRegistry(
        now=int(now.timestamp()), leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": client_id},
        exp={"essential": True}, sub={"essential": True},
        nonce={"essential": True, "value": nonce})
    try:
        registry.validate(token.claims)
    except ExpiredTokenError:
        raise Unauthorized("the ID token has expired; sign in again") from None
    except InvalidClaimError as exc:
        if getattr(exc, "claim", "") == "nonce" or "nonce" in str(exc):
            raise Unauthorized("the ID token's nonce does not match this sign-in (a replayed "
                               "or substituted token)") from None
        raise Unauthorized(f"the ID token was refused: {exc}") from None
    except JoseError as exc:
        raise Unauthorized(f"the ID token was refused: {exc}") from None
    return dict(token.claims)
