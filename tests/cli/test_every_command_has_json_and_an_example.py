"""The everyday command groups keep their promise: every command takes --json and its help
shows an example to copy."""

from __future__ import annotations

from typing import Any

import typer.main

from tocsin.console import app

GROUPS = [("service",), ("escalation",), ("schedule",), ("user", "contact-method"),
          ("incident",), ("integration",), ("statuspage",), ("stakeholders",)]


def test_each_everyday_command_has_json_and_an_example() -> None:
    root: Any = typer.main.get_command(app)  # a group: .commands by name
    checked = 0
    for path in GROUPS:
        group = root
        for name in path:
            group = group.commands[name]
        for name, command in group.commands.items():
            options = {opt for param in command.params for opt in param.opts}
            assert "--json" in options, f"{' '.join(path)} {name} has no --json"
            assert "Example" in (command.help or ""), f"{' '.join(path)} {name}: no example"
            checked += 1
    assert checked >= 29
