"""Numbers from a run's raw records: the upload logs, Locust's CSV (percentiles: sim/core/stats.py).

The upload logs (one JSON-lines file per Locust process, see sim/load/payloads.py) are the source
of truth for what was sent: exact start and end times per upload. The achieved rate counts the
successful uploads that started inside the shape's judged window of their own process, divided by
the window's length; a client that falls behind starts uploads late and past the window, and the
rate shows it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from sim.core.jsonl import read_jsonl
from typing import Callable

@dataclass
class Uploads:
    """Everything the upload logs of one run say."""

    processes: list[dict] = field(default_factory=list)  # header lines
    ok: int = 0
    failed: int = 0
    bytes: int = 0
    records: int = 0
    in_window: int = 0
    window_s: float = 0.0
    in_peak: int = 0
    peak_window_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    lateness_s: list[float] = field(default_factory=list)  # how long after its due time each upload started
    landed_at: dict[str, float] = field(default_factory=dict)  # key -> upload end (epoch)
    errors: dict[str, int] = field(default_factory=dict)
    first_start: float | None = None
    last_end: float | None = None

    @property
    def achieved_files_per_s(self) -> float:
        return self.in_window / self.window_s if self.window_s else 0.0

    @property
    def peak_achieved_files_per_s(self) -> float:
        return self.in_peak / self.peak_window_s if self.peak_window_s else 0.0


def read_uploads(folder: Path, window: tuple[float, float], peak_window: tuple[float, float] | None = None,
                 keep_keys: bool = True, due: Callable[[int], float] | None = None) -> Uploads:
    """Read every `uploads-*.jsonl` in `folder`; windows are seconds after each process's start.

    With `due` (the shape's schedule), each upload's lateness is kept too: a client that cannot
    keep up starts uploads ever later, an engine that is slow to answer does not."""
    result = Uploads(window_s=window[1] - window[0])
    if peak_window:
        result.peak_window_s = peak_window[1] - peak_window[0]
    for path in sorted(Path(folder).glob("uploads-*.jsonl")):
        started = None
        for line in read_jsonl(path):
            if "started_at" in line:
                started = line["started_at"]
                result.processes.append(line)
                continue
            if not line.get("ok"):
                result.failed += 1
                kind = str(line.get("error", "?")).split(":", 1)[0]
                result.errors[kind] = result.errors.get(kind, 0) + 1
                continue
            result.ok += 1
            result.bytes += line["bytes"]
            result.records += line["records"]
            result.latencies_ms.append((line["end"] - line["start"]) * 1000)
            if keep_keys:
                result.landed_at[line["key"]] = line["end"]
            result.first_start = line["start"] if result.first_start is None else min(result.first_start, line["start"])
            result.last_end = line["end"] if result.last_end is None else max(result.last_end, line["end"])
            if started is not None:
                rel = line["start"] - started
                if due is not None:
                    result.lateness_s.append(max(0.0, rel - due(line["k"])))
                if window[0] <= rel < window[1]:
                    result.in_window += 1
                if peak_window and peak_window[0] <= rel < peak_window[1]:
                    result.in_peak += 1
    return result


class UploadCounter:
    """Counts successful uploads as the logs grow, reading only the new bytes each time."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.offsets: dict[Path, int] = {}
        self.count = 0

    def poll(self) -> int:
        for path in self.folder.glob("uploads-*.jsonl"):
            start = self.offsets.get(path, 0)
            with open(path, "rb") as fh:
                fh.seek(start)
                data = fh.read()
            cut = data.rfind(b"\n") + 1  # whole lines only
            self.count += data[:cut].count(b'"ok":true')
            self.offsets[path] = start + cut
        return self.count


def locust_aggregate(stats_csv: Path) -> dict:
    """The `Aggregated` row of Locust's `<prefix>_stats.csv` (requests, failures, percentiles in ms)."""
    if not Path(stats_csv).exists():
        return {}
    with open(stats_csv, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("Name") == "Aggregated":
                def num(key):
                    value = row.get(key, "")
                    try:
                        return float(value) if "." in value else int(value)
                    except ValueError:
                        return None
                return {"requests": num("Request Count"), "failures": num("Failure Count"),
                        "median_ms": num("Median Response Time"), "p95_ms": num("95%"), "p99_ms": num("99%"),
                        "requests_per_s": num("Requests/s"), "avg_bytes": num("Average Content Size")}
    return {}


def peak_in_flight(folder: Path) -> int:
    """The most uploads in flight at once across every process, from the upload logs' start and
    end times: how many users were busy at the busiest moment."""
    events: list[tuple[float, int]] = []
    for path in sorted(Path(folder).glob("uploads-*.jsonl")):
        events += [(e, step) for line in read_jsonl(path) if "start" in line and "end" in line
                   for e, step in ((line["start"], 1), (line["end"], -1))]
    peak = busy = 0
    for _t, step in sorted(events):  # an end sorts before a start at the same instant
        busy += step
        peak = max(peak, busy)
    return peak


def user_changes(folder: Path) -> list[dict]:
    """The user count's growth during a run, as the locustfile's shape logged it (`users.jsonl`)."""
    return list(read_jsonl(Path(folder) / "users.jsonl"))
