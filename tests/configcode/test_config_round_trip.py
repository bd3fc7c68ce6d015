"""Must show: a configuration exported, edited, planned and applied, and `plan` showing no
difference after; the exported file validates against the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml
from sqlalchemy import select

from tests.configcode.conftest import Cli
from tocsin.catalog.models import Service
from tocsin.configcode import service, yamlio
from tocsin.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


def test_export_edit_plan_apply_then_plan_is_empty(populated: Runtime, cli: Cli,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    cli("config", "export", "--out", str(path))
    assert "no changes" in cli("config", "plan", str(path))

    doc = yaml.safe_load(path.read_text())
    assert "key" not in json.dumps(doc["integrations"])  # no secrets
    assert all("password" not in u for u in doc["users"])
    api = next(s for s in doc["services"] if s["name"] == "api")
    assert api["depends_on"] == ["db"] and api["policies"]["SEV1"] == "Ops policy"
    # Edit: a new person, a new team, a tier, a policy delay, a new service and heartbeat.
    doc["users"].append({"email": "cy@example.com", "name": "Cy"})
    doc["teams"].append({"name": "Payments", "members": ["cy@example.com", "ann@example.com"]})
    api["tier"] = "critical"
    doc["policies"][0]["levels"][0]["delay_minutes"] = 3
    doc["services"].append({"name": "billing", "owner_team": "Payments", "depends_on": ["api"],
                            "policies": {"SEV1": "Ops policy"}})
    doc["heartbeats"].append({"name": "invoices", "service": "billing",
                              "cron": "0 3 * * *", "time_zone": "Europe/Berlin"})
    doc["routing_rules"] = [
        {"name": "prod to api", "conditions": [{"field": "labels.env", "op": "equals",
                                                "value": "prod"}],
         "actions": {"service": "api", "severity": "SEV2"}},
        {"name": "drop tests", "conditions": [{"field": "labels.env", "op": "equals",
                                               "value": "test"}],
         "actions": {"suppress": True}}]
    doc["classification"] = [{"scope": "service:billing", "rules": [
        {"severity": "SEV1", "when": [{"field": "error_rate", "op": "gte", "value": 0.2}]}]}]
    path.write_text(yaml.safe_dump(doc))

    planned = cli("config", "plan", str(path), code=2)
    for line in ("+ user cy@example.com", "+ team Payments", "~ service api",
                 "tier: 'medium' → 'critical'", "~ policy Ops policy", "+ service billing",
                 "+ heartbeat invoices", "+ routing rule prod to api",
                 "+ classification service:billing", "9 change(s)"):
        assert line in planned, planned
    applied = cli("config", "apply", str(path))
    assert "applied 9 change(s)" in applied
    assert "no changes" in cli("config", "plan", str(path))
    # Routing rules run in the file's order: a move is a change, and applied.
    doc["routing_rules"].reverse()
    path.write_text(yaml.safe_dump(doc))
    assert "~ routing rule drop tests" in cli("config", "plan", str(path), code=2)
    cli("config", "apply", str(path))
    assert "no changes" in cli("config", "plan", str(path))

    # What the server now says is what the file says.
    with populated.read_sessions() as s:
        again = service.export(s).model_dump(mode="json")
        billing = s.scalars(select(Service).where(Service.name == "billing")).one()
        assert billing.id in service.managed(s, "service")
    assert again == service.parse(doc).model_dump(mode="json")


def test_exported_file_validates_against_the_published_schema(populated: Runtime) -> None:
    published = json.loads((ROOT / "docs" / "config.schema.json").read_text())
    assert published == json.loads(yamlio.schema()), \
        "docs/config.schema.json is stale: run `tocsin config schema > docs/config.schema.json`"
    with populated.read_sessions() as s:
        text = yamlio.dump(service.export(s))
    jsonschema.validate(yaml.safe_load(text), published)
    broken = yaml.safe_load(text)
    broken["services"][0]["tierr"] = "high"
    try:
        jsonschema.validate(broken, published)
    except jsonschema.ValidationError as exc:
        assert "tierr" in exc.message
    else:
        raise AssertionError("an unknown field passed the schema")
