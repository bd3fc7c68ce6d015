"""The layers of `src/tocsin`, as checks on its imports (read with `ast`, nothing imported).

- Packages form no cycle, and each imports only its own layer or lower ones (LAYERS, bottom
  first); among features, only features listed before it in FEATURES.
- A feature reaches another through that feature's doors: `service` (operations), `models`
  (its tables, for reads and joins), `schemas` (shapes), its pure rule modules, or an import
  listed in REACHES with the reason.
- Pure rule modules (PURE) import no database, network, file or process module: they decide
  from plain values and a `now` passed in.

Each rule is also run on a copy of the tree with a violation planted, to show it can fail.
docs/architecture.md explains the layers; a new package or pure module gets a line here.
"""

from __future__ import annotations

import ast
import shutil
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tocsin"

# Bottom first. A package (or top-level module) of `tocsin` imports only from its own layer or
# lower ones. "tocsin" is the package's own __init__ (the version).
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("base", frozenset({"tocsin", "clock", "errors", "limits", "logs", "markup", "metrics",
                        "outbound", "principal", "settings"})),
    ("storage", frozenset({"db"})),
    ("runtime", frozenset({"runtime"})),
    ("engine", frozenset({"engine"})),
    ("kernels", frozenset({"api", "cli"})),  # HTTP and CLI plumbing the features' routes use
    ("features", frozenset()),  # FEATURES, in their own order
    ("pages", frozenset({"web"})),
    ("composition", frozenset({"__main__", "app", "console", "jobs", "server", "system",
                               "tables", "wiring"})),
]
# Bottom first: a feature imports only features before it. A higher feature that a lower one
# must call is handed in by the composition root (tocsin/wiring.py, tocsin/app.py).
FEATURES = ["accounts", "catalog", "incidents", "notify", "alerts", "schedules", "escalation",
            "heartbeats", "checks", "probe", "intake", "setup"]
FEATURES.append("respond")
FEATURES.append("webhooks")
FEATURES.append("analytics")
FEATURES += ["postmortems", "knownerrors", "drills", "runbooks"]  # issue 17: learning
FEATURES += ["statuspages", "stakeholders"]  # issue 15: communication
FEATURES.append("chatops")
FEATURES += ["audit", "sso", "security"]
FEATURES.append("importers")
FEATURES.append("configcode")
DOORS = frozenset({"service", "models", "schemas"})
# Pure rule modules: plain values in, decisions out.
PURE = frozenset({
    "alerts.classify", "alerts.grouping", "alerts.match", "alerts.normalized", "alerts.routing",
    "alerts.suppress", "catalog.graph", "checks.confirm", "escalation.policy",
    "escalation.reach", "heartbeats.due", "heartbeats.state", "incidents.lifecycle",
    "intake.errors", "intake.formats", "intake.formats.alertmanager", "intake.formats.fields",
    "intake.formats.generic", "intake.formats.opsgenie", "intake.formats.pagerduty",
    "schedules.oncall", "setup.checklist", "web.calendar", "web.chart",
    "postmortems.blameless", "postmortems.timeline", "postmortems.reminders",
    "knownerrors.similarity", "drills.report",
    "statuspages.components", "statuspages.recurring", "statuspages.stages",
    "statuspages.uptime",
    "stakeholders.templates",
    "importers.plan", "importers.opsgenie_map", "importers.compare", "configcode.rules",
    "importers.pagerduty_map",
})
PURE |= {"respond.checklists"}
PURE |= {"webhooks.events"}
PURE |= {"analytics.measures", "analytics.targets", "analytics.oncall_health"}
PURE |= {"postmortems.completion"}
PURE |= {"chatops.blocks", "chatops.commands", "chatops.tiers"}
PURE |= {"audit.chain", "sso.mapping", "security.clocks"}
PURE |= {"chatops.blocks", "chatops.cards", "chatops.commands", "chatops.tiers",
         "chatops.storm", "chatops.manifest"}
# What a pure module may import besides other pure modules.
PURE_MAY_IMPORT = frozenset({
    "__future__", "bisect", "collections", "croniter", "dataclasses", "datetime", "enum",
    "functools", "hashlib", "itertools", "json", "math", "operator", "re", "statistics",
    "typing", "uuid", "zoneinfo",
    "tocsin.errors", "tocsin.limits", "tocsin.principal", "pydantic",
})
# Reaches into another feature past its doors, each with why it is right.
REACHES: dict[tuple[str, str], str] = {
    ("checks", "alerts.detection"): "detection's one door into triage",
    ("heartbeats", "alerts.detection"): "detection's one door into triage",
    ("probe", "checks.execute"): "a probe runs the same check code as the server",
    ("probe", "checks.kinds"): "a probe runs the same check code as the server",
    ("alerts", "incidents.visibility"): "one visibility rule for incidents and what hangs off them",
    ("intake", "incidents.visibility"): "one visibility rule for incidents and what hangs off them",
    ("schedules", "incidents.visibility"): "one visibility rule for incidents and what hangs off them",
    ("intake", "alerts.visibility"): "one visibility rule for incidents and what hangs off them",
    ("intake", "alerts.triage_config"): "the second parse routes with triage's cached configuration",
    ("setup", "alerts.manage"): "the checklist counts integrations as alerts' pages do",
    ("setup", "escalation.reachability"): "the checklist names who paging would miss",
    ("analytics", "incidents.visibility"): "one visibility rule for incidents and what hangs off them",
    ("postmortems", "incidents.visibility"): "one visibility rule for incidents and what hangs off them",
    ("knownerrors", "incidents.visibility"): "one visibility rule for incidents and what hangs off them",
    ("statuspages", "incidents.visibility"): "one visibility rule: what the public may see",
    ("stakeholders", "incidents.visibility"): "one visibility rule for incidents and what hangs off them",
}
REACHES[("webhooks", "notify.webhook")] = \
    "event webhooks are signed with the one HMAC scheme of notify's webhooks and sent by " \
    "its guarded sender (resolved once, judged, that address connected to)"
REACHES[("respond", "notify.links")] = \
    "voice calls and email replies carry the same signed acknowledge tokens as links"
REACHES |= {
    ("audit", "incidents.hooks"): "the audit log records reads of restricted incidents",
    ("security", "incidents.hooks"): "notification clocks start on incident events",
    ("importers", "alerts.manage"): "imported integrations and maintenance windows are made by "
                                    "alerts' own operations, keys included",
    ("importers", "alerts.samples"): "the URL printed for each sender is the one alerts shows",
    ("importers", "notify.contract"): "contact methods are created with notify's channel kinds",
    ("configcode", "alerts.manage"): "integrations are read and written by alerts' own "
                                     "operations, keys included",
}
REACHES[("chatops", "notify.links")] = "Teams cards carry the pages' signed acknowledge links"
REACHES[("postmortems", "analytics.export")] = \
    "completion metrics export as CSV the one way every metrics table does"


@dataclass(frozen=True)
class Import:
    module: str  # importer, e.g. "tocsin.alerts.service"
    target: str  # imported module or name, e.g. "tocsin.incidents.models"
    line: int

    def where(self) -> str:
        return f"{self.module} (line {self.line}) imports {self.target}"


def _module_name(path: Path, root: Path) -> str:
    parts = ["tocsin", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(root: Path) -> Iterator[Import]:
    """Every import in the tree at `root` (the `tocsin` package folder), including those inside
    functions: an import that runs later is a dependency all the same."""
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.relative_to(root).parts:
            continue  # Alembic scripts: loaded by Alembic, never imported
        module = _module_name(path, root)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(module, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    origin = ".".join([*base, node.module] if node.module else base)
                else:
                    origin = node.module or ""
                for alias in node.names:  # `from tocsin.x import service` names a module
                    yield Import(module, f"{origin}.{alias.name}", node.lineno)


def package_of(name: str) -> str | None:
    parts = name.split(".")
    if parts[0] != "tocsin":
        return None
    return parts[1] if len(parts) > 1 else "tocsin"


def _own_modules(root: Path) -> set[str]:
    return {_module_name(p, root) for p in root.rglob("*.py")}


def _resolve(target: str, modules: set[str]) -> str:
    """`tocsin.x.service.func` -> `tocsin.x.service`: the longest prefix that is a module."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules:
            return ".".join(parts[:end])
    return target


def _rank(package: str) -> tuple[int, int] | None:
    for index, (name, members) in enumerate(LAYERS):
        if name == "features" and package in FEATURES:
            return index, FEATURES.index(package)
        if package in members:
            return index, 0
    return None


# ---- the rules, as functions of a tree (so they run on a planted copy too) --------------------

def cycle_problems(root: Path) -> list[str]:
    modules = _own_modules(root)
    edges: dict[str, dict[str, Import]] = defaultdict(dict)
    for imp in imports_of(root):
        a, b = package_of(imp.module), package_of(_resolve(imp.target, modules))
        if a and b and a != b:
            edges[a].setdefault(b, imp)
    problems = []
    for component in _strongly_connected(edges):
        if len(component) > 1:
            ties = [edges[a][b].where() for a in sorted(component) for b in sorted(edges[a])
                    if b in component]
            problems.append(f"packages import each other: {sorted(component)}; " + "; ".join(ties))
    return problems


def _strongly_connected(edges: dict[str, dict[str, Import]]) -> list[set[str]]:
    nodes = sorted(set(edges) | {b for a in edges for b in edges[a]})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            found.append(component)

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in nodes:
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return found


def layer_problems(root: Path) -> list[str]:
    modules = _own_modules(root)
    problems = []
    for imp in imports_of(root):
        a, b = package_of(imp.module), package_of(_resolve(imp.target, modules))
        if not a or not b or a == b:
            continue
        rank_a, rank_b = _rank(a), _rank(b)
        if rank_a is None or rank_b is None:
            problems.append(f"{a if rank_a is None else b}: a package no layer names "
                            f"(add it to LAYERS or FEATURES): {imp.where()}")
        elif rank_b > rank_a and a in FEATURES and b in FEATURES:
            problems.append(f"feature {a} imports {b}, listed after it in FEATURES: "
                            f"{imp.where()}")
        elif rank_b > rank_a:
            problems.append(f"upward import, {a} -> {b}: {imp.where()}")
    return sorted(set(problems))


def reach_problems(root: Path) -> list[str]:
    modules = _own_modules(root)
    problems = []
    for imp in imports_of(root):
        a, b = package_of(imp.module), package_of(imp.target)
        if a not in FEATURES or b not in FEATURES or a == b:
            continue
        target = _resolve(imp.target, modules)
        inside = target.split(".", 2)[2] if target.count(".") >= 2 else ""
        door = inside.split(".")[0]
        if not inside:  # `from tocsin.notify import service`: resolved to the module above
            continue
        if door in DOORS or f"{b}.{door}" in PURE or (a, f"{b}.{door}") in REACHES:
            continue
        problems.append(f"{a} reaches past {b}'s doors (service, models, schemas, pure "
                        f"rules): {imp.where()}")
    return sorted(set(problems))


def pure_problems(root: Path) -> list[str]:
    modules = _own_modules(root)
    pure = {f"tocsin.{name}" for name in PURE}
    problems = [f"PURE names {name}, which does not exist" for name in sorted(pure - modules)]
    for imp in imports_of(root):
        if imp.module not in pure:
            continue
        target = _resolve(imp.target, modules)
        if target in pure or any(target == ok or target.startswith(ok + ".")
                                 for ok in PURE_MAY_IMPORT):
            continue
        problems.append(f"pure module imports {target}: {imp.where()}")
    return problems


RULES = [cycle_problems, layer_problems, reach_problems, pure_problems]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.__name__)
def test_the_source_keeps_the_rule(rule: object) -> None:
    problems = rule(SRC)  # type: ignore[operator]
    assert problems == [], "\n".join(problems)


def test_every_allowed_reach_is_still_used() -> None:
    """A reason for a reach nobody makes any more is stale: drop it from REACHES."""
    modules = _own_modules(SRC)
    used = set()
    for imp in imports_of(SRC):
        a, target = package_of(imp.module), _resolve(imp.target, modules)
        parts = target.split(".")
        if a and len(parts) >= 3:
            used.add((a, f"{parts[1]}.{parts[2]}"))
    assert set(REACHES) - used == set()


# ---- each rule fails on a planted violation ----------------------------------------------------

@pytest.fixture
def tree(tmp_path: Path) -> Path:
    copy = tmp_path / "tocsin"
    shutil.copytree(SRC, copy, ignore=shutil.ignore_patterns("__pycache__", "static",
                                                             "templates"))
    return copy


def _plant(tree: Path, relative: str, line: str) -> None:
    path = tree / relative
    path.write_text(path.read_text() + f"\n{line}\n")


def test_a_storage_module_importing_a_feature_is_caught(tree: Path) -> None:
    _plant(tree, "db/base.py", "from tocsin.alerts import models")
    assert any("upward import, db -> alerts" in p for p in layer_problems(tree))
    assert any("'alerts'" in p and "'db'" in p for p in cycle_problems(tree))


def test_a_lower_feature_importing_a_higher_one_is_caught(tree: Path) -> None:
    _plant(tree, "incidents/service.py", "from tocsin.escalation import service as escalation")
    assert any("feature incidents imports escalation" in p for p in layer_problems(tree))
    assert any("'escalation'" in p and "'incidents'" in p for p in cycle_problems(tree))


def test_a_reach_past_the_doors_is_caught(tree: Path) -> None:
    _plant(tree, "escalation/service.py", "from tocsin.notify import delivery")
    assert any("escalation reaches past notify's doors" in p for p in reach_problems(tree))


def test_a_pure_module_touching_the_database_is_caught(tree: Path) -> None:
    _plant(tree, "incidents/lifecycle.py", "from sqlalchemy.orm import Session")
    _plant(tree, "schedules/oncall.py", "from tocsin.schedules import models")
    found = pure_problems(tree)
    assert any("incidents.lifecycle" in p and "sqlalchemy.orm" in p for p in found)
    assert any("schedules.oncall" in p and "tocsin.schedules.models" in p for p in found)


def test_a_package_no_layer_names_is_caught(tree: Path) -> None:
    (tree / "unnamedfeature").mkdir()
    (tree / "unnamedfeature" / "__init__.py").write_text("")
    (tree / "unnamedfeature" / "service.py").write_text("from tocsin.incidents import service\n")
    assert any("unnamedfeature: a package no layer names" in p for p in layer_problems(tree))
