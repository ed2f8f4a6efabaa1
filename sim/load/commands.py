"""CLI commands of this feature, added to `sim` by `register(app)` (see sim/cli.py): `sim load`, `sim bench`."""

from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the `sim` app."""
    # Imported here: sim.cli imports this module while it is being built.
    from sim import ui
    from sim.cli import Endpoint, Json, Workdir, _project, command
    from sim.errors import SimError

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
        endpoint: Endpoint = None,
        workdir: Workdir = None,
        as_json: Json = False,
    ):
        """Replay a load shape with Locust against the landing bucket, drain, validate, and judge the rate."""
        from sim.load import render, runner
        from sim.workload.sizes import parse_size

        if workers < 1:
            raise SimError("--workers must be at least 1")
        if ceiling_seconds < 0 or max_stall <= 0:
            raise SimError("--ceiling-seconds must not be negative and --max-stall must be positive")
        opts = runner.LoadOptions(profile=profile, time_scale=time_scale, multiplier=multiplier, duration_s=duration,
                                  ramp_s=ramp, file_size=parse_size(file_size), workers=workers, users=users, seed=seed,
                                  keep_data=keep_data, batch_size=batch_size, ceiling_s=ceiling_seconds,
                                  max_stall_s=max_stall)
        shape = opts.shape()  # bad options fail before the engine starts
        project = _project(workdir, endpoint)
        with ui.DemoProgressBars(shape.total_files, enabled=not as_json) as bars:
            result = runner.run(project, opts, bars)
        if as_json:
            ui.emit_json(result)
        else:
            if result["validation"]:
                ui.out.print(ui.validation_table(result["validation"]))
                ui.print_problems(result["validation"])
            ui.out.print(render.load_table(result))
            for reason in result["reasons"]:
                ui.out.print(f"[red]- {reason}[/]")
            ui.out.print(f"reports: {result['run_dir']}")
            ui.out.print("[bold green]PASS[/]" if result["pass"] else "[bold red]FAIL[/]")
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
        as_json: Json = False,
    ):
        """Measure: the engine's raw PUT ceiling, the converter alone, the sustained multiple of production,
        and requests per file by service. Writes bench.json and bench.md under reports/."""
        from sim.load import bench as bench_mod
        from sim.load import render
        from sim.workload.sizes import parse_size

        opts = bench_mod.BenchOptions(file_size=parse_size(file_size), ceiling_s=ceiling_seconds,
                                      step_s=step_seconds, max_steps=max_steps, start_multiple=start_multiple,
                                      manifest_files=manifest_files, batch_size=batch_size, workers=workers)
        project = _project(workdir, endpoint)
        with ui.err.status("bench", spinner="dots") if not as_json else _quiet() as status:
            def phase(text: str) -> None:
                if status is not None:
                    status.update(text)
                    ui.err.print(f"[cyan]>[/] {text}", highlight=False)

            result = bench_mod.run(project, opts, phase)
        if as_json:
            ui.emit_json(result)
        else:
            ui.out.print(render.bench_table(result))
            ui.out.print(f"reports: {result['run_dir']}")
        if not result["pass"]:
            raise typer.Exit(1)


class _quiet:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
