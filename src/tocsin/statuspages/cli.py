"""`tocsin statuspage …`: status pages over the REST API (TOCSIN_URL, TOCSIN_TOKEN), and
`export`, which copies a page's rendered files into a folder any static server can serve."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client, fail
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Status pages: components, public posts, subscribers, static export "
                       "(TOCSIN_URL, TOCSIN_TOKEN).", no_args_is_help=True)
PageArg = Annotated[str, typer.Argument(help="The page, by slug or id.")]
PAGE_COLUMNS = ["id", "slug", "name", "time_zone", "url"]
COMPONENT_COLUMNS = ["id", "name", "group_name", "status", "overridden", "service_ids"]
POST_COLUMNS = ["id", "kind", "title", "stage", "incident_id", "published_at", "resolved_at"]


def _page(client: Client, ref: str) -> dict[str, Any]:
    found = [p for p in lookup.pages(client, "/api/v1/statuspages")
             if p["slug"] == ref or str(p["id"]) == ref]
    if not found:
        fail(f"no status page '{ref}'")
    return found[0]


@app.command("list")
def page_list(as_json: JsonOpt = False) -> None:
    """Every status page.

    Example: tocsin statuspage list
    """
    emit(lookup.every(Client(), "/api/v1/statuspages"), as_json=as_json, columns=PAGE_COLUMNS)


@app.command("create")
def page_create(
    slug: Annotated[str, typer.Argument(help="Lower-case name in the URL: /status/SLUG/.")],
    name: Annotated[str, typer.Option(help="Shown to readers.")],
    time_zone: Annotated[str, typer.Option(help="Times are shown in it.")] = "UTC",
    brand_color: Annotated[str, typer.Option(help="#rrggbb.")] = "#1f6feb",
    logo_url: Annotated[str, typer.Option(help="https:// URL of a logo.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Create a status page (admin).

    Example: tocsin statuspage create acme --name "Acme Cloud" --time-zone Europe/Paris
    """
    emit(Client().request("POST", "/api/v1/statuspages", json={
        "slug": slug, "name": name, "time_zone": time_zone, "brand_color": brand_color,
        "logo_url": logo_url}), as_json=as_json)


@app.command("components")
def components(page: PageArg, as_json: JsonOpt = False) -> None:
    """A page's components and their status now.

    Example: tocsin statuspage components acme --json
    """
    client = Client()
    emit(lookup.every(client, f"/api/v1/statuspages/{_page(client, page)['id']}/components"),
         as_json=as_json, columns=COMPONENT_COLUMNS)


@app.command("component-add")
def component_add(
    page: PageArg, name: Annotated[str, typer.Argument(help="Shown to readers.")],
    service: Annotated[list[int] | None, typer.Option(
        "--service", "-s", help="Id of a service whose incidents it shows (repeatable).")] = None,
    group: Annotated[str, typer.Option(help="Group shown around it.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Add a component mapped to services (admin).

    Example: tocsin statuspage component-add acme API -s 3 --group Platform
    """
    client = Client()
    emit(client.request("POST", f"/api/v1/statuspages/{_page(client, page)['id']}/components",
                        json={"name": name, "service_ids": service or [], "group_name": group}),
         as_json=as_json)


@app.command("override")
def override(
    page: PageArg, component: Annotated[int, typer.Argument(help="Component id.")],
    status: Annotated[str, typer.Argument(
        help="operational, degraded_performance, partial_outage, major_outage, "
             "under_maintenance, or 'derived' to clear.")],
    note: Annotated[str, typer.Option(help="Shown next to it.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Set a component's status by hand, shown as such ('derived' clears it).

    Example: tocsin statuspage override acme 4 degraded_performance --note "fail-over"
    """
    client = Client()
    pid = _page(client, page)["id"]
    emit(client.request("PUT", f"/api/v1/statuspages/{pid}/components/{component}/override",
                        json={"status": None if status == "derived" else status, "note": note}),
         as_json=as_json)


@app.command("posts")
def posts(page: PageArg, as_json: JsonOpt = False) -> None:
    """A page's posts (incidents and maintenance), newest first.

    Example: tocsin statuspage posts acme
    """
    client = Client()
    emit(lookup.every(client, f"/api/v1/statuspages/{_page(client, page)['id']}/posts"),
         as_json=as_json, columns=POST_COLUMNS)


@app.command("post")
def post(
    page: PageArg, title: Annotated[str, typer.Argument(help="Public title.")],
    body: Annotated[str, typer.Option(help="The first update's text.")],
    stage: Annotated[str, typer.Option(help="investigating, identified, monitoring, resolved "
                                            "(maintenance: scheduled, in_progress, …).")]
    = "investigating",
    incident: Annotated[int | None, typer.Option(help="Internal incident id it is about.")]
    = None,
    component: Annotated[list[int] | None, typer.Option(
        "--component", "-c", help="Affected component id (repeatable).")] = None,
    draft: Annotated[bool, typer.Option(help="Save for review instead of publishing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a public incident post with its first update.

    Example: tocsin statuspage post acme "Slow API" --body "Looking into it" --incident 12 -c 4
    """
    client = Client()
    emit(client.request("POST", f"/api/v1/statuspages/{_page(client, page)['id']}/posts",
                        json={"title": title, "body": body, "stage": stage,
                              "incident_id": incident, "component_ids": component or [],
                              "draft": draft}), as_json=as_json, columns=None)


@app.command("maintenance")
def maintenance(
    page: PageArg, window_id: Annotated[int, typer.Argument(help="Maintenance window id.")],
    title: Annotated[str, typer.Option(help="Public title.")],
    body: Annotated[str, typer.Option(help="What readers should know (Markdown).")],
    horizon_days: Annotated[int | None, typer.Option(
        help="A recurring window: announce each occurrence this many days ahead.")] = None,
    component: Annotated[list[int] | None, typer.Option(
        "--component", "-c", help="Affected component id (repeatable; none: the "
                                  "components of the window's service).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Announce a maintenance window: a one-off one as a post, a weekly one as a series
    (each occurrence within the horizon its own post).

    Example: tocsin statuspage maintenance acme 3 --title Patching --body "Short pause" --horizon-days 14
    """
    client = Client()
    emit(client.request("POST", f"/api/v1/statuspages/{_page(client, page)['id']}/maintenance",
                        json={"window_id": window_id, "title": title, "body": body,
                              "component_ids": component or [], "horizon_days": horizon_days}),
         as_json=as_json, columns=None)


@app.command("update")
def update(
    page: PageArg, post_id: Annotated[int, typer.Argument(help="Post id.")],
    stage: Annotated[str, typer.Argument(help="The post's stage now.")],
    body: Annotated[str, typer.Option(help="What readers should know.")],
    draft: Annotated[bool, typer.Option(help="Save for review instead of publishing.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add an update to a post (stages never go back).

    Example: tocsin statuspage update acme 7 monitoring --body "Fix deployed; watching"
    """
    client = Client()
    pid = _page(client, page)["id"]
    emit(client.request("POST", f"/api/v1/statuspages/{pid}/posts/{post_id}/updates",
                        json={"stage": stage, "body": body, "draft": draft}), as_json=as_json)


@app.command("publish")
def publish(page: PageArg, post_id: Annotated[int, typer.Argument(help="Post id.")],
            update_id: Annotated[int, typer.Argument(help="Draft update id.")],
            as_json: JsonOpt = False) -> None:
    """Publish a reviewed draft (the incident's comms lead or an admin).

    Example: tocsin statuspage publish acme 7 19
    """
    client = Client()
    pid = _page(client, page)["id"]
    emit(client.request("POST", f"/api/v1/statuspages/{pid}/posts/{post_id}/updates/"
                                f"{update_id}/publish"), as_json=as_json)


@app.command("subscribers")
def subscribers(page: PageArg, as_json: JsonOpt = False) -> None:
    """A page's subscribers (admin: addresses are private).

    Example: tocsin statuspage subscribers acme --json
    """
    client = Client()
    emit(lookup.every(client, f"/api/v1/statuspages/{_page(client, page)['id']}/subscribers"),
         as_json=as_json, columns=["id", "kind", "address", "confirmed", "unsubscribed"])


def export_once(client: Client, page: dict[str, Any], folder: Path) -> list[str]:
    """Copy the page's files that changed into `folder` (each written to a temporary name,
    then renamed: a server never serves half a file). Returns the names written."""
    files: list[dict[str, Any]] = client.request(
        "GET", f"/api/v1/statuspages/{page['id']}/files")["files"]
    state_path = folder / ".tocsin-export.json"
    known: dict[str, str] = json.loads(state_path.read_text()) if state_path.exists() else {}
    written = []
    with httpx.Client(base_url=client.url, timeout=30.0) as http:
        for f in files:
            target = folder / f["name"]
            if known.get(f["name"]) == f["etag"] and target.exists():
                continue
            r = http.get(f"/status/{page['slug']}/{f['name']}")
            if r.status_code != 200:
                fail(f"{f['name']}: {r.status_code}")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(r.content)
            os.replace(tmp, target)
            known[f["name"]] = r.headers.get("etag", f["etag"])
            written.append(f["name"])
    tmp_state = state_path.with_name(".tocsin-export.json.tmp")
    tmp_state.write_text(json.dumps(known))
    os.replace(tmp_state, state_path)
    return written


@app.command("export")
def export(
    page: PageArg, folder: Annotated[Path, typer.Argument(help="Where to write the files.")],
    watch: Annotated[bool, typer.Option(help="Keep the folder current until stopped.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between checks with --watch.")] = 2.0,
    rounds: Annotated[int, typer.Option(hidden=True, help="Stop --watch after N checks.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Write the whole page (HTML, feeds, JSON) as static files that nginx, a CDN or object
    storage can serve while Tocsin is down; --watch keeps them current.

    Example: tocsin statuspage export acme /var/www/status --watch
    """
    client = Client()
    found = _page(client, page)
    folder.mkdir(parents=True, exist_ok=True)
    done = 0
    while True:
        written = export_once(client, found, folder)
        done += 1
        if as_json:
            typer.echo(json.dumps({"written": written}))
        elif written:
            typer.echo(f"wrote {len(written)} file(s) to {folder}: {', '.join(written)}")
        if not watch or (rounds and done >= rounds):
            return
        time.sleep(interval)
