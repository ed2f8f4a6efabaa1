"""`sim scenario list` and `sim scenario run`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sim.core import console
from sim.core.options import Endpoint, Json, PipelineOpt, Workdir, command

app = typer.Typer()
scenario_app = typer.Typer(no_args_is_help=True, help="Fault scenarios that end in a verdict with evidence.")
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("list")
@command
def list_(workdir: Workdir = None, as_json: Json = False):
    """The scenarios there are, with what each shows."""
    from sim.scenario.registry import load_all

    rows = [{"name": n, "description": m.DESCRIPTION} for n, m in load_all().items()]
    if as_json:
        return console.emit_json({"scenarios": rows})
    for r in rows:
        console.out.print(f"[bold]{r['name']}[/]: {r['description']}", soft_wrap=True)  # one line each, for scripts


@scenario_app.command("run")
@command
def run(
    names: Annotated[Optional[list[str]], typer.Argument(help="Scenario names (see `sim scenario list`).")] = None,
    run_all: Annotated[bool, typer.Option("--all", help="Run every scenario.")] = False,
    endpoint: Endpoint = None,
    workdir: Workdir = None,
    pipeline: PipelineOpt = None,
    junit: Annotated[Optional[str], typer.Option("--junit", help="Also write the verdicts as JUnit XML to this path (a case per scenario and per crash-explorer boundary).")] = None,
    as_json: Json = False,
):
    """Run scenarios; exit 0 only when every one that can judge the pipeline passes (a scenario
    that can only judge sim's own pipeline says SKIP, with the reason, for another)."""
    from sim.infra.project import Project
    from sim.scenario import runner
    from sim.scenario.registry import select

    modules = select(names or [], run_all)
    project = Project(workdir, endpoint, pipeline=pipeline)
    say = (lambda m: console.err.print(f"[cyan]>[/] {m}", highlight=False)) if not as_json else None
    result = runner.run(project, modules, progress=say)
    if junit:
        from sim.scenario import junit as junit_xml

        result["junit"] = str(junit_xml.write(result, junit, project.pipeline.name))
    if as_json:
        console.emit_json(result)
    else:
        for s in result["scenarios"]:
            colour = {"PASS": "green", "SKIP": "yellow"}.get(s["verdict"], "red")
            console.out.print(f"[bold {colour}]{s['verdict']}[/] {s['name']} ({s['seconds']} s)")
            if s.get("skipped"):
                console.out.print(f"   skipped: {s['skipped']}", highlight=False)
            for f in s.get("findings", []):
                console.out.print(f"   finding: {f}", highlight=False)
            if s["verdict"] != "PASS":
                console.out.print(console.kv_table(s["name"], s["evidence"]))
    if not result["pass"]:
        raise typer.Exit(1)
