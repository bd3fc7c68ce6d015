"""HTTP(S) checks: status, keyword present/absent, JSON path, latency, redirects, TLS on/off."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from tocsin.checks.kinds.base import REASON_MAX, CheckOutcome, Resources, describe, failure
from tocsin.checks.schemas import HttpConfig

_MISSING = object()
# aiohttp's own timeouts off (no timer at all): `_fetch` puts one asyncio deadline around the
# whole exchange instead, which also bounds what aiohttp's `total` did.
_NO_CLIENT_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=None, sock_read=None,
                                           sock_connect=None)


def json_lookup(document: Any, path: str) -> Any:
    """Follow a dotted path (`data.items.0.state`) through objects and lists."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and \
                -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _status_ok(cfg: HttpConfig, status: int) -> bool:
    if cfg.expected_status:
        return status in cfg.expected_status
    return 200 <= status < 400


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes | None:
    """The body, or None when it is longer than `cap` (an endless body never fills memory)."""
    declared = response.content_length
    if declared is not None and declared <= cap and not response.headers.get("Content-Encoding"):
        return await response.read()  # the usual small answer: one read, no chunk list
    chunks: list[bytes] = []
    size = 0
    while chunk := await response.content.read(65536):
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _assert_body(cfg: HttpConfig, body: bytes) -> str | None:
    if cfg.keyword is None and cfg.keyword_absent is None and cfg.json_path is None:
        return None
    text = body.decode("utf-8", errors="replace")
    if cfg.keyword is not None and cfg.keyword not in text:
        return f"keyword '{cfg.keyword}' not found in the body"
    if cfg.keyword_absent is not None and cfg.keyword_absent in text:
        return f"keyword '{cfg.keyword_absent}' found in the body"
    if cfg.json_path is not None:
        try:
            document = json.loads(text)
        except ValueError:
            return "body is not JSON"
        value = json_lookup(document, cfg.json_path)
        if value is _MISSING:
            return f"JSON path '{cfg.json_path}' not found"
        if cfg.json_equals is not None and value != cfg.json_equals:
            return f"JSON path '{cfg.json_path}' is {json.dumps(value)[:100]}, " \
                   f"expected {json.dumps(cfg.json_equals)[:100]}"
    return None


async def _fetch(cfg: HttpConfig, *, timeout: float,
                 resources: Resources) -> tuple[int, bytes | None, int] | str:
    """(status, capped body, latency ms), or the reason the exchange failed."""
    session = resources.http_session(verify=cfg.verify_tls, ca_pem=cfg.ca_pem,
                                     fresh=cfg.fresh_connection)
    started = time.perf_counter()
    phase = "waiting for a response"
    try:
        async with asyncio.timeout(timeout), session.request(
                cfg.method, cfg.url, headers=cfg.headers or None,
                data=cfg.body.encode() if cfg.body else None,
                allow_redirects=cfg.follow_redirects, timeout=_NO_CLIENT_TIMEOUT) as response:
            phase = "reading the body"
            body = await _read_capped(response, resources.max_body_bytes)
            # Stop reading an oversized body now instead of draining it to reuse the connection.
            if body is None:
                response.close()
            return response.status, body, int((time.perf_counter() - started) * 1000)
    except TimeoutError:
        return f"timed out after {timeout:g}s {phase}"
    except aiohttp.ClientConnectorError as exc:  # refused, DNS, TLS: before the OSError case
        return describe(exc)
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
        if phase == "reading the body":
            return f"reading the body: {describe(exc)}"
        return f"connection reset or closed by the server before a response ({describe(exc)})"
    except aiohttp.TooManyRedirects:
        return "too many redirects"
    except aiohttp.ClientResponseError as exc:  # garbage instead of HTTP
        return f"invalid HTTP response: {' '.join(str(exc.message).split())}"[:REASON_MAX]
    except aiohttp.ClientError as exc:
        return describe(exc) if phase != "reading the body" else f"reading the body: {describe(exc)}"


async def run(cfg: HttpConfig, *, timeout: float, resources: Resources) -> CheckOutcome:
    fetched = await _fetch(cfg, timeout=timeout, resources=resources)
    if isinstance(fetched, str):
        return failure(fetched)
    status, body, latency = fetched
    if body is None:
        return failure(f"response body larger than {resources.max_body_bytes} bytes", latency)
    if not _status_ok(cfg, status):
        expected = ", ".join(map(str, cfg.expected_status)) if cfg.expected_status else "2xx/3xx"
        return failure(f"HTTP {status} (expected {expected})", latency)
    problem = _assert_body(cfg, body)
    if problem is not None:
        return failure(problem, latency)
    if cfg.max_latency_ms is not None and latency > cfg.max_latency_ms:
        return failure(f"took {latency} ms (limit {cfg.max_latency_ms} ms)", latency)
    return CheckOutcome(ok=True, latency_ms=latency)
