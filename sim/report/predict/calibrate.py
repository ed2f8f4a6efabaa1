"""The model checked against reality: a recorded local run replayed on the embedded engine's own
limits and the run's measured service times, and its figures compared with the run's.

Tolerances (issue 23): drain time and end-to-end p50/p95 within 20%, the highest pending-file count
and queue depth within 25%. The model is read at the run's own sample times, so a maximum the
recorded timeline could not see (it samples about once a second, slower when the engine is busy)
is not held against it. Every error is signed: (model - recorded) / recorded.
"""

from __future__ import annotations

from pathlib import Path

from . import local, model, recorded

TOLERANCES = {"drain_s": 0.20, "end_to_end_p50_s": 0.20, "end_to_end_p95_s": 0.20,
              "max_pending_files": 0.25, "max_queue_depth": 0.25}


def flat(figures: dict) -> dict:
    e2e = figures["end_to_end_s"]
    return {"drain_s": figures["drain_s"], "end_to_end_p50_s": e2e["p50"], "end_to_end_p95_s": e2e["p95"],
            "max_pending_files": figures["max_pending_files"], "max_queue_depth": figures["max_queue_depth"]}


def relative_error(model_value, recorded_value) -> float | None:
    if model_value is None or recorded_value is None:
        return None
    if recorded_value == 0:
        return 0.0 if model_value == 0 else None
    return round((model_value - recorded_value) / recorded_value, 4)


def model_figures(result: model.Result, sample_times: list[float]) -> dict:
    converted = {k: m.converted_at for k, m in enumerate(result.manifests)}
    return recorded.figures_of(result.landed, converted,
                               [(t, result.manifest_of[i]) for i, t in enumerate(result.landed)],
                               result.at(sample_times))


def calibrate(run_dir: Path, seed: int = 7) -> tuple[dict, model.Result, recorded.Recorded]:
    """The calibration block of `--predict --json`, the model's replay, and the run read back."""
    rec = recorded.read(run_dir)
    params, measured = local.params_of(rec, seed=seed)
    result = model.simulate(params)
    got, want = flat(model_figures(result, rec.sample_times)), flat(rec.figures())
    errors = {k: relative_error(got[k], want[k]) for k in TOLERANCES}
    misses = [k for k, tol in TOLERANCES.items() if errors[k] is None or abs(errors[k]) > tol]
    block = {
        "run": rec.name,
        "profile": rec.run.get("profile"),
        "files": len(rec.files),
        "manifests": len(rec.manifests),
        "file_size_bytes": rec.run.get("file_size_bytes"),
        "rate_limited_by": rec.load.get("rate_limited_by"),
        "achieved_files_per_s": rec.load.get("achieved_files_per_s"),
        "target_files_per_s": rec.load.get("target_files_per_s"),
        "errors": errors,
        "tolerances": TOLERANCES,
        "within_tolerance": not misses,
        "misses": misses,
        "recorded": want,
        "model": got,
        "measured": measured.as_dict(),
        "complete": result.complete,
    }
    return block, result, rec
