"""`tocsin incident tasks|task-add|task-done|handoff|take|responders|bridge`, `tocsin
checklist …`, `tocsin role …`: respond over the REST API (TOCSIN_URL, TOCSIN_TOKEN). People
by email or `me`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit

IncidentArg = Annotated[str, typer.Argument(help="INC-42 or 42.")]
TASK_COLUMNS = ["id", "status", "title", "assignee_id", "done_by_id", "done_at"]

checklist_app = typer.Typer(help="Checklist templates added to new or raised incidents.",
                            no_args_is_help=True)
role_app = typer.Typer(help="Incident roles beyond the three built-in ones.",
                       no_args_is_help=True)


def _ref(incident: str) -> int:
    text = incident.upper().removeprefix("INC-")
    if not text.isdigit():
        typer.echo(f"error: '{incident}' is not an incident number like INC-42 or 42", err=True)
        raise typer.Exit(2)
    return int(text)


def task_list(incident: IncidentArg, as_json: JsonOpt = False) -> None:
    """The incident's tasks, open and done.

    Example: tocsin incident tasks INC-42
    """
    out = Client().request("GET", f"/api/v1/incidents/{_ref(incident)}/tasks")
    if as_json:
        emit(out, as_json=True)
        return
    emit(out["items"], as_json=False, columns=TASK_COLUMNS)
    typer.echo(f"{out['open']} open")


def task_add(incident: IncidentArg,
             title: Annotated[str, typer.Argument(help="What needs doing.")],
             assignee: Annotated[str | None, typer.Option(help="Email or 'me'.")] = None,
             as_json: JsonOpt = False) -> None:
    """Add an ad-hoc task.

    Example: tocsin incident task-add INC-42 "check the CDN" --assignee me
    """
    client = Client()
    body: dict[str, Any] = {"title": title}
    if assignee:
        body["assignee_id"] = lookup.user_id(client, assignee)
    emit(client.request("POST", f"/api/v1/incidents/{_ref(incident)}/tasks", json=body),
         as_json=as_json)


def task_done(incident: IncidentArg, task_id: Annotated[int, typer.Argument(help="Task id.")],
              undo: Annotated[bool, typer.Option(help="Open it again.")] = False,
              as_json: JsonOpt = False) -> None:
    """Mark a task done (on the timeline, with who and when).

    Example: tocsin incident task-done INC-42 7
    """
    emit(Client().request("PATCH", f"/api/v1/incidents/{_ref(incident)}/tasks/{task_id}",
                          json={"done": not undo}), as_json=as_json)


def incident_handoff(incident: IncidentArg,
                     role: Annotated[str, typer.Argument(help="commander, scribe, …")],
                     to: Annotated[str, typer.Argument(help="Email of the next holder.")],
                     note: Annotated[str, typer.Option(help="What they need to know.")],
                     as_json: JsonOpt = False) -> None:
    """Hand a role over with a note (IC to the next IC).

    Example: tocsin incident handoff INC-42 commander bo@example.com --note "failover done"
    """
    client = Client()
    out = client.request("POST", f"/api/v1/incidents/{_ref(incident)}/handoff", json={
        "role": role, "to_user_id": lookup.user_id(client, to), "note": note})
    emit(out, as_json=as_json)


def incident_responders(incident: IncidentArg, as_json: JsonOpt = False) -> None:
    """Every role of the incident, who holds it, and what it means.

    Example: tocsin incident responders INC-42
    """
    emit(Client().request("GET", f"/api/v1/incidents/{_ref(incident)}/responders"),
         as_json=as_json, columns=["role", "user_id", "description"])


def incident_take(incident: IncidentArg,
                  role: Annotated[str, typer.Argument(help="Any role, e.g. scribe.")],
                  who: Annotated[str, typer.Argument(help="Email, 'me' or 'none'.")],
                  as_json: JsonOpt = False) -> None:
    """Give a role (built-in or admin-defined) to someone; shows what the role means.

    Example: tocsin incident take INC-42 scribe me
    """
    client = Client()
    user_id = None if who == "none" else lookup.user_id(client, who)
    emit(client.request("POST", f"/api/v1/incidents/{_ref(incident)}/responders",
                        json={"role": role, "user_id": user_id}), as_json=as_json)


def incident_bridge(incident: IncidentArg,
                    url: Annotated[str | None, typer.Argument(
                        help="http(s) link; omitted: made from the server's template")] = None,
                    as_json: JsonOpt = False) -> None:
    """Set the incident's conference bridge.

    Example: tocsin incident bridge INC-42 https://meet.example.com/inc-42
    """
    emit(Client().request("PUT", f"/api/v1/incidents/{_ref(incident)}/bridge",
                          json={"url": url}), as_json=as_json)


@checklist_app.command("list")
def checklist_list(as_json: JsonOpt = False) -> None:
    """Checklist templates.

    Example: tocsin checklist list
    """
    emit(Client().request("GET", "/api/v1/checklists")["items"], as_json=as_json,
         columns=["id", "name", "severity", "service_id", "category_system", "items"])


@checklist_app.command("create")
def checklist_create(
    name: Annotated[str, typer.Argument(help="Template name.")],
    item: Annotated[list[str], typer.Option(help="A task (repeatable, in order).")],
    severity: Annotated[str | None, typer.Option(help="At or above SEV1..SEV4.")] = None,
    service: Annotated[str | None, typer.Option(help="Only this service's incidents.")] = None,
    category: Annotated[str | None, typer.Option(help="network, application, …")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a checklist template (admins).

    Example: tocsin checklist create "SEV1 basics" --severity SEV1 --item "assign comms"
    """
    client = Client()
    body: dict[str, Any] = {"name": name, "items": item, "category_system": category,
                            "severity": severity.upper() if severity else None}
    if service:
        body["service_id"] = lookup.service(client, service)["id"]
    emit(client.request("POST", "/api/v1/checklists", json=body), as_json=as_json)


@checklist_app.command("delete")
def checklist_delete(template_id: Annotated[int, typer.Argument(help="Template id.")]) -> None:
    """Delete a checklist template (tasks already added stay)."""
    Client().request("DELETE", f"/api/v1/checklists/{template_id}")
    typer.echo(f"deleted checklist {template_id}")


@role_app.command("list")
def role_list(as_json: JsonOpt = False) -> None:
    """Roles admins defined (the built-in three: `tocsin incident responders`)."""
    emit(Client().request("GET", "/api/v1/roles")["items"], as_json=as_json,
         columns=["name", "built_in", "description"])


@role_app.command("create")
def role_create(name: Annotated[str, typer.Argument(help="Lower case, e.g. scribe.")],
                description: Annotated[str, typer.Option(
                    help="Shown to whoever takes the role.")] = "",
                as_json: JsonOpt = False) -> None:
    """Define a role (admins).

    Example: tocsin role create scribe --description "Keep the timeline"
    """
    emit(Client().request("POST", "/api/v1/roles",
                          json={"name": name, "description": description}), as_json=as_json)


@role_app.command("delete")
def role_delete(name: Annotated[str, typer.Argument(help="Role name.")]) -> None:
    """Delete an admin-defined role."""
    Client().request("DELETE", f"/api/v1/roles/{name}")
    typer.echo(f"deleted role {name}")


def schedule_handoff_note(
    schedule: Annotated[str, typer.Argument(help="Schedule name or id.")],
    text: Annotated[str | None, typer.Argument(
        help="The note for the next on-call; omitted: list the notes kept")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Leave a note for whoever takes over at the next handoff (or list the notes).

    Example: tocsin schedule handoff-note ops "db-2 disk at 85%, OPS-12 open"
    """
    client = Client()
    sid = lookup.schedule(client, schedule)["id"]
    path = f"/api/v1/schedules/{sid}/handoff-notes"
    if text is None:
        emit(client.request("GET", path)["items"], as_json=as_json,
             columns=["id", "author_id", "created_at", "delivered_at", "text"])
        return
    emit(client.request("POST", path, json={"text": text}), as_json=as_json)
