"""`tocsin drill …`: game days from a scenario, paging only the participants."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Game-day drills on a server (TOCSIN_URL, TOCSIN_TOKEN).",
                  no_args_is_help=True)


@app.command("scenario")
def drill_scenario(
    name: Annotated[str, typer.Argument(help="Scenario name.")],
    alert: Annotated[str, typer.Option(help="The sample alert's title.")],
    service: Annotated[str | None, typer.Option(help="Service, by name or id.")] = None,
    severity: Annotated[str, typer.Option(help="SEV1..SEV4.")] = "SEV2",
    as_json: JsonOpt = False,
) -> None:
    """Create a drill scenario.

    Example: tocsin drill scenario "db failover" --alert "Primary DB unreachable" --service payments -s SEV1
    """
    client = Client()
    emit(client.request("POST", "/api/v1/drills/scenarios", json={
        "name": name, "alert_title": alert, "severity": severity.upper(),
        "service_id": lookup.service(client, service)["id"] if service else None}),
        as_json=as_json)


@app.command("scenarios")
def drill_scenarios(as_json: JsonOpt = False) -> None:
    """List the drill scenarios.

    Example: tocsin drill scenarios
    """
    emit(Client().request("GET", "/api/v1/drills/scenarios", params={"limit": 500})["items"],
         as_json=as_json, columns=["id", "name", "severity", "service_id", "alert_title"])


@app.command("start")
def drill_start(
    scenario_id: Annotated[int, typer.Argument(help="Scenario id.")],
    participant: Annotated[list[str], typer.Option(help="Participant email or `me` "
                                                        "(repeatable); only they are paged.")],
    as_json: JsonOpt = False,
) -> None:
    """Start a drill.

    Example: tocsin drill start 1 --participant me --participant dana@example.com
    """
    client = Client()
    emit(client.request("POST", "/api/v1/drills", json={
        "scenario_id": scenario_id,
        "participant_ids": [lookup.user(client, p)["id"] for p in participant]}),
        as_json=as_json)


@app.command("report")
def drill_report(drill_id: Annotated[int, typer.Argument(help="Drill id.")],
                 as_json: JsonOpt = False) -> None:
    """A drill's times against the targets.

    Example: tocsin drill report 4
    """
    _report(Client().request("GET", f"/api/v1/drills/{drill_id}"), as_json)


@app.command("finish")
def drill_finish(drill_id: Annotated[int, typer.Argument(help="Drill id.")],
                 as_json: JsonOpt = False) -> None:
    """End a drill once its incident is resolved, and print its report.

    Example: tocsin drill finish 4
    """
    _report(Client().request("POST", f"/api/v1/drills/{drill_id}/finish"), as_json)


def _report(drill: dict[str, Any], as_json: bool) -> None:
    """The whole drill (--json), or its report as a table."""
    emit(drill if as_json else drill["report"], as_json=as_json,
         columns=None if as_json else ["measure", "took_seconds", "target_seconds", "met"])
