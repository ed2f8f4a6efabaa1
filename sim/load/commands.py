"""CLI commands of this feature, added to `sim` by `register(app)` (see sim/cli.py)."""

import typer


def register(app: typer.Typer) -> None:
    """Add this feature's commands to the `sim` app."""
