"""Changes made from the command line are audited as their operator's, not as "system"."""

from __future__ import annotations

import getpass
from pathlib import Path

import yaml
from sqlalchemy import select

from tests.configcode.conftest import Cli
from tocsin.accounts.models import User
from tocsin.audit.models import AuditEntry
from tocsin.runtime import Runtime


def _entries(runtime: Runtime, since: int) -> list[AuditEntry]:
    with runtime.read_sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.id > since)
                              .order_by(AuditEntry.id)))


def _last_id(runtime: Runtime) -> int:
    with runtime.read_sessions() as s:
        return max(s.scalars(select(AuditEntry.id)).all(), default=0)


def test_config_apply_is_audited_as_the_person_named_by_as(populated: Runtime, cli: Cli,
                                                            tmp_path: Path) -> None:
    path = tmp_path / "tocsin.yaml"
    cli("config", "export", "--out", str(path))
    doc = yaml.safe_load(path.read_text())
    doc["users"].append({"email": "cy@example.com", "name": "Cy"})
    path.write_text(yaml.safe_dump(doc))
    before = _last_id(populated)

    cli("config", "apply", str(path), "--as", "Ann@Example.com")

    entries = _entries(populated, before)
    assert entries, "config apply changed a user but wrote no audit entry"
    with populated.read_sessions() as s:
        ann = s.scalar(select(User.id).where(User.email == "ann@example.com"))
    assert {(e.actor, e.actor_id, e.source) for e in entries} == {
        ("ann@example.com", ann, "cli: config apply")}
    assert any(e.target == "users" and "cy@example.com" in str(e.after) for e in entries)


def test_user_created_from_the_command_line_names_the_os_account(populated: Runtime,
                                                                  cli: Cli) -> None:
    before = _last_id(populated)

    cli("user", "create", "--email", "dee@example.com", "--name", "Dee")

    entries = _entries(populated, before)
    assert entries and {(e.actor, e.actor_id, e.source) for e in entries} == {
        (f"{getpass.getuser()} (command line)", None, "cli: user create")}
