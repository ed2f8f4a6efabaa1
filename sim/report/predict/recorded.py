"""A recorded load run, read back for the model: what `sim load` wrote into the run folder
(run.json, timeline.csv, and the record of sim/load/record.py: files.csv, manifests.csv, the run's
telemetry lines and Glue slots).

Times become seconds since the run's timeline began, the model's clock. The figures the model is
checked against are computed here once, the same way for the run and for the model (model.py's
Result), so a comparison never mixes two definitions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from sim.core import stats
from sim.core.errors import SimError
from sim.core.jsonl import read_jsonl
from sim.core.runs import read_run
from sim.load import record
from sim.load.timeline import read_timeline


@dataclass
class Recorded:
    name: str
    run: dict
    t0: float  # epoch seconds of the timeline's start: the model's time 0
    files: list[dict]  # files.csv, times relative to t0
    manifests: list[dict]  # manifests.csv, times relative to t0
    timeline: list[dict]  # timeline.csv, with t relative to t0
    telemetry: list[dict]  # the run's telemetry lines, `at` relative to t0, `start` added
    load: dict = field(default_factory=dict)  # load.json

    @property
    def sample_times(self) -> list[float]:
        return [r["t"] for r in self.timeline]

    def figures(self) -> dict:
        return figures_of(
            landed=[f["landed_at"] for f in self.files if f["landed_at"] is not None],
            converted={m["manifest_id"]: m["converted_at"] for m in self.manifests},
            file_manifests=[(f["landed_at"], f["manifest_id"]) for f in self.files if f["landed_at"] is not None],
            rows=self.timeline)


def figures_of(landed: list[float], converted: dict, file_manifests: list[tuple], rows: list[dict]) -> dict:
    """The compared figures: drain (first landing -> last file's records in Parquet), end-to-end
    percentiles (landed -> its manifest converted), and the highest queue depth (visible + in
    flight) and pending-file count among the timeline's samples."""
    e2e = [done - t for t, mid in file_manifests if (done := converted.get(mid)) is not None]
    done = [c for c in converted.values() if c is not None]
    return {
        "drain_s": round(max(done) - min(landed), 2) if done and landed else None,
        "end_to_end_s": stats.percentiles(e2e, digits=2),
        "max_queue_depth": max((r["queue_visible"] + r["queue_in_flight"] for r in rows), default=0),
        "max_pending_files": max((r["pending"] for r in rows), default=0),
        "files": len(landed),
        "converted_files": len(e2e),
    }


def _shift(row: dict, t0: float, names: tuple) -> dict:
    return {k: (v - t0 if k in names and v is not None else v) for k, v in row.items()}


def read(run_dir: Path) -> Recorded:
    """The run folder's record, or one clear error naming what is missing."""
    run_dir = Path(run_dir)
    if not (run_dir / "run.json").exists():
        raise SimError(f"{run_dir} is not a run folder (no run.json)")
    run = read_run(run_dir)
    if run.get("kind") != "load":
        raise SimError(f"run {run_dir.name} is a {run.get('kind')} run: the model calibrates on `sim load` runs")
    missing = [n for n in ("timeline.csv", record.FILES_CSV, record.MANIFESTS_CSV, record.TELEMETRY)
               if not (run_dir / n).exists()]
    if missing:
        raise SimError(f"run {run_dir.name} has no {', '.join(missing)}: it was recorded before `sim load` kept "
                       "what the model needs; record it again with `sim load`")
    timeline = read_timeline(run_dir / "timeline.csv")
    if not timeline:
        raise SimError(f"run {run_dir.name}: its timeline is empty")
    t0 = timeline[0]["at"] - timeline[0]["t"]
    files = [_shift(f, t0, ("landed_at", "tracked_at")) for f in record.read_csv(run_dir / record.FILES_CSV)]
    if not files:
        raise SimError(f"run {run_dir.name}: no file was tracked")
    times = ("created_at", "execution_started_at", "glue_asked_at", "glue_slot_at", "convert_started_at",
             "convert_ended_at", "converted_at", "execution_stopped_at")
    manifests = [_shift(m, t0, times) for m in record.read_csv(run_dir / record.MANIFESTS_CSV)]
    telemetry = []
    for line in read_jsonl(run_dir / record.TELEMETRY):
        at = float(line["at"]) - t0
        telemetry.append({**line, "at": at, "start": at - float(line.get("duration_ms", 0)) / 1000})
    timeline = [dict(r, t=r["at"] - t0) for r in timeline]
    load = json.loads((run_dir / "load.json").read_text()) if (run_dir / "load.json").exists() else {}
    return Recorded(run_dir.name, run, t0, files, manifests, timeline, telemetry, load)
