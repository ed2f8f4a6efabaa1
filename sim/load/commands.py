"""`sim load` and `sim bench`."""

from __future__ import annotations

import contextlib
from typing import Annotated, Optional

import typer

from sim.core import console
from sim.core.errors import SimError
from sim.core.options import Endpoint, Json, PipelineOpt, Workdir, command

app = typer.Typer()


@app.command()
@command
def load(
    profile: Annotated[str, typer.Option(help="daily (8,000 files/day, compressed) or burst (multiplier x production).")] = "burst",
    time_scale: Annotated[float, typer.Option(help="daily: times faster than real time (144 = a day in 10 minutes).")] = 144.0,
    multiplier: Annotated[float, typer.Option(help="burst: multiple of the average production rate, 8000/86400 files/s.")] = 600.0,
    duration: Annotated[float, typer.Option(help="burst: seconds of hold after the ramp.")] = 60.0,
    ramp: Annotated[Optional[float], typer.Option(help="burst: seconds of ramp before the hold (default a sixth of it, 1-10 s).")] = None,
    file_size: Annotated[str, typer.Option(help="Size of each file, e.g. 64KB, 256KB, 3.5MB.")] = "3.5MB",
    workers: Annotated[int, typer.Option(help="Locust worker processes (master/worker mode when above 1).")] = 1,
    users: Annotated[int, typer.Option(help="Concurrent Locust users, fixed (default: sized from the measured upload latency, growing as the run goes).")] = 0,
    seed: Annotated[int, typer.Option(help="Generator seed.")] = 7,
    batch_size: Annotated[Optional[int], typer.Option(help="Files per manifest (default: as deployed, 200).")] = None,
    keep_data: Annotated[bool, typer.Option(help="Keep data from earlier runs instead of clearing it first.")] = False,
    ceiling_seconds: Annotated[float, typer.Option(help="Seconds of the raw S3 PUT ceiling measured before the load (0 skips it).")] = 5.0,
    max_stall: Annotated[float, typer.Option(help="Longest stall allowed, seconds with work in hand and nothing tracked, manifested or converted.")] = 30.0,
    check_at_end: Annotated[bool, typer.Option(help="Validate only once the drain ends (default: each manifest's output is checked as soon as its workflow succeeds, at the lowest CPU priority).")] = False,
    endpoint: Endpoint = None,
    workdir: Workdir = None,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Replay a load shape with Locust against the landing bucket, drain, validate, and judge the rate."""
    from sim.infra.project import Project
    from sim.load import runner, tables
    from sim.ops.progress import ProgressBars
    from sim.validate.tables import print_validation
    from sim.workload.sizes import parse_size

    if workers < 1:
        raise SimError("--workers must be at least 1")
    if ceiling_seconds < 0 or max_stall <= 0:
        raise SimError("--ceiling-seconds must not be negative and --max-stall must be positive")
    opts = runner.LoadOptions(profile=profile, time_scale=time_scale, multiplier=multiplier, duration_s=duration,
                              ramp_s=ramp, file_size=parse_size(file_size), workers=workers, users=users, seed=seed,
                              keep_data=keep_data, batch_size=batch_size, ceiling_s=ceiling_seconds,
                              max_stall_s=max_stall, early_check=not check_at_end)
    shape = opts.shape()  # bad options fail before the engine starts
    project = Project(workdir, endpoint, pipeline=pipeline)
    with ProgressBars(shape.total_files, enabled=not as_json) as bars:
        result = runner.run(project, opts, bars)
    if as_json:
        console.emit_json(result)
    else:
        if result["validation"]:
            print_validation(result["validation"])
        console.out.print(tables.load_table(result))
        for reason in result["reasons"]:
            console.out.print(f"[red]- {reason}[/]")
        console.out.print(f"reports: {result['run_dir']}")
        console.out.print(console.verdict(result["pass"]))
    if not result["pass"]:
        raise typer.Exit(1)


@app.command()
@command
def bench(
    file_size: Annotated[str, typer.Option(help="Size of each file (production: 3.5MB).")] = "3.5MB",
    ceiling_seconds: Annotated[float, typer.Option(help="Seconds of the raw S3 PUT ceiling run.")] = 10.0,
    step_seconds: Annotated[Optional[float], typer.Option(help="Hold of each load step (default: four manifests' filling, 60-120 s).")] = None,
    max_steps: Annotated[int, typer.Option(help="Most load steps in the search for the sustained multiple.")] = 6,
    start_multiple: Annotated[Optional[float], typer.Option(help="First multiple of production to try (default: from the ceiling and the converter).")] = None,
    manifest_files: Annotated[Optional[int], typer.Option(help="Files in the standalone converter run (default: the deployed batch size).")] = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Files per manifest (default: as deployed, 200).")] = None,
    workers: Annotated[int, typer.Option(help="Locust worker processes.")] = 1,
    endpoint: Endpoint = None,
    workdir: Workdir = None,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Measure: the engine's raw PUT ceiling, the converter alone, the sustained multiple of production,
    and requests per file by service. Writes bench.json and bench.md under reports/."""
    from sim.infra.project import Project
    from sim.load import bench as bench_mod, tables
    from sim.workload.sizes import parse_size

    opts = bench_mod.BenchOptions(file_size=parse_size(file_size), ceiling_s=ceiling_seconds,
                                  step_s=step_seconds, max_steps=max_steps, start_multiple=start_multiple,
                                  manifest_files=manifest_files, batch_size=batch_size, workers=workers)
    project = Project(workdir, endpoint, pipeline=pipeline)
    with console.err.status("bench", spinner="dots") if not as_json else contextlib.nullcontext() as status:
        def phase(text: str) -> None:
            if status is not None:
                status.update(text)
                console.err.print(f"[cyan]>[/] {text}", highlight=False)

        result = bench_mod.run(project, opts, phase)
    if as_json:
        console.emit_json(result)
    else:
        console.out.print(tables.bench_table(result))
        console.out.print(f"reports: {result['run_dir']}")
    if not result["pass"]:
        raise typer.Exit(1)
