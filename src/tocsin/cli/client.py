"""HTTP client for everyday commands, configured by TOCSIN_URL and TOCSIN_TOKEN."""

from __future__ import annotations

import os
from typing import Any, NoReturn

import httpx
import typer


class Client:
    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = (url or os.environ.get("TOCSIN_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.token = token or os.environ.get("TOCSIN_TOKEN")
        if not self.token:
            fail("set TOCSIN_TOKEN to an API key (create one with `tocsin apikey create`)")
        self._http = httpx.Client(base_url=self.url, timeout=30.0,
                                  headers={"Authorization": f"Bearer {self.token}"})

    def request(self, method: str, path: str, *, hint: str = "", **kwargs: Any) -> Any:
        """The answer's JSON; an error answer ends the command with one line (plus `hint`,
        e.g. which options supply what the server says is missing)."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            fail(f"cannot reach Tocsin at {self.url}: {exc}")
        if response.status_code >= 400:
            fail(f"{response.status_code}: {problem_text(response)}"
                 + (f" ({hint})" if hint else ""))
        return response.json() if response.content else None

    def response(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The raw answer, error or not, for a command that shows more of an error than one
        line (e.g. `tocsin runbook sync`, a problem per file)."""
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            fail(f"cannot reach Tocsin at {self.url}: {exc}")


def problem_text(response: httpx.Response) -> str:
    """The one line a person needs from an error answer: its detail, and the fields a
    validation error names (RFC 9457 problem with `errors: [{field, message}]`)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip().splitlines()[0] if response.text.strip() else "(no body)"
    if not isinstance(body, dict):
        return str(body)
    detail = str(body.get("detail") or body.get("message") or body.get("title") or body)
    errors = body.get("errors")
    if isinstance(errors, list) and errors and all(isinstance(e, dict) for e in errors):
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors)
        if fields not in detail:
            detail = f"{detail} ({fields})"
    missing = body.get("missing")
    if isinstance(missing, list) and missing and not all(str(m) in detail for m in missing):
        detail = f"{detail} (missing: {', '.join(map(str, missing))})"
    return detail.replace("\n", " ")

def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
