"""`tocsin postmortem …` and `tocsin action …`: post-mortems and action items over the API."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit
from tocsin.postmortems.schemas import SECTIONS

app = typer.Typer(help="Post-mortems on a server (TOCSIN_URL, TOCSIN_TOKEN).",
                  no_args_is_help=True)
action_app = typer.Typer(help="Action items on a server (TOCSIN_URL, TOCSIN_TOKEN).",
                         no_args_is_help=True)
BRIEF = ["id", "incident_id", "status", "title", "due_at", "overdue"]
ITEM = ["id", "incident_id", "title", "owner_id", "due_at", "priority", "status", "overdue"]


def _incident(ref: str) -> int:
    text = ref.upper().removeprefix("INC-")
    if not text.isdigit():
        typer.echo(f"error: '{ref}' is not an incident number like INC-42 or 42", err=True)
        raise typer.Exit(2)
    return int(text)


@app.command("start")
def postmortem_start(incident: Annotated[str, typer.Argument(help="INC-42 or 42.")],
                     as_json: JsonOpt = False) -> None:
    """Start the incident's post-mortem (a draft filled from its record).

    Example: tocsin postmortem start INC-42
    """
    out = Client().request("POST", f"/api/v1/incidents/{_incident(incident)}/postmortem",
                           json={})
    emit(out if as_json else {k: out[k] for k in BRIEF}, as_json=as_json)


@app.command("list")
def postmortem_list(
    overdue: Annotated[bool, typer.Option(help="Only unpublished ones past due.")] = False,
    search: Annotated[str | None, typer.Option(help="Words to find in published ones.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List post-mortems, the overdue ones, or search the published ones.

    Example: tocsin postmortem list --search "connection pool"
    """
    params: dict[str, str | int | bool] = {"overdue": overdue, "limit": 500}
    if search:
        params["q"] = search
    found = Client().request("GET", "/api/v1/postmortems", params=params)["items"]
    emit(found, as_json=as_json, columns=BRIEF)


@app.command("export")
def postmortem_export(postmortem_id: Annotated[int, typer.Argument(help="Post-mortem id.")],
                      as_json: JsonOpt = False) -> None:
    """Print the post-mortem as Markdown (--json: the whole record).

    Example: tocsin postmortem export 7 > INC-42-postmortem.md
    """
    client = Client()
    if as_json:
        emit(client.request("GET", f"/api/v1/postmortems/{postmortem_id}"), as_json=True)
        return
    response = client.response("GET", f"/api/v1/postmortems/{postmortem_id}/export.md")
    if response.status_code >= 400:
        client.request("GET", f"/api/v1/postmortems/{postmortem_id}")  # fails with the reason
    typer.echo(response.text, nl=False)


@app.command("publish")
def postmortem_publish(postmortem_id: Annotated[int, typer.Argument(help="Post-mortem id.")],
                       as_json: JsonOpt = False) -> None:
    """Publish a post-mortem in review once its reviewers approved.

    Example: tocsin postmortem publish 7
    """
    out = Client().request("POST", f"/api/v1/postmortems/{postmortem_id}/publish")
    emit(out if as_json else {k: out[k] for k in BRIEF}, as_json=as_json)


COMMENT = ["id", "section", "author_name", "at", "parent_id", "resolved_at", "body"]


def _brief(out: dict[str, Any], as_json: bool) -> None:
    emit(out if as_json else {k: out[k] for k in BRIEF}, as_json=as_json)


@app.command("review")
def postmortem_review(
    postmortem_id: Annotated[int, typer.Argument(help="Post-mortem id.")],
    reviewer: Annotated[list[str], typer.Option(
        help="A reviewer's email, or `me`; repeat for several.")],
    as_json: JsonOpt = False,
) -> None:
    """Send a draft to review: the reviewers are told and must approve before publishing.

    Example: tocsin postmortem review 7 --reviewer rita@example.com --reviewer sam@example.com
    """
    client = Client()
    ids = [lookup.user(client, ref)["id"] for ref in reviewer]
    _brief(client.request("POST", f"/api/v1/postmortems/{postmortem_id}/review",
                          json={"reviewer_ids": ids}), as_json)


@app.command("comment")
def postmortem_comment(
    postmortem_id: Annotated[int, typer.Argument(help="Post-mortem id.")],
    text: Annotated[str, typer.Argument(help="The comment (Markdown).")],
    section: Annotated[str | None, typer.Option(
        help="The section: " + ", ".join(SECTIONS) + ".")] = None,
    reply_to: Annotated[int | None, typer.Option(
        help="The comment this one answers (it takes that thread's section).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Comment on one section of a post-mortem, or reply in a thread.

    Example: tocsin postmortem comment 7 "Why did the rebuild start at peak?" --section root_cause
    """
    if (section is None) == (reply_to is None):
        typer.echo("error: give --section for a new thread or --reply-to for a reply "
                   "(one of them)", err=True)
        raise typer.Exit(2)
    out = Client().request("POST", f"/api/v1/postmortems/{postmortem_id}/comments",
                           json={"section": section, "body": text, "parent_id": reply_to})
    emit(out if as_json else {k: out[k] for k in COMMENT}, as_json=as_json)


@app.command("comments")
def postmortem_comments(
    postmortem_id: Annotated[int, typer.Argument(help="Post-mortem id.")],
    open_only: Annotated[bool, typer.Option("--open", help="Only unresolved threads.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List a post-mortem's review comments, oldest first.

    Example: tocsin postmortem comments 7 --open
    """
    found = Client().request("GET", f"/api/v1/postmortems/{postmortem_id}")["comments"]
    if open_only:
        open_threads = {c["id"] for c in found
                        if c["parent_id"] is None and c["resolved_at"] is None}
        found = [c for c in found if (c["parent_id"] or c["id"]) in open_threads]
    emit(found, as_json=as_json, columns=COMMENT)


@app.command("resolve")
def postmortem_resolve(
    postmortem_id: Annotated[int, typer.Argument(help="Post-mortem id.")],
    comment_id: Annotated[int, typer.Argument(help="The thread's first comment.")],
    as_json: JsonOpt = False,
) -> None:
    """Mark a comment's thread addressed.

    Example: tocsin postmortem resolve 7 31
    """
    out = Client().request(
        "POST", f"/api/v1/postmortems/{postmortem_id}/comments/{comment_id}/resolve")
    emit(out if as_json else {k: out[k] for k in COMMENT}, as_json=as_json)


@app.command("approve")
def postmortem_approve(postmortem_id: Annotated[int, typer.Argument(help="Post-mortem id.")],
                       as_json: JsonOpt = False) -> None:
    """Approve a post-mortem you were asked to review.

    Example: tocsin postmortem approve 7
    """
    _brief(Client().request("POST", f"/api/v1/postmortems/{postmortem_id}/approve"), as_json)


@action_app.command("add")
def action_add(
    incident: Annotated[str, typer.Argument(help="INC-42 or 42.")],
    title: Annotated[str, typer.Argument(help="What will be done.")],
    owner: Annotated[str, typer.Option(help="Owner's email, or `me`.")],
    due: Annotated[str, typer.Option(help="Due date, ISO 8601 with a zone.")],
    priority: Annotated[str, typer.Option(help="high, medium or low.")] = "medium",
    as_json: JsonOpt = False,
) -> None:
    """Add an action item to an incident.

    Example: tocsin action add INC-42 "Alert on pool saturation" --owner me --due 2026-12-20T17:00Z
    """
    client = Client()
    out = client.request("POST", f"/api/v1/incidents/{_incident(incident)}/action-items",
                         json={"title": title, "owner_id": lookup.user(client, owner)["id"],
                               "due_at": due, "priority": priority})
    emit(out if as_json else {k: out[k] for k in ITEM}, as_json=as_json)


@action_app.command("list")
def action_list(
    owner: Annotated[str | None, typer.Option(help="Owner's email, or `me`.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only unfinished ones.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List action items.

    Example: tocsin action list --owner me --open
    """
    client = Client()
    params: dict[str, str | int | bool] = {"open": open_only, "limit": 500}
    if owner:
        params["owner_id"] = lookup.user(client, owner)["id"]
    emit(client.request("GET", "/api/v1/action-items", params=params)["items"],
         as_json=as_json, columns=ITEM)


@action_app.command("done")
def action_done(item_id: Annotated[int, typer.Argument(help="Action item id.")],
                as_json: JsonOpt = False) -> None:
    """Mark an action item done.

    Example: tocsin action done 12
    """
    out = Client().request("PATCH", f"/api/v1/action-items/{item_id}", json={"status": "done"})
    emit(out if as_json else {k: out[k] for k in ITEM}, as_json=as_json)
