"""The `sim` command line: every area's Typer, composed. Nothing else lives here: each command is
in its area's `commands.py`, with the shared options and error wrapper of `sim.core.options`."""

from __future__ import annotations

import sys

import typer

from sim.check import commands as check_commands
from sim.jobs import commands as job_commands
from sim.load import commands as load_commands
from sim.ops import commands as ops_commands
from sim.report import commands as report_commands
from sim.scenario import commands as scenario_commands
from sim.validate import commands as validate_commands

# In the order `sim --help` lists them: the deployment, the checks, the jobs, the measurements.
AREAS = (ops_commands.app, validate_commands.app, job_commands.app, load_commands.app, report_commands.app,
         scenario_commands.app, check_commands.app)


def build_app() -> typer.Typer:
    """A new `sim` app: each area's commands merged in (`add_typer` without a name)."""
    app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                      help="Run the ingestion pipeline locally, push load through it, validate every record.")
    for area in AREAS:
        app.add_typer(area)
    return app


app = build_app()

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
