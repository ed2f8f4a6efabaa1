"""`sim up`, `down`, `deploy`, `destroy`, `status`, `flush` and `redrive`: the engine and the
deployment, operated."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from sim.core import console
from sim.core.errors import SimError
from sim.core.options import Endpoint, Json, PipelineOpt, TargetOpt, Workdir, command

app = typer.Typer()


def _deploy(project, wait_s: float = 0.0, **overrides):
    """Deploy the project's settings (with overrides) and remember them; the changes."""
    if wait_s > 0:
        project.target.wait_ready(wait_s)
    settings = project.settings(**overrides)
    changes = project.deployer(settings).apply()
    project.remember(settings)
    return changes


def _show_changes(project, title: str, changes, counted: str, as_json: bool, said: tuple[str, str]) -> None:
    """Deploy's or destroy's changes: a table and a count for people, or the JSON document
    {"target", "endpoint", <counted>: N, "changes": [...]}. `said` is (N things, nothing)."""
    from rich.table import Table

    from sim.infra.deploy import changes_as_dicts

    n = sum(1 for c in changes if (c.action != "unchanged" if counted == "changed" else c.action == "deleted"))
    if as_json:
        return console.emit_json({"target": project.target.name, "endpoint": project.target.endpoint,
                                  counted: n, "changes": changes_as_dicts(changes)})
    table = Table(title=title)
    for col in ("resource", "name", "action", "detail"):
        table.add_column(col)
    style = {"created": "green", "updated": "yellow", "unchanged": "dim", "deleted": "red", "absent": "dim"}
    for c in changes:
        table.add_row(c.kind, c.name, f"[{style.get(c.action, '')}]{c.action}[/]", c.detail)
    console.out.print(table)
    console.out.print(said[0].format(n) if n else said[1])


@app.command()
@command
def up(
    port: Annotated[Optional[int], typer.Option(help="Port on 127.0.0.1 (default: a free one).")] = None,
    endpoint: Endpoint = None,
    target: TargetOpt = None,
    workdir: Workdir = None,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Start the embedded engine in the background and deploy the pipeline (idempotent).

    With --endpoint, $SIM_ENDPOINT or --target localstack|aws nothing is started: the pipeline is deployed where that engine runs.
    """
    from sim.engine import ministack
    from sim.infra.project import Project

    project = Project(workdir, endpoint, target, pipeline)
    if project.embedded:
        state, started = ministack.start(project.workdir, port)
    elif port is not None:
        raise SimError("--port is for the embedded engine; an engine at an endpoint keeps its own port")
    changed = [c for c in _deploy(project) if c.action != "unchanged"]
    if project.embedded:
        result = {"endpoint": state.endpoint, "target": project.target.name, "pid": state.pid, "port": state.port,
                  "log": state.log, "workdir": str(project.workdir), "started": started, "external": False,
                  "deploy_changes": len(changed),
                  "other_engines": [{"pid": pid, "workdir": where} for pid, where in ministack.others(project.workdir)]}
    else:
        result = {"endpoint": project.target.endpoint, "target": project.target.name, "pid": None, "port": None,
                  "log": None, "workdir": str(project.workdir), "started": False, "external": True,
                  "deploy_changes": len(changed)}
    if as_json:
        return console.emit_json(result)
    if project.embedded:
        verb = "started" if started else "already running"
        console.out.print(f"engine {verb} at {state.endpoint} (pid {state.pid}, log {state.log})")
        for pid, where in ministack.others(project.workdir):
            console.out.print(f"note: the engine of another workdir still runs (pid {pid}, {where}); "
                              f"`sim down --workdir {where}` stops it")
    else:
        console.out.print(f"{project.target.name} at {project.target.endpoint or 'AWS'} (not started by sim)")
    console.out.print(f"deploy: {len(changed)} change(s)" if changed else "deploy: no change")


@app.command()
@command
def down(workdir: Workdir = None, as_json: Json = False):
    """Stop the embedded engine cleanly (its state stays under the workdir)."""
    from sim.engine import ministack
    from sim.infra.project import Project

    project = Project(workdir)
    was_running = ministack.stop(project.workdir)
    if as_json:
        return console.emit_json({"stopped": was_running, "workdir": str(project.workdir)})
    console.out.print("engine stopped" if was_running else "no engine was running")


@app.command()
@command
def deploy(
    endpoint: Endpoint = None,
    target: TargetOpt = None,
    workdir: Workdir = None,
    batch_size: Annotated[Optional[int], typer.Option(help="Files per manifest (default 200).")] = None,
    flush_max_wait: Annotated[Optional[int], typer.Option(help="Seconds before a partial batch is flushed (default 3600).")] = None,
    log_level: Annotated[Optional[str], typer.Option(help="LOG_LEVEL for the pipeline (default INFO in production, DEBUG elsewhere).")] = None,
    environment: Annotated[Optional[str], typer.Option(help="production or development (default: production on aws).")] = None,
    wait: Annotated[float, typer.Option(help="Wait up to this many seconds for the engine to answer first (an engine starting beside us).")] = 0.0,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Create or update every resource of the pipeline; a second run changes nothing."""
    from sim.infra.project import Project

    project = Project(workdir, endpoint, target, pipeline)
    changes = _deploy(project, wait_s=wait, batch_size=batch_size, flush_max_wait_s=flush_max_wait,
                      log_level=log_level, environment=environment)
    _show_changes(project, "deploy", changes, "changed", as_json, ("{} change(s)", "no change"))


@app.command()
@command
def destroy(
    endpoint: Endpoint = None,
    target: TargetOpt = None,
    workdir: Workdir = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: on AWS this deletes the buckets and the data in them.")] = False,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Remove every resource `sim deploy` created (data included); running it again is harmless."""
    from sim.infra.destroy import Destroyer
    from sim.infra.project import Project

    project = Project(workdir, endpoint, target, pipeline)
    if not project.target.profile.emulator and not yes:
        raise SimError(f"destroy on {project.target.name} deletes the pipeline's buckets and their data; "
                       "run again with --yes")
    changes = Destroyer(project.target, project.names, pipeline=project.pipeline).apply()
    _show_changes(project, "destroy", changes, "deleted", as_json, ("{} resource(s) deleted", "nothing to delete"))


@app.command()
@command
def status(endpoint: Endpoint = None, target: TargetOpt = None, workdir: Workdir = None, pipeline: PipelineOpt = None,
           as_json: Json = False):
    """Where the pipeline runs, its resources, and how many files are at each stage."""
    from sim.infra.project import Project
    from sim.ops.outside import watcher_for
    from sim.validate import inventory

    project = Project(workdir, endpoint, target, pipeline)
    deployer = project.deployer()
    snap = watcher_for(project.target, deployer.wiring).snapshot()
    if project.pipeline.own:
        counts = inventory.read(project.target, project.names).counts()
    else:  # another pipeline's state is not readable by sim: what shows from outside
        counts = {"workflows_by_status": snap.manifests, "parquet_files": snap.outputs}
    counts.update({"queue_visible": snap.queue_visible, "queue_in_flight": snap.queue_in_flight,
                   "dlq_visible": snap.dlq_visible})
    result = {"endpoint": project.target.endpoint, "target": project.target.name,
              "resources": deployer.resources(), "counts": counts}
    if as_json:
        return console.emit_json(result)
    console.out.print(f"{project.target.name} at {project.target.endpoint or 'AWS'}")
    console.out.print(console.kv_table("resources", result["resources"]))
    console.out.print(console.kv_table("counts", counts))


@app.command()
@command
def flush(
    endpoint: Endpoint = None,
    target: TargetOpt = None,
    workdir: Workdir = None,
    wait: Annotated[bool, typer.Option("--wait", help="Retry until no file is pending and the queue is empty.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds.")] = 300.0,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Turn every pending file into manifests now, whatever the batch size, and say what happened.

    Exit 0 when manifests were started, or nothing is pending; 1 when files are left pending (another
    builder holds the date's lease: the message says when to retry, or use --wait).
    """
    from sim.infra.project import Project
    from sim.ops.flush import describe, flush as run_flush, waiting_for
    from sim.ops.watch import Watcher

    if timeout <= 0:
        raise SimError("--timeout must be more than 0 seconds")
    project = Project(workdir, endpoint, target, pipeline)
    if not project.pipeline.own:  # another pipeline: its own flush event, and what it answered
        from sim.ops.outside import watcher_for

        answer = watcher_for(project.target, project.wiring()).flush()
        outcome = "no_flush_event" if not answer["sent"] else "failed" if answer.get("failed") else "sent"
        result = {"pass": outcome == "sent", "outcome": outcome, **answer}
        if as_json:
            console.emit_json(result)
        else:
            said = {"sent": f"sent the flush event; the builder answered {answer.get('answer')!r}",
                    "failed": f"sent the flush event; the builder failed it: {answer.get('error')!r}",
                    "no_flush_event": f"not sent: {answer.get('reason')}"}
            console.out.print(said[outcome], highlight=False, soft_wrap=True)
        if not result["pass"]:
            raise typer.Exit(1)
        return
    watcher = Watcher(project.target, project.names)

    def retrying(result, pause):
        if not as_json:
            console.err.print(f"[cyan]>[/] waiting for {waiting_for(result)}; again in {pause:.0f} s", highlight=False,
                              soft_wrap=True)

    result = run_flush(watcher, timeout if wait else None, on_retry=retrying)
    if as_json:
        console.emit_json(result)
    else:
        for line in describe(result):
            console.out.print(line, highlight=False, soft_wrap=True)
        if wait and not result["pass"]:
            console.out.print(f"[red]not done after {result['waited_s']:.0f} s[/] (--timeout)", highlight=False)
    if not result["pass"]:
        raise typer.Exit(1)


@app.command()
@command
def redrive(
    manifest: Annotated[Optional[list[str]], typer.Option("--manifest", help="Only these manifest ids.")] = None,
    endpoint: Endpoint = None,
    workdir: Workdir = None,
    pipeline: PipelineOpt = None,
    as_json: Json = False,
):
    """Run the workflow again for failed manifests (the converter overwrites its one output)."""
    from sim.infra.project import Project
    from sim.ops.redrive import redrive as run_redrive, rerun_failed_executions

    project = Project(workdir, endpoint, pipeline=pipeline)
    wiring = project.wiring()
    if project.pipeline.own:
        runs = run_redrive(project.target, wiring, manifest)
    elif manifest:
        raise SimError("--manifest names sim's own manifests; another pipeline's failed executions are rerun whole")
    else:
        runs = rerun_failed_executions(project.target, wiring)
    if as_json:
        console.emit_json({"redriven": runs})
    else:
        console.out.print(f"redriven: {len(runs)} manifest(s)")
        for r in runs:
            console.out.print(f"  {r['manifest_id']} -> {r['execution']}: {r.get('status')}")
    if any(r.get("status") != "SUCCEEDED" for r in runs):
        raise typer.Exit(1)
