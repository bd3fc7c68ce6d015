"""The intake formats are pure and the processor imports no route (read from the source
with `ast`, nothing imported): a format reaches no web framework, database or network
library, even through the Tocsin modules it imports; the processor imports no FastAPI,
Starlette or intake route module, directly or through another."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
FORMATS = sorted(p for p in (SRC / "tocsin/intake/formats").glob("*.py"))
IO = frozenset({"fastapi", "starlette", "sqlalchemy", "uvicorn", "httpx", "psycopg",
                "sqlite3", "socket", "urllib", "http", "asyncio", "threading", "os",
                "subprocess", "pathlib", "tocsin.db", "tocsin.runtime", "tocsin.api"})
ROUTES = ("fastapi", "starlette", "tocsin.intake.routes", "tocsin.intake.api",
          "tocsin.intake.fastlane", "tocsin.api")


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module `source` imports, anywhere in it (function bodies and TYPE_CHECKING
    blocks too), as absolute names; `from a import b` counts `a` and `a.b`."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _path_of(module: str) -> Path | None:
    for candidate in (SRC / (module.replace(".", "/") + ".py"),
                      SRC / module.replace(".", "/") / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def reached(module: str) -> Iterator[tuple[str, str]]:
    """(importer, imported) for every import reachable from `module` through Tocsin's own
    modules."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        path = _path_of(current)
        if path is None:
            continue
        names = imports_of(path.read_text(), current, is_package=path.name == "__init__.py")
        for name in names:
            yield current, name
            if name.startswith("tocsin.") and _path_of(name) is not None:
                todo.append(name)


def _matches(name: str, prefixes: frozenset[str] | tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(module: str, banned: frozenset[str] | tuple[str, ...]) -> list[str]:
    found = {(a, b) for a, b in reached(module) if _matches(b, banned)}
    # `from x import y` also counts `x.y`: name the module once.
    return sorted(f"{a} imports {b}" for a, b in found
                  if (a, b.rpartition(".")[0]) not in found)


def test_there_are_formats() -> None:
    names = {p.stem for p in FORMATS}
    assert {"pagerduty", "opsgenie", "alertmanager", "generic"} <= names


@pytest.mark.parametrize("path", FORMATS, ids=lambda p: p.stem)
def test_format_reaches_no_io(path: Path) -> None:
    bad = violations(module_name(path), IO)
    assert not bad, "an intake format must stay pure (intake/formats/__init__.py):\n" + \
        "\n".join(bad)


def test_processor_imports_no_route() -> None:
    bad = violations("tocsin.intake.processor", ROUTES)
    assert not bad, "triage (the worker) reaches the formats, never a route or the web " \
        "framework:\n" + "\n".join(bad)


def test_the_check_sees_a_planted_import() -> None:
    planted = "def f():\n    from fastapi import Request\n    from . import common\n"
    names = imports_of(planted, "tocsin.intake.formats.planted")
    assert _matches("fastapi.Request", IO) and "fastapi" in names
    assert "tocsin.intake.formats.common" in names


def test_format_names_match_the_integration_kinds() -> None:
    from tocsin.alerts.models import IntegrationKind
    from tocsin.intake.formats import alertmanager, generic, opsgenie, pagerduty

    assert {pagerduty.FORMAT, opsgenie.KIND, *alertmanager.FORMATS, generic.FORMAT} == \
        {k.value for k in IntegrationKind}
