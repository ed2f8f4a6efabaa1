"""sim/pipeline/ runs on the oldest Python the AWS side runs, whatever Python the harness runs on;
so does sim/inject/, the fault bundle zipped into the same deployment packages (as `sim_inject`).

The converter is a Glue Python-shell job, and Glue's Python shell runs Python 3.9 (3.6 reached its
end of support on 2026-03-01; 3.9 is the newest it offers); the builder is a python3.11 Lambda.
The harness itself may run on 3.11 to 3.13, so newer syntax could pass every other test: here the
pipeline's sources are parsed with the grammar of the oldest of those runtimes, as the deployed
wiring declares them. What a grammar check cannot see and would break at import time on 3.9 is
checked too: `X | Y` in annotations without `from __future__ import annotations`, and a few
standard-library names and keywords added after 3.9.
"""

import ast
from pathlib import Path

import pytest

from sim.engine.profiles import LAMBDA_RUNTIME
from sim.infra.spec import Settings, Wiring

PIPELINE = Path(__file__).resolve().parents[2] / "sim" / "pipeline"
INJECT = PIPELINE.parent / "inject"
SOURCES = sorted(PIPELINE.glob("*.py")) + sorted(INJECT.glob("*.py"))
GLUE_PYTHON_SHELL_OLDEST = (3, 9)

# Added after 3.9 and easy to reach for: module attributes and call keywords.
NEWER_NAMES = {"datetime.UTC": (3, 11), "tomllib": (3, 11), "itertools.pairwise": (3, 10), "typing.Self": (3, 11),
               "typing.TypeAlias": (3, 10), "typing.ParamSpec": (3, 10), "typing.assert_never": (3, 11),
               "asyncio.TaskGroup": (3, 11), "asyncio.timeout": (3, 11), "ExceptionGroup": (3, 11),
               "aiter": (3, 10), "anext": (3, 10), "typing.LiteralString": (3, 11)}
NEWER_KEYWORDS = {("zip", "strict"): (3, 10), ("dataclass", "slots"): (3, 10), ("dataclass", "kw_only"): (3, 10)}


def _version(text: str) -> tuple[int, int]:
    major, minor = text.removeprefix("python").split(".")[:2]
    return int(major), int(minor)


def oldest_runtime() -> tuple[int, int]:
    """The oldest Python among the places the pipeline's code runs on AWS, read from the wiring."""
    job = Wiring("123456789012", "us-east-1", Settings(target="aws")).glue_job()
    return min(_version(job["Command"]["PythonVersion"]), _version(LAMBDA_RUNTIME))


def test_the_wiring_deploys_the_converter_on_glues_oldest_python_shell():
    assert oldest_runtime() == GLUE_PYTHON_SHELL_OLDEST


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parses_with_the_oldest_runtimes_grammar(path):
    ast.parse(path.read_text(), filename=str(path), feature_version=oldest_runtime())


def test_the_grammar_check_catches_newer_syntax():
    # (feature_version is best effort: parenthesized context managers, for one, get through)
    for newer in ("match x:\n    case 1:\n        pass\n", "try:\n    pass\nexcept* ValueError:\n    pass\n",
                  "type Alias = int\n", "def first[T](items: list[T]) -> T:\n    return items[0]\n"):
        with pytest.raises(SyntaxError):
            ast.parse(newer, feature_version=GLUE_PYTHON_SHELL_OLDEST)


def _dotted(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def too_new(src: str, oldest: tuple[int, int]) -> list[str]:
    """What in `src` needs a Python newer than `oldest` at run time, though it parses."""
    tree = ast.parse(src)
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
                 any(a.name == "annotations" for a in n.names) for n in tree.body)
    found = []
    annotations = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs + [node.args.vararg, node.args.kwarg]
            annotations += [a.annotation for a in args if a is not None and a.annotation is not None]
            annotations += [node.returns] if node.returns else []
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        if isinstance(node, (ast.Name, ast.Attribute)) and NEWER_NAMES.get(_dotted(node), (0, 0)) > oldest:
            found.append(f"line {node.lineno}: {_dotted(node)}")
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if NEWER_NAMES.get(f"{node.module}.{alias.name}", (0, 0)) > oldest:
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if NEWER_NAMES.get(a.name, (0, 0)) > oldest]
        if isinstance(node, ast.Call):
            name = _dotted(node.func).rsplit(".", 1)[-1]
            found += [f"line {node.lineno}: {name}({kw.arg}=...)" for kw in node.keywords
                      if NEWER_KEYWORDS.get((name, kw.arg), (0, 0)) > oldest]
    if not future and oldest < (3, 10):
        for ann in annotations:
            if any(isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr) for n in ast.walk(ann)):
                found.append(f"line {ann.lineno}: `|` in an annotation without `from __future__ import annotations`")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_uses_nothing_newer_than_the_oldest_runtime(path):
    assert too_new(path.read_text(), oldest_runtime()) == []


def test_the_runtime_check_catches_what_the_grammar_lets_through():
    assert too_new("def f(x: int | None) -> str | None:\n    return None\n", (3, 9)) == [
        "line 1: `|` in an annotation without `from __future__ import annotations`",
        "line 1: `|` in an annotation without `from __future__ import annotations`"]
    assert too_new("from __future__ import annotations\ndef f(x: int | None): pass\n", (3, 9)) == []
    assert too_new("import datetime\nt = datetime.UTC\n", (3, 9)) == ["line 2: datetime.UTC"]
    assert too_new("from dataclasses import dataclass\n@dataclass(slots=True)\nclass A: pass\n", (3, 9)) == [
        "line 2: dataclass(slots=...)"]
    assert too_new("list(zip([1], [2], strict=True))\n", (3, 9)) == ["line 1: zip(strict=...)"]
    assert too_new("list(zip([1], [2], strict=True))\n", (3, 11)) == []
