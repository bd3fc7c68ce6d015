"""`tocsin alert`, `tocsin integration` and `tocsin route` (against a server: TOCSIN_URL,
TOCSIN_TOKEN)."""

from __future__ import annotations

import time
from json import dumps
from typing import Annotated, Any

import httpx
import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client, fail, problem_text
from tocsin.cli.output import JsonOpt, emit, load_document

alert_app = typer.Typer(help="Alerts received from monitoring tools.", no_args_is_help=True)
integration_app = typer.Typer(help="Integrations: where senders post, with their keys.",
                              no_args_is_help=True)
route_app = typer.Typer(help="Routing rules: list them, try a payload.", no_args_is_help=True)
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
    """Every integration with its URL (admin).

    Example: tocsin integration list --json
    """
    emit(lookup.every(Client(), "/api/v1/integrations"), as_json=json,
         columns=["id", "service_id", "kind", "name", "enabled", "url"])


def _print_integration(out: dict[str, Any]) -> None:
    typer.echo(f"integration {out['id']} '{out['name']}' ({out['kind']}) for service "
               f"{out['service_id']}")
    typer.echo(f"  url: {out['url']}\n  key: {out['key']}")
    if out["mapping"]:
        typer.echo(f"  mapping: {dumps(out['mapping'])}")
    for label, example in out["examples"].items():
        typer.echo(f"\n{label}:\n{example}")
    typer.echo(f"\nor send a test alert now: tocsin integration test {out['id']}")


@integration_app.command("create")
def integration_create(
    service: Annotated[str, typer.Option("--service", "--service-id",
                                         help="Service the alerts belong to (name or id).")],
    kind: Annotated[str, typer.Option(help="pagerduty, opsgenie, alertmanager, grafana or "
                                      "generic")],
    name: Annotated[str, typer.Option(help="What sends to it.")],
    mapping: Annotated[str | None, typer.Option(
        help="generic only: JSON paths for title (required), dedup_key, severity, status, "
             "service, source; inline JSON or a JSON/YAML file.")] = None,
    json: JsonOpt = False,
) -> None:
    """Create an integration (admin) and print its URL, key and a ready-to-run example.

    Examples:

      tocsin integration create --service checkout --kind alertmanager --name prometheus

      tocsin integration create --service checkout --kind generic --name cron --mapping map.yaml

      tocsin integration create --service db --kind generic --name cron --mapping '{"title": "$.name"}'
    """
    client = Client()
    body: dict[str, Any] = {"service_id": lookup.service(client, service)["id"],
                            "kind": kind.lower(), "name": name}
    if mapping is not None:
        document = load_document(mapping, what="--mapping")
        if not isinstance(document, dict):
            fail('--mapping: expected an object like {"title": "$.check.name"}')
        body["mapping"] = {str(k): str(v) for k, v in document.items()}
    elif kind.lower() == "generic":
        fail("a generic integration needs --mapping, at least the title's JSON path, e.g. "
             '--mapping \'{"title": "$.check.name"}\' (see docs/intake.md)')
    out = client.request("POST", "/api/v1/integrations", json=body)
    if json:
        emit(out, as_json=True)
        return
    _print_integration(out)


@integration_app.command("show")
def integration_show(integration: Annotated[str, typer.Argument(help="Name or id.")],
                     json: JsonOpt = False) -> None:
    """An integration's URL, key and examples.

    Example: tocsin integration show prometheus
    """
    out = lookup.integration(Client(), integration)
    if json:
        emit(out, as_json=True)
        return
    _print_integration(out)


@integration_app.command("test")
def integration_test(
    integration: Annotated[str, typer.Argument(help="Name or id.")],
    dedup_key: Annotated[str | None, typer.Option(
        help="The test alert's key; default a new one, so each test opens an incident.")]
    = None,
    json: JsonOpt = False,
) -> None:
    """Send a triggering test alert through the integration, exactly as its sender would
    (to its URL, with its key): it opens an incident on the service and pages whoever the
    service's escalation policy names.

    Example: tocsin integration test prometheus
    """
    client = Client()
    found = lookup.integration(client, integration)
    key = dedup_key or f"tocsin-test-{int(time.time())}"
    sample = client.request("GET", f"/api/v1/integrations/{found['id']}/sample",
                            params={"dedup_key": key})
    # To the server this command reaches (TOCSIN_URL), which may be another address than
    # the public URL senders use. Not through the API client: intake is authenticated by
    # the integration key alone, and a user's API key there is refused.
    url = client.url + sample["path"]
    try:
        answer = httpx.post(url, json=sample["body"], headers=sample["headers"], timeout=30.0)
    except httpx.HTTPError as exc:
        fail(f"cannot reach {url}: {exc}")
    if answer.status_code >= 300:
        fail(f"{url} answered {answer.status_code}: {problem_text(answer)}")
    if not client.request("GET", f"/api/v1/services/{found['service_id']}/escalation-policies"):
        typer.echo(f"warning: service {found['service_id']} has no escalation policy, so this "
                   "alert's incident pages nobody; set one with `tocsin service update "
                   f"{found['service_id']} -p POLICY`", err=True)
    result = {"integration_id": found["id"], "url": url, "dedup_key": key,
              "status": answer.status_code, "answer": answer.text}
    if json:
        emit(result, as_json=True)
        return
    typer.echo(f"test alert '{key}' accepted ({answer.status_code}) by {url}; "
               "see it with `tocsin alert list` and its incident with `tocsin incident list`")


@route_app.command("list")
def route_list(json: JsonOpt = False) -> None:
    emit(lookup.every(Client(), "/api/v1/routing-rules"), as_json=json,
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
