"""Rendering for people: rich tables and live progress. Machines get `--json` instead."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.drain import Snapshot

out = Console()
err = Console(stderr=True)


def emit_json(data) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def changes_table(changes) -> Table:
    table = Table(title="deploy", show_lines=False)
    for col in ("resource", "name", "action", "detail"):
        table.add_column(col)
    style = {"created": "green", "updated": "yellow", "unchanged": "dim", "deleted": "red", "absent": "dim"}
    for c in changes:
        table.add_row(c.kind, c.name, f"[{style.get(c.action, '')}]{c.action}[/]", c.detail)
    return table


def kv_table(title: str, rows: dict) -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    for k, v in rows.items():
        table.add_row(str(k), json.dumps(v, default=str, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))
    return table


_VALIDATION_ROWS = [
    ("files landed", "files_landed"),
    ("files tracked", "files_tracked"),
    ("files in manifests", "files_in_manifests"),
    ("files in two manifests", "files_in_two_manifests"),
    ("manifests", "manifests"),
    ("workflows", "workflows"),
    ("failed manifests", "manifests_failed"),
    ("unfinished manifests", "manifests_unfinished"),
    ("records in", "records_in"),
    ("records out", "records_out"),
    ("records compared value by value", "records_compared"),
    ("altered (content differs)", "altered"),
    ("duplicates", "duplicates"),
    ("missing", "missing"),
    ("unexpected", "unexpected"),
    ("quarantined lines", "quarantined"),
    ("quarantined files", "quarantined_files"),
    ("overwritten after their manifest", "overwritten_files"),
    ("keys outside the landing suffixes", "not_landing_keys"),
    ("orphans", "orphans"),
]


def validation_table(v: dict) -> Table:
    table = Table(title="validation: " + ("[bold green]PASS[/]" if v["pass"] else "[bold red]FAIL[/]"))
    table.add_column("check")
    table.add_column("value", justify="right")
    for label, key in _VALIDATION_ROWS:
        table.add_row(label, str(v.get(key, "")))
    return table


def print_problems(v: dict) -> None:
    for p in v.get("problems", []):
        out.print(f"[red]- {p}[/]")


class DemoProgressBars:
    """Four bars: uploaded, tracked, manifested, converted (files out of the demo's count)."""

    def __init__(self, total: int, enabled: bool = True):
        self.total = total
        self.enabled = enabled
        self.progress = Progress(
            TextColumn("{task.description:<11}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=err,
            disable=not enabled,
        )
        self.tasks = {}

    def __enter__(self):
        self.progress.__enter__()
        for name in ("uploaded", "tracked", "manifested", "converted"):
            self.tasks[name] = self.progress.add_task(name, total=self.total, note="")
        return self

    def __exit__(self, *exc):
        self.progress.__exit__(*exc)

    def phase(self, text: str) -> None:
        if self.enabled:
            self.progress.console.print(f"[cyan]>[/] {text}")

    def uploaded(self, n: int) -> None:
        self.progress.advance(self.tasks["uploaded"], n)

    def pipeline(self, snap: Snapshot) -> None:
        self.progress.update(self.tasks["tracked"], completed=snap.tracked,
                             note=f"queue {snap.queue_visible}+{snap.queue_in_flight}")
        self.progress.update(self.tasks["manifested"], completed=snap.manifested,
                             note=f"pending {snap.pending}")
        open_ = snap.manifests_open
        self.progress.update(self.tasks["converted"], completed=snap.converted,
                             note=f"{sum(snap.manifests.values())} manifests, {open_} running")
