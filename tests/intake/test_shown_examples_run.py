"""Every integration example Tocsin shows — in the API's answer, on the web integrations
page, in `tocsin integration show`, and in docs/intake.md — runs as shown against a real
server on loopback and makes the alert it promises: curl commands are run by a shell as
shown, the Alertmanager configuration is loaded by a real Alertmanager, the Grafana contact
point's URL is posted what Grafana posts."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.cli.helpers import Cli, cli_for
from tests.conftest import Account, drain_intake
from tests.intake.conftest import free_port, serve, wait_ready
from tests.web.conftest import web_login
from tocsin.runtime import Runtime
from tocsin.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "intake.md"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
KINDS = ("pagerduty", "opsgenie", "alertmanager", "grafana", "generic")  # and `NESTED`
NESTED = {"title": "$.check.name", "dedup_key": "$.check.id", "status": "$.check.state",
          "severity": "level"}


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], database_url: str, port: int) -> Settings:
    # The examples name the server's public URL: make it this test's server.
    return make_settings(database_url=database_url, base_url=f"http://127.0.0.1:{port}")


@pytest.fixture
def base(runtime: Runtime, port: int) -> Iterator[str]:
    with serve(runtime, port=port):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def integrations(base: str, client: TestClient, admin: Account,
                 make_integration: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    made = [make_integration(kind, **({"mapping": {"title": "$.title"}}
                                      if kind == "generic" else {})) for kind in KINDS]
    made.append(make_integration("generic", mapping=NESTED))
    return made


class Runner:
    """Runs one shown example for an integration and checks what it did."""

    def __init__(self, runtime: Runtime, client: TestClient, admin: Account,
                 tmp_path: Path) -> None:
        self.runtime, self.client, self.admin, self.tmp_path = runtime, client, admin, tmp_path

    def alerts(self, integration_id: int) -> list[dict[str, Any]]:
        drain_intake(self.runtime)
        items: list[dict[str, Any]] = self.client.get(
            "/api/v1/alerts", params={"integration_id": integration_id},
            headers=self.admin.headers).json()["items"]
        return items

    def run(self, integration: dict[str, Any], label: str, text: str) -> None:
        before = self.alerts(integration["id"])
        if text.startswith("curl "):
            self.curl(text)
        elif "webhook_configs" in text:
            with self.alertmanager(text):
                # It waits group_wait (30 s by default) before its first notification.
                assert self.wait_for(lambda: self.changed(integration["id"], before, label),
                                     timeout=60), f"{label}: Alertmanager sent nothing"
        elif text.startswith("Contact point → Webhook"):
            self.grafana(text)
        else:
            pytest.fail(f"{integration['kind']} example {label!r} is not something a user "
                        f"can run: {text!r}")
        after = self.wait_for(lambda: self.changed(integration["id"], before, label))
        assert after, f"{integration['kind']} {label}: no alert made or changed"

    def changed(self, integration_id: int, before: list[dict[str, Any]],
                label: str) -> list[dict[str, Any]]:
        now = self.alerts(integration_id)
        if "acknowledge" in label:
            return [a for a in now if a["status"] == "acknowledged"]
        if "close" in label or "resolve" in label:
            return [a for a in now if a["status"] == "resolved"]
        return now if len(now) > len(before) or any(
            a["occurrences"] > b["occurrences"] for a, b in zip(now, before, strict=False)
        ) else []

    @staticmethod
    def wait_for(check: Callable[[], list[dict[str, Any]]], timeout: float = 30
                 ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = check()
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    @staticmethod
    def curl(command: str) -> None:
        done = subprocess.run(["sh", "-c", command + " -w '\\n%{http_code}'"],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, (command, done.stderr)
        status = done.stdout.rsplit("\n", 1)[-1]
        assert status.startswith("2"), (command, done.stdout)

    @contextmanager
    def alertmanager(self, config: str) -> Iterator[None]:
        """A real Alertmanager with the shown configuration, sent one firing alert."""
        if ALERTMANAGER is None:
            pytest.skip("prometheus-alertmanager is not installed (apt-get install "
                        "prometheus-alertmanager; see .ci/install-system-deps)")
        folder = self.tmp_path / f"am-{time.monotonic_ns()}"
        folder.mkdir()
        (folder / "am.yml").write_text(config)
        port = free_port()
        proc = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={folder / 'am.yml'}",
             f"--storage.path={folder / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
             "--cluster.listen-address="],
            stdout=subprocess.DEVNULL, stderr=(folder / "am.log").open("w"))
        try:
            url = f"http://127.0.0.1:{port}"
            assert wait_ready(f"{url}/-/ready", proc), \
                "Alertmanager refused the shown configuration: " + (folder / "am.log").read_text()
            starts = datetime.now(UTC) - timedelta(minutes=1)
            r = httpx.post(f"{url}/api/v2/alerts", timeout=5, json=[{
                "labels": {"alertname": "DiskFull", "severity": "critical"},
                "annotations": {"summary": "Disk full"}, "startsAt": starts.isoformat()}])
            assert r.status_code == 200, r.text
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)

    @staticmethod
    def grafana(text: str) -> None:
        found = re.search(r"URL (\S+), HTTP method POST", text)
        assert found, text
        # What Grafana's webhook contact point posts (unified alerting).
        r = httpx.post(found.group(1).rstrip(","), timeout=5, json={
            "receiver": "tocsin", "status": "firing", "orgId": 1, "version": "1",
            "groupKey": "{}:{}", "title": "[FIRING:1] DiskFull", "message": "Disk full",
            "alerts": [{"status": "firing", "labels": {"alertname": "DiskFull"},
                        "annotations": {"summary": "Disk full"}, "fingerprint": "abc123",
                        "startsAt": datetime.now(UTC).isoformat(),
                        "dashboardURL": "", "panelURL": "", "silenceURL": "",
                        "valueString": "[ var='A' value=99 ]"}]})
        assert r.status_code == 200, r.text


@pytest.fixture
def runner(runtime: Runtime, client: TestClient, admin: Account, tmp_path: Path) -> Runner:
    return Runner(runtime, client, admin, tmp_path)


def test_examples_in_the_api_answer_run(integrations: list[dict[str, Any]],
                                        runner: Runner) -> None:
    for integration in integrations:
        assert integration["examples"], integration["kind"]
        for label, text in integration["examples"].items():
            runner.run(integration, label, text)


def test_examples_on_the_web_page_run(integrations: list[dict[str, Any]], runner: Runner,
                                      client: TestClient, admin: Account) -> None:
    web_login(client, admin)
    page = client.get("/integrations").text
    for integration in integrations:
        section = page.split(f'id="integration-{integration["id"]}"', 1)[1].split("</section>")[0]
        shown = [html.unescape(t) for t in re.findall(
            r'<pre class="example"><code>(.*?)</code></pre>', section, re.S)]
        assert len(shown) == len(integration["examples"]), integration["kind"]
        for label, text in zip(integration["examples"], shown, strict=True):
            runner.run(integration, label, text)


def test_examples_printed_by_the_cli_run(integrations: list[dict[str, Any]], runner: Runner,
                                         runtime: Runtime, admin: Account,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    with cli_for(runtime, admin.token, monkeypatch) as cli:
        for integration in integrations:
            printed = shown_by_cli(cli, integration)
            assert list(printed) == list(integration["examples"]), integration["kind"]
            for label, text in printed.items():
                runner.run(integration, label, text)


def shown_by_cli(cli: Cli, integration: dict[str, Any]) -> dict[str, str]:
    """`label:` then the example, up to the next blank line (what a user copies)."""
    output = cli.run("integration", "show", str(integration["id"]))
    blocks = output.split("\n\n")[1:]
    return {b.split(":\n", 1)[0]: b.split(":\n", 1)[1].rstrip("\n")
            for b in blocks if ":\n" in b}


def doc_blocks() -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", DOCS.read_text(), re.S)


def test_examples_in_the_intake_docs_run(base: str, runner: Runner, client: TestClient,
                                         admin: Account,
                                         make_integration: Callable[..., dict[str, Any]],
                                         make_service: Callable[..., dict[str, Any]]) -> None:
    blocks = doc_blocks()
    yaml = [b for b in blocks if "webhook_configs" in b]
    assert yaml
    for block in yaml:
        integration = make_integration("alertmanager")
        config = block.replace("https://tocsin.example.com", base).replace(
            "<key>", integration["key"])
        runner.run(integration, "alertmanager_yaml", config)

    # The generic mapping shown is made as shown, and its own example sends an alert.
    created = [b for b in blocks if b.startswith("POST /api/v1/integrations {")]
    assert created
    for block in created:
        body = re.sub(r"\s+", " ", block.removeprefix("POST /api/v1/integrations ")).strip()
        service = make_service()
        r = client.post("/api/v1/integrations", headers=admin.headers,
                        json={**json.loads(body), "service_id": service["id"]})
        assert r.status_code == 201, r.text
        integration = r.json()
        runner.run(integration, "curl", integration["examples"]["curl"])
        alert = runner.alerts(integration["id"])[0]
        assert alert["summary"] == "Test alert from Tocsin"
