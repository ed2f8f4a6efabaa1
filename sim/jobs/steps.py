"""The steps `sim demo` and `sim land` share: open the run folder, wait for the drain, validate
every record, and write the result beside the run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from sim.core.runs import new_run_dir, write_run
from sim.ops import priority
from sim.ops.fresh import FreshPipeline
from sim.ops.progress import Progress
from sim.ops.outside import watcher_for
from sim.ops.watch import StageCounts


def open_run(kind: str, fresh: FreshPipeline, files: int, file_size_bytes: int) -> Path:
    """`reports/<kind>-<stamp>/run.json`, started now: what `sim report` later reads."""
    project, settings = fresh.project, fresh.settings
    run_dir = new_run_dir(kind)
    write_run(run_dir, kind=kind, started_at=time.time(), files=files, file_size_bytes=file_size_bytes,
              batch_size=settings.batch_size, target=project.target.name, endpoint=project.target.endpoint,
              workdir=str(project.workdir), telemetry_file=settings.telemetry_file, **project.run_fields())
    return run_dir


def drain(fresh: FreshPipeline, files: int, progress: Progress, stall_timeout_s: float | None = None) -> StageCounts:
    """Wait until `files` landed files are converted; the final counts."""
    progress.phase("waiting for the pipeline to drain")
    watcher = watcher_for(fresh.project.target, fresh.wiring)
    # A batch whose builder timed out comes back only after the visibility timeout: wait past it.
    stall = stall_timeout_s or fresh.settings.visibility_timeout_s + 60
    return watcher.wait(files, on_progress=progress.pipeline, stall_timeout_s=stall)


def watch_cpu(fresh: FreshPipeline) -> priority.CpuWatch:
    """From now on the builder and the converter run below the engine, and the CPU of each part is
    tallied (stop() gives it)."""
    names = fresh.project.names
    return priority.CpuWatch(fresh.engine.pid if fresh.engine else None, names.builder_function,
                             names.converter_function).start()


def finish(kind: str, run_dir: Path, fresh: FreshPipeline, own: dict, final: StageCounts, timings: dict,
           verdict: dict) -> dict:
    """The job's result (`own` keys first, then what every job reports), written as `<kind>.json`."""
    project = fresh.project
    result = {
        "pass": own.pop("pass"),
        "endpoint": project.target.endpoint,
        "target": project.target.name,
        **own,
        "manifests_by_status": final.manifests,
        "dlq_messages": final.dlq_visible,
        "deploy_changes": sum(1 for c in fresh.changes if c.action != "unchanged"),
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "run_dir": str(run_dir),
        "validation": verdict,
    }
    (run_dir / f"{kind}.json").write_text(json.dumps(result, indent=2, default=str))
    return result
