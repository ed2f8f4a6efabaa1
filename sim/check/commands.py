"""`sim check`: the deployed wiring reviewed against the plan and common practice."""

from __future__ import annotations

import typer

from sim.core import console
from sim.core.options import Endpoint, Json, TargetOpt, Workdir, command

app = typer.Typer()

_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "not_applicable": "dim"}


def _table(result: dict):
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"sim check ({result['target']})", show_lines=True)
    table.add_column("status", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("detail and fix", overflow="fold")
    for c in result["checks"]:
        style = _STYLE.get(c["status"], "")
        text = escape(c["detail"]) + (f"\n[bold]fix:[/] {escape(c['fix'])}" if c["fix"] else "")
        table.add_row(f"[{style}]{c['status']}[/]", c["id"], text)
    return table


@app.command()
@command
def check(endpoint: Endpoint = None, target: TargetOpt = None, workdir: Workdir = None, as_json: Json = False):
    """Review the deployed wiring: DLQ, alarms, LOG_LEVEL, encryption, least privilege, tracing, VPC.

    Exit 0 when no check fails; warnings (advisory) and not-applicable checks do not fail the run.
    """
    from sim import check as check_mod
    from sim.infra.project import Project

    project = Project(workdir, endpoint, target)
    if as_json:
        result = check_mod.run(project)
        console.emit_json(result)
    else:
        with console.err.status("reading the deployed resources", spinner="dots"):
            result = check_mod.run(project)
        console.out.print(_table(result))
        counts = result["counts"]
        verdict = console.verdict(result["pass"])
        console.out.print(f"{verdict}: {counts['pass']} pass, {counts['fail']} fail, {counts['warn']} warn, "
                     f"{counts['not_applicable']} not applicable")
    if not result["pass"]:
        raise typer.Exit(1)
