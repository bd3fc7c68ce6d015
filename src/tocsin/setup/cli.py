"""`tocsin setup`: the first-hour checklist in the terminal, with the next command to run."""

from __future__ import annotations

import typer

from tocsin.cli.client import Client
from tocsin.cli.output import JsonOpt, emit


def setup(as_json: JsonOpt = False) -> None:
    """The first-hour checklist: each step done (✓) or not (✗), and for each missing step
    the next command to run.

    Example: tocsin setup
    """
    state = Client().request("GET", "/api/v1/setup")
    if as_json:
        emit(state, as_json=True)
        return
    for step in state["steps"]:
        typer.echo(f"{'✓' if step['done'] else '✗'} {step['title']}: {step['detail']}")
        if not step["done"]:
            typer.echo(f"    next: {step['command']}")
    sender = state.get("sender")
    alert_done = any(s["key"] == "test_alert" and s["done"] for s in state["steps"])
    if sender and not alert_done:
        typer.echo(f"\nPoint your sender at integration {sender['name']} ({sender['kind']}):")
        for name, text in sender["snippets"].items():
            typer.echo(f"  {name}:\n" + "\n".join("    " + line for line in text.splitlines()))
    typer.echo("\nAll done: Tocsin can page you." if state["done"]
               else f"\n{sum(s['done'] for s in state['steps'])} of {len(state['steps'])} "
                    "steps done.")
