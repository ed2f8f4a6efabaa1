"""Find the scenarios: one file per scenario in the repository's `scenarios/` folder.

The folder is `$SIM_SCENARIOS_DIR` when set (the Docker image sets it), else `scenarios/` beside
the `sim` package. Finding none is an error: an empty list would read as "nothing to run".
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

from sim.core.errors import SimError


def scenarios_dir() -> Path:
    return Path(os.environ.get("SIM_SCENARIOS_DIR", Path(__file__).resolve().parents[2] / "scenarios"))


def load_all() -> dict[str, ModuleType]:
    """Scenario name -> module, in the order of their ORDER (then name); at least one, or an error."""
    folder = scenarios_dir()
    if not folder.is_dir():
        raise SimError(f"no scenarios: {folder} is not a folder (run from a clone of the project, "
                       "or set SIM_SCENARIOS_DIR to its scenarios/ folder)")
    found = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        spec = importlib.util.spec_from_file_location(f"sim_scenarios.{path.stem.replace('-', '_')}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for attr in ("NAME", "DESCRIPTION", "run"):
            if not hasattr(module, attr):
                raise SimError(f"{path} is not a scenario: it has no {attr}")
        found[module.NAME] = module
    if not found:
        raise SimError(f"no scenarios in {folder}: it holds no scenario files (*.py)")
    return dict(sorted(found.items(), key=lambda kv: (getattr(kv[1], "ORDER", 99), kv[0])))


def select(names: list[str], run_all: bool) -> list[ModuleType]:
    scenarios = load_all()
    if run_all:
        return list(scenarios.values())
    if not names:
        raise SimError("name at least one scenario, or use --all (see `sim scenario list`)")
    unknown = [n for n in names if n not in scenarios]
    if unknown:
        raise SimError(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(scenarios)}")
    return [scenarios[n] for n in names]
