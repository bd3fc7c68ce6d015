"""Pure dependency-graph checks."""

from __future__ import annotations

from collections.abc import Mapping


def find_cycle(edges: Mapping[int, set[int]], start: int) -> list[int] | None:
    """A dependency path from `start` back to itself, or None. `edges[a]` = what a needs."""
    stack: list[tuple[int, list[int]]] = [(dep, [start, dep]) for dep in edges.get(start, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node == start:
            return path
        if node in seen:
            continue
        seen.add(node)
        stack.extend((nxt, [*path, nxt]) for nxt in edges.get(node, ()))
    return None
