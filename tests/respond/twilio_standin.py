"""A loopback stand-in for Twilio's Calls API, strict about the documented request:
`POST /2010-04-01/Accounts/{AccountSid}/Calls.json`, HTTP basic auth AccountSid:AuthToken,
form-encoded `To`, `From` (E.164) and exactly one of `Url` / `Twiml` / `ApplicationSid`.
Answers as Twilio does: 201 with the call resource, or 400/401 with
{code, message, more_info, status}. The `twilio` library is what talks to it."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Calls\.json$")


@contextmanager
def twilio_api(account_sid: str, auth_token: str) -> Iterator[tuple[list[dict[str, str]], str]]:
    calls: list[dict[str, str]] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            form = {k: v[0] for k, v in parse_qs(raw).items()}
            m = PATH.match(self.path)
            want = "Basic " + base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
            if m is None:
                return self._error(404, 20404, "The requested resource was not found")
            if self.headers.get("Authorization") != want or m.group(1) != account_sid:
                return self._error(401, 20003, "Authenticate")
            if not E164.match(form.get("To", "")):
                return self._error(400, 21201, "No 'To' number is specified")
            if not E164.match(form.get("From", "")):
                return self._error(400, 21213, "No 'From' number is specified")
            if sum(k in form for k in ("Url", "Twiml", "ApplicationSid")) != 1:
                return self._error(400, 21205, "Url, Twiml or ApplicationSid is required")
            with lock:
                calls.append(form)
                n = len(calls)
            self._answer(201, {"sid": f"CA{n:032x}", "account_sid": account_sid,
                               "to": form["To"], "from": form["From"], "status": "queued",
                               "api_version": "2010-04-01"})
            return None

        def _error(self, status: int, code: int, message: str) -> None:
            self._answer(status, {"code": code, "message": message, "status": status,
                                  "more_info": f"https://www.twilio.com/docs/errors/{code}"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield calls, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
