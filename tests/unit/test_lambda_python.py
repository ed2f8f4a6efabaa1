"""Finding a Python of the Lambda runtime's version for an engine that rehearses that runtime."""

import re
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from sim.core.errors import SimError
from sim.engine import lambda_python
from sim.infra import bundle
from sim.engine.profiles import LAMBDA_RUNTIME

ROOT = Path(__file__).resolve().parents[2]


def fake_python(path: Path, answer: str) -> str:
    path.write_text(f"#!/bin/sh\necho {answer}\n")
    path.chmod(0o755)
    return str(path)


def test_the_version_is_the_runtimes_and_the_bundles():
    assert LAMBDA_RUNTIME == f"python{lambda_python.LABEL}"
    assert bundle.ABI == "cp" + lambda_python.LABEL.replace(".", "")
    assert lambda_python.ENV_VAR == "SIM_PYTHON311"


def test_an_interpreter_is_taken_only_for_what_it_says_it_is(tmp_path, monkeypatch):
    monkeypatch.setattr(lambda_python.sys, "version_info", (3, 12, 1, "final", 0))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("SIM_PYTHON311", fake_python(tmp_path / "liar", "3.12"))
    fake_python(tmp_path / "python3.11", "3.10")
    assert lambda_python.interpreter() is None
    reason = lambda_python.missing_reason()
    assert reason.startswith("needs Python 3.11 (the python3.11 Lambda runtime") and "this is Python 3.12" in reason
    with pytest.raises(SimError, match="needs Python 3.11"):
        lambda_python.engine_python(tmp_path / "cache")
    monkeypatch.setenv("SIM_PYTHON311", fake_python(tmp_path / "real", "3.11"))
    assert lambda_python.interpreter() == str(tmp_path / "real")
    monkeypatch.delenv("SIM_PYTHON311")
    fake_python(tmp_path / "python3.11", "3.11")
    assert lambda_python.interpreter() == str(tmp_path / "python3.11")


def test_this_interpreter_when_it_is_the_runtimes(monkeypatch):
    monkeypatch.setattr(lambda_python.sys, "version_info", (3, 11, 9, "final", 0))
    assert lambda_python.interpreter() == sys.executable
    assert lambda_python.engine_python(Path("/nonexistent")) == sys.executable  # nothing made


def test_the_engines_packages_are_pinned_as_the_harness_has_them():
    pins = dict(p.split("==") for p in lambda_python._pins())
    declared = dict(re.findall(r'"(ministack|boto3|botocore)==([\d.]+)"', (ROOT / "pyproject.toml").read_text()))
    assert {k: pins[k] for k in declared} == declared
    # and what MiniStack needs to run, at this environment's versions
    assert pins["hypercorn"] == version("hypercorn") and pins["pyyaml"] == version("pyyaml")
    assert "pytest" not in pins and "docker" not in pins  # extras are left out
