"""Time series a load run leaves in its folder, for the work-by-stage, queue-depth and latency charts.

Work by stage needs the timeline `sim load` writes (`timeline.csv` with uploaded, tracked, pending,
manifested and converted per sample; sim/load/stalls.py says what each stage holds).

Read leniently, since the load command writes them: a timeline is `timeline.csv`, `timeline.jsonl`
or `timeline.json` with a time column (t, at, time, ts, timestamp, elapsed_s) and a queue depth
column (queue_depth, queue_visible, depth, visible; queue_in_flight is added when present).
End-to-end latencies (seconds, landed -> in Parquet) come from `latencies.csv`/`.jsonl`/`.json`,
`end_to_end.csv`, or a list under `end_to_end_samples_s` / `latencies_s` in `load.json`.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sim.load import stalls

STAGE_COLUMNS = ("uploaded", "tracked", "pending", "manifested", "converted")

TIME_KEYS = ("t", "at", "time", "ts", "timestamp", "elapsed_s", "seconds")
DEPTH_KEYS = ("queue_depth", "queue_visible", "depth", "visible")
LATENCY_KEYS = ("end_to_end_s", "latency_s", "seconds", "latency", "e2e_s")


def _records(path: Path) -> list[dict]:
    text = path.read_text()
    if path.suffix == ".csv":
        return list(csv.DictReader(text.splitlines()))
    if path.suffix == ".jsonl":
        return [json.loads(l) for l in text.splitlines() if l.strip()]
    data = json.loads(text)
    if isinstance(data, dict):
        for key in ("timeline", "samples", "points", "rows"):
            if isinstance(data.get(key), list):
                return data[key]
        return []
    return data if isinstance(data, list) else []


def _num(v) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def queue_depth(run_dir: Path) -> list[tuple[float, float]]:
    for name in ("timeline.csv", "timeline.jsonl", "timeline.json"):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            rows = _records(path)
        except (OSError, ValueError):
            return []
        points = []
        for row in rows:
            if not isinstance(row, dict):
                continue
            t = next((_num(row[k]) for k in TIME_KEYS if k in row and _num(row[k]) is not None), None)
            d = next((_num(row[k]) for k in DEPTH_KEYS if k in row and _num(row[k]) is not None), None)
            if t is None or d is None:
                continue
            points.append((t, d + (_num(row.get("queue_in_flight")) or 0)))
        return sorted(points)
    return []


def latencies(run_dir: Path) -> list[float]:
    for name in ("latencies.csv", "latencies.jsonl", "latencies.json", "end_to_end.csv"):
        path = run_dir / name
        if path.exists():
            try:
                rows = _records(path)
            except (OSError, ValueError):
                return []
            out = []
            for row in rows:
                value = _num(row) if not isinstance(row, dict) else next(
                    (_num(row[k]) for k in LATENCY_KEYS if k in row and _num(row[k]) is not None), None)
                if value is not None and value >= 0:
                    out.append(value)
            return out
    summary = run_dir / "load.json"
    if summary.exists():
        try:
            data = json.loads(summary.read_text())
        except ValueError:
            return []
        for key in ("end_to_end_samples_s", "latencies_s"):
            if isinstance(data.get(key), list):
                return [float(v) for v in data[key] if _num(v) is not None and float(v) >= 0]
    return []


def work_by_stage(run_dir: Path) -> tuple[list[tuple[float, dict]], float | None]:
    """Files in each stage at every sample of the run's timeline, and when the uploads ended (the
    last sample taken while Locust ran); ([], None) without a timeline that has the stage columns."""
    path = run_dir / "timeline.csv"
    if not path.exists():
        return [], None
    try:
        rows = _records(path)
    except (OSError, ValueError):
        return [], None
    points, uploads_end = [], None
    for row in rows:
        t = _num(row.get("t"))
        values = {k: _num(row.get(k)) for k in STAGE_COLUMNS}
        if t is None or any(v is None for v in values.values()):
            continue
        points.append((t, stalls.stages({k: int(v) for k, v in values.items()})))
        if row.get("phase", "load") == "load":
            uploads_end = t
    points.sort(key=lambda p: p[0])
    return points, uploads_end


def cpu_by_part(run_dir: Path) -> dict | None:
    """The CPU each part used over a load run, as `sim load` sampled it (load.json's `cpu_s`, and
    what had been used when the pipeline drained, before validation); None for other runs."""
    summary = run_dir / "load.json"
    if not summary.exists():
        return None
    try:
        data = json.loads(summary.read_text())
    except ValueError:
        return None
    if not isinstance(data.get("cpu_s"), dict):
        return None
    return {"whole_run": data["cpu_s"], "until_drained": data.get("cpu_s_until_drained") or {},
            "until_last_upload": data.get("cpu_s_until_last_upload") or {}, "idle": data.get("cpu_idle_s") or {},
            "nice": data.get("cpu_nice") or {}}
