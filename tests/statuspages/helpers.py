"""Setting up a status page over the API, and reading its public files."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Account
from tocsin.runtime import Runtime
from tocsin.statuspages.jobs import refresh

PUBLIC_FILES = ("index.html", "feed.rss", "feed.atom", "api/v2/summary.json",
                "api/v2/status.json", "api/v2/components.json", "api/v2/incidents.json",
                "api/v2/incidents/unresolved.json", "api/v2/scheduled-maintenances.json")


def service(client: TestClient, admin: Account, name: str) -> int:
    r = client.post("/api/v1/services", json={"name": name}, headers=admin.headers)
    assert r.status_code == 201, r.text
    sid: int = r.json()["id"]
    return sid


def page(client: TestClient, admin: Account, slug: str = "acme", **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/statuspages", headers=admin.headers,
                    json={"slug": slug, "name": "Acme", **extra})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def component(client: TestClient, admin: Account, page_id: int, name: str,
              service_ids: list[int], group: str = "") -> int:
    r = client.post(f"/api/v1/statuspages/{page_id}/components", headers=admin.headers,
                    json={"name": name, "service_ids": service_ids, "group_name": group})
    assert r.status_code == 201, r.text
    cid: int = r.json()["id"]
    return cid


def run_refresh(runtime: Runtime) -> int:
    """What the worker's statuspages.refresh job does every few seconds."""
    from tocsin.engine.worker import JobContext

    return refresh(JobContext(runtime=runtime, worker_id="test", handlers={}))


def public(client: TestClient, slug: str, name: str = "") -> Any:
    r = client.get(f"/status/{slug}/{name}")
    assert r.status_code == 200, (name, r.status_code, r.text)
    return r


def component_status(client: TestClient, slug: str, name: str) -> str:
    comps = public(client, slug, "api/v2/components.json").json()["components"]
    found = [c["status"] for c in comps if c["name"] == name]
    assert len(found) == 1, comps
    return found[0]
