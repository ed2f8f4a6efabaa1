"""The model's parameters for replaying a recorded local run: the run's exact landings, the
embedded engine's own limits, and the service times the run measured, as they moved during it.

- SQS -> builder: MiniStack keeps up to 5 batches of one mapping in flight
  (`_ESM_SQS_DEFAULT_CONCURRENCY` in ministack/services/lambda_svc.py, 1.5.33), each in its own warm
  worker; between two invocations of one worker it spends the gap measured in the run (median, while
  messages waited).
- The builder's handler: its time per SDK call, measured on the run's invocations and replayed as it
  varied over the run (a 10 s window), since the engine answers slower while uploads and
  conversions load it. A batch of n files makes n + 1 calls; assembling a manifest costs the calls
  the run's manifest-building invocations made beyond their batch, at the same time per call scaled
  by what those invocations measured.
- Glue: the engine's slots (run.json `glue_slots`); a run starts at once and waits for a slot in
  arrival order (sim/engine/glue_slots.py); then the measured start-up (slot -> the converter's own
  work), the converter's time per byte of each manifest in the order they were built, the measured
  exit (its end -> the slot free), and the workflow's polling every `poll_seconds` of the local
  target (2 s).
- The flush: the schedule every minute with FLUSH_MAX_WAIT_SECONDS as deployed, and the load
  harness's own flush once everything is tracked (sim/ops/watch.py).
"""

from __future__ import annotations

import bisect
import math
import statistics
from dataclasses import dataclass

from sim.core.errors import SimError
from sim.infra.spec import deployed_settings

from . import params as P
from .recorded import Recorded

MINISTACK_ESM_CONCURRENCY = 5  # ministack/services/lambda_svc.py _ESM_SQS_DEFAULT_CONCURRENCY (1.5.33)
WINDOW_S = 10.0
TRACK_CALLS_FIXED = 2  # a batch's calls beyond one PutItem per record: the date's touch and the pending query


def _median(values: list[float], default: float = 0.0) -> float:
    values = [v for v in values if v is not None and not math.isnan(v)]
    return statistics.median(values) if values else default


class Series:
    """A measured quantity as it varied over the run: the median of the samples whose interval
    overlaps a window around t, read on a 1 s grid; before and after the samples, the nearest."""

    def __init__(self, samples: list[tuple[float, float, float]], window_s: float = WINDOW_S):
        if not samples:
            raise SimError("no samples to build a service time from")
        samples = sorted(samples)
        self.t_lo = math.floor(min(s for s, _e, _v in samples))
        t_hi = math.ceil(max(e for _s, e, _v in samples))
        self.grid = []
        half = window_s / 2
        prev = _median([v for *_se, v in samples])
        for t in range(self.t_lo, t_hi + 1):
            vals = [v for s, e, v in samples if s <= t + half and e >= t - half]
            prev = _median(vals, prev) if vals else prev
            self.grid.append(prev)

    def __call__(self, t: float) -> float:
        k = int(round(t)) - self.t_lo
        return self.grid[min(max(k, 0), len(self.grid) - 1)]


@dataclass
class Measured:
    """What the run measured, summarised for the report (the model uses the full series)."""

    s_per_call_median: float
    s_per_call_p95: float
    manifest_call_factor: float
    manifest_calls: float
    start_execution_s: float
    invocation_gap_s: float
    builder_overlap: int
    glue_slots: int
    glue_start_latency_s: float
    glue_startup_s: float
    glue_exit_s: float
    glue_mb_per_s: list[float]
    poll_s: float
    mark_s: float
    flush_first_at_s: float

    def as_dict(self) -> dict:
        mbps = self.glue_mb_per_s
        return {
            "builder_s_per_call": {"p50": round(self.s_per_call_median, 4), "p95": round(self.s_per_call_p95, 4)},
            "manifest_calls": round(self.manifest_calls, 1), "manifest_call_factor": round(self.manifest_call_factor, 2),
            "start_execution_s": round(self.start_execution_s, 4), "invocation_gap_s": round(self.invocation_gap_s, 3),
            "builder_invocations_at_once_max": self.builder_overlap, "glue_slots": self.glue_slots,
            "glue_start_latency_s": round(self.glue_start_latency_s, 3), "glue_startup_s": round(self.glue_startup_s, 3),
            "glue_exit_s": round(self.glue_exit_s, 3),
            "glue_mb_per_s": {"p50": round(_median(mbps), 2), "min": round(min(mbps), 2) if mbps else None,
                              "max": round(max(mbps), 2) if mbps else None, "runs": len(mbps)},
            "poll_s": self.poll_s, "mark_s": round(self.mark_s, 3),
        }


def _max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _e in intervals] + [(e, -1) for _s, e in intervals], key=lambda x: (x[0], x[1]))
    busy = most = 0
    for _t, step in events:
        busy += step
        most = max(most, busy)
    return most


def _visible_at(rec: Recorded):
    times = [r["t"] for r in rec.timeline]
    visible = [r["queue_visible"] for r in rec.timeline]

    def at(t: float) -> int:
        j = bisect.bisect_right(times, t) - 1
        return visible[j] if j >= 0 else 0
    return at


def builder_lines(rec: Recorded) -> tuple[list[dict], list[dict]]:
    sqs = [l for l in rec.telemetry if l.get("component") == "builder" and l.get("kind") == "sqs"]
    flush = [l for l in rec.telemetry if l.get("component") == "builder" and l.get("kind") == "flush"]
    return sqs, flush


def _calls(line: dict) -> float:
    return float(sum(line.get("calls", {}).values()))


def _starts(line: dict) -> int:
    return int(line.get("calls", {}).get("stepfunctions.StartExecution", 0))


def params_of(rec: Recorded, seed: int = 7) -> tuple[P.ModelParams, Measured]:
    """The replay of `rec` on the local engine's limits and the run's measured service times."""
    sqs, flush_lines = builder_lines(rec)
    plain = [l for l in sqs if not _starts(l) and l.get("records")]
    if not plain:
        raise SimError(f"run {rec.name}: its telemetry has no SQS batch of the builder to measure")
    # Time per call of a plain batch (n PutItem + the pending query), replayed as it varied.
    per_call = Series([(l["start"], l["at"], l["duration_ms"] / 1000 / (l["records"] + TRACK_CALLS_FIXED)) for l in plain])
    building = [l for l in sqs if _starts(l)]
    if building:
        extra_calls = [(_calls(l) - l.get("records", 0) - TRACK_CALLS_FIXED) / _starts(l) for l in building]
        factors = []
        for l in building:
            tracking = (l.get("records", 0) + TRACK_CALLS_FIXED) * per_call(l["start"])
            excess = l["duration_ms"] / 1000 - tracking
            calls = _calls(l) - l.get("records", 0) - TRACK_CALLS_FIXED
            if calls > 0 and per_call(l["start"]) > 0:
                factors.append(max(0.0, excess) / calls / per_call(l["start"]))
        manifest_calls, factor = _median(extra_calls), _median(factors, 1.0)
        start_s = _median([l.get("call_ms", {}).get("stepfunctions.StartExecution", 0.0) / 1000 / _starts(l)
                           for l in building if "call_ms" in l])
    else:
        manifest_calls, factor, start_s = 13.0, 1.0, 0.01  # the builder's code: see unit_work.DEFAULT_MANIFEST
    visible = _visible_at(rec)
    by_pid: dict = {}
    for l in sqs:
        by_pid.setdefault(l.get("pid"), []).append((l["start"], l["at"]))
    gaps = []
    for spans in by_pid.values():
        spans.sort()
        gaps += [b[0] - a[1] for a, b in zip(spans, spans[1:]) if visible(a[1]) > 0 and b[0] >= a[1]]
    gap = _median(gaps)
    overlap = _max_overlap([(l["start"], l["at"]) for l in sqs])

    def batch_s(n: int, t: float) -> float:
        return (n + TRACK_CALLS_FIXED) * per_call(t)

    def manifest_s(_files: int, t: float) -> float:
        return manifest_calls * factor * per_call(t) + start_s

    # Glue, per manifest in the order they were built
    ms = sorted((m for m in rec.manifests if m.get("created_at") is not None), key=lambda m: m["created_at"])
    ran = [m for m in ms if m.get("convert_started_at") is not None and m.get("convert_ended_at") is not None]
    if not ran:
        raise SimError(f"run {rec.name}: no conversion was recorded")
    spb = [((m["convert_ended_at"] - m["convert_started_at"]) / m["bytes"]) if m.get("bytes") else None for m in ms]
    fallback = _median([x for x in spb if x])
    spb = [x if x else fallback for x in spb]
    start_latency = _median([m["glue_asked_at"] - m["execution_started_at"] for m in ms
                             if m.get("glue_asked_at") is not None and m.get("execution_started_at") is not None])
    startup = _median([m["convert_started_at"] - m["glue_slot_at"] for m in ran if m.get("glue_slot_at") is not None])
    ends = sorted(m["convert_ended_at"] for m in ran)
    exits = []
    for m in ran:
        if m.get("glue_slot_at") is None or m.get("glue_asked_at") is None or m["glue_slot_at"] - m["glue_asked_at"] < 0.3:
            continue  # it did not wait: its slot was not freed by a run ending
        j = bisect.bisect_right(ends, m["glue_slot_at"]) - 1
        if j >= 0:
            exits.append(m["glue_slot_at"] - ends[j])
    exit_s = _median(exits)
    poll_s = float(deployed_settings("ministack").poll_seconds)
    marks = []
    for m in ran:
        if m.get("execution_stopped_at") is None or m.get("glue_asked_at") is None:
            continue
        run_end = m["convert_ended_at"] + exit_s
        polls = max(1, math.ceil((run_end - m["glue_asked_at"]) / poll_s))
        marks.append(m["execution_stopped_at"] - (m["glue_asked_at"] + polls * poll_s))
    mark_s = max(0.0, _median(marks))
    slots = int(rec.run.get("glue_slots") or _max_overlap([(m["convert_started_at"], m["convert_ended_at"]) for m in ran]))

    def run_s(k: int, size: int, _t: float) -> float:
        return size * (spb[k] if k < len(spb) else fallback)

    deployed = deployed_settings("ministack")
    first_flush = min((l["start"] for l in flush_lines), default=30.0)
    # The harness watches for the drain (and flushes what is pending) from its first drain sample on,
    # at the pace its samples were taken then.
    drain_rows = [r["t"] for r in rec.timeline if r.get("phase") == "drain"]
    drain_from = drain_rows[0] if drain_rows else max(f["landed_at"] for f in rec.files if f["landed_at"] is not None)
    drain_every = _median([b - a for a, b in zip(drain_rows, drain_rows[1:])], 1.0)
    files = [f for f in rec.files if f["landed_at"] is not None]
    params = P.ModelParams(
        arrivals_s=[f["landed_at"] for f in files],
        sizes=[int(f["size"] or 0) for f in files],
        sort_keys=[f["key"] for f in files],
        notify_s=0.0,
        esm=P.Esm(batch_size=10, initial=MINISTACK_ESM_CONCURRENCY, maximum=MINISTACK_ESM_CONCURRENCY),
        builder=P.Builder(batch_s=batch_s, manifest_s=manifest_s, start_execution_s=start_s, overhead_s=gap,
                          files_per_manifest=int(rec.run.get("batch_size") or deployed.batch_size)),
        flush=P.Flush(every_s=60.0, max_wait_s=float(deployed.flush_max_wait_s), first_at_s=first_flush % 60.0,
                      drain=True, drain_from_s=drain_from, drain_check_s=drain_every),
        start=P.StartLimit(refill_per_s=None),
        glue=P.Glue(slots=slots, when_full="wait", run_s=run_s, startup_s=startup, start_latency_s=start_latency,
                    finish_latency_s=exit_s, poll_s=poll_s, mark_s=mark_s, dpu=deployed.glue_max_capacity),
        seed=seed, label=f"replay of {rec.name} on the embedded engine's limits")
    values = sorted(v for v in per_call.grid)
    measured = Measured(
        s_per_call_median=_median(values), s_per_call_p95=values[int(0.95 * (len(values) - 1))],
        manifest_call_factor=factor, manifest_calls=manifest_calls, start_execution_s=start_s, invocation_gap_s=gap,
        builder_overlap=overlap, glue_slots=slots, glue_start_latency_s=start_latency, glue_startup_s=startup,
        glue_exit_s=exit_s, glue_mb_per_s=[1 / x / 1e6 for x in spb if x], poll_s=poll_s, mark_s=mark_s,
        flush_first_at_s=first_flush)
    return params, measured
