"""Bad input: duplicate names, dangling references, cycles, unknown fields, a value a
feature refuses halfway through — a message naming the object and the field, and nothing
applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.configcode.conftest import Cli
from tocsin.configcode import service, yamlio
from tocsin.runtime import Runtime


def _exported(runtime: Runtime) -> dict[str, Any]:
    with runtime.read_sessions() as s:
        return yaml.safe_load(yamlio.dump(service.export(s)))


def _refused(cli: Cli, tmp_path: Path, doc: dict[str, Any] | str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    out = cli("config", "apply", str(path), code=1)
    assert "nothing was applied" in out
    return out


@pytest.fixture
def before(populated: Runtime) -> dict[str, Any]:
    return _exported(populated)


def test_duplicate_names_and_emails(cli: Cli, tmp_path: Path, before: dict[str, Any]) -> None:
    doc = yaml.safe_load(yaml.safe_dump(before))
    doc["services"].append({**doc["services"][0]})
    doc["users"].append({"email": "ANN@example.com", "name": "Ann again"})
    out = _refused(cli, tmp_path, doc)
    assert "services[db]: duplicate name 'db'" in out
    assert "users[ann@example.com]: duplicate email" in out


def test_dangling_references_name_object_and_field(cli: Cli, tmp_path: Path,
                                                   before: dict[str, Any]) -> None:
    doc = yaml.safe_load(yaml.safe_dump(before))
    doc["services"][1]["depends_on"] = ["db", "cache"]
    doc["policies"][0]["levels"][1]["targets"][0]["name"] = "Nobody"
    doc["schedules"][0]["layers"][0]["participants"].append("zed@example.com")
    out = _refused(cli, tmp_path, doc)
    assert "services[api].depends_on: no service 'cache'" in out
    assert "policies[Ops policy].levels[1].targets[0]: no team 'Nobody'" in out
    assert "schedules[Ops primary].layers[0].participants[2]: no user 'zed@example.com'" in out


def test_a_dependency_cycle(cli: Cli, tmp_path: Path, before: dict[str, Any]) -> None:
    doc = yaml.safe_load(yaml.safe_dump(before))
    doc["services"][0]["depends_on"] = ["api"]
    out = _refused(cli, tmp_path, doc)
    assert "depends_on: dependency cycle api → db → api" in out


def test_unknown_fields_and_repeated_keys(cli: Cli, tmp_path: Path,
                                          before: dict[str, Any]) -> None:
    doc = yaml.safe_load(yaml.safe_dump(before))
    doc["services"][1]["tierr"] = "high"
    doc["teams"][0]["members"] = "ann"
    out = _refused(cli, tmp_path, doc)
    assert "services[api].tierr: unknown field" in out
    assert "teams[Ops].members: Input should be a valid list" in out
    out = _refused(cli, tmp_path, "teams:\n  - name: A\n    name: B\n")
    assert "line 3: key 'name' given twice" in out


def test_a_refusal_halfway_leaves_everything_as_it_was(populated: Runtime, cli: Cli,
                                                       tmp_path: Path,
                                                       before: dict[str, Any]) -> None:
    """A new user and team are written before the schedule's zone is refused."""
    doc = yaml.safe_load(yaml.safe_dump(before))
    doc["users"].append({"email": "cy@example.com", "name": "Cy"})
    doc["teams"].append({"name": "Payments", "members": ["cy@example.com"]})
    doc["schedules"][0]["time_zone"] = "Mars/Olympus"
    out = _refused(cli, tmp_path, doc)
    assert "schedules[Ops primary]: time_zone: unknown time zone 'Mars/Olympus'" in out
    assert _exported(populated) == before
