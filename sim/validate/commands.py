"""`sim validate`: every landed record accounted for in the Parquet output, value by value."""

from __future__ import annotations

import contextlib

import typer

from sim.core import console
from sim.core.options import Endpoint, Json, PipelineOpt, TargetOpt, Workdir, command

app = typer.Typer()


@app.command()
@command
def validate(endpoint: Endpoint = None, target: TargetOpt = None, workdir: Workdir = None, pipeline: PipelineOpt = None,
             as_json: Json = False):
    """Account for every landed record in the Parquet output, and check files, manifests, workflows."""
    from sim.infra.project import Project
    from sim.validate.run import validate as run_validate
    from sim.validate.tables import print_validation

    project = Project(workdir, endpoint, target, pipeline)
    with console.err.status("validating", spinner="dots") if not as_json else contextlib.nullcontext() as spinner:
        verdict = run_validate(project.target, project.names, project.cache_dir(),
                               on_step=(lambda m: spinner.update(m)) if spinner else None, pipeline=project.pipeline)
    if as_json:
        console.emit_json(verdict)
    else:
        print_validation(verdict)
        console.out.print(f"{verdict['seconds']['total']:.2f} s")
    if not verdict["pass"]:
        raise typer.Exit(1)
