"""`tocsin escalation list|create|update|show`: escalation policies over the REST API
(TOCSIN_URL, TOCSIN_TOKEN).

A level is written as `[MINUTES:]TARGET[,TARGET…]`: the targets paged together, and how
many minutes the level waits for an acknowledgement before the next one fires (the API's
`delay_minutes`; `--wait` when omitted). A target is an email address or `me`, or
`user:EMAIL`, `schedule:NAME`, `team:NAME` (everyone) or `team:NAME:round_robin` (one
member in turn); names may be ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.cli import lookup
from tocsin.cli.client import Client, fail
from tocsin.cli.output import JsonOpt, emit, load_document

app = typer.Typer(help="Escalation policies: who is paged, in what order, until someone "
                       "acknowledges (TOCSIN_URL, TOCSIN_TOKEN).", no_args_is_help=True)
KINDS = ("user", "schedule", "team")
MODES = ("all", "round_robin")


class Names:
    """Ids ↔ names for targets, looked up once per command."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._users: dict[int, str] | None = None

    def target_id(self, kind: str, ref: str) -> int:
        if kind == "user":
            return lookup.user_id(self.client, ref)
        if kind == "schedule":
            return int(lookup.schedule(self.client, ref)["id"])
        return int(lookup.team(self.client, ref)["id"])

    def label(self, target: dict[str, Any]) -> str:
        kind, tid = target["kind"], target["id"]
        if kind == "user":
            if self._users is None:
                self._users = {u["id"]: u["email"]
                               for u in lookup.pages(self.client, "/api/v1/users")}
            return self._users.get(tid, f"user:{tid}")
        rows = (lookup.every(self.client, "/api/v1/schedules") if kind == "schedule"
                else list(lookup.pages(self.client, "/api/v1/teams")))
        name = next((r["name"] for r in rows if r["id"] == tid), str(tid))
        mode = ":round_robin" if target.get("mode") == "round_robin" else ""
        return f"{kind}:{name}{mode}"


def parse_target(names: Names, text: str) -> dict[str, Any]:
    text = text.strip()
    kind, sep, rest = text.partition(":")
    if not sep or kind.lower() not in KINDS:
        kind, rest = "user", text  # a bare email address, `me` or a user id
    kind = kind.lower()
    mode = "all"
    if kind == "team":
        head, sep, tail = rest.rpartition(":")
        if sep and tail in MODES:
            rest, mode = head, tail
    if not rest:
        fail(f"target {text!r}: name a user (email or me), schedule:NAME or team:NAME")
    return {"kind": kind, "id": names.target_id(kind, rest), "mode": mode}


def parse_level(names: Names, text: str, wait: int) -> dict[str, Any]:
    head, sep, rest = text.partition(":")
    delay = wait
    if sep and head.strip().isdigit():
        delay, text = int(head), rest
    targets = [parse_target(names, t) for t in text.split(",") if t.strip()]
    if not targets:
        fail(f"--level {text!r}: name at least one target, e.g. alice@example.com")
    return {"delay_minutes": delay, "targets": targets}


def _file_target(names: Names, item: Any) -> dict[str, Any]:
    """A target in a file: the --level text, {"user": "a@b.c"}, or {"kind", "id", "mode"}
    where the id may be a name or email."""
    if isinstance(item, str):
        return parse_target(names, item)
    if not isinstance(item, dict):
        fail(f"target {item!r}: use a string like 'schedule:ops' or an object")
    if "kind" in item:
        return {**item, "id": names.target_id(str(item["kind"]), str(item.get("id", "")))}
    kind = next((k for k in KINDS if k in item), None)
    if kind is None:
        fail(f"target {item!r}: needs one of {', '.join(KINDS)}")
    return {"kind": kind, "id": names.target_id(kind, str(item[kind])),
            "mode": item.get("mode", "all")}


def policy_from_file(names: Names, path: Path) -> dict[str, Any]:
    doc = load_document(str(path), what="--from-file")
    if not isinstance(doc, dict) or not isinstance(doc.get("levels"), list):
        fail("--from-file: expected an object with name and levels "
             "(see docs/paging.md, Escalation policies)")
    levels = []
    for level in doc["levels"]:
        if isinstance(level, str):
            levels.append(parse_level(names, level, 15))
            continue
        levels.append({**level, "targets": [_file_target(names, t)
                                            for t in level.get("targets", [])]})
    return {**doc, "levels": levels}


def render(names: Names, policy: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"level": i, "targets": ", ".join(names.label(t) for t in lv["targets"]),
             "then_wait_minutes": lv["delay_minutes"]}
            for i, lv in enumerate(policy["levels"], start=1)]


def _show(names: Names, policy: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit(policy, as_json=True)
        return
    emit({k: policy[k] for k in ("id", "name", "description", "repeat")}, as_json=False)
    typer.echo("")
    emit(render(names, policy), as_json=False)


@app.command("list")
def escalation_list(as_json: JsonOpt = False) -> None:
    """Every escalation policy.

    Example: tocsin escalation list
    """
    client = Client()
    rows = lookup.every(client, "/api/v1/escalation-policies")
    if as_json:
        emit(rows, as_json=True)
        return
    names = Names(client)
    emit([{"id": p["id"], "name": p["name"], "repeat": p["repeat"],
           "levels": " -> ".join(r["targets"] for r in render(names, p))} for p in rows],
         as_json=False)


LevelOpt = Annotated[list[str] | None, typer.Option(
    "--level", "-l", help="[MINUTES:]TARGET[,TARGET...], in order (repeatable); targets: "
    "EMAIL, me, schedule:NAME, team:NAME[:round_robin].")]
WaitOpt = Annotated[int, typer.Option(
    min=0, help="Minutes a level waits for an acknowledgement when it gives none.")]
FromFileOpt = Annotated[Path | None, typer.Option(
    help="JSON or YAML: {name, description, repeat, levels: [{delay_minutes, targets: "
         "['me', 'schedule:ops', {team: sre, mode: round_robin}]}]}.")]


@app.command("create")
def escalation_create(
    name: Annotated[str | None, typer.Argument(help="Policy name (or in --from-file).")] = None,
    level: LevelOpt = None, wait: WaitOpt = 15,
    repeat: Annotated[int, typer.Option(min=0, max=20,
                                        help="Extra runs of all the levels.")] = 0,
    description: Annotated[str, typer.Option(help="What the policy is for.")] = "",
    from_file: FromFileOpt = None, as_json: JsonOpt = False,
) -> None:
    """Create an escalation policy (admin).

    Examples:

      tocsin escalation create primary --level me

      tocsin escalation create sev1 -l "10:schedule:payments" -l "10:bob@example.com,team:sre" --repeat 2

      tocsin escalation create --from-file policy.yaml
    """
    client = Client()
    names = Names(client)
    if from_file is not None:
        body = policy_from_file(names, from_file)
        if name:
            body["name"] = name
    else:
        if not name or not level:
            fail("give a NAME and at least one --level (or --from-file); e.g. "
                 "tocsin escalation create primary --level me")
        body = {"name": name, "description": description, "repeat": repeat,
                "levels": [parse_level(names, lv, wait) for lv in level]}
    _show(names, client.request("POST", "/api/v1/escalation-policies", json=body), as_json)


@app.command("update")
def escalation_update(
    policy: Annotated[str, typer.Argument(help="Name or id.")],
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    level: LevelOpt = None, wait: WaitOpt = 15,
    repeat: Annotated[int | None, typer.Option(min=0, max=20,
                                               help="Extra runs of all the levels.")] = None,
    description: Annotated[str | None, typer.Option(help="What the policy is for.")] = None,
    from_file: FromFileOpt = None, as_json: JsonOpt = False,
) -> None:
    """Change a policy (admin): --level replaces all its levels; what is not given stays.
    Running escalations keep the policy they started with.

    Example: tocsin escalation update primary -l me -l "15:schedule:payments" --repeat 1
    """
    client = Client()
    names = Names(client)
    current = lookup.policy(client, policy)
    body = {k: current[k] for k in ("name", "description", "repeat", "levels")}
    if from_file is not None:
        body.update(policy_from_file(names, from_file))
    if level:
        body["levels"] = [parse_level(names, lv, wait) for lv in level]
    for key, value in (("name", name), ("description", description), ("repeat", repeat)):
        if value is not None:
            body[key] = value
    _show(names, client.request("PUT", f"/api/v1/escalation-policies/{current['id']}",
                                json=body), as_json)


@app.command("show")
def escalation_show(policy: Annotated[str, typer.Argument(help="Name or id.")],
                    as_json: JsonOpt = False) -> None:
    """A policy's levels, with people, schedules and teams by name.

    Example: tocsin escalation show primary
    """
    client = Client()
    _show(Names(client), lookup.policy(client, policy), as_json)
