"""`tocsin service …`: the service catalog over the REST API (TOCSIN_URL, TOCSIN_TOKEN)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client, fail
from tocsin.cli.output import JsonOpt, emit

app = typer.Typer(help="Services: what incidents and alerts are about, and who gets paged "
                       "for them (TOCSIN_URL, TOCSIN_TOKEN).", no_args_is_help=True)
COLUMNS = ["id", "name", "tier", "revenue", "owner_team_id", "depends_on", "description"]
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")

DescriptionOpt = Annotated[str | None, typer.Option(help="What the service does.")]
TierOpt = Annotated[str | None, typer.Option(help="critical, high, medium or low.")]
TeamOpt = Annotated[str | None, typer.Option(help="Owner team, by name or id.")]
RevenueOpt = Annotated[bool | None, typer.Option(
    "--revenue/--no-revenue", help="Failures cost money directly (payments, checkout).")]
DependsOpt = Annotated[list[str] | None, typer.Option(
    "--depends-on", help="A service this one needs, by name or id (repeatable).")]
PolicyOpt = Annotated[list[str] | None, typer.Option(
    "--escalation-policy", "-p",
    help="Who is paged for its incidents: POLICY (name or id) for every severity, or "
         "SEV1=POLICY for one (repeatable), e.g. -p SEV1=primary -p SEV3=daytime.")]


def _body(client: Client, *, name: str | None, description: str | None, tier: str | None,
          team: str | None, revenue: bool | None, depends_on: list[str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "description": description,
                            "tier": tier.lower() if tier else None, "revenue": revenue}
    if team is not None:
        body["owner_team_id"] = lookup.team(client, team)["id"] if team else None
    if depends_on is not None:
        body["depends_on"] = [lookup.service(client, ref)["id"] for ref in depends_on]
    return {k: v for k, v in body.items() if v is not None or k == "owner_team_id"}


def policies_by_severity(client: Client, refs: list[str]) -> dict[str, int]:
    """`POLICY` (every severity) or `SEV2=POLICY` items → {severity: policy id}."""
    out: dict[str, int] = {}
    for ref in refs:
        head, sep, rest = ref.partition("=")
        if sep and head.strip().upper() in SEVERITIES:
            out[head.strip().upper()] = lookup.policy(client, rest.strip())["id"]
        elif sep and head.strip().upper().startswith("SEV"):
            fail(f"--escalation-policy {ref!r}: the severity is one of {', '.join(SEVERITIES)}")
        else:
            pid = lookup.policy(client, ref.strip())["id"]
            out.update(dict.fromkeys(SEVERITIES, pid))
    return out


def _with_policies(client: Client, svc: dict[str, Any]) -> dict[str, Any]:
    by_sev = client.request("GET", f"/api/v1/services/{svc['id']}/escalation-policies")
    names = {p["id"]: p["name"] for p in lookup.every(client, "/api/v1/escalation-policies")}
    return {**svc, "escalation_policies": {sev: names.get(pid, pid)
                                           for sev, pid in sorted(by_sev.items())}}


def _show(client: Client, svc: dict[str, Any], as_json: bool) -> None:
    # Read back: who can be paged depends on the policies just set, not on the create reply.
    svc = client.request("GET", f"/api/v1/services/{svc['id']}")
    record = _with_policies(client, svc)
    if as_json:
        emit(record, as_json=True)
        return
    paged = record.pop("escalation_policies")
    problems = record.pop("paging_problems", [])
    emit(record, as_json=False)
    typer.echo("escalation  " + (", ".join(f"{sev}: {name}" for sev, name in paged.items())
                                 or "NONE - incidents of this service page nobody; set one "
                                    "with `tocsin service update NAME -p POLICY`"))
    for problem in problems if paged else []:
        typer.echo(f"PROBLEM     {problem}")


@app.command("list")
def service_list(as_json: JsonOpt = False) -> None:
    """Every service.

    Example: tocsin service list --json
    """
    emit(list(lookup.pages(Client(), "/api/v1/services")), as_json=as_json, columns=COLUMNS)


@app.command("create")
def service_create(
    name: Annotated[str, typer.Argument(help="Unique, short name, e.g. checkout.")],
    description: DescriptionOpt = None, tier: TierOpt = None, team: TeamOpt = None,
    revenue: RevenueOpt = None, depends_on: DependsOpt = None,
    escalation_policy: PolicyOpt = None, as_json: JsonOpt = False,
) -> None:
    """Create a service (admin), optionally naming who is paged for it.

    Example: tocsin service create checkout --tier critical --revenue -p primary
    """
    client = Client()
    body = _body(client, name=name, description=description, tier=tier, team=team,
                 revenue=revenue, depends_on=depends_on)
    policies = policies_by_severity(client, escalation_policy or [])
    svc = client.request("POST", "/api/v1/services", json=body)
    if policies:
        client.request("PUT", f"/api/v1/services/{svc['id']}/escalation-policies",
                       json={"policies": policies})
    _show(client, svc, as_json)


@app.command("show")
def service_show(service: Annotated[str, typer.Argument(help="Name or id.")],
                 as_json: JsonOpt = False) -> None:
    """A service and the escalation policy per severity.

    Example: tocsin service show checkout
    """
    client = Client()
    _show(client, lookup.service(client, service), as_json)


@app.command("update")
def service_update(
    service: Annotated[str, typer.Argument(help="Name or id.")],
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    description: DescriptionOpt = None, tier: TierOpt = None, team: TeamOpt = None,
    revenue: RevenueOpt = None, depends_on: DependsOpt = None,
    escalation_policy: PolicyOpt = None, as_json: JsonOpt = False,
) -> None:
    """Change a service (admin); only the options given change. -p replaces the escalation
    policies of every severity (give -p once per severity to keep several).

    Example: tocsin service update checkout -p SEV1=primary -p SEV2=primary -p SEV3=daytime
    """
    client = Client()
    svc = lookup.service(client, service)
    body = _body(client, name=name, description=description, tier=tier, team=team,
                 revenue=revenue, depends_on=depends_on)
    if body:
        svc = client.request("PATCH", f"/api/v1/services/{svc['id']}", json=body)
    if escalation_policy is not None:
        client.request("PUT", f"/api/v1/services/{svc['id']}/escalation-policies",
                       json={"policies": policies_by_severity(client, escalation_policy)})
    _show(client, svc, as_json)
