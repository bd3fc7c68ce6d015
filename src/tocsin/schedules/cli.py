"""`tocsin oncall …` (who is on call, shifts, feeds) and `tocsin schedule …` (create, list,
show), asked of a server (TOCSIN_URL, TOCSIN_TOKEN)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client, fail
from tocsin.cli.output import JsonOpt, emit, load_document

app = typer.Typer(help="Who is on call, shifts and calendar feeds (TOCSIN_URL, TOCSIN_TOKEN).",
                  no_args_is_help=True)
ONCALL_COLUMNS = ["schedule_id", "schedule_name", "user_name", "user_id", "until", "status"]


@app.command("now")
def now(
    at: Annotated[str | None, typer.Option(help="ISO instant with offset, e.g. "
                                                "2026-03-08T09:00:00-05:00.")] = None,
    schedule: Annotated[str | None, typer.Option(help="One schedule, by name or id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who is on call now (or --at), per schedule. Exit 3 if any schedule has nobody.

    Example: tocsin oncall now --schedule payments --at 2026-03-08T09:00:00-05:00
    """
    client = Client()
    params: dict[str, Any] = {"at": at} if at else {}
    path = (f"/api/v1/schedules/{lookup.schedule(client, schedule)['id']}/oncall" if schedule
            else "/api/v1/oncall")
    rows = (lookup.every(client, path, params) if not schedule
            else [client.request("GET", path, params=params)])
    emit(rows, as_json=as_json, columns=ONCALL_COLUMNS)
    if any(r["status"] == "nobody" for r in rows):
        typer.echo("warning: no one is on call for " + ", ".join(
            r["schedule_name"] for r in rows if r["status"] == "nobody"), err=True)
        raise typer.Exit(3)


@app.command("shifts")
def shifts(
    schedule: Annotated[str, typer.Argument(help="Schedule name or id.")],
    start: Annotated[str, typer.Option(help="ISO instant with offset.")],
    end: Annotated[str, typer.Option(help="ISO instant with offset.")],
    layer: Annotated[str | None, typer.Option(help="Show one layer's own shifts.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Shifts of a schedule in a range (final, or one layer), with gap warnings.

    Example: tocsin oncall shifts payments --start 2026-03-01T00:00:00Z --end 2026-04-01T00:00:00Z
    """
    client = Client()
    sid = lookup.schedule(client, schedule)["id"]
    out = client.request("GET", f"/api/v1/schedules/{sid}/shifts",
                         params={"start": start, "end": end})
    if as_json:
        emit(out, as_json=True)
        return
    rows = out["layers"].get(layer, []) if layer else out["final"]
    emit(rows, as_json=False, columns=["start", "end", "user_id", "source"])
    for w in out["warnings"]:
        typer.echo(f"warning: {w}", err=True)


@app.command("feed")
def feed(schedule: Annotated[str | None, typer.Option(help="Schedule name or id; default: "
                                                          "your own shifts.")] = None) -> None:
    """Print the secret iCalendar URL (subscribe to it in a calendar app).

    Example: tocsin oncall feed --schedule payments
    """
    client = Client()
    path = (f"/api/v1/schedules/{lookup.schedule(client, schedule)['id']}/feed" if schedule
            else "/api/v1/oncall/feed")
    typer.echo(client.request("GET", path)["url"])


# ---- `tocsin schedule …`: rotations ---------------------------------------------------------

schedule_app = typer.Typer(help="On-call schedules: who is on call when (TOCSIN_URL, "
                                "TOCSIN_TOKEN). `tocsin oncall` asks who is on call now.",
                           no_args_is_help=True)
UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_shift(text: str) -> tuple[str, int]:
    """`1w`, `12h`, `2d` → (unit, length)."""
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in UNITS or not text[:-1].isdigit() or int(text[:-1]) < 1:
        fail(f"--shift {text!r}: write a length and h, d or w, e.g. 1w or 12h")
    return UNITS[text[-1]], int(text[:-1])


def parse_start(text: str, zone: str) -> str:
    """A wall-clock `YYYY-MM-DDTHH:MM`, or `HH:MM` meaning today at that time in `zone`."""
    from datetime import datetime, time
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        tz = ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        fail(f"--time-zone {zone!r}: unknown time zone (use an IANA name like Europe/Paris)")
    try:
        if "T" in text or "-" in text:
            return datetime.fromisoformat(text).replace(tzinfo=None).isoformat()
        return datetime.combine(datetime.now(tz).date(), time.fromisoformat(text)).isoformat()
    except ValueError:
        fail(f"--start {text!r}: give 2026-01-05T09:00, or a handoff time like 09:00 (today)")


def _people(client: Client) -> dict[int, str]:
    return {u["id"]: u["email"] for u in lookup.pages(client, "/api/v1/users")}


def _layer_rows(client: Client, schedule: dict[str, Any]) -> list[dict[str, Any]]:
    people = _people(client)
    return [{"layer": layer["name"], "shift": f"{layer['length']} {layer['unit']}",
             "handoff_from": layer["start"],
             "rotation": ", ".join(people.get(p, str(p)) for p in layer["participants"])}
            for layer in schedule["layers"]]


def _show_schedule(client: Client, schedule: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(schedule, as_json=True)
        return
    emit({k: schedule[k] for k in ("id", "name", "time_zone", "team_id", "description")},
         as_json=False)
    typer.echo("")
    emit(_layer_rows(client, schedule), as_json=False)
    for warning in schedule["warnings"]:
        typer.echo(f"warning: {warning}", err=True)


@schedule_app.command("create")
def schedule_create(
    name: Annotated[str, typer.Argument(help="Schedule name, e.g. payments-primary.")],
    user: Annotated[list[str] | None, typer.Option(
        "--user", "-u", help="A person in the rotation, by email, id or me, in rotation "
        "order (repeatable).")] = None,
    time_zone: Annotated[str, typer.Option("--time-zone", "--tz",
                                           help="IANA zone, e.g. Europe/Berlin.")] = "UTC",
    shift: Annotated[str, typer.Option(help="Shift length: 1w, 1d, 12h …")] = "1w",
    start: Annotated[str, typer.Option(
        help="First handoff, wall clock in the zone: 2026-01-05T09:00, or 09:00 for today "
             "at that time (the time of day is the handoff time).")] = "09:00",
    layer: Annotated[str, typer.Option(help="Name of the rotation layer.")] = "rotation",
    team: Annotated[str | None, typer.Option(help="Owning team, by name or id.")] = None,
    description: Annotated[str, typer.Option(help="What it covers.")] = "",
    from_file: Annotated[Path | None, typer.Option(
        help="JSON or YAML body of POST /api/v1/schedules (several layers, restrictions; "
             "participants may be emails); NAME and --team override it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a schedule with one rotation (admin), or any schedule from a file.

    Examples:

      tocsin schedule create payments -u ann@example.com -u bob@example.com --tz Europe/Berlin --shift 1w

      tocsin schedule create nights --from-file nights.yaml
    """
    client = Client()
    if from_file is not None:
        body = load_document(str(from_file), what="--from-file")
        if not isinstance(body, dict):
            fail("--from-file: expected an object (name, time_zone, layers)")
        body["name"] = name
        for item in body.get("layers", []):
            item["participants"] = [lookup.user_id(client, str(p))
                                    for p in item.get("participants", [])]
    else:
        if not user:
            fail("name the people in the rotation: --user EMAIL (repeat, in order)")
        unit, length = parse_shift(shift)
        body = {"name": name, "description": description, "time_zone": time_zone,
                "layers": [{"name": layer, "unit": unit, "length": length,
                            "start": parse_start(start, time_zone),
                            "participants": [lookup.user_id(client, u) for u in user]}]}
    if team is not None:
        body["team_id"] = lookup.team(client, team)["id"]
    _show_schedule(client, client.request("POST", "/api/v1/schedules", json=body), as_json)


@schedule_app.command("list")
def schedule_list(as_json: JsonOpt = False) -> None:
    """Every schedule.

    Example: tocsin schedule list
    """
    rows = lookup.every(Client(), "/api/v1/schedules")
    if as_json:
        emit(rows, as_json=True)
        return
    emit([{"id": s["id"], "name": s["name"], "time_zone": s["time_zone"],
           "layers": [layer["name"] for layer in s["layers"]],
           "warnings": len(s["warnings"])} for s in rows], as_json=False)


@schedule_app.command("show")
def schedule_show(schedule: Annotated[str, typer.Argument(help="Name or id.")],
                  as_json: JsonOpt = False) -> None:
    """A schedule's layers, with people by email, and its coverage warnings.

    Example: tocsin schedule show payments
    """
    client = Client()
    _show_schedule(client, lookup.schedule(client, schedule), as_json)
