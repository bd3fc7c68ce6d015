"""`tocsin runbook …`: keep runbooks in a folder (e.g. a git repository) and sync them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tocsin.cli.client import Client, fail, problem_text
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Runbooks on a server (TOCSIN_URL, TOCSIN_TOKEN).", no_args_is_help=True)


@app.command("sync")
def runbook_sync(
    directory: Annotated[Path, typer.Argument(help="Folder of runbook .md files.")],
    as_json: JsonOpt = False,
) -> None:
    """Create or update a runbook from each `*.md` file in DIR (and its subfolders). All
    files are written, or none: a file that does not parse is listed with its problems.

    Example: tocsin runbook sync ./runbooks
    """
    if not directory.is_dir():
        fail(f"{directory} is not a folder")
    files = []
    for path in sorted(directory.rglob("*.md")):
        try:
            files.append({"path": path.relative_to(directory).as_posix(),
                          "text": path.read_text(encoding="utf-8")})
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"{path}: cannot read it: {exc}")
    if not files:
        fail(f"no .md files in {directory}")
    response = Client().response("POST", "/api/v1/runbooks/sync", json={"files": files})
    if response.status_code >= 400:
        body = response.json() if response.headers.get("content-type", "").endswith(
            "json") else {}
        for entry in body.get("files", []) if isinstance(body, dict) else []:
            for problem in entry.get("problems", []):
                typer.echo(f"{entry.get('path')}: {problem}", err=True)
        fail(f"{response.status_code}: {problem_text(response)}")
    emit(response.json(), as_json=as_json)


@app.command("list")
def runbook_list(
    stale: Annotated[bool, typer.Option(help="Only those past their review date.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List runbooks.

    Example: tocsin runbook list --stale
    """
    found = Client().request("GET", "/api/v1/runbooks",
                             params={"stale": stale, "limit": 500})["items"]
    emit(found, as_json=as_json, columns=["slug", "title", "owner_id", "review_at", "stale"])
