"""`tocsin webhook …`: event webhook subscriptions over the REST API (admins)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Event webhooks: incident events to ticketing and status tools.",
                  no_args_is_help=True)
SubArg = Annotated[int, typer.Argument(help="Subscription id.")]


@app.command("list")
def webhook_list(as_json: JsonOpt = False) -> None:
    """Subscriptions."""
    emit(Client().request("GET", "/api/v1/webhooks")["items"], as_json=as_json,
         columns=["id", "name", "url", "active", "event_types", "severities"])


@app.command("create")
def webhook_create(
    name: Annotated[str, typer.Argument(help="A name for the receiver.")],
    url: Annotated[str, typer.Argument(help="http(s) receiver URL.")],
    event: Annotated[list[str] | None, typer.Option(
        help="Event type, e.g. incident.resolved (repeatable; none: all).")] = None,
    service: Annotated[list[str] | None, typer.Option(help="Only these services.")] = None,
    team: Annotated[list[str] | None, typer.Option(help="Only these teams' services.")] = None,
    severity: Annotated[list[str] | None, typer.Option(help="Only these severities.")] = None,
    secret: Annotated[str | None, typer.Option(help="HMAC key; none: one is made.")] = None,
    include_drills: Annotated[bool, typer.Option(
        help="Also deliver drill (game-day) incidents.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Subscribe a receiver; the signing secret is printed once.

    Example: tocsin webhook create jira https://hooks.example.com/tocsin --severity SEV1
    """
    client = Client()
    body: dict[str, Any] = {
        "name": name, "url": url, "secret": secret, "event_types": event or [],
        "service_ids": [lookup.service(client, s)["id"] for s in service or []],
        "team_ids": [lookup.team(client, t)["id"] for t in team or []],
        "severities": [s.upper() for s in severity or []], "include_drills": include_drills}
    emit(client.request("POST", "/api/v1/webhooks", json=body), as_json=as_json)


@app.command("test")
def webhook_test(subscription: SubArg) -> None:
    """Queue a test event to the receiver."""
    Client().request("POST", f"/api/v1/webhooks/{subscription}/test")
    typer.echo("test event queued")


@app.command("log")
def webhook_log(subscription: SubArg, limit: Annotated[int, typer.Option()] = 50,
                as_json: JsonOpt = False) -> None:
    """The delivery log, newest first."""
    rows = Client().request("GET", f"/api/v1/webhooks/{subscription}/deliveries",
                            params={"limit": limit})["items"]
    emit(rows, as_json=as_json, columns=["id", "event_type", "status", "attempts",
                                         "response_status", "last_error", "created_at"])


@app.command("delete")
def webhook_delete(subscription: SubArg) -> None:
    """Delete a subscription (pending deliveries go with it)."""
    Client().request("DELETE", f"/api/v1/webhooks/{subscription}")
    typer.echo(f"deleted webhook {subscription}")
