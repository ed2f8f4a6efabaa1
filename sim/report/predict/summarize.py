"""A run of the model on AWS's terms, as the `prediction` block of `--predict --json`: when the load
is converted, end-to-end latency, the deepest queue and the most files pending, what saturated first
and when, and what it cost."""

from __future__ import annotations

from sim.core import stats

from ..inputs import Inputs
from ..unit_work import UnitWork
from . import cost as cost_mod
from .model import Result


def _round(x: float | None, digits: int = 1) -> float | None:
    return None if x is None else round(x, digits)


def prediction(result: Result, inputs: Inputs, prof: UnitWork, file_size: int, profile: str, multiplier: float,
               setting: dict) -> dict:
    p = result.params
    first = min(result.landed) if result.landed else 0.0
    held = [m for m in result.manifests if m.by_flush]
    full = [m.converted_at for m in result.manifests if not m.by_flush and m.converted_at is not None]
    maxima = result.maxima()
    sat = result.first_saturated()
    costs = cost_mod.of(result, inputs, prof, file_size)
    run_s = [m.run_ended_at - m.glue_slot_at for m in result.manifests if m.run_ended_at is not None]
    slot_wait = [m.glue_slot_at - m.glue_asked_at for m in result.manifests if m.glue_slot_at is not None]
    return {
        "profile": profile,
        "multiplier": multiplier,
        "file_size_bytes": file_size,
        "settings": setting,
        "files": len(result.landed),
        "uploads_end_s": _round(max(result.landed) - first if result.landed else None),
        "manifests": len(result.manifests),
        "complete": result.complete,
        "drain_s": _round(result.drain_s()),
        "drain_before_flush_s": _round(max(full) - first if full else None),
        "files_held_for_flush": sum(len(m.files) for m in held),
        "held_converted_s": _round(max(m.converted_at for m in held) - first if held and all(
            m.converted_at is not None for m in held) else None),
        "end_to_end_s": stats.percentiles(result.end_to_end_s(), digits=1),
        "max_queue_depth": maxima["queue_depth"],
        "max_pending_files": maxima["pending"],
        "max_workflows_running": maxima["workflows_running"],
        "first_saturated": {"resource": sat.resource, "at_s": round(sat.first_at_s - first, 1)} if sat else None,
        "saturations": sorted(({"resource": s.resource, "at_s": round(s.first_at_s - first, 1), "waits": s.waits,
                                "longest_wait_s": round(s.longest_wait_s, 1)} for s in result.saturations.values()),
                              key=lambda s: s["at_s"]),
        "cost_usd": costs["total_usd"],
        "cost": costs,
        "sqs_batches_at_once_max": result.counts.peak_batches_in_flight,
        "glue": {"runs": result.counts.glue_runs, "at_once_max": result.counts.peak_glue_runs,
                 "concurrent_runs_exceeded": result.counts.concurrent_runs_exceeded,
                 "run_s": stats.percentiles(run_s, digits=1), "slot_wait_s": stats.percentiles(slot_wait, digits=1),
                 "startup_s": p.glue.startup_s, "poll_s": p.glue.poll_s},
        "lambda": {"invocations": result.counts.lambda_invocations, "cold_starts": result.counts.lambda_cold_starts},
        "simulated_s": round(result.ended_at, 1),
    }
