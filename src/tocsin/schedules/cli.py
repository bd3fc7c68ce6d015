"""`tocsin oncall …`: on-call questions asked of a server (TOCSIN_URL, TOCSIN_TOKEN)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli.client import Client
from tocsin.cli.output import emit

app = typer.Typer(help="Who is on call, shifts and calendar feeds (TOCSIN_URL, TOCSIN_TOKEN).",
                  no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
ONCALL_COLUMNS = ["schedule_id", "schedule_name", "user_name", "user_id", "until", "status"]


@app.command("now")
def now(
    at: Annotated[str | None, typer.Option(help="ISO instant with offset, e.g. "
                                                "2026-03-08T09:00:00-05:00.")] = None,
    schedule: Annotated[int | None, typer.Option(help="One schedule id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who is on call now (or --at), per schedule. Exit 3 if any schedule has nobody."""
    params: dict[str, Any] = {"at": at} if at else {}
    path = f"/api/v1/schedules/{schedule}/oncall" if schedule else "/api/v1/oncall"
    out = Client().request("GET", path, params=params)
    rows = out if isinstance(out, list) else [out]
    emit(rows, as_json=as_json, columns=ONCALL_COLUMNS)
    if any(r["status"] == "nobody" for r in rows):
        typer.echo("warning: no one is on call for " + ", ".join(
            r["schedule_name"] for r in rows if r["status"] == "nobody"), err=True)
        raise typer.Exit(3)


@app.command("shifts")
def shifts(
    schedule: Annotated[int, typer.Argument(help="Schedule id.")],
    start: Annotated[str, typer.Option(help="ISO instant with offset.")],
    end: Annotated[str, typer.Option(help="ISO instant with offset.")],
    layer: Annotated[str | None, typer.Option(help="Show one layer's own shifts.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Shifts of a schedule in a range (final, or one layer), with gap warnings."""
    out = Client().request("GET", f"/api/v1/schedules/{schedule}/shifts",
                           params={"start": start, "end": end})
    if as_json:
        emit(out, as_json=True)
        return
    rows = out["layers"].get(layer, []) if layer else out["final"]
    emit(rows, as_json=False, columns=["start", "end", "user_id", "source"])
    for w in out["warnings"]:
        typer.echo(f"warning: {w}", err=True)


@app.command("feed")
def feed(schedule: Annotated[int | None, typer.Option(help="Schedule id; default: "
                                                          "your own shifts.")] = None) -> None:
    """Print the secret iCalendar URL (subscribe to it in a calendar app)."""
    path = f"/api/v1/schedules/{schedule}/feed" if schedule else "/api/v1/oncall/feed"
    typer.echo(Client().request("GET", path)["url"])
