"""Which telemetry lines belong to a run: those written between its start and its end plus a grace.

The grace covers conversions that finish after the run's driver stopped watching (a load run ends
when the uploads stop). It never reaches into the next run that shares the same telemetry file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sim.core.errors import SimError
from sim.core.jsonl import read_jsonl
from sim.core.runs import RUN_FILE, read_run

DEFAULT_GRACE_S = 300.0


@dataclass
class Window:
    start: float
    end: float
    open_ended: bool = False  # the run recorded no end: it crashed or still runs

    def contains(self, at: float) -> bool:
        return self.start <= at <= self.end


def _next_start(run_dir: Path, run: dict) -> float | None:
    """Start of the next run writing to the same telemetry file, if any."""
    later = []
    for other in run_dir.parent.iterdir():
        if other == run_dir or not (other / RUN_FILE).exists():
            continue
        try:
            info = read_run(other)
        except (OSError, ValueError):
            continue
        if info.get("telemetry_file") == run.get("telemetry_file") and info.get("started_at", 0) > run["started_at"]:
            later.append(float(info["started_at"]))
    return min(later) if later else None


def of_run(run_dir: Path, run: dict, grace_s: float = DEFAULT_GRACE_S,
           telemetry_file: str | None = None) -> tuple[Window, list[dict]]:
    """The run's window and its telemetry lines (from `telemetry_file` when given, else the file the run recorded)."""
    if "started_at" not in run:
        raise SimError(f"{run_dir.name}/run.json has no started_at: not a run folder sim report can read")
    lines = list(read_jsonl(telemetry_file or run.get("telemetry_file")))
    start = float(run["started_at"])
    ended = run.get("ended_at")
    if ended is None:
        after = [float(l["at"]) for l in lines if float(l.get("at", 0)) >= start]
        end, open_ended = (max(after) if after else time.time()), True
    else:
        end, open_ended = float(ended) + grace_s, False
    nxt = _next_start(run_dir, run)
    if nxt is not None and not open_ended:
        end = max(float(ended), min(end, nxt))  # the grace stops where the next run begins
    window = Window(start, end, open_ended)
    return window, [l for l in lines if window.contains(float(l.get("at", 0)))]
