"""HTTP client for everyday commands, configured by TOCSIN_URL and TOCSIN_TOKEN."""

from __future__ import annotations

import os
from typing import Any

import httpx
import typer


class Client:
    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = (url or os.environ.get("TOCSIN_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.token = token or os.environ.get("TOCSIN_TOKEN")
        if not self.token:
            _fail("set TOCSIN_TOKEN to an API key (create one with `tocsin apikey create`)")
        self._http = httpx.Client(base_url=self.url, timeout=30.0,
                                  headers={"Authorization": f"Bearer {self.token}"})

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            _fail(f"cannot reach Tocsin at {self.url}: {exc}")
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = body.get("detail") or body
            except ValueError:
                detail = response.text
            _fail(f"{response.status_code}: {detail}")
        return response.json() if response.content else None


def _fail(message: str) -> Any:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)
