"""The probe agent: pulls its assignments, runs them with the server's own check code, and
pushes results. Run as `tocsin probe --server URL --token T --location NAME`.

State lives in memory on purpose: a restarted probe simply pulls its assignments again, and
the server treats its silence meanwhile as "probe offline", not as an outage.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from tocsin.checks.execute import execute
from tocsin.checks.kinds.base import Resources

log = logging.getLogger("tocsin.probe")
MAX_BUFFER = 50_000


@dataclass
class Scheduled:
    id: int
    kind: str
    interval: float
    timeout: float
    config: dict[str, Any]
    next_due: float  # time.monotonic()
    # The server's "run now" stamp last acted on; a different one means run at once.
    run_requested_at: str | None = None


@dataclass
class ProbeAgent:
    server: str
    token: str
    location: str
    concurrency: int = 200
    refresh_seconds: float = 5.0
    push_seconds: float = 1.0
    source_address: str | None = None
    verify_tls: bool = True
    checks: dict[int, Scheduled] = field(default_factory=dict)
    results: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_BUFFER))

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.server.rstrip("/"), timeout=10.0, verify=self.verify_tls,
            headers={"Authorization": f"Bearer {self.token}",
                     "X-Probe-Location": self.location, "User-Agent": "tocsin-probe/1"})

    def apply_assignments(self, items: list[dict[str, Any]], now: float) -> None:
        """Add new checks (first run jittered over the interval), update changed, drop gone."""
        seen = set()
        for item in items:
            cid = int(item["id"])
            seen.add(cid)
            current = self.checks.get(cid)
            interval = float(item["interval_seconds"])
            asked = item.get("run_requested_at")
            if current is None:
                current = self.checks[cid] = Scheduled(
                    cid, item["kind"], interval, float(item["timeout_seconds"]),
                    item["config"], now + random.uniform(0, interval))
            else:
                current.kind, current.config = item["kind"], item["config"]
                current.interval, current.timeout = interval, float(item["timeout_seconds"])
            if asked is not None and asked != current.run_requested_at:
                current.run_requested_at, current.next_due = asked, now  # "run now"
        for cid in set(self.checks) - seen:
            del self.checks[cid]

    async def _refresh(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/api/v1/probe/assignments")
        if response.status_code in (401, 403):
            raise SystemExit(f"the server refused this probe: {response.text}")
        response.raise_for_status()
        self.apply_assignments(response.json(), time.monotonic())

    async def _push(self, client: httpx.AsyncClient) -> None:
        batch = [self.results.popleft() for _ in range(min(len(self.results), 5000))]
        if not batch:
            return
        try:
            response = await client.post("/api/v1/probe/results", json={"results": batch})
            response.raise_for_status()
        except httpx.HTTPError:
            self.results.extendleft(reversed(batch))  # keep them for the next try
            raise

    async def _run_one(self, item: Scheduled, resources: Resources,
                       limit: asyncio.Semaphore) -> None:
        async with limit:
            outcome = await execute(item.kind, item.config, item.timeout, resources)
        self.results.append({"check_id": item.id, "at": datetime.now(UTC).isoformat(),
                             "ok": outcome.ok, "latency_ms": outcome.latency_ms,
                             "reason": outcome.reason})

    async def run(self, stop: asyncio.Event) -> None:
        resources = Resources(local_address=self.source_address)
        limit = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()
        next_refresh = next_push = 0.0
        async with self._client() as client:
            while not stop.is_set():
                now = time.monotonic()
                try:
                    if now >= next_refresh:
                        next_refresh = now + self.refresh_seconds
                        await self._refresh(client)
                    if now >= next_push:
                        next_push = now + self.push_seconds
                        await self._push(client)
                except httpx.HTTPError as exc:
                    log.warning("cannot reach %s: %s (retrying)", self.server, exc)
                for item in self.checks.values():
                    if item.next_due <= now:
                        item.next_due += item.interval
                        if item.next_due <= now:  # far behind: skip missed runs, re-jitter
                            item.next_due = now + random.uniform(0, item.interval * 0.1)
                        task = asyncio.create_task(self._run_one(item, resources, limit))
                        tasks.add(task)
                        task.add_done_callback(tasks.discard)
                await asyncio.sleep(0.05)
            if tasks:
                await asyncio.wait(tasks, timeout=5)
            try:
                await self._push(client)
            except httpx.HTTPError:
                log.warning("could not push the last %d results", len(self.results))
        await resources.aclose()


def run_probe(agent: ProbeAgent) -> None:
    import signal

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await agent.run(stop)

    asyncio.run(main())
