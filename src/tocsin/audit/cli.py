"""`tocsin audit list`: the audit log over the REST API (TOCSIN_URL, TOCSIN_TOKEN, admin)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit

COLUMNS = ["id", "at", "actor", "source", "action", "target", "target_id", "detail"]


def list_entries(
    actor_id: Annotated[int | None, typer.Option("--actor-id", help="Only this user's.")] = None,
    action: Annotated[str | None, typer.Option(help="e.g. updated, sign_in_failed.")] = None,
    target: Annotated[str | None, typer.Option(help="Table, e.g. escalation_policies.")] = None,
    since: Annotated[str | None, typer.Option(help="ISO time, e.g. 2026-12-01.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The newest audit entries (with --json: their before and after too).

    Example: tocsin audit list --action sign_in_failed --since 2026-12-01
    """
    params: dict[str, Any] = {"limit": limit, "actor_id": actor_id, "action": action,
                              "target": target, "since": since}
    page = Client().request("GET", "/api/v1/audit",
                            params={k: v for k, v in params.items() if v is not None})
    emit(page["items"], as_json=as_json, columns=COLUMNS)
