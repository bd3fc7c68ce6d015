"""Strict loopback stand-ins for GitHub Issues and Jira's REST API: they check the method,
path, headers and body shape their documentation gives, answer with the documented shapes,
and answer 4xx (recorded) to anything else."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "secret-token"


class Tracker:
    def __init__(self) -> None:
        self.issues: dict[str, dict[str, Any]] = {}
        self.refused: list[str] = []
        self.lock = threading.Lock()


def _handler(tracker: Tracker, kind: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _refuse(self, status: int, why: str) -> None:
            with tracker.lock:
                tracker.refused.append(why)
            self._answer(status, {"message": why})

        def _authorised(self) -> bool:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._refuse(401, "bad credentials")
                return False
            if kind == "github" and (
                    self.headers.get("Accept") != "application/vnd.github+json"
                    or self.headers.get("X-GitHub-Api-Version") != "2022-11-28"):
                self._refuse(400, "missing GitHub media type or API version")
                return False
            return True

        def do_POST(self) -> None:
            if not self._authorised():
                return
            if not (self.headers.get("Content-Type") or "").startswith("application/json"):
                return self._refuse(415, "not JSON")
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            with tracker.lock:
                n = len(tracker.issues) + 1
            if kind == "github":
                if self.path != "/repos/acme/ops/issues" or not isinstance(body.get("title"), str) \
                        or set(body) - {"title", "body", "labels", "assignees", "milestone"}:
                    return self._refuse(422, f"bad create: {self.path} {sorted(body)}")
                with tracker.lock:
                    tracker.issues[str(n)] = {"number": n, "state": "open", **body}
                return self._answer(201, {"id": 1000 + n, "number": n, "state": "open",
                                          "title": body["title"],
                                          "html_url": f"https://github.test/acme/ops/issues/{n}"})
            fields = body.get("fields", {})
            if self.path != "/rest/api/2/issue" or set(body) != {"fields"} \
                    or fields.get("project") != {"key": "OPS"} \
                    or fields.get("issuetype", {}).get("name") != "Task" \
                    or not isinstance(fields.get("summary"), str):
                return self._refuse(400, f"bad create: {self.path} {body}")
            key = f"OPS-{n}"
            with tracker.lock:
                tracker.issues[key] = {"key": key, "status": "To Do", "category": "new",
                                       **fields}
            return self._answer(201, {"id": str(10000 + n), "key": key,
                                      "self": f"http://jira.test/rest/api/2/issue/{10000 + n}"})

        def do_GET(self) -> None:
            if not self._authorised():
                return
            path, _, query = self.path.partition("?")
            ref = path.rsplit("/", 1)[-1]
            issue = tracker.issues.get(ref)
            if kind == "github":
                if not path.startswith("/repos/acme/ops/issues/") or issue is None:
                    return self._refuse(404, f"no issue {path}")
                return self._answer(200, {"number": issue["number"], "state": issue["state"],
                                          "title": issue["title"]})
            if not path.startswith("/rest/api/2/issue/") or issue is None:
                return self._refuse(404, f"no issue {path}")
            if query != "fields=status":
                return self._refuse(400, "ask for fields=status")
            return self._answer(200, {"key": ref, "fields": {"status": {
                "name": issue["status"], "statusCategory": {"key": issue["category"]}}}})

        def log_message(self, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def standin(kind: str) -> Iterator[tuple[Tracker, str]]:
    tracker = Tracker()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(tracker, kind))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tracker, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
