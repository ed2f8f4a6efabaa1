"""The scenario registry finds every scenario file, and finding none is an error, never an empty list."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sim.core.errors import SimError
from sim.scenario import registry

ROOT = Path(__file__).resolve().parents[2]


def _sim(*args, env_extra=None):
    import os

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, env=env, cwd=ROOT)


def test_the_projects_folder_holds_one_scenario_per_file():
    files = sorted(p for p in (ROOT / "scenarios").glob("*.py") if not p.name.startswith("_"))
    found = registry.load_all()
    assert len(found) == len(files) > 0
    assert {m.__file__ for m in found.values()} == {str(p) for p in files}


def test_an_empty_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_SCENARIOS_DIR", str(tmp_path))
    with pytest.raises(SimError, match="no scenarios in"):
        registry.load_all()
    with pytest.raises(SimError, match="no scenarios in"):
        registry.select([], run_all=True)


def test_a_missing_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_SCENARIOS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(SimError, match="is not a folder"):
        registry.load_all()


def test_scenario_list_says_so_in_one_line_and_fails(tmp_path):
    proc = _sim("scenario", "list", env_extra={"SIM_SCENARIOS_DIR": str(tmp_path)})
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no scenarios in"), proc.stderr
    proc = _sim("scenario", "list", "--json", env_extra={"SIM_SCENARIOS_DIR": str(tmp_path)})
    assert proc.returncode == 1 and json.loads(proc.stdout)["pass"] is False


def test_scenario_list_reads_the_folder_it_is_given(tmp_path):
    (tmp_path / "only_one.py").write_text(textwrap.dedent('''
        NAME = "only-one"
        DESCRIPTION = "a scenario from another folder"
        def run(ctx):
            raise AssertionError("not run here")
    '''))
    (tmp_path / "_helper.py").write_text("NOT_A_SCENARIO = True\n")
    proc = _sim("scenario", "list", "--json", env_extra={"SIM_SCENARIOS_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scenarios"] == [{"name": "only-one", "description": "a scenario from another folder"}]


def test_scenario_list_prints_one_line_per_scenario_whatever_the_width():
    for columns in ("60", "500"):
        proc = _sim("scenario", "list", env_extra={"COLUMNS": columns})
        assert proc.returncode == 0, proc.stderr
        names = [line.split(":", 1)[0] for line in proc.stdout.strip().splitlines()]
        assert names == list(registry.load_all()), (columns, proc.stdout[:2000])
