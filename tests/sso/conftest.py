"""A real OpenID Connect provider (npm `oidc-provider`, run with Node.js) on a free loopback
port, and helpers that sign in through it without a browser."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tocsin.clock import FrozenClock
from tocsin.runtime import Runtime

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
CLIENT_ID, CLIENT_SECRET = "tocsin", "a-test-client-secret-of-some-length"
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice Ops",
              "groups": ["ops-managers", "staff"]},
    "mallory": {"email": "mallory@example.com", "email_verified": False, "name": "Mallory",
                "groups": ["staff"]},
}


class OidcProvider:
    def __init__(self, redirect_uris: list[str]) -> None:
        if shutil.which("node") is None or not (PROVIDER_DIR / "node_modules").is_dir():
            pytest.skip("Node.js or tests/sso/provider/node_modules is missing: run "
                        "`npm ci` in tests/sso/provider (.ci/run does)")
        config = {"clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                               "redirect_uris": redirect_uris}], "accounts": ACCOUNTS}
        self.proc = subprocess.Popen(["node", "provider.mjs", json.dumps(config)],
                                     cwd=PROVIDER_DIR, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the OpenID Connect provider did not start")
        self.issuer: str = json.loads(line)["issuer"]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def clock() -> FrozenClock:
    # The provider signs tokens with the real time; Tocsin's clock starts there too.
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def start_provider() -> Iterator[Callable[[list[str]], OidcProvider]]:
    started: list[OidcProvider] = []

    def start(redirect_uris: list[str]) -> OidcProvider:
        provider = OidcProvider(redirect_uris)
        started.append(provider)
        return provider

    yield start
    for provider in started:
        provider.stop()


def configure(runtime: Runtime, issuer: str) -> None:
    s = runtime.settings
    s.sso_issuer, s.sso_client_id = issuer, CLIENT_ID
    s.sso_client_secret = type(s.sso_client_secret or _secret())(CLIENT_SECRET)
    s.sso_group_roles = {"ops-managers": "responder", "tocsin-admins": "admin"}
    s.sso_group_teams = {"ops-managers": "Operations:manager", "staff": "Everyone:member"}


def _secret() -> Any:
    from pydantic import SecretStr

    return SecretStr("")


FORM_RE = re.compile(r'<form[^>]*action="([^"]+)"', re.IGNORECASE)
HIDDEN_RE = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', re.IGNORECASE)


def sign_in_at_provider(authorize_url: str, login: str) -> str:
    """Follow the provider's pages as a browser would (its login form: any password) and
    return the redirect back to the client (with code and state), without following it."""
    with httpx.Client(follow_redirects=False, timeout=10) as http:
        url, method, data = authorize_url, "GET", None
        for _ in range(12):
            r = http.request(method, url, data=data)
            if r.status_code in (302, 303):
                location = urljoin(url, r.headers["location"])
                if "/sso/callback" in location:
                    return location
                url, method, data = location, "GET", None
                continue
            form = FORM_RE.search(r.text)
            assert r.status_code == 200 and form, (r.status_code, r.text[:500])
            url, method = urljoin(url, unescape(form.group(1))), "POST"
            data = {unescape(n): unescape(v) for n, v in HIDDEN_RE.findall(r.text)}
            data.update({"login": login, "password": "anything"})
        raise AssertionError("the provider never redirected back")
