"""Lean load tools for the latency benchmarks, each run as its own process so that the load
generator and the page receiver do not take the CPU (and GIL) the server is measured on.

A thread-pool httpx client spent about 2.5 ms of CPU per request on the 2-CPU machine: at
500 events/s the old in-process generator alone needed more than a core and could not keep
the schedule. These speak HTTP/1.1 over raw asyncio streams with keep-alive connections.

    python bench/loadtools.py post PORT RATE SECONDS PREFIX OUT [ROUTING,KEYS]
                                                      (stdin: the JSON body template)
    python bench/loadtools.py receive OUT             (prints its port, then serves)
    python bench/loadtools.py hang                    (prints its port, never answers)

`post` is open-loop: event i is due at start + i / RATE whatever the answers, and its
latency is counted from that due time (a late sender makes latency worse, never better).
It writes one line per accepted event: `<dedup key>\\t<due time>`; given routing keys, event
i goes to key i mod n (`@ROUTING@` in the template). `receive` answers 200 to every POST
and appends `<title>\\t<arrival time>` per request; `hang` accepts connections, reads and
never answers (a receiver stuck until the sender's timeout). Times are
`time.monotonic()`, one clock for every process on the machine (Linux CLOCK_MONOTONIC).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

CONNECTIONS = 64


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def post(port: int, rate: float, seconds: float, prefix: str, template: str,
               out: Path, routing: list[str]) -> None:
    total = int(rate * seconds)
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    accepted: list[str] = []
    start = time.monotonic() + 0.2
    due = [start + i / rate for i in range(total)]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while (i := await queue.get()) is not None:
            key = f"{prefix}-{i}"
            text = template.replace("@KEY@", key)
            if routing:
                text = text.replace("@ROUTING@", routing[i % len(routing)])
            body = text.encode()
            writer.write(b"POST /v2/enqueue HTTP/1.1\r\nHost: bench\r\n"
                         b"Content-Type: application/json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            try:
                if await _read_response(reader) == 202:
                    accepted.append(f"{key}\t{due[i]}")
            except (asyncio.IncompleteReadError, ConnectionError):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    workers = [asyncio.create_task(connection()) for _ in range(CONNECTIONS)]
    for i in range(total):
        delay = due[i] - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(i)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    out.write_text("".join(line + "\n" for line in accepted))


async def receive(out: Path) -> None:
    sink = out.open("a", buffering=1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                at = time.monotonic()
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length) if length else b""
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                try:
                    title = str(json.loads(body).get("title", ""))
                except ValueError:
                    title = ""
                sink.write(f"{title}\t{at}\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


async def hang() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    mode = sys.argv[1]
    if mode == "post":
        port, rate, seconds, prefix, out = sys.argv[2:7]
        routing = sys.argv[7].split(",") if len(sys.argv) > 7 else []
        asyncio.run(post(int(port), float(rate), float(seconds), prefix, sys.stdin.read(),
                         Path(out), routing))
    elif mode == "receive":
        asyncio.run(receive(Path(sys.argv[2])))
    elif mode == "hang":
        asyncio.run(hang())
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
