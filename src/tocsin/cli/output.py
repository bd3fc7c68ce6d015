"""Plain, aligned tables and JSON for the CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from tocsin.cli.client import fail


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(map(str, value)) or "-"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def emit(data: Any, *, as_json: bool, columns: Sequence[str] | None = None) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    elif isinstance(data, list):
        typer.echo(table(data, columns or list(data[0]) if data else []))
    else:
        width = max(len(k) for k in data) if data else 0
        for key, value in data.items():
            typer.echo(f"{key.ljust(width)}  {_cell(value) if not isinstance(value, str) else value}")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def load_document(value: str, *, what: str) -> Any:
    """Inline JSON, or the path of a JSON or YAML file (`@` before the path is allowed)."""
    import yaml

    text = value.strip()
    if not text.startswith(("{", "[")):
        path = Path(text.removeprefix("@")).expanduser()
        try:
            text = path.read_text()
        except OSError as exc:
            fail(f"{what}: '{value}' is neither JSON nor a readable file ({exc.strerror})")
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        fail(f"{what}: not JSON or YAML: {str(exc).splitlines()[0]}")
