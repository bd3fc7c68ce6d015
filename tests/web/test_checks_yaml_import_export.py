"""Checks as code in the browser: export downloads YAML; importing it (pasted or uploaded)
creates or updates by name; one bad entry refuses the file with its position."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Account
from tests.web.conftest import web_login
from tests.web.test_checks_pages import make_check, make_service

GOOD = """checks:
  - name: api
    service: checkout
    kind: http
    config: {url: "https://api.example.com/health"}
  - name: db
    service: checkout
    kind: tcp
    interval_seconds: 30
    config: {host: db.internal, port: 5432}
"""


def _names(client: TestClient, admin: Account) -> list[str]:
    items = client.get("/api/v1/checks", headers=admin.headers).json()["items"]
    return sorted(c["name"] for c in items)


def test_import_pasted_then_export_round_trip(client: TestClient, admin: Account) -> None:
    make_service(client, admin)
    csrf = web_login(client, admin)
    r = client.post("/checks/import", data={"csrf_token": csrf, "yaml": GOOD},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "Imported: 2 created, 0 updated." in client.get("/checks").text
    export = client.get("/checks/export")
    assert export.headers["content-type"].startswith("application/yaml")
    assert "attachment" in export.headers["content-disposition"]
    assert "db.internal" in export.text
    r = client.post("/checks/import", data={"csrf_token": csrf},
                    files={"file": ("checks.yaml", export.content, "application/yaml")},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "Imported: 0 created, 2 updated." in client.get("/checks").text


def test_bad_entry_refuses_the_whole_file(client: TestClient, admin: Account) -> None:
    service = make_service(client, admin)
    make_check(client, admin, service, "existing")
    csrf = web_login(client, admin)
    bad = GOOD + "  - name: dns\n    service: checkout\n    kind: dns\n" \
                 "    config: {name: example.com, record_type: BOGUS, resolver: 127.0.0.1}\n"
    r = client.post("/checks/import", data={"csrf_token": csrf, "yaml": bad})
    assert r.status_code == 422
    assert "checks[3] (dns)" in r.text and "unknown record type" in r.text
    assert "Nothing was imported." in r.text and "record_type: BOGUS" in r.text  # text kept
    assert _names(client, admin) == ["existing"]
    r = client.post("/checks/import", data={"csrf_token": csrf, "yaml": "checks: [oops"})
    assert r.status_code == 422 and "not valid YAML" in r.text
    r = client.post("/checks/import", data={"csrf_token": csrf, "yaml": ""})
    assert r.status_code == 422 and "paste YAML or choose a file" in r.text
