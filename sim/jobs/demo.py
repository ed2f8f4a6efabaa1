"""`sim demo`: the main job. Start the engine, deploy, land generated files, wait until they are
converted, validate every record, and summarise.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

from sim.core.runs import new_run_dir, write_run
from sim.infra.project import Project
from sim.ops.fresh import FreshPipeline, fresh_pipeline
from sim.ops.progress import Progress
from sim.ops.watch import StageCounts, Watcher
from sim.validate.run import validate
from sim.workload.upload import upload_generated


@dataclass
class DemoOptions:
    files: int = 1000
    file_size: int = 256 * 1024
    seed: int = 7
    keep_data: bool = False
    batch_size: int | None = None
    date_prefix: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date().isoformat())
    stall_timeout_s: float | None = None


def drain(project: Project, settings, files: int, progress: Progress,
          stall_timeout_s: float | None = None) -> StageCounts:
    """Wait until `files` landed files are converted; the final counts."""
    progress.phase("waiting for the pipeline to drain")
    watcher = Watcher(project.target, project.names)
    # A batch whose builder timed out comes back only after the visibility timeout: wait past it.
    stall = stall_timeout_s or settings.visibility_timeout_s + 60
    return watcher.wait(files, on_progress=progress.pipeline, stall_timeout_s=stall)


def validate_all(project: Project, progress: Progress) -> tuple[dict, float]:
    """Validate every record; the verdict and the seconds it took."""
    progress.phase("validating every record")
    t0 = time.monotonic()
    verdict = validate(project.target, project.names, project.cache_dir(), on_step=progress.phase)
    return verdict, time.monotonic() - t0


def deploy_changes(fresh: FreshPipeline) -> int:
    return sum(1 for c in fresh.changes if c.action != "unchanged")


def run(project: Project, opts: DemoOptions, progress: Progress) -> dict:
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    fresh = fresh_pipeline(project, batch_size=opts.batch_size, keep_data=opts.keep_data, phase=progress.phase)
    settings, engine = fresh.settings, fresh.engine
    timings["setup_s"] = time.monotonic() - t0

    run_dir = new_run_dir("demo")
    write_run(run_dir, kind="demo", started_at=time.time(), files=opts.files, file_size_bytes=opts.file_size,
              batch_size=settings.batch_size, target=project.target.name, endpoint=project.target.endpoint,
              workdir=str(project.workdir), telemetry_file=settings.telemetry_file)
    progress.phase(f"landing {opts.files} files")
    t1 = time.monotonic()
    uploaded = upload_generated(
        project.target.client("s3", max_pool=16),
        project.names.landing_bucket,
        opts.files,
        opts.file_size,
        opts.seed,
        opts.date_prefix,
        on_file=progress.uploaded,
    )
    timings["upload_s"] = uploaded.seconds
    final = drain(project, settings, opts.files, progress, opts.stall_timeout_s)
    timings["drain_s"] = time.monotonic() - t1
    write_run(run_dir, ended_at=time.time(), records=uploaded.records, bytes_landed=uploaded.bytes)
    verdict, timings["validate_s"] = validate_all(project, progress)
    timings["total_s"] = time.monotonic() - t0
    # After a wipe, the bucket holds exactly what was generated: the accounting must agree.
    generator_agrees = opts.keep_data or verdict["records_in"] == uploaded.records
    result = {
        "pass": bool(verdict["pass"]) and verdict["records_out"] > 0 and generator_agrees,
        "endpoint": project.target.endpoint,
        "target": project.target.name,
        "engine_log": engine.log if engine else None,
        "files": opts.files,
        "file_size_bytes": opts.file_size,
        "batch_size": settings.batch_size,
        "bytes_landed": uploaded.bytes,
        "records_generated": uploaded.records,
        "generator_agrees_with_validation": generator_agrees,
        "upload_files_per_s": round(uploaded.files_per_s, 2),
        "end_to_end_files_per_s": round(opts.files / timings["drain_s"], 2) if timings["drain_s"] else None,
        "manifests_by_status": final.manifests,
        "dlq_messages": final.dlq_visible,
        "deploy_changes": deploy_changes(fresh),
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "run_dir": str(run_dir),
        "validation": verdict,
    }
    (run_dir / "demo.json").write_text(json.dumps(result, indent=2, default=str))
    return result
