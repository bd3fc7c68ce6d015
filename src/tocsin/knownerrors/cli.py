"""`tocsin problem …`: known errors, and what an incident looks like."""

from __future__ import annotations

from typing import Annotated

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Known errors on a server (TOCSIN_URL, TOCSIN_TOKEN).",
                  no_args_is_help=True)
COLUMNS = ["id", "title", "fix_status", "service_id", "incident_ids"]


@app.command("add")
def problem_add(
    title: Annotated[str, typer.Argument(help="The known error, in a line.")],
    symptoms: Annotated[str, typer.Option(help="What responders see.")] = "",
    workaround: Annotated[str, typer.Option(help="What to do until it is fixed.")] = "",
    service: Annotated[str | None, typer.Option(help="Service, by name or id.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a known error.

    Example: tocsin problem add "Gateway pool exhausted" --service payments --workaround "restart proxy"
    """
    client = Client()
    body = {"title": title, "symptoms": symptoms, "workaround": workaround,
            "service_id": lookup.service(client, service)["id"] if service else None}
    out = client.request("POST", "/api/v1/problems", json=body)
    emit(out if as_json else {k: out[k] for k in COLUMNS}, as_json=as_json)


@app.command("list")
def problem_list(search: Annotated[str | None, typer.Option(help="Words to find.")] = None,
                 as_json: JsonOpt = False) -> None:
    """List known errors, or search them.

    Example: tocsin problem list --search "gateway timeout"
    """
    params: dict[str, str | int] = {"limit": 500, **({"q": search} if search else {})}
    emit(Client().request("GET", "/api/v1/problems", params=params)["items"],
         as_json=as_json, columns=COLUMNS)


@app.command("link")
def problem_link(problem_id: Annotated[int, typer.Argument(help="Known error id.")],
                 incident: Annotated[str, typer.Argument(help="INC-42 or 42.")],
                 as_json: JsonOpt = False) -> None:
    """Link a (recurring) incident to a known error.

    Example: tocsin problem link 3 INC-42
    """
    out = Client().request("POST", f"/api/v1/problems/{problem_id}/incidents",
                           json={"incident_id": int(incident.upper().removeprefix("INC-"))})
    emit(out if as_json else {k: out[k] for k in COLUMNS}, as_json=as_json)


@app.command("suggest")
def problem_suggest(incident: Annotated[str, typer.Argument(help="INC-42 or 42.")],
                    as_json: JsonOpt = False) -> None:
    """Known errors and past incidents that look like an incident.

    Example: tocsin problem suggest INC-42
    """
    iid = int(incident.upper().removeprefix("INC-"))
    emit(Client().request("GET", f"/api/v1/incidents/{iid}/suggestions")["items"],
         as_json=as_json, columns=["id", "kind", "target_id", "title", "score", "used"])
