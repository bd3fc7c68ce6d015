"""The OpenAPI document declares how to authenticate, on the operations that need it."""

from __future__ import annotations

from typing import Any

from tocsin.app import create_app
from tocsin.runtime import Runtime

PUBLIC = {"/api/v1/health"}
MACHINE_PREFIXES = ("/api/v1/probe/", "/api/v1/intake/alertmanager/",
                    "/api/v1/intake/grafana/", "/api/v1/intake/generic/", "/v2/")
# Chat platforms' request URLs: signed by Slack / Mattermost, not API-keyed (docs/chatops.md).
MACHINE_PREFIXES += ("/api/v1/inbound/slack/", "/api/v1/inbound/mattermost/")


def test_security_schemes_are_declared_and_applied(runtime: Runtime) -> None:
    spec: dict[str, Any] = create_app(runtime).openapi()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["apiKey"]["type"] == "http" and schemes["apiKey"]["scheme"] == "bearer"
    assert schemes["sessionCookie"] == {**schemes["sessionCookie"], "type": "apiKey",
                                        "in": "cookie", "name": "tocsin_session"}
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/v1/") or path in PUBLIC or path.startswith(
                MACHINE_PREFIXES):
            continue
        for method, operation in operations.items():
            names = {name for requirement in operation.get("security", [])
                     for name in requirement}
            assert {"apiKey", "sessionCookie"} <= names, (method, path)
            checked += 1
    assert checked > 50
    assert "security" not in spec["paths"]["/api/v1/health"]["get"]
    assert schemes["probeToken"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/probe/results"]["post"]["security"] == [{"probeToken": []}]
