"""`tocsin stakeholders …`: stakeholder updates over the REST API (TOCSIN_URL, TOCSIN_TOKEN)."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Stakeholder updates: templates, distribution lists, updates with a "
                       "promised next one (TOCSIN_URL, TOCSIN_TOKEN).", no_args_is_help=True)
IncidentArg = Annotated[int, typer.Argument(help="Incident id.")]


@app.command("templates")
def templates(as_json: JsonOpt = False) -> None:
    """The initial, progress and resolution templates.

    Example: tocsin stakeholders templates --json
    """
    emit(list(Client().request("GET", "/api/v1/stakeholders/templates").values()),
         as_json=as_json, columns=["kind", "default", "subject"])


@app.command("lists")
def lists(as_json: JsonOpt = False) -> None:
    """Distribution lists (admin).

    Example: tocsin stakeholders lists
    """
    emit(lookup.every(Client(), "/api/v1/stakeholders/lists"), as_json=as_json,
         columns=["id", "name", "severities", "service_ids", "executive"])


@app.command("list-add")
def list_add(
    name: Annotated[str, typer.Argument(help="Unique name.")],
    email: Annotated[list[str] | None, typer.Option(help="An address (repeatable).")] = None,
    webhook: Annotated[list[str] | None, typer.Option(help="A URL (repeatable).")] = None,
    severity: Annotated[list[str] | None, typer.Option(
        help="Only incidents of this severity (repeatable; none: all).")] = None,
    service: Annotated[list[int] | None, typer.Option(
        help="Only incidents on this service id (repeatable; none: all).")] = None,
    executive: Annotated[bool, typer.Option(help="Gets the SEV1 executive summary.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add a distribution list (admin).

    Example: tocsin stakeholders list-add leadership --email cto@example.com --severity SEV1 --executive
    """
    targets = [{"kind": "email", "address": a} for a in email or []]
    targets += [{"kind": "webhook", "address": u} for u in webhook or []]
    emit(Client().request("POST", "/api/v1/stakeholders/lists", json={
        "name": name, "targets": targets, "severities": severity or [],
        "service_ids": service or [], "executive": executive}), as_json=as_json)


@app.command("show")
def show(incident: IncidentArg, as_json: JsonOpt = False) -> None:
    """An incident's stakeholder updates, the promised next one, and misses.

    Example: tocsin stakeholders show 42
    """
    data = Client().request("GET", f"/api/v1/incidents/{incident}/stakeholder-updates")
    if as_json:
        emit(data, as_json=True)
        return
    typer.echo(f"next update by {data['next_update_at'] or '-'}; missed {data['missed']}")
    emit(data["updates"], as_json=False,
         columns=["id", "kind", "subject", "recipients", "sent_at", "next_update_at"])


@app.command("update")
def update(
    incident: IncidentArg,
    kind: Annotated[str, typer.Option(help="initial, progress or resolution.")] = "progress",
    field: Annotated[list[str] | None, typer.Option(
        help="NAME=VALUE for the template (cause, fix, hypothesis, actions, next_step…).")]
    = None,
    next_update: Annotated[int | None, typer.Option(
        help="Promise the next update in N minutes (default: the severity's cadence).")]
    = None,
    draft: Annotated[bool, typer.Option(help="Keep as a draft to review.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a stakeholder update from its template and send it to the matching lists.

    Example: tocsin stakeholders update 42 --kind progress --field hypothesis="bad deploy"
    """
    fields = dict(f.split("=", 1) for f in field or [] if "=" in f)
    emit(Client().request("POST", f"/api/v1/incidents/{incident}/stakeholder-updates", json={
        "kind": kind, "fields": fields, "next_update_minutes": next_update, "draft": draft}),
        as_json=as_json)


@app.command("send")
def send(incident: IncidentArg, update_id: Annotated[int, typer.Argument(help="Draft id.")],
         as_json: JsonOpt = False) -> None:
    """Send a reviewed draft.

    Example: tocsin stakeholders send 42 7
    """
    emit(Client().request("POST", f"/api/v1/incidents/{incident}/stakeholder-updates/"
                                  f"{update_id}/send"), as_json=as_json)
