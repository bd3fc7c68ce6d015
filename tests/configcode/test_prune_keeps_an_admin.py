"""`config apply --prune` (or a file saying `active: false`) never deactivates the last
active admin, nor the person running it (`--as`): refused with the user named, nothing
applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from tests.configcode.conftest import Cli
from tests.conftest import Account
from tocsin.accounts.models import User
from tocsin.catalog.models import Service
from tocsin.configcode import service, yamlio
from tocsin.runtime import Runtime


def _exported(runtime: Runtime) -> dict[str, Any]:
    with runtime.read_sessions() as s:
        return yaml.safe_load(yamlio.dump(service.export(s)))


def _write(tmp_path: Path, doc: dict[str, Any]) -> str:
    path = tmp_path / "tocsin.yaml"
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def _state(runtime: Runtime) -> tuple[dict[str, bool], str]:
    with runtime.read_sessions() as s:
        active = {u.email: u.active for u in s.scalars(select(User))}
        db = s.scalars(select(Service.description).where(Service.name == "db")).one()
    return active, db


def test_prune_refuses_to_deactivate_the_last_admin(
        populated: Runtime, admin: Account, cli: Cli, tmp_path: Path) -> None:
    doc = _exported(populated)
    doc["users"] = [u for u in doc["users"] if u["email"] != admin.user.email]
    doc["services"][0]["description"] = "changed in the same file"
    before = _state(populated)
    out = cli("config", "apply", _write(tmp_path, doc), "--prune", code=1)
    assert "no active admin" in out and admin.user.email in out
    assert "nothing was applied" in out
    assert _state(populated) == before  # the description change was not applied either
    cli("config", "plan", _write(tmp_path, doc), "--prune", code=1)  # plan says so too

    # A file that says so outright is refused the same way, prune or not.
    doc = _exported(populated)
    for u in doc["users"]:
        if u["email"] == admin.user.email:
            u["active"] = False
    out = cli("config", "apply", _write(tmp_path, doc), code=1)
    assert "no active admin" in out and admin.user.email in out
    assert _state(populated) == before


def test_prune_refuses_to_deactivate_whoever_runs_it(
        populated: Runtime, admin: Account, responder: Account, cli: Cli,
        tmp_path: Path) -> None:
    me = responder.user.email
    doc = _exported(populated)
    doc["users"] = [u for u in doc["users"] if u["email"] != me]
    before = _state(populated)
    out = cli("config", "apply", _write(tmp_path, doc), "--prune", "--as", me.upper(), code=1)
    assert f"this would deactivate {me}, who is running this apply" in out
    assert _state(populated) == before

    # Someone else runs it: the user goes, as long as an admin stays.
    cli("config", "apply", _write(tmp_path, doc), "--prune", "--as", admin.user.email)
    assert _state(populated)[0] == {**before[0], me: False}
