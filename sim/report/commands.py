"""`sim report`: capacity and cost of a run, and the plan's claims checked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from sim.core import console
from sim.core.errors import SimError
from sim.core.options import Json, PipelineOpt, command

app = typer.Typer()


def _run_dir(name: str | None, pipeline: str | None = None) -> Path:
    """The named run; else the latest run (of the pipeline --pipeline names, when given)."""
    from sim.core import runs

    if name:
        try:
            return runs.find_run(name)
        except FileNotFoundError as exc:
            raise SimError(str(exc)) from None
    if pipeline:
        from sim.infra import description
        from sim.report import run_pipeline

        given = description.load(pipeline)
        latest = run_pipeline.latest_run_of(given)
        if latest is None:
            raise SimError(f"no run of the pipeline {given.name!r} under {runs.reports_dir()}: run "
                           f"`sim demo --pipeline {pipeline}` (or `sim load`) first, or pass --run NAME")
        return latest
    latest = runs.latest_run()
    if latest is None:
        raise SimError(f"no run under {runs.reports_dir()}: run `sim demo` (or `sim load`) first, or pass --run NAME")
    return latest


@app.command()
@command
def report(
    run: Annotated[Optional[str], typer.Option("--run", help="Run folder under reports/ (default: the latest run).")] = None,
    files_per_day: Annotated[Optional[float], typer.Option(help="Target load (default 8,000, the plan's).")] = None,
    peak_hour_files: Annotated[Optional[float], typer.Option(help="Files in the peak hour (default 1,000 per 8,000 a day).")] = None,
    multiplier: Annotated[Optional[float], typer.Option(help="A second load to show, as a multiple of the target (600 is always shown); with --predict, the load's multiple of production (burst 600, daily 1).")] = None,
    file_size: Annotated[Optional[str], typer.Option(help="Target file size (default 3.5MB).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Files per manifest (default 200, as deployed).")] = None,
    glue_run_minutes: Annotated[Optional[float], typer.Option(help="AWS-side duration of one Glue run (default 4, the plan's 3-5).")] = None,
    glue_worker_type: Annotated[Optional[str], typer.Option(help="pythonshell (deployed), G.1X, G.2X or G.025X.")] = None,
    glue_workers: Annotated[Optional[int], typer.Option(help="Spark workers per run (with G.1X/G.2X).")] = None,
    glue_max_capacity: Annotated[Optional[float], typer.Option(help="Python-shell DPU: 0.0625 (deployed) or 1.")] = None,
    glue_max_concurrent_runs: Annotated[Optional[float], typer.Option(help="The job's MaxConcurrentRuns (deployed 10; AWS default 1).")] = None,
    glue_account_runs: Annotated[Optional[float], typer.Option(help="The account's concurrent Glue runs quota (default 50).")] = None,
    aws_call_ms: Annotated[Optional[float], typer.Option(help="AWS-side latency of one SDK call from Lambda (default 5).")] = None,
    storage_month: Annotated[Optional[int], typer.Option(help="Price storage as of this month after go-live (default 12).")] = None,
    retention_days: Annotated[Optional[int], typer.Option(help="Days a lifecycle rule keeps landed files (default 30).")] = None,
    lambda_arch: Annotated[Optional[str], typer.Option(help="x86 (default) or arm.")] = None,
    free_tier: Annotated[bool, typer.Option("--free-tier", help="Subtract the account's free tiers.")] = False,
    price: Annotated[Optional[List[str]], typer.Option("--price", help="Override a price: ID=VALUE (repeatable).")] = None,
    quota: Annotated[Optional[List[str]], typer.Option("--quota", help="Override a quota: ID=VALUE or ID=none (repeatable).")] = None,
    overrides: Annotated[Optional[str], typer.Option(help="TOML or JSON file with params, prices and quotas.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Collect the run's metrics again (the engine must still run).")] = False,
    grace: Annotated[Optional[float], typer.Option(help="Seconds after the run's end whose telemetry still counts (default 300).")] = None,
    list_ids: Annotated[bool, typer.Option("--list-ids", help="List price and quota ids with their values and sources, then stop.")] = False,
    predict: Annotated[Optional[str], typer.Option("--predict", help="daily or burst: the discrete-event model of that load on AWS, calibrated on the latest recorded `sim load` run of the same profile (or --run).")] = None,
    settings: Annotated[str, typer.Option("--settings", help="With --predict: deployed (MaxConcurrentRuns 10) or plan (MaxConcurrentRuns 1, the AWS default).")] = "deployed",
    sweep: Annotated[bool, typer.Option("--sweep", help="With --predict: vary MaxConcurrentRuns, batch size, the mapping's MaximumConcurrency and the flush's wait one at a time.")] = False,
    workdir: Annotated[Optional[str], typer.Option("--workdir", help="Collect the run's metrics again from this workdir's telemetry (a run whose workdir moved; default: the workdir the run recorded).")] = None,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Capacity and cost of a run, scaled to a target load; the plan's claims checked. Files under reports/<run>/.

    The run's pipeline is the one it recorded (--pipeline must name that one): its deployed settings
    and resources are what the report reads."""
    from sim.core.runs import read_run
    from sim.infra import description
    from sim.report import build, inputs as inputs_mod, run_pipeline, summary
    from sim.workload.sizes import parse_size

    quotas = inputs_mod.parse_assignments(quota, "quota")
    if glue_max_concurrent_runs is not None:
        quotas["glue.job_max_concurrent_runs"] = glue_max_concurrent_runs
    if glue_account_runs is not None:
        quotas["glue.account_concurrent_runs"] = glue_account_runs
    params = {"files_per_day": files_per_day, "peak_hour_files": peak_hour_files, "multiplier": multiplier,
              "file_size_bytes": parse_size(file_size) if file_size else None, "batch_size": batch_size,
              "glue_run_minutes": glue_run_minutes, "glue_worker_type": glue_worker_type,
              "glue_workers": glue_workers, "glue_max_capacity": glue_max_capacity, "aws_call_ms": aws_call_ms,
              "storage_month": storage_month, "landing_retention_days": retention_days,
              "lambda_arch": lambda_arch, "free_tier": True if free_tier else None}
    if predict is not None:  # --multiplier and --file-size describe the predicted load, not the monthly target
        params.update(multiplier=None, file_size_bytes=None)
    prices = inputs_mod.parse_assignments(price, "price")
    if list_ids or predict is not None:
        given = description.load(pipeline) if pipeline else None
        if predict is not None and given is not None and not given.own:
            raise SimError(f"--predict models sim's own builder and workflow; it cannot predict {given.name!r} "
                           "(`sim report --pipeline FILE` without --predict reports that pipeline's run)")
        inputs = inputs_mod.build(overrides, params, prices, quotas, pipeline=given)
        if list_ids:
            rows = {"prices": list(inputs.prices.values()), "quotas": list(inputs.quotas.values())}
            return console.emit_json(rows) if as_json else summary.print_ids(rows)
        return _predict(predict, inputs, settings, multiplier, file_size, run, sweep, as_json)
    if sweep or settings != "deployed":
        raise SimError("--sweep and --settings go with --predict daily|burst")
    run_dir = _run_dir(run, pipeline)
    ran = run_pipeline.of_run(run_dir.name, read_run(run_dir), pipeline)
    inputs = inputs_mod.build(overrides, params, prices, quotas, pipeline=ran.description)
    if as_json:
        result = build.build(run_dir, inputs, refresh=refresh, grace_s=grace, workdir=workdir, pipeline=ran)
        return console.emit_json(result)
    with console.err.status(f"reporting on {run_dir.name}", spinner="dots"):
        result = build.build(run_dir, inputs, refresh=refresh, grace_s=grace, workdir=workdir, pipeline=ran)
    summary.print_summary(result)


def _predict(profile: str, inputs, settings: str, multiplier: float | None, file_size: str | None, run: str | None,
             sweep: bool, as_json: bool) -> None:
    from sim.report.predict import build, render
    from sim.workload.sizes import parse_size

    if settings not in ("deployed", "plan"):
        raise SimError(f"--settings takes deployed or plan, not {settings!r}")
    size = parse_size(file_size) if file_size else None
    if as_json:
        doc = build.predict(profile, inputs, settings, multiplier, size, run, sweep)
        console.emit_json(doc)
    else:
        with console.err.status(f"predicting {profile} on AWS", spinner="dots"):
            doc = build.predict(profile, inputs, settings, multiplier, size, run, sweep)
        render.print_summary(doc)
    if not doc["pass"]:
        raise typer.Exit(1)
