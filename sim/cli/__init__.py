"""The `sim` command line. Thin: parse options, call the modules, print a table or `--json`."""

from __future__ import annotations

import contextlib
import importlib
import functools
import sys
from typing import Annotated, Optional

import typer
from botocore.exceptions import BotoCoreError, ClientError

from sim import ui
from sim.errors import SimError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Run the ingestion pipeline locally, push load through it, validate every record.")

Workdir = Annotated[Optional[str], typer.Option("--workdir", help="Workdir for engine state and data (default .sim, or $SIM_WORKDIR).")]
Endpoint = Annotated[Optional[str], typer.Option("--endpoint", help="Use an engine someone else runs at this URL.")]
TargetOpt = Annotated[Optional[str], typer.Option("--target", help="ministack, localstack or aws.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")]


def command(fn):
    """Turn expected failures into one line on stderr (and a JSON error with --json), exit 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (SimError, ValueError) as exc:
            message = str(exc)
        except OSError as exc:
            message = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            message = f"{exc.operation_name} failed: {err.get('Code')}: {err.get('Message')}"
        except BotoCoreError as exc:
            message = f"cannot reach the engine: {exc}"
        if kwargs.get("as_json"):
            ui.emit_json({"pass": False, "error": message})
        ui.err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)

    return wrapper


def _project(workdir=None, endpoint=None, target=None):
    from sim.project import Project

    return Project(workdir, endpoint, target)


def _deploy(project, as_json: bool, wait_s: float = 0.0, **overrides):
    from sim.infra.deploy import Deployer

    if wait_s > 0:
        project.target.wait_ready(wait_s)
    settings = project.settings(**overrides)
    deployer = Deployer(project.target, settings, cache_dir=project.cache_dir())
    changes = deployer.apply()
    project.remember(settings)
    return deployer, changes


@app.command()
@command
def up(
    port: Annotated[Optional[int], typer.Option(help="Port on 127.0.0.1 (default: a free one).")] = None,
    endpoint: Endpoint = None,
    target: TargetOpt = None,
    workdir: Workdir = None,
    as_json: Json = False,
):
    """Start the embedded engine in the background and deploy the pipeline (idempotent).

    With --endpoint, $SIM_ENDPOINT or --target localstack|aws nothing is started: the pipeline is deployed where that engine runs.
    """
    from sim.engine import ministack

    project = _project(workdir, endpoint, target)
    if not project.embedded:
        if port is not None:
            raise SimError("--port is for the embedded engine; an engine at an endpoint keeps its own port")
        _, changes = _deploy(project, as_json)
        changed = [c for c in changes if c.action != "unchanged"]
        result = {"endpoint": project.target.endpoint, "target": project.target.name, "pid": None, "port": None,
                  "log": None, "workdir": str(project.workdir), "started": False, "external": True,
                  "deploy_changes": len(changed)}
        if as_json:
            return ui.emit_json(result)
        ui.out.print(f"{project.target.name} at {project.target.endpoint or 'AWS'} (not started by sim)")
        ui.out.print(f"deploy: {len(changed)} change(s)" if changed else "deploy: no change")
        return
    state, started = ministack.start(project.workdir, port)
    _, changes = _deploy(project, as_json)
    changed = [c for c in changes if c.action != "unchanged"]
    result = {"endpoint": state.endpoint, "target": project.target.name, "pid": state.pid, "port": state.port,
              "log": state.log, "workdir": str(project.workdir), "started": started, "external": False,
              "deploy_changes": len(changed)}
    if as_json:
        return ui.emit_json(result)
    verb = "started" if started else "already running"
    ui.out.print(f"engine {verb} at {state.endpoint} (pid {state.pid}, log {state.log})")
    ui.out.print(f"deploy: {len(changed)} change(s)" if changed else "deploy: no change")


@app.command()
@command
def down(workdir: Workdir = None, as_json: Json = False):
    """Stop the embedded engine cleanly (its state stays under the workdir)."""
    from sim.engine import ministack

    project = _project(workdir)
    was_running = ministack.stop(project.workdir)
    if as_json:
        return ui.emit_json({"stopped": was_running, "workdir": str(project.workdir)})
    ui.out.print("engine stopped" if was_running else "no engine was running")


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
    as_json: Json = False,
):
    """Create or update every resource of the pipeline; a second run changes nothing."""
    project = _project(workdir, endpoint, target)
    deployer, changes = _deploy(project, as_json, wait_s=wait, batch_size=batch_size, flush_max_wait_s=flush_max_wait,
                                log_level=log_level, environment=environment)
    changed = [c for c in changes if c.action != "unchanged"]
    if as_json:
        from sim.infra.deploy import changes_as_dicts

        return ui.emit_json({"target": project.target.name, "endpoint": project.target.endpoint,
                             "changed": len(changed), "changes": changes_as_dicts(changes)})
    ui.out.print(ui.changes_table(changes))
    ui.out.print(f"{len(changed)} change(s)" if changed else "no change")


@app.command()
@command
def destroy(
    endpoint: Endpoint = None,
    target: TargetOpt = None,
    workdir: Workdir = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: on AWS this deletes the buckets and the data in them.")] = False,
    as_json: Json = False,
):
    """Remove every resource `sim deploy` created (data included); running it again is harmless."""
    from sim.infra.deploy import changes_as_dicts
    from sim.infra.destroy import Destroyer

    project = _project(workdir, endpoint, target)
    if not project.target.profile.emulator and not yes:
        raise SimError(f"destroy on {project.target.name} deletes the pipeline's buckets and their data; "
                       "run again with --yes")
    changes = Destroyer(project.target, project.names).apply()
    deleted = [c for c in changes if c.action == "deleted"]
    if as_json:
        return ui.emit_json({"target": project.target.name, "endpoint": project.target.endpoint,
                             "deleted": len(deleted), "changes": changes_as_dicts(changes)})
    ui.out.print(_destroy_table(changes))
    ui.out.print(f"{len(deleted)} resource(s) deleted" if deleted else "nothing to delete")


def _destroy_table(changes):
    from rich.table import Table

    table = Table(title="destroy")
    for col in ("resource", "name", "action", "detail"):
        table.add_column(col)
    for c in changes:
        table.add_row(c.kind, c.name, f"[red]{c.action}[/]" if c.action == "deleted" else f"[dim]{c.action}[/]", c.detail)
    return table


@app.command()
@command
def status(endpoint: Endpoint = None, target: TargetOpt = None, workdir: Workdir = None, as_json: Json = False):
    """Where the pipeline runs, its resources, and how many files are at each stage."""
    from sim.drain import Watcher
    from sim.infra.deploy import Deployer
    from sim.validate import inventory

    project = _project(workdir, endpoint, target)
    deployer = Deployer(project.target, project.settings())
    counts = inventory.read(project.target, project.names).counts()
    snap = Watcher(project.target, project.names).snapshot()
    counts.update({"queue_visible": snap.queue_visible, "queue_in_flight": snap.queue_in_flight,
                   "dlq_visible": snap.dlq_visible})
    result = {"endpoint": project.target.endpoint, "target": project.target.name,
              "resources": deployer.resources(), "counts": counts}
    if as_json:
        return ui.emit_json(result)
    ui.out.print(f"{project.target.name} at {project.target.endpoint or 'AWS'}")
    ui.out.print(ui.kv_table("resources", result["resources"]))
    ui.out.print(ui.kv_table("counts", counts))


@app.command()
@command
def flush(
    endpoint: Endpoint = None,
    target: TargetOpt = None,
    workdir: Workdir = None,
    wait: Annotated[bool, typer.Option("--wait", help="Retry until no file is pending and the queue is empty.")] = False,
    timeout: Annotated[float, typer.Option(help="With --wait: give up after this many seconds.")] = 300.0,
    as_json: Json = False,
):
    """Turn every pending file into manifests now, whatever the batch size, and say what happened.

    Exit 0 when manifests were started, or nothing is pending; 1 when files are left pending (another
    builder holds the date's lease: the message says when to retry, or use --wait).
    """
    from sim.drain import Watcher
    from sim.flush import describe, flush as run_flush, waiting_for

    if timeout <= 0:
        raise SimError("--timeout must be more than 0 seconds")
    project = _project(workdir, endpoint, target)
    watcher = Watcher(project.target, project.names)

    def retrying(result, pause):
        if not as_json:
            ui.err.print(f"[cyan]>[/] waiting for {waiting_for(result)}; again in {pause:.0f} s", highlight=False,
                         soft_wrap=True)

    result = run_flush(watcher, timeout if wait else None, on_retry=retrying)
    if as_json:
        ui.emit_json(result)
    else:
        for line in describe(result):
            ui.out.print(line, highlight=False, soft_wrap=True)
        if wait and not result["pass"]:
            ui.out.print(f"[red]not done after {result['waited_s']:.0f} s[/] (--timeout)", highlight=False)
    if not result["pass"]:
        raise typer.Exit(1)


@app.command()
@command
def validate(endpoint: Endpoint = None, target: TargetOpt = None, workdir: Workdir = None, as_json: Json = False):
    """Account for every landed record in the Parquet output, and check files, manifests, workflows."""
    from sim.validate.run import validate as run_validate

    project = _project(workdir, endpoint, target)
    with ui.err.status("validating", spinner="dots") if not as_json else contextlib.nullcontext() as spinner:
        verdict = run_validate(project.target, project.names, project.cache_dir(),
                               on_step=(lambda m: spinner.update(m)) if spinner else None)
    if as_json:
        ui.emit_json(verdict)
    else:
        ui.out.print(ui.validation_table(verdict))
        ui.print_problems(verdict)
        ui.out.print(f"{verdict['seconds']['total']:.2f} s")
    if not verdict["pass"]:
        raise typer.Exit(1)


@app.command()
@command
def demo(
    files: Annotated[int, typer.Option(help="How many NDJSON files to land.")] = 1000,
    file_size: Annotated[str, typer.Option(help="Size of each file, e.g. 256KB or 3.5MB.")] = "256KB",
    seed: Annotated[int, typer.Option(help="Generator seed: the same seed lands the same bytes.")] = 7,
    batch_size: Annotated[Optional[int], typer.Option(help="Files per manifest (default: as deployed, 200).")] = None,
    keep_data: Annotated[bool, typer.Option(help="Keep data from earlier runs instead of clearing it first.")] = False,
    endpoint: Endpoint = None,
    workdir: Workdir = None,
    as_json: Json = False,
):
    """The main job: start the engine, deploy, land files, wait for the drain, validate, summarise."""
    from sim import demo as demo_mod
    from sim.workload.sizes import format_size, parse_size

    if files < 1:
        raise SimError("--files must be at least 1")
    opts = demo_mod.DemoOptions(files=files, file_size=parse_size(file_size), seed=seed, keep_data=keep_data,
                                batch_size=batch_size)
    project = _project(workdir, endpoint)
    with ui.DemoProgressBars(files, enabled=not as_json) as bars:
        result = demo_mod.run(project, opts, bars)
    if as_json:
        ui.emit_json(result)
    else:
        v = result["validation"]
        ui.out.print(ui.validation_table(v))
        ui.print_problems(v)
        t = result["timings"]
        ui.out.print(
            f"{files} files of {format_size(opts.file_size)} ({format_size(result['bytes_landed'])}, "
            f"{result['records_generated']} records) through {v['manifests']} manifests of up to "
            f"{result['batch_size']} files: landed in {t['upload_s']} s, converted end to end in "
            f"{t['drain_s']} s ({result['end_to_end_files_per_s']} files/s), validated in {t['validate_s']} s."
        )
        ui.out.print("[bold green]PASS[/]" if result["pass"] else "[bold red]FAIL[/]")
    if not result["pass"]:
        raise typer.Exit(1)


@app.command()
@command
def land(
    paths: Annotated[list[str], typer.Argument(help="NDJSON files or folders (.ndjson, .jsonl, .json, optionally .gz).")],
    date: Annotated[Optional[str], typer.Option(help="Date prefix of the keys (default: today, UTC).")] = None,
    prefix: Annotated[str, typer.Option(help="Key prefix before the date.")] = "incoming",
    batch_size: Annotated[Optional[int], typer.Option(help="Files per manifest (default: as deployed, 200).")] = None,
    keep_data: Annotated[bool, typer.Option(help="Keep data from earlier runs instead of clearing it first.")] = False,
    endpoint: Endpoint = None,
    workdir: Workdir = None,
    as_json: Json = False,
):
    """Your own NDJSON through the pipeline: land files or folders, wait for the drain, validate every record."""
    from sim import land as land_mod
    from sim.workload.sizes import format_size

    opts = land_mod.LandOptions(paths=paths, prefix=prefix, keep_data=keep_data, batch_size=batch_size)
    if date:
        opts.date_prefix = date
    chosen = land_mod.choose(opts)
    if not as_json:
        for path, reason in chosen.skipped:
            ui.err.print(f"[yellow]not landed:[/] {path}: {reason}", highlight=False)
        for path, reason in chosen.doubtful:
            ui.err.print(f"[yellow]landed, but {reason}:[/] {path}", highlight=False)
    project = _project(workdir, endpoint)
    with ui.DemoProgressBars(len(chosen.files), enabled=not as_json) as bars:
        result = land_mod.run(project, opts, chosen, bars)
    if as_json:
        ui.emit_json(result)
    else:
        v = result["validation"]
        ui.out.print(ui.validation_table(v))
        ui.print_problems(v)
        t = result["timings"]
        ui.out.print(f"{result['files']} files ({format_size(result['bytes_landed'])}, {v['records_in']} records) "
                     f"through {v['manifests']} manifests: landed in {t['upload_s']} s, converted in {t['drain_s']} s, "
                     f"validated in {t['validate_s']} s. Not landed: {len(result['skipped'])}; landed but not "
                     f"NDJSON-looking: {len(result['not_ndjson'])}.")
        ui.out.print("[bold green]PASS[/]" if result["pass"] else "[bold red]FAIL[/]")
    if not result["pass"]:
        raise typer.Exit(1)


# Typer ships its own click; its UsageError (a bad option or value) is BadParameter's base class.
_USAGE_ERROR = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError")


def main() -> None:
    """The `sim` console script: a bad option or value is one line on stderr and exit code 2."""
    try:
        code = app(sys.argv[1:], prog_name="sim", standalone_mode=False)
    except _USAGE_ERROR as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        print(f"error: {exc.format_message()}{hint}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


# Features keep their commands beside their code; each module's register(app) adds them here.
for _module in ("sim.load.commands", "sim.report.commands", "sim.scenario.commands", "sim.check.commands"):
    importlib.import_module(_module).register(app)
