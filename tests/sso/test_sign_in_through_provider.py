"""Signing in through a real OpenID Connect provider: a new user lands in the right team
with the right role; every bad answer is refused with a message and an audit entry, and
leaves the accounts as they were."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.sso.conftest import CLIENT_ID, CLIENT_SECRET, OidcProvider, configure, sign_in_at_provider
from tocsin.accounts.models import User
from tocsin.audit.models import AuditEntry
from tocsin.clock import FrozenClock
from tocsin.errors import Unauthorized
from tocsin.runtime import Runtime
from tocsin.sso import oidc

TESTSERVER_CALLBACK = "http://testserver/sso/callback"


def _users(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.read_sessions() as s:
        return [(u.email, u.role) for u in s.scalars(select(User).order_by(User.id))]


def _audit(runtime: Runtime, action: str) -> list[AuditEntry]:
    with runtime.read_sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.fixture
def tocsin_and_provider(runtime: Runtime, client: TestClient,
                        start_provider: Callable[[list[str]], OidcProvider]
                        ) -> tuple[TestClient, OidcProvider]:
    provider = start_provider([TESTSERVER_CALLBACK])
    configure(runtime, provider.issuer)
    return client, provider


def _authorize_url(client: TestClient) -> str:
    r = client.get("/sso/start", follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _with_param(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _refused(client: TestClient, runtime: Runtime, callback: str, words: str) -> None:
    before = _users(runtime)
    r = client.get(callback.replace("http://testserver", ""), follow_redirects=False)
    assert r.status_code == 401, r.text
    assert words in html.unescape(r.text)
    assert _users(runtime) == before
    failed = _audit(runtime, "sign_in_failed")
    assert failed and words in failed[-1].detail
    assert "tocsin_session" not in client.cookies


def test_a_wrong_state_is_refused(tocsin_and_provider: tuple[TestClient, OidcProvider],
                                  runtime: Runtime) -> None:
    client, _ = tocsin_and_provider
    callback = sign_in_at_provider(_authorize_url(client), "alice")
    _refused(client, runtime, _with_param(callback, state="not-the-state"),
             "state does not match")


def test_a_token_with_another_nonce_is_refused(
        tocsin_and_provider: tuple[TestClient, OidcProvider], runtime: Runtime) -> None:
    client, _ = tocsin_and_provider
    url = _with_param(_authorize_url(client), nonce="a-nonce-tocsin-never-sent")
    _refused(client, runtime, sign_in_at_provider(url, "alice"), "nonce does not match")


def test_an_unverified_email_is_refused(
        tocsin_and_provider: tuple[TestClient, OidcProvider], runtime: Runtime) -> None:
    client, _ = tocsin_and_provider
    _refused(client, runtime, sign_in_at_provider(_authorize_url(client), "mallory"),
             "has not verified the email mallory@example.com")


def _direct_id_token(provider: OidcProvider, nonce: str) -> str:
    """An ID token from the provider by direct requests (authorize, sign in, token)."""
    found = oidc.discover(provider.issuer)
    oauth = OAuth2Client(client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                         scope="openid email profile groups", redirect_uri=TESTSERVER_CALLBACK,
                         code_challenge_method="S256")
    verifier = generate_token(64)
    url, _state = oauth.create_authorization_url(found.authorization_endpoint, nonce=nonce,
                                                 code_verifier=verifier)
    callback = sign_in_at_provider(url, "alice")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    r = httpx.post(found.token_endpoint, auth=(CLIENT_ID, CLIENT_SECRET), data={
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": TESTSERVER_CALLBACK})
    assert r.status_code == 200, r.text
    token: str = r.json()["id_token"]
    return token


def _deliver(monkeypatch: pytest.MonkeyPatch, client: TestClient, runtime: Runtime,
             id_token: str, words: str) -> None:
    """Run a real sign-in through Tocsin, but have the token endpoint's answer replaced by
    `id_token` (as an attacker between Tocsin and the provider would)."""
    monkeypatch.setattr(oidc, "exchange", lambda *a, **k: id_token)
    callback = sign_in_at_provider(_authorize_url(client), "alice")
    # The nonce Tocsin sent is the one in the pending sign-in; reuse it for the forged token.
    _refused(client, runtime, callback, words)


def test_a_forged_id_token_is_refused(tocsin_and_provider: tuple[TestClient, OidcProvider],
                                      runtime: Runtime, monkeypatch: pytest.MonkeyPatch
                                      ) -> None:
    import base64
    import json

    client, provider = tocsin_and_provider
    real = _direct_id_token(provider, nonce="n1")
    header, payload, signature = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "ceo@example.com"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    _deliver(monkeypatch, client, runtime, f"{header}.{forged_payload}.{signature}",
             "signature is not the provider")


def test_a_token_from_another_issuer_is_refused(
        tocsin_and_provider: tuple[TestClient, OidcProvider], runtime: Runtime,
        monkeypatch: pytest.MonkeyPatch,
        start_provider: Callable[[list[str]], OidcProvider]) -> None:
    client, _ = tocsin_and_provider
    other = start_provider([TESTSERVER_CALLBACK])
    token = _direct_id_token(other, nonce="n2")
    _deliver(monkeypatch, client, runtime, token, f"issued by '{other.issuer}'")


def test_an_expired_id_token_is_refused(
        tocsin_and_provider: tuple[TestClient, OidcProvider], clock: FrozenClock) -> None:
    _, provider = tocsin_and_provider
    token = _direct_id_token(provider, nonce="n3")
    found = oidc.discover(provider.issuer)
    assert oidc.verify_id_token(found, token, client_id=CLIENT_ID, nonce="n3",
                                now=clock.now())["email"] == "alice@example.com"
    with pytest.raises(Unauthorized, match="expired"):
        oidc.verify_id_token(found, token, client_id=CLIENT_ID, nonce="n3",
                             now=clock.now() + timedelta(hours=2))


def test_an_expired_id_token_in_a_real_sign_in_is_refused_and_audited(
        tocsin_and_provider: tuple[TestClient, OidcProvider], runtime: Runtime,
        clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tocsin's clock two hours past the provider's: the sign-in starts fresh, but the ID
    token the provider signs (for the nonce of that sign-in) has expired by Tocsin's time."""
    client, provider = tocsin_and_provider
    clock.advance(hours=2)
    url = _authorize_url(client)
    nonce = parse_qs(urlsplit(url).query)["nonce"][0]
    token = _direct_id_token(provider, nonce=nonce)
    monkeypatch.setattr(oidc, "exchange", lambda *a, **k: token)
    _refused(client, runtime, sign_in_at_provider(url, "alice"), "expired")
