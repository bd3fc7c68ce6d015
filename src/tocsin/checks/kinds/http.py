"""HTTP(S) checks: status, keyword present/absent, JSON path, latency, redirects, TLS on/off."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tocsin.checks.kinds.base import Outcome, Resources, describe, failure
from tocsin.checks.schemas import HttpConfig

_MISSING = object()


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


async def _read_capped(response: httpx.Response, cap: int) -> bytes | None:
    """The body, or None when it is longer than `cap` (an endless body never fills memory)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _assert_body(cfg: HttpConfig, body: bytes) -> str | None:
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


async def run(cfg: HttpConfig, *, timeout: float, resources: Resources) -> Outcome:
    client = resources.http_client(verify=cfg.verify_tls, ca_pem=cfg.ca_pem,
                                   fresh=cfg.fresh_connection)
    request = client.build_request(cfg.method, cfg.url, headers=cfg.headers,
                                   content=cfg.body.encode() if cfg.body else None,
                                   timeout=httpx.Timeout(timeout))
    started = time.perf_counter()
    try:
        response = await client.send(request, stream=True, follow_redirects=cfg.follow_redirects)
    except httpx.TimeoutException:
        return failure(f"timed out after {timeout:g}s waiting for a response")
    except httpx.ReadError as exc:
        return failure(f"connection reset or closed by the server before a response "
                       f"({describe(exc)})")
    except httpx.HTTPError as exc:
        return failure(describe(exc))
    try:
        body = await _read_capped(response, resources.max_body_bytes)
    except httpx.TimeoutException:
        return failure(f"timed out after {timeout:g}s reading the body")
    except httpx.HTTPError as exc:
        return failure(f"reading the body: {describe(exc)}")
    finally:
        await response.aclose()
    latency = int((time.perf_counter() - started) * 1000)
    if body is None:
        return failure(f"response body larger than {resources.max_body_bytes} bytes", latency)
    if not _status_ok(cfg, response.status_code):
        expected = ", ".join(map(str, cfg.expected_status)) if cfg.expected_status else "2xx/3xx"
        return failure(f"HTTP {response.status_code} (expected {expected})", latency)
    problem = _assert_body(cfg, body)
    if problem is not None:
        return failure(problem, latency)
    if cfg.max_latency_ms is not None and latency > cfg.max_latency_ms:
        return failure(f"took {latency} ms (limit {cfg.max_latency_ms} ms)", latency)
    return Outcome(ok=True, latency_ms=latency)
