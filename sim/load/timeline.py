"""The run's timeline: one CSV row a second of what the pipeline holds.

Queue depth (visible and in flight), DLQ depth, files tracked / pending / in manifests /
converted, workflows running and finished (from the MANIFEST items the state machine marks), and
the uploads so far. Rows go straight to disk; only the maxima stay in memory, so a long run does
not grow. `read_timeline` parses the file back (the capacity report and tests use it).
"""

from __future__ import annotations

import csv
import threading
import time
from pathlib import Path
from typing import Callable

from sim.ops.watch import StageCounts

COLUMNS = ("t", "at", "phase", "uploaded", "queue_visible", "queue_in_flight", "dlq_visible", "tracked",
           "pending", "manifested", "converted", "workflows_running", "workflows_finished", "workflows_failed")
_INTS = set(COLUMNS) - {"t", "at", "phase"}


def row_of(snap: StageCounts, t: float, at: float, phase: str, uploaded: int) -> dict:
    m = snap.manifests
    return {
        "t": round(t, 2), "at": round(at, 3), "phase": phase, "uploaded": uploaded,
        "queue_visible": snap.queue_visible, "queue_in_flight": snap.queue_in_flight, "dlq_visible": snap.dlq_visible,
        "tracked": snap.tracked, "pending": snap.pending, "manifested": snap.manifested, "converted": snap.converted,
        "workflows_running": m.get("started", 0) + m.get("claiming", 0),
        "workflows_finished": m.get("succeeded", 0) + m.get("failed", 0),
        "workflows_failed": m.get("failed", 0),
    }


class Timeline:
    def __init__(self, path: Path, started_at: float):
        self.path = Path(path)
        self.started_at = started_at
        self._fh = open(self.path, "w", newline="", encoding="utf-8")
        self._writer = csv.DictWriter(self._fh, fieldnames=COLUMNS)
        self._writer.writeheader()
        self._lock = threading.Lock()
        self.rows = 0
        self.max = {c: 0 for c in ("queue_depth", "queue_visible", "dlq_visible", "pending", "workflows_running")}

    def record(self, snap: StageCounts, phase: str, uploaded: int) -> dict:
        now = time.time()
        row = row_of(snap, now - self.started_at, now, phase, uploaded)
        with self._lock:
            self._writer.writerow(row)
            self._fh.flush()
            self.rows += 1
            depth = row["queue_visible"] + row["queue_in_flight"]
            for key, value in (("queue_depth", depth), ("queue_visible", row["queue_visible"]),
                               ("dlq_visible", row["dlq_visible"]), ("pending", row["pending"]),
                               ("workflows_running", row["workflows_running"])):
                self.max[key] = max(self.max[key], value)
        return row

    def close(self) -> None:
        with self._lock:
            self._fh.close()


def read_timeline(path: Path) -> list[dict]:
    rows = []
    with open(path, newline="", encoding="utf-8") as fh:
        for raw in csv.DictReader(fh):
            row = {}
            for k, v in raw.items():
                if k in _INTS:
                    row[k] = int(v)
                elif k in ("t", "at"):
                    row[k] = float(v)
                else:
                    row[k] = v
            rows.append(row)
    return rows


class Sampler:
    """Samples the pipeline once a second in a background thread while Locust runs (less often
    when one snapshot takes longer than that)."""

    def __init__(self, snapshot: Callable[[], StageCounts], timeline: Timeline, uploaded: Callable[[], int],
                 on_sample: Callable[[StageCounts, int], None] | None = None, interval_s: float = 1.0):
        self.snapshot = snapshot
        self.timeline = timeline
        self.uploaded = uploaded
        self.on_sample = on_sample
        self.interval_s = interval_s
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="timeline", daemon=True)

    def start(self) -> "Sampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                snap = self.snapshot()
                n = self.uploaded()
                self.timeline.record(snap, "load", n)
                if self.on_sample:
                    self.on_sample(snap, n)
            except Exception:  # a missed sample is not worth failing the run for; it is counted
                self.errors += 1
            took = time.monotonic() - t0
            # Once a snapshot takes longer than the interval (a big table), sample at most half the
            # time, so the watching never becomes the engine's main load.
            self._stop.wait(max(self.interval_s - took, took if took > self.interval_s else 0.0))


def backlog_growth(rows: list[dict], hold_start: float, hold_s: float, mid=(0.2, 0.5), end=(0.7, 1.0)) -> dict | None:
    """How much unfinished work grew during a hold, by stage, from the timeline's troughs.

    Work in progress (uploaded but not converted) saw-tooths by a manifest at a time, so each
    stage is read at its lowest in two windows of the hold (by default 20-50% and 70-100%; each
    should span more than one manifest's filling): a pipeline that keeps up returns to the same
    trough, one that falls behind climbs. Stages: `queued` (SQS,
    the builder's tracking), `pending` (tracked, waiting for a manifest), `converting` (in
    manifests not yet converted). None when a window has no sample.
    """
    def window(lo_frac: float, hi_frac: float) -> list[dict]:
        lo, hi = hold_start + lo_frac * hold_s, hold_start + hi_frac * hold_s
        return [r for r in rows if r.get("phase", "load") == "load" and lo <= r["at"] <= hi]

    a, b = window(*mid), window(*end)
    if not a or not b:
        return None

    def stages(r: dict) -> dict:
        queued = r["queue_visible"] + r["queue_in_flight"]
        return {"wip": r["uploaded"] - r["converted"], "queued": queued, "pending": r["pending"],
                "converting": r["manifested"] - r["converted"]}

    low_a = {k: min(stages(r)[k] for r in a) for k in ("wip", "queued", "pending", "converting")}
    low_b = {k: min(stages(r)[k] for r in b) for k in low_a}
    return {
        "mid": low_a,
        "end": low_b,
        "growth": {k: low_b[k] - low_a[k] for k in low_a},
        "arrived_between": max(r["uploaded"] for r in b) - min(r["uploaded"] for r in a),
        "seconds_between": round((end[0] - mid[0]) * hold_s, 2),
    }
