"""`sim report --predict`: calibrate on a recorded run, predict the load on AWS with the chosen
settings (and the other ones, for comparison), optionally sweep, then write the JSON, Markdown and
HTML with the stage charts into the run's folder.

The run is the latest `sim load` run of the same profile that kept the model's record, or `--run`.
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.core import contract, runs
from sim.core.errors import SimError
from sim.load import record, stalls

from .. import charts, collect, unit_work
from ..inputs import Inputs
from . import aws, calibrate, model, render, summarize, sweep as sweep_mod

DEFAULT_MULTIPLIER = {"burst": 600.0, "daily": 1.0}
RECORD = ("timeline.csv", record.FILES_CSV, record.MANIFESTS_CSV, record.TELEMETRY)


def find_run(profile: str, name: str | None) -> Path:
    """The named run, or the latest load run of `profile` that kept what the model needs."""
    if name:
        try:
            return runs.find_run(name)
        except FileNotFoundError as exc:
            raise SimError(str(exc)) from None
    found = []
    for d in runs.reports_dir().iterdir():
        if not (d / runs.RUN_FILE).exists() or not all((d / n).exists() for n in RECORD):
            continue
        info = runs.read_run(d)
        if info.get("kind") == "load" and info.get("profile") == profile and info.get("pipeline_own", True):
            found.append((info.get("started_at", 0), d))
    if not found:
        hint = ("sim load --profile burst --multiplier 600 --duration 60 --file-size 3.5MB" if profile == "burst"
                else "sim load --profile daily")
        raise SimError(f"no recorded `sim load --profile {profile}` run under {runs.reports_dir()} to calibrate on: "
                       f"record one with `{hint}`, or pass --run NAME")
    return max(found)[1]


def own_only(run_dir: Path) -> None:
    """The model follows `sim`'s own builder and workflow, and calibrates on what its state table
    recorded: a run of another pipeline cannot be replayed by it."""
    info = runs.read_run(run_dir)
    if not info.get("pipeline_own", True):
        raise SimError(f"run {run_dir.name} ran the pipeline {info.get('pipeline_name')!r}: --predict models sim's own "
                       "builder and workflow and calibrates on its state table, so it cannot predict another pipeline "
                       "(`sim report --pipeline FILE --run NAME` reports that run's capacity and cost)")


def _profile(run_dir: Path, inputs: Inputs) -> unit_work.UnitWork:
    own = run_dir / record.TELEMETRY
    metrics = collect.load_or_collect(run_dir, telemetry_file=str(own) if own.exists() else None)
    try:
        return unit_work.from_metrics(metrics, inputs.params)
    except SimError as exc:
        raise SimError(f"run {run_dir.name}: {exc}") from None


def _points(result: model.Result, until: float | None = None) -> list[tuple[float, dict]]:
    end = result.ended_at if until is None else min(until, result.ended_at)
    step = max(result.params.sample_s, end / 1500)
    rows = result.at([k * step for k in range(int(end / step) + 2)])
    return [(r["t"], stalls.stages(r)) for r in rows]


def _recorded_points(rec) -> list[tuple[float, dict]]:
    return [(r["t"], stalls.stages(r)) for r in rec.timeline]


def _uploads_end(result: model.Result) -> float | None:
    return max(result.landed) if result.landed else None


def verdict(cal: dict, pr: dict) -> str:
    if cal["within_tolerance"]:
        head = f"calibrated on {cal['run']}: every figure within its tolerance"
    else:
        misses = ", ".join(f"{k} {cal['errors'][k]:+.0%}" if cal["errors"][k] is not None else f"{k} not comparable"
                           for k in cal["misses"])
        head = (f"NOT CALIBRATED: on {cal['run']} the model misses its tolerance ({misses}); "
                "treat this prediction as unchecked")
    return head


def predict(profile: str, inputs: Inputs, settings: str = "deployed", multiplier: float | None = None,
            file_size: int | None = None, run_name: str | None = None, do_sweep: bool = False,
            seed: int = 7) -> contract.Predict:
    if profile not in DEFAULT_MULTIPLIER:
        raise SimError(f"--predict takes daily or burst, not {profile!r}")
    mult = DEFAULT_MULTIPLIER[profile] if multiplier is None else float(multiplier)
    if mult <= 0:
        raise SimError("--multiplier must be positive")
    size = int(file_size or inputs.params.file_size_bytes)
    if size <= 0:
        raise SimError("--file-size must be positive")
    run_dir = find_run(profile, run_name)
    own_only(run_dir)
    cal, replay, rec = calibrate.calibrate(run_dir, seed=seed)
    prof = _profile(run_dir, inputs)
    work = aws.measured_work(rec, inputs)

    def run(st: aws.Setting) -> tuple[dict, model.Result]:
        result = model.simulate(aws.params_for(profile, mult, size, st, work, inputs, seed=seed))
        return summarize.prediction(result, inputs, prof, size, profile, mult, st.__dict__), result

    chosen = aws.setting(settings, inputs)
    pr, result = run(chosen)
    other_name = "plan" if settings == "deployed" else "deployed"
    other, _ = run(aws.setting(other_name, inputs))
    swept = sweep_mod.sweep(chosen, lambda st: run(st)[0]) if do_sweep else None
    doc = {
        "pass": cal["within_tolerance"],
        "verdict": verdict(cal, pr),
        "prediction": pr,
        "compared_with": {"settings": other_name, "drain_s": other["drain_s"],
                          "drain_before_flush_s": other["drain_before_flush_s"],
                          "end_to_end_s": other["end_to_end_s"], "cost_usd": other["cost_usd"],
                          "first_saturated": other["first_saturated"]},
        "calibration": cal,
        "sweep": swept,
        "measured_for_aws": work.as_dict(),
        "assumptions": assumptions(inputs),
        "run_dir": str(run_dir),
    }
    doc["files"] = write(run_dir, doc, result, replay, rec)
    return doc


def assumptions(inputs: Inputs) -> list[dict]:
    ids = ("s3.notification_delivery_s", "lambda.cold_start_s", "esm.sqs.initial_batches", "esm.sqs.scale_per_min",
           "esm.sqs.max_concurrency", "lambda.concurrency", "sfn.start_execution_bucket", "sfn.start_execution_refill",
           "glue.job_max_concurrent_runs", "glue.job_max_concurrent_runs.default", "glue.account_concurrent_runs",
           "glue.pythonshell_startup_s", "glue.pythonshell_cpu_factor")
    rows = [{k: inputs.quotas[i][k] for k in ("id", "value", "unit", "item", "source", "status")} for i in ids]
    rows.append({"id": "aws_call_ms", "value": inputs.params.aws_call_ms, "unit": "ms", "item": "one SDK call from Lambda on AWS",
                 "source": "sim report's parameter (--aws-call-ms)", "status": "assumption"})
    return rows


def write(run_dir: Path, doc: dict, result: model.Result, replay: model.Result, rec) -> dict:
    pr = doc["prediction"]
    stem = f"predict-{pr['profile']}-{pr['multiplier']:g}x-{pr['settings']['name']}"
    scenes = {}
    name = pr["settings"]["name"]
    # A burst's last partial manifest waits for the flush long after the rest: the first chart stops
    # soon after the uploads and the full manifests, the second shows the whole run.
    cut = max(pr["uploads_end_s"] or 0.0, pr["drain_before_flush_s"] or 0.0) * 1.1 + 30
    horizon = cut if cut < result.ended_at * 0.8 else None
    scenes["predicted"] = charts.work_by_stage(_points(result, horizon), f"Predicted on AWS, {name} settings: files by stage",
                                               _uploads_end(result))
    if horizon is not None:
        scenes["predicted_all"] = charts.work_by_stage(
            _points(result), f"The same until the flush converts the last {pr['files_held_for_flush']:,} files",
            _uploads_end(result))
    scenes["recorded"] = charts.work_by_stage(_recorded_points(rec), f"Recorded locally: {rec.name}",
                                              max((r["t"] for r in rec.timeline if r.get("phase") == "load"), default=None))
    scenes["replayed"] = charts.work_by_stage(_points(replay), f"The model's replay of {rec.name} on the engine's limits",
                                              _uploads_end(replay))
    for stale in run_dir.glob(f"{stem}-*.svg"):  # an earlier prediction's charts
        stale.unlink()
    charts_out = {}
    for name, scene in scenes.items():
        path = run_dir / f"{stem}-{name}.svg"
        path.write_text(scene.svg())
        charts_out[name] = str(path)
    files = {"json": str(run_dir / f"{stem}.json"), "md": str(run_dir / f"{stem}.md"),
             "html": str(run_dir / f"{stem}.html"), "charts": charts_out}
    blocks = render.blocks(doc)
    Path(files["md"]).write_text(render.markdown(blocks, {n: Path(p).name for n, p in charts_out.items()}))
    Path(files["html"]).write_text(render.html(blocks, stem, {n: s.svg() for n, s in scenes.items()}))
    Path(files["json"]).write_text(json.dumps({**doc, "files": files}, indent=2, default=str))
    return files
