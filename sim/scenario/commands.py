"""`sim scenario list|run` and `sim redrive`."""


from typing import Annotated, Optional

import typer

scenario_app = typer.Typer(no_args_is_help=True, help="Fault scenarios that end in a verdict with evidence.")


def register(app: typer.Typer) -> None:
    """Add `scenario` and `redrive` to the `sim` app."""
    from sim.cli import Endpoint, Json, Workdir, command

    @scenario_app.command("list")
    @command
    def list_(as_json: Json = False):
        """The scenarios there are, with what each shows."""
        from sim import ui
        from sim.scenario.registry import load_all

        rows = [{"name": n, "description": m.DESCRIPTION} for n, m in load_all().items()]
        if as_json:
            return ui.emit_json({"scenarios": rows})
        for r in rows:
            ui.out.print(f"[bold]{r['name']}[/]: {r['description']}")

    @scenario_app.command("run")
    @command
    def run(
        names: Annotated[Optional[list[str]], typer.Argument(help="Scenario names (see `sim scenario list`).")] = None,
        run_all: Annotated[bool, typer.Option("--all", help="Run every scenario.")] = False,
        endpoint: Endpoint = None,
        workdir: Workdir = None,
        as_json: Json = False,
    ):
        """Run scenarios; exit 0 only when every one passes."""
        from sim import ui
        from sim.project import Project
        from sim.scenario import runner
        from sim.scenario.registry import select

        modules = select(names or [], run_all)
        project = Project(workdir, endpoint)
        say = (lambda m: ui.err.print(f"[cyan]>[/] {m}", highlight=False)) if not as_json else None
        result = runner.run(project, modules, progress=say)
        if as_json:
            ui.emit_json(result)
        else:
            for s in result["scenarios"]:
                colour = "green" if s["verdict"] == "PASS" else "red"
                ui.out.print(f"[bold {colour}]{s['verdict']}[/] {s['name']} ({s['seconds']} s)")
                for f in s.get("findings", []):
                    ui.out.print(f"   finding: {f}", highlight=False)
                if s["verdict"] != "PASS":
                    ui.out.print(ui.kv_table(s["name"], s["evidence"]))
        if not result["pass"]:
            raise typer.Exit(1)

    app.add_typer(scenario_app, name="scenario")

    @app.command("redrive")
    @command
    def redrive_cmd(
        manifest: Annotated[Optional[list[str]], typer.Option("--manifest", help="Only these manifest ids.")] = None,
        endpoint: Endpoint = None,
        workdir: Workdir = None,
        as_json: Json = False,
    ):
        """Run the workflow again for failed manifests (the converter overwrites its one output)."""
        from sim import ui
        from sim.infra.deploy import Deployer
        from sim.project import Project
        from sim.redrive import redrive

        project = Project(workdir, endpoint)
        wiring = Deployer(project.target, project.settings()).wiring
        runs = redrive(project.target, wiring, manifest)
        if as_json:
            ui.emit_json({"redriven": runs})
        else:
            ui.out.print(f"redriven: {len(runs)} manifest(s)")
            for r in runs:
                ui.out.print(f"  {r['manifest_id']} -> {r['execution']}: {r.get('status')}")
        if any(r.get("status") != "SUCCEEDED" for r in runs):
            raise typer.Exit(1)
