"""`tocsin check …`, `tocsin heartbeat …`, `tocsin probes …` (over HTTP: TOCSIN_URL and
TOCSIN_TOKEN). `tocsin probe` (the agent) is in probe/cli.py."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client
from tocsin.cli.output import emit

check_app = typer.Typer(help="Uptime checks on a server (TOCSIN_URL, TOCSIN_TOKEN).",
                        no_args_is_help=True)
heartbeat_app = typer.Typer(help="Heartbeats (cron and worker monitoring).",
                            no_args_is_help=True)
probes_app = typer.Typer(help="Register and list probe locations.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
CHECK_COLUMNS = ["id", "name", "kind", "status", "interval_seconds", "locations",
                 "last_latency_ms", "status_reason"]


@check_app.command("list")
def check_list(status: Annotated[str | None, typer.Option(help="up, down, unknown, paused.")]
               = None, limit: int = 1000, as_json: JsonOpt = False) -> None:
    """List checks with their confirmed status."""
    params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
    emit(Client().request("GET", "/api/v1/checks", params=params)["items"], as_json=as_json,
         columns=CHECK_COLUMNS)


@check_app.command("show")
def check_show(check_id: int, as_json: JsonOpt = False) -> None:
    """A check, its status per location and its latest results."""
    client = Client()
    detail = client.request("GET", f"/api/v1/checks/{check_id}")
    results = client.request("GET", f"/api/v1/checks/{check_id}/results",
                             params={"limit": 20})
    if as_json:
        emit({**detail, "results": results}, as_json=True)
        return
    per_location = detail.pop("per_location")
    emit(detail, as_json=False)
    typer.echo("\nLOCATIONS")
    emit(per_location, as_json=False,
         columns=["location", "ok", "consecutive", "live", "latency_ms", "reason"])
    typer.echo("\nLATEST RESULTS")
    emit(results, as_json=False, columns=["at", "location", "ok", "latency_ms", "reason"])


@check_app.command("create")
def check_create(
    name: Annotated[str, typer.Argument(help="Unique name.")],
    kind: Annotated[str, typer.Option(help="http, tcp, tls, dns, postgres or mysql.")],
    service: Annotated[int, typer.Option(help="Service id the check belongs to.")],
    config: Annotated[str, typer.Option(help='Kind settings as JSON, e.g. \'{"url": "..."}\'.')],
    interval: Annotated[int, typer.Option(help="Seconds between runs.")] = 60,
    timeout: Annotated[float, typer.Option(help="Seconds before a run fails.")] = 10,
    location: Annotated[list[str] | None, typer.Option(help="Location (repeatable).")] = None,
    confirm_failures: Annotated[int, typer.Option(help="N consecutive failures.")] = 1,
    confirm_locations: Annotated[int | None, typer.Option(help="K locations.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a check."""
    try:
        settings = json.loads(config)
    except ValueError as exc:
        typer.echo(f"error: --config is not JSON: {exc}", err=True)
        raise typer.Exit(2) from None
    body = {"name": name, "kind": kind, "service_id": service, "interval_seconds": interval,
            "timeout_seconds": timeout, "config": settings,
            "locations": location or ["server"], "confirm_failures": confirm_failures,
            "confirm_locations": confirm_locations}
    emit(Client().request("POST", "/api/v1/checks", json=body), as_json=as_json)


@check_app.command("run")
def check_run(check_id: int, as_json: JsonOpt = False) -> None:
    """Run a check now at every location it runs from; `check show` has the results."""
    out = Client().request("POST", f"/api/v1/checks/{check_id}/run")
    if as_json:
        emit(out, as_json=True)
        return
    where = (["server"] if out["server"] else []) + out["probes"]
    typer.echo(f"check {check_id} scheduled now at: {', '.join(where)}"
               + (" (probes run it at their next pull)" if out["probes"] else ""))


@check_app.command("delete")
def check_delete(check_id: int) -> None:
    """Delete a check and its results."""
    Client().request("DELETE", f"/api/v1/checks/{check_id}")
    typer.echo(f"deleted check {check_id}")


@check_app.command("export")
def check_export() -> None:
    """Print every check as YAML (checks as code)."""
    client = Client()
    response = client._http.get("/api/v1/checks/export")
    if response.status_code >= 400:
        typer.echo(f"error: {response.status_code}: {response.text}", err=True)
        raise typer.Exit(1)
    typer.echo(response.text, nl=False)


@check_app.command("import")
def check_import(file: Annotated[Path, typer.Argument(help="YAML file ('-' for stdin).")]) -> None:
    """Create or update checks from a YAML file; all or nothing."""
    text = sys.stdin.read() if str(file) == "-" else file.read_text()
    out = Client().request("POST", "/api/v1/checks/import", content=text.encode(),
                           headers={"Content-Type": "application/yaml"})
    typer.echo(f"created {len(out['created'])}, updated {len(out['updated'])}")


@heartbeat_app.command("list")
def heartbeat_list(as_json: JsonOpt = False) -> None:
    """List heartbeats with their ping URLs."""
    emit(lookup.every(Client(), "/api/v1/heartbeats"),
         as_json=as_json, columns=["id", "name", "status", "due_at", "ping_url"])


@heartbeat_app.command("create")
def heartbeat_create(
    name: Annotated[str, typer.Argument(help="Unique name.")],
    service: Annotated[int, typer.Option(help="Service id.")],
    period: Annotated[int | None, typer.Option(help="Expected every N seconds.")] = None,
    cron: Annotated[str | None, typer.Option(help="Or a cron expression.")] = None,
    time_zone: Annotated[str, typer.Option(help="Time zone of the cron expression.")] = "UTC",
    grace: Annotated[int, typer.Option(help="Grace seconds before late.")] = 300,
    as_json: JsonOpt = False,
) -> None:
    """Create a heartbeat; prints its ping URL."""
    body = {"name": name, "service_id": service, "period_seconds": period, "cron": cron,
            "time_zone": time_zone, "grace_seconds": grace}
    emit(Client().request("POST", "/api/v1/heartbeats", json=body), as_json=as_json)


@probes_app.command("add")
def probes_add(name: Annotated[str, typer.Argument(help="Location name, e.g. eu-west.")]) -> None:
    """Register a probe location; prints its token once."""
    out = Client().request("POST", "/api/v1/probes", json={"name": name})
    typer.echo(out["token"])


@probes_app.command("list")
def probes_list(as_json: JsonOpt = False) -> None:
    """List probe locations and whether they are online."""
    emit(lookup.every(Client(), "/api/v1/probes"), as_json=as_json,
         columns=["id", "name", "status", "last_seen_at"])
