"""The terminal: a console for results (stdout), one for progress and errors (stderr), `--json`
output for machines, and the one generic table (keys and values)."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.table import Table

out = Console()
err = Console(stderr=True)


def emit_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def kv_table(title: str, rows: dict) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    for k, v in rows.items():
        table.add_row(str(k), json.dumps(v, default=str, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))
    return table


def verdict(passed: bool) -> str:
    return "[bold green]PASS[/]" if passed else "[bold red]FAIL[/]"
