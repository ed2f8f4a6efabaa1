"""The house plan (docs/architecture.md) held by the import graph of `sim/`: no cycle, no area importing
the CLI, each area importing only what the plan allows.

The graph is read from the source with `ast`: every `import` and `from ... import` anywhere in a
module (at module level and inside functions alike), relative imports resolved, and
`importlib.import_module("sim....")` calls with a literal name counted too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SIM = ROOT / "sim"

DOC = ROOT / "docs" / "architecture.md"


def plan() -> dict[str, set[str]]:
    """area -> the other areas it may import, read from the table in docs/architecture.md, so the
    plan a reader sees is the plan this test holds the code to."""
    out = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`") and cells[0].endswith("/`"):
            area = cells[0].strip("`/")
            named = set(re.findall(r"`([a-z_]+)[`.]", cells[2])) - {area}
            out[area] = named if named or cells[2] == "nothing" else {"?"}  # an unreadable cell fails below
    return out


ALLOWED = plan()
TOP_LEVEL = {"__init__", "__main__"}  # sim/__init__.py, sim/__main__.py: the package and `python -m sim`


def test_the_plan_names_every_area_of_the_tree():
    areas = {p.name for p in SIM.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert set(ALLOWED) == areas


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted((root / "sim").rglob("*.py")) if "__pycache__" not in p.parts}


def imports(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """The modules of `sim` that `path` imports anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {owner(a.name) for a in node.names if a.name.split(".")[0] == "sim"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "sim":
                continue
            for alias in node.names:
                full = f"{source}.{alias.name}"
                found.add(full if full in known else owner(source))
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("sim")):
            found.add(owner(node.args[0].value))
    found.discard(None)
    found.discard(name)
    return found  # type: ignore[return-value]


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    known = modules(root)
    return {name: imports(path, name, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module importing itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def forbidden(edges: dict[str, set[str]]) -> list[str]:
    """Every arrow from one area to another that the plan does not allow."""
    bad = []
    for source, targets in sorted(edges.items()):
        a = area(source)
        if a in TOP_LEVEL:
            continue
        for target in sorted(targets):
            b = area(target)
            if b != a and (b not in ALLOWED.get(a, set()) or b in TOP_LEVEL - {"__init__"}):
                bad.append(f"{source} -> {target}")
    return bad


def test_the_graph_is_read_from_every_module():
    edges = graph()
    assert len(edges) > 100 and "sim.cli" in edges and "sim.pipeline.builder" in edges
    # Function-level imports count: each area's commands import their work inside the command.
    assert "sim.jobs.demo" in edges["sim.jobs.commands"]
    # A relative import inside the pipeline resolves to its module.
    assert "sim.pipeline.cloudwatch" in edges["sim.pipeline.builder"]


def test_no_import_cycle_anywhere_in_sim():
    assert cycles(graph()) == []


def test_imports_follow_the_plan_and_no_area_imports_the_cli():
    edges = graph()
    assert set(map(area, edges)) - TOP_LEVEL <= set(ALLOWED), "an area the plan does not name"
    assert forbidden(edges) == []
    assert [m for m, targets in edges.items() if area(m) != "cli" and any(area(t) == "cli" for t in targets)
            and m != "sim.__main__"] == []


def test_the_checks_find_a_cycle_and_a_forbidden_arrow(tmp_path):
    pkg = tmp_path / "sim"
    (pkg / "engine").mkdir(parents=True)
    (pkg / "cli").mkdir()
    for init in (pkg / "__init__.py", pkg / "engine" / "__init__.py", pkg / "cli" / "__init__.py"):
        init.write_text("")
    (pkg / "engine" / "a.py").write_text("def f():\n    from sim.engine import b\n")
    (pkg / "engine" / "b.py").write_text("from . import a\nimport importlib\nimportlib.import_module('sim.cli')\n")
    edges = graph(tmp_path)
    assert cycles(edges) == [["sim.engine.a", "sim.engine.b"]]
    assert forbidden(edges) == ["sim.engine.b -> sim.cli"]
