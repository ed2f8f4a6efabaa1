"""The one progress protocol of a run against the pipeline (`sim demo`, `sim land`, `sim load`,
`sim bench`), a silent one, and the bars people see: uploaded, tracked, manifested, converted."""

from __future__ import annotations

from typing import Protocol

from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn

from sim.core import console
from sim.ops.watch import StageCounts


class Progress(Protocol):
    def phase(self, text: str) -> None: ...
    def uploaded(self, n: int) -> None: ...
    def pipeline(self, snap: StageCounts) -> None: ...


class NoProgress:
    """Says nothing (`--json`, tests, the bench's inner runs)."""

    def phase(self, text: str) -> None: ...
    def uploaded(self, n: int) -> None: ...
    def pipeline(self, snap: StageCounts) -> None: ...


class ProgressBars:
    """Four bars: uploaded, tracked, manifested, converted (files out of the run's count), on stderr."""

    def __init__(self, total: int, enabled: bool = True):
        self.total = total
        self.enabled = enabled
        self.progress = RichProgress(
            TextColumn("{task.description:<11}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console.err,
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

    def pipeline(self, snap: StageCounts) -> None:
        if snap.outside:  # a pipeline sim did not write: no file stages to count, only what shows outside
            running = snap.manifests_open
            workflows = sum(snap.manifests.values())
            self.progress.update(self.tasks["tracked"], visible=False)
            self.progress.update(self.tasks["manifested"], visible=False)
            self.progress.update(self.tasks["converted"], description="workflows", total=max(workflows, 1),
                                 completed=workflows - running,
                                 note=f"{running} running, {snap.outputs} Parquet files, queue "
                                 f"{snap.queue_visible}+{snap.queue_in_flight}"
                                 + (f", DLQ {snap.dlq_visible}" if snap.dlq_visible else ""))
            return
        self.progress.update(self.tasks["tracked"], completed=snap.tracked,
                             note=f"queue {snap.queue_visible}+{snap.queue_in_flight}")
        self.progress.update(self.tasks["manifested"], completed=snap.manifested,
                             note=f"pending {snap.pending}")
        open_ = snap.manifests_open
        self.progress.update(self.tasks["converted"], completed=snap.converted,
                             note=f"{sum(snap.manifests.values())} manifests, {open_} running")
