"""The options every command shares, and the wrapper that turns an expected failure into one line.

Each area's `commands.py` imports these; the CLI package only composes the areas' Typers, so no
area needs to import the CLI. Every command takes `--json` and `--workdir` (a test walks the app).
"""

from __future__ import annotations

import functools
from typing import Annotated, Optional

import typer
from botocore.exceptions import BotoCoreError, ClientError

from sim.core import console
from sim.core.errors import SimError

Workdir = Annotated[Optional[str], typer.Option("--workdir", help="Workdir for engine state and data (default .sim, or $SIM_WORKDIR).")]
Endpoint = Annotated[Optional[str], typer.Option("--endpoint", help="Use an engine someone else runs at this URL.")]
TargetOpt = Annotated[Optional[str], typer.Option("--target", help="ministack, localstack or aws.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON for machines instead of tables.")]
PipelineOpt = Annotated[Optional[str], typer.Option(
    "--pipeline", envvar="SIM_PIPELINE",
    help="The pipeline under test: its description file (pipeline.toml). Default: sim's own pipeline.")]


def failure_message(exc: BaseException) -> str | None:
    """The one line for a failure the user can act on; None for anything else (a bug keeps its traceback)."""
    if isinstance(exc, SimError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{exc.operation_name} failed: {err.get('Code')}: {err.get('Message')}"
    if isinstance(exc, BotoCoreError):
        return f"cannot reach the engine: {exc}"
    return None


def command(fn):
    """Turn expected failures (SimError, OSError, AWS errors) into one line on stderr (and a JSON
    error with --json), exit 1. Anything else is a bug and keeps its traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (SimError, OSError, ClientError, BotoCoreError) as exc:
            message = failure_message(exc)
        if kwargs.get("as_json"):
            console.emit_json({"pass": False, "error": message})
        console.err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)

    return wrapper
