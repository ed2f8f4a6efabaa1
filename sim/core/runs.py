"""Run folders under reports/: one per demo, load or bench run, found again by `sim report`.

Each run folder holds `run.json`: what ran (kind, files, file size, target, workdir) and when
(`started_at`, `ended_at`, epoch seconds). The telemetry lines the pipeline appended between those
two times belong to the run, which is how the capacity and cost models get measured work.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

RUN_FILE = "run.json"


def reports_dir() -> Path:
    path = Path(os.environ.get("SIM_REPORTS_DIR", "reports")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_run_dir(kind: str) -> Path:
    """A fresh folder `reports/<kind>-<UTC timestamp>` (suffixed if two runs start in one second)."""
    base = reports_dir()
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path = base / f"{kind}-{stamp}"
    n = 1
    while path.exists():
        n += 1
        path = base / f"{kind}-{stamp}-{n}"
    path.mkdir(parents=True)
    return path


def write_run(run_dir: Path, **fields) -> Path:
    path = run_dir / RUN_FILE
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(fields)
    path.write_text(json.dumps(current, indent=2, sort_keys=True, default=str))
    return path


def read_run(run_dir: Path) -> dict:
    return json.loads((run_dir / RUN_FILE).read_text())


def latest_run(kind: str | None = None) -> Path | None:
    """The most recently started run folder (of one kind, if given) that has a run.json."""
    runs = []
    for d in reports_dir().iterdir():
        if (d / RUN_FILE).exists() and (kind is None or d.name.startswith(kind + "-")):
            runs.append((read_run(d).get("started_at", 0), d))
    return max(runs)[1] if runs else None


def find_run(name: str) -> Path:
    path = reports_dir() / name
    if not (path / RUN_FILE).exists():
        raise FileNotFoundError(f"no run named {name!r} under {reports_dir()}")
    return path
