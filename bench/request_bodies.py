"""Time to answer a 20 MB POST to the API on a real server on loopback.

    .venv/bin/python bench/request_bodies.py

Sends POST /api/v1/incidents with a 20 MB JSON body, anonymous and with an admin key, with
a Content-Length and chunked, three times each, and prints the status and the time to the
answer. With the body cap and authentication before the body (api/guard.py) every answer
is a 401 or 413 that does not wait for the body to be read or parsed.
"""

from __future__ import annotations

import http.client
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from tocsin.accounts import service as accounts
from tocsin.accounts.schemas import UserCreate
from tocsin.app import create_app
from tocsin.db import migrate
from tocsin.principal import Role
from tocsin.settings import load_settings
from tocsin.wiring import build_runtime

BODY = b'{"title": "' + b"x" * (20 * 1024 * 1024) + b'"}'
CHUNK = 65536


def post(port: int, headers: dict[str, str], chunked: bool) -> tuple[str, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    try:
        if chunked:
            conn.putrequest("POST", "/api/v1/incidents")
            for name, value in {**headers, "Content-Type": "application/json",
                                "Transfer-Encoding": "chunked"}.items():
                conn.putheader(name, value)
            conn.endheaders()
            for i in range(0, len(BODY), CHUNK):
                part = BODY[i:i + CHUNK]
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")
        else:
            conn.request("POST", "/api/v1/incidents", body=BODY,
                         headers={"Content-Type": "application/json", **headers})
        answer = conn.getresponse()
        answer.read()
        status = str(answer.status)
    except OSError as exc:  # the server may close before the whole body is sent
        status = type(exc).__name__
    return status, (time.perf_counter() - started) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runtime = build_runtime(load_settings(env="dev", data_dir=Path(tmp)))
        migrate.upgrade(runtime.engine)
        with runtime.sessions() as session, session.begin():
            user = accounts.create_user(session, data=UserCreate(
                name="Bench", email="bench@example.com", role=Role.ADMIN),
                now=runtime.clock.now())
            _key, token = accounts.create_api_key(session, owner=user, name="bench",
                                                  scope=None, now=runtime.clock.now())
        server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=0,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        key = {"Authorization": f"Bearer {token}"}
        for name, headers, chunked in (("anonymous, Content-Length", {}, False),
                                       ("anonymous, chunked", {}, True),
                                       ("admin key, Content-Length", key, False),
                                       ("admin key, chunked", key, True)):
            runs = [post(port, headers, chunked) for _ in range(3)]
            print(f"{name:28} " + "  ".join(f"{s} {ms:.0f} ms" for s, ms in runs))
        server.should_exit = True
        thread.join(timeout=10)
        runtime.close()


if __name__ == "__main__":
    main()
