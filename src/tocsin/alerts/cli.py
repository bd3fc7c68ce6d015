"""`tocsin alert`, `tocsin integration` and `tocsin route` (against a server: TOCSIN_URL,
TOCSIN_TOKEN)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli.client import Client
from tocsin.cli.output import emit

alert_app = typer.Typer(help="Alerts received from monitoring tools.", no_args_is_help=True)
integration_app = typer.Typer(help="Integrations: where senders post, with their keys.",
                              no_args_is_help=True)
route_app = typer.Typer(help="Routing rules: list them, try a payload.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ALERT_COLUMNS = ["id", "status", "severity", "summary", "occurrences", "incident_id",
                 "suppressed_by", "last_seen_at"]


@alert_app.command("list")
def alert_list(status: Annotated[str | None, typer.Option(help="firing, acknowledged or "
                                                          "resolved")] = None,
               service_id: Annotated[int | None, typer.Option()] = None,
               limit: Annotated[int, typer.Option()] = 50, json: JsonOpt = False) -> None:
    """Newest alerts first."""
    params: dict[str, Any] = {"limit": limit}
    if status:
        params["status"] = status
    if service_id is not None:
        params["service_id"] = service_id
    emit(Client().request("GET", "/api/v1/alerts", params=params)["items"], as_json=json,
         columns=ALERT_COLUMNS)


@alert_app.command("show")
def alert_show(alert_id: int, json: JsonOpt = False) -> None:
    """One alert and its event log."""
    client = Client()
    alert = client.request("GET", f"/api/v1/alerts/{alert_id}")
    events = client.request("GET", f"/api/v1/alerts/{alert_id}/events")
    if json:
        emit({**alert, "events": events}, as_json=True)
        return
    emit(alert, as_json=False)
    typer.echo("")
    emit(events, as_json=False, columns=["at", "action", "outcome", "incident_id", "note"])


@integration_app.command("list")
def integration_list(json: JsonOpt = False) -> None:
    emit(Client().request("GET", "/api/v1/integrations"), as_json=json,
         columns=["id", "service_id", "kind", "name", "enabled", "url"])


@integration_app.command("create")
def integration_create(
    service_id: Annotated[int, typer.Option(help="Service the alerts belong to.")],
    kind: Annotated[str, typer.Option(help="pagerduty, opsgenie, alertmanager, grafana or "
                                      "generic")],
    name: Annotated[str, typer.Option(help="What sends to it.")],
    json: JsonOpt = False,
) -> None:
    """Create an integration and print its URL, key and a copy-paste example."""
    out = Client().request("POST", "/api/v1/integrations",
                           json={"service_id": service_id, "kind": kind, "name": name})
    if json:
        emit(out, as_json=True)
        return
    typer.echo(f"integration {out['id']} ({out['kind']}) for service {out['service_id']}")
    typer.echo(f"  url: {out['url']}\n  key: {out['key']}")
    for label, example in out["examples"].items():
        typer.echo(f"\n{label}:\n{example}")


@route_app.command("list")
def route_list(json: JsonOpt = False) -> None:
    emit(Client().request("GET", "/api/v1/routing-rules"), as_json=json,
         columns=["id", "position", "name", "enabled", "conditions", "actions"])


@route_app.command("dry-run")
def route_dry_run(
    service_id: Annotated[int | None, typer.Option(help="Service the alert arrives on.")] = None,
    integration_id: Annotated[int | None, typer.Option()] = None,
    summary: Annotated[str, typer.Option()] = "",
    severity: Annotated[str | None, typer.Option(help="The sender's severity.")] = None,
    label: Annotated[list[str] | None, typer.Option(help="name=value, repeatable")] = None,
    json: JsonOpt = False,
) -> None:
    """Show which rule would match, and the resulting service, severity and suppression."""
    labels = {}
    for item in label or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--label {item!r}: use name=value")
        labels[name] = value
    body = {"service_id": service_id, "integration_id": integration_id, "summary": summary,
            "severity": severity, "labels": labels}
    emit(Client().request("POST", "/api/v1/routing-rules/dry-run", json=body), as_json=json)
