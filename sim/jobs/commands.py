"""`sim demo` and `sim land`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sim.core import console
from sim.core.errors import SimError
from sim.core.options import Endpoint, Json, PipelineOpt, Workdir, command

app = typer.Typer()


def _finish(result: dict, as_json: bool, summary: str) -> None:
    """Print the validation and the run's one-line summary (or the JSON); exit 1 unless it passed."""
    from sim.validate.tables import print_validation

    if as_json:
        console.emit_json(result)
    else:
        print_validation(result["validation"])
        console.out.print(summary)
        console.out.print(console.verdict(result["pass"]))
    if not result["pass"]:
        raise typer.Exit(1)


@app.command()
@command
def demo(
    files: Annotated[int, typer.Option(help="How many NDJSON files to land.")] = 1000,
    file_size: Annotated[str, typer.Option(help="Size of each file, e.g. 256KB or 3.5MB.")] = "256KB",
    seed: Annotated[int, typer.Option(help="Generator seed: the same seed lands the same bytes.")] = 7,
    batch_size: Annotated[Optional[int], typer.Option(help="Files per manifest (default: as deployed, 200).")] = None,
    keep_data: Annotated[bool, typer.Option(help="Keep data from earlier runs instead of clearing it first.")] = False,
    check_at_end: Annotated[bool, typer.Option(help="Validate only once the drain ends (default: each manifest's output is checked as soon as its workflow succeeds, at the lowest CPU priority).")] = False,
    endpoint: Endpoint = None,
    workdir: Workdir = None,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """The main job: start the engine, deploy, land files, wait for the drain, validate, summarise."""
    from sim.infra.project import Project
    from sim.jobs import demo as demo_mod
    from sim.ops.progress import ProgressBars
    from sim.workload.sizes import format_size, parse_size

    if files < 1:
        raise SimError("--files must be at least 1")
    opts = demo_mod.DemoOptions(files=files, file_size=parse_size(file_size), seed=seed, keep_data=keep_data,
                                batch_size=batch_size, early_check=not check_at_end)
    project = Project(workdir, endpoint, pipeline=pipeline)
    with ProgressBars(files, enabled=not as_json) as bars:
        result = demo_mod.run(project, opts, bars)
    v, t = result["validation"], result["timings"]
    _finish(result, as_json,
            f"{files} files of {format_size(opts.file_size)} ({format_size(result['bytes_landed'])}, "
            f"{result['records_generated']} records) through {v['manifests']} manifests"
            + (f" of up to {result['batch_size']} files" if result["batch_size"] else "")
            + f": landed in {t['upload_s']} s, converted end to end in "
            f"{t['drain_s']} s ({result['end_to_end_files_per_s']} files/s), validated in {t['validate_s']} s.")


@app.command()
@command
def land(
    paths: Annotated[list[str], typer.Argument(help="NDJSON files or folders (.ndjson, .jsonl, .json, optionally .gz).")],
    date: Annotated[Optional[str], typer.Option(help="Date prefix of the keys (default: today, UTC).")] = None,
    prefix: Annotated[str, typer.Option(help="Key prefix before the date.")] = "incoming",
    batch_size: Annotated[Optional[int], typer.Option(help="Files per manifest (default: as deployed, 200).")] = None,
    keep_data: Annotated[bool, typer.Option(help="Keep data from earlier runs instead of clearing it first.")] = False,
    check_at_end: Annotated[bool, typer.Option(help="Validate only once the drain ends (default: each manifest's output is checked as soon as its workflow succeeds, at the lowest CPU priority).")] = False,
    endpoint: Endpoint = None,
    workdir: Workdir = None,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Your own NDJSON through the pipeline: land files or folders, wait for the drain, validate every record."""
    from sim.infra.project import Project
    from sim.jobs import land as land_mod
    from sim.ops.progress import ProgressBars
    from sim.workload.sizes import format_size

    opts = land_mod.LandOptions(paths=paths, prefix=prefix, keep_data=keep_data, batch_size=batch_size,
                                early_check=not check_at_end)
    if date:
        opts.date_prefix = date
    chosen = land_mod.choose(opts)
    if not as_json:
        for path, reason in chosen.skipped:
            console.err.print(f"[yellow]not landed:[/] {path}: {reason}", highlight=False)
        for path, reason in chosen.doubtful:
            console.err.print(f"[yellow]landed, but {reason}:[/] {path}", highlight=False)
    project = Project(workdir, endpoint, pipeline=pipeline)
    with ProgressBars(len(chosen.files), enabled=not as_json) as bars:
        result = land_mod.run(project, opts, chosen, bars)
    v, t = result["validation"], result["timings"]
    _finish(result, as_json,
            f"{result['files']} files ({format_size(result['bytes_landed'])}, {v['records_in']} records) "
            f"through {v['manifests']} manifests: landed in {t['upload_s']} s, converted in {t['drain_s']} s, "
            f"validated in {t['validate_s']} s. Not landed: {len(result['skipped'])}; landed but not "
            f"NDJSON-looking: {len(result['not_ndjson'])}.")
