"""`tocsin incident …`: the responder's commands, over the REST API (TOCSIN_URL,
TOCSIN_TOKEN). Incidents are named INC-42 or 42, people by email (or `me`), services by
name or id."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Work with incidents on a server (TOCSIN_URL, TOCSIN_TOKEN).",
                  no_args_is_help=True)
INCIDENT_COLUMNS = ["number", "severity", "status", "title", "commander_id", "created_at"]
STATUSES = "triggered, acknowledged, investigating, identified, monitoring, resolved, closed"
IncidentArg = Annotated[str, typer.Argument(help="INC-42 or 42.")]


def _ref(incident: str) -> int:
    text = incident.upper().removeprefix("INC-")
    if not text.isdigit():
        typer.echo(f"error: '{incident}' is not an incident number like INC-42 or 42", err=True)
        raise typer.Exit(2)
    return int(text)


def _brief(out: dict[str, Any], as_json: bool, *extra: str) -> None:
    bridge = ("bridge_url",) if out.get("bridge_url") else ()
    emit(out if as_json else {k: out[k] for k in [*INCIDENT_COLUMNS, *extra, *bridge]},
         as_json=as_json)


@app.command("declare")
def incident_declare(
    title: Annotated[str, typer.Argument(help="Short title.")],
    severity: Annotated[str, typer.Option("--severity", "-s", help="SEV1..SEV4.")] = "SEV3",
    description: Annotated[str, typer.Option(help="What is happening.")] = "",
    service: Annotated[list[str] | None, typer.Option(
        help="Affected service, by name or id (repeatable); its escalation policy pages.")]
    = None,
    source: Annotated[str, typer.Option(help="monitor, internal or customer.")] = "internal",
    restricted: Annotated[bool, typer.Option(help="Visible to members only.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Declare an incident.

    Example: tocsin incident declare "Checkout returns 500" -s SEV2 --service checkout
    """
    client = Client()
    body = {"title": title, "severity": severity.upper(), "description": description,
            "service_ids": [lookup.service(client, s)["id"] for s in service or []],
            "detection_source": source, "restricted": restricted}
    emit(client.request("POST", "/api/v1/incidents", json=body), as_json=as_json)


@app.command("list")
def incident_list(
    status: Annotated[list[str] | None, typer.Option(help="Filter by status (repeatable).")] = None,
    severity: Annotated[list[str] | None, typer.Option(help="Filter by severity.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open incidents.")] = False,
    limit: Annotated[int, typer.Option(help="Most rows.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List incidents, newest first.

    Example: tocsin incident list --open --severity SEV1
    """
    params: dict[str, Any] = {"limit": limit, "open": open_only}
    if status:
        params["status"] = status
    if severity:
        params["severity"] = [s.upper() for s in severity]
    page = Client().request("GET", "/api/v1/incidents", params=params)
    emit(page["items"], as_json=as_json, columns=INCIDENT_COLUMNS)


@app.command("show")
def incident_show(incident: IncidentArg, as_json: JsonOpt = False) -> None:
    """Show an incident and its timeline.

    Example: tocsin incident show INC-42 --json
    """
    client = Client()
    iid = _ref(incident)
    record = client.request("GET", f"/api/v1/incidents/{iid}")
    events = client.request("GET", f"/api/v1/incidents/{iid}/timeline")
    if as_json:
        emit({**record, "timeline": events}, as_json=True)
        return
    emit(record, as_json=False)
    typer.echo("\nTIMELINE")
    emit(events, as_json=False, columns=["at", "kind", "actor_id", "body"])


@app.command("ack")
def incident_ack(incident: IncidentArg, as_json: JsonOpt = False) -> None:
    """Acknowledge an incident (stops its escalation).

    Example: tocsin incident ack INC-42
    """
    _brief(Client().request("POST", f"/api/v1/incidents/{_ref(incident)}/acknowledge"),
           as_json)


@app.command("note")
def incident_note(
    incident: IncidentArg,
    text: Annotated[str, typer.Argument(help="The note.")],
    kind: Annotated[str, typer.Option(help="note, hypothesis, action or decision.")] = "note",
    reason: Annotated[str | None, typer.Option(help="Why (decisions).")] = None,
    result: Annotated[str | None, typer.Option(help="Outcome (actions).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a note, hypothesis, action or decision to the timeline.

    Example: tocsin incident note INC-42 "roll back 1.42" --kind decision --reason "began with it"
    """
    body = {"kind": kind, "body": text, "reason": reason, "result": result}
    emit(Client().request("POST", f"/api/v1/incidents/{_ref(incident)}/entries", json=body),
         as_json=as_json)


@app.command("status")
def incident_status(
    incident: IncidentArg,
    status: Annotated[str, typer.Argument(help=STATUSES + ".")],
    note: Annotated[str, typer.Option(help="Why, for the timeline.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Move an incident to another status; an illegal move is refused, naming the legal ones.

    Example: tocsin incident status INC-42 identified --note "bad deploy found"
    """
    out = Client().request("POST", f"/api/v1/incidents/{_ref(incident)}/status",
                           json={"status": status.lower(), "note": note})
    _brief(out, as_json)


@app.command("severity")
def incident_severity(
    incident: IncidentArg,
    severity: Annotated[str, typer.Argument(help="SEV1..SEV4.")],
    reason: Annotated[str, typer.Option(help="Why (required; goes on the timeline).")],
    as_json: JsonOpt = False,
) -> None:
    """Change an incident's severity (raising it may page a stricter policy).

    Example: tocsin incident severity INC-42 SEV1 --reason "all regions down"
    """
    out = Client().request("POST", f"/api/v1/incidents/{_ref(incident)}/severity",
                           json={"severity": severity.upper(), "reason": reason})
    _brief(out, as_json)


@app.command("role")
def incident_role(
    incident: IncidentArg,
    role: Annotated[str, typer.Argument(help="commander, tech_lead or comms_lead.")],
    user: Annotated[str, typer.Argument(
        help="Who: email, id or me; `none` removes the holder.")],
    as_json: JsonOpt = False,
) -> None:
    """Give an incident role to someone (or remove its holder with `none`).

    Example: tocsin incident role INC-42 comms_lead bob@example.com
    """
    client = Client()
    uid = None if user.lower() == "none" else lookup.user_id(client, user)
    out = client.request("POST", f"/api/v1/incidents/{_ref(incident)}/roles",
                         json={"role": role.lower().replace("-", "_"), "user_id": uid})
    _brief(out, as_json, "tech_lead_id", "comms_lead_id")


@app.command("resolve")
def incident_resolve(
    incident: IncidentArg,
    summary: Annotated[str | None, typer.Option(help="What fixed it.")] = None,
    users_affected: Annotated[int | None, typer.Option(help="How many users.")] = None,
    impact_ended_at: Annotated[str | None, typer.Option(
        help="ISO time with offset; default now.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Resolve an incident (starts the recovery watch).

    Example: tocsin incident resolve INC-42 --summary "rolled back to 1.41" --users-affected 1200
    """
    body = {"resolution_summary": summary, "users_affected": users_affected,
            "impact_ended_at": impact_ended_at}
    out = Client().request("POST", f"/api/v1/incidents/{_ref(incident)}/resolve",
                           json={k: v for k, v in body.items() if v is not None})
    _brief(out, as_json, "recovery_until")


@app.command("close")
def incident_close(
    incident: IncidentArg,
    summary: Annotated[str | None, typer.Option(help="What fixed it (if not given yet).")]
    = None,
    users_affected: Annotated[int | None, typer.Option(help="How many users.")] = None,
    impact_started_at: Annotated[str | None, typer.Option(help="ISO time with offset.")] = None,
    impact_ended_at: Annotated[str | None, typer.Option(help="ISO time with offset.")] = None,
    skip_recovery_watch: Annotated[bool, typer.Option(
        help="Close before the recovery watch ends (needs --reason).")] = False,
    reason: Annotated[str | None, typer.Option(help="Why the watch is skipped.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Close a resolved incident. Refused until the record is complete; the error names
    what is missing, and each missing field has an option here.

    Example: tocsin incident close INC-42 --users-affected 1200 --skip-recovery-watch --reason "checked"
    """
    body = {"resolution_summary": summary, "users_affected": users_affected,
            "impact_started_at": impact_started_at, "impact_ended_at": impact_ended_at,
            "skip_recovery_watch": skip_recovery_watch, "reason": reason}
    out = Client().request("POST", f"/api/v1/incidents/{_ref(incident)}/close",
                           json={k: v for k, v in body.items() if v is not None},
                           hint="options: --summary, --impact-started-at, --impact-ended-at, "
                                "--users-affected, --skip-recovery-watch with --reason")
    _brief(out, as_json, "closed_at")
