"""`sim demo`: the main job. Start the engine, deploy, land generated files, wait until they are
converted, validate every record, and summarise.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from sim.core import contract
from sim.core.runs import write_run
from sim.infra.project import Project
from sim.jobs.steps import drain, finish, open_run, watch_cpu
from sim.ops import diskspace
from sim.ops.checking import check_early, validate_all
from sim.ops.fresh import fresh_pipeline
from sim.ops.progress import Progress
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
    early_check: bool = True  # outputs checked as their workflows succeed (sim/validate/early.py)


def run(project: Project, opts: DemoOptions, progress: Progress) -> contract.Demo:
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    fresh = fresh_pipeline(project, batch_size=opts.batch_size, keep_data=opts.keep_data, phase=progress.phase)
    timings["setup_s"] = time.monotonic() - t0
    diskspace.check_run(project, opts.files, opts.file_size, "the demo")
    run_dir = open_run("demo", fresh, opts.files, opts.file_size)
    progress.phase(f"landing {opts.files} files")
    t1 = time.monotonic()
    watch = watch_cpu(fresh)
    early = check_early(project, fresh.wiring) if opts.early_check else None
    try:
        uploaded = upload_generated(project.target.client("s3", max_pool=16), project.names.landing_bucket,
                                    opts.files, opts.file_size, opts.seed, opts.date_prefix, on_file=progress.uploaded)
        timings["upload_s"] = uploaded.seconds
        final = drain(fresh, opts.files, progress, opts.stall_timeout_s)
        timings["drain_s"] = time.monotonic() - t1
        write_run(run_dir, ended_at=time.time(), records=uploaded.records, bytes_landed=uploaded.bytes)
        verdict, timings["validate_s"] = validate_all(project, progress, early)
        # what the user waits for once the last file is up: the drain, then the rest of validation
        timings["verdict_after_last_upload_s"] = time.monotonic() - t1 - uploaded.seconds
    finally:
        if early is not None:
            early.close()
        cpu_s = watch.stop()
    timings["total_s"] = time.monotonic() - t0
    # After a wipe, the bucket holds exactly what was generated: the accounting must agree.
    generator_agrees = opts.keep_data or verdict["records_in"] == uploaded.records
    return finish("demo", run_dir, fresh, {
        "pass": bool(verdict["pass"]) and verdict["records_out"] > 0 and generator_agrees,
        "engine_log": fresh.engine.log if fresh.engine else None,
        "files": opts.files,
        "file_size_bytes": opts.file_size,
        # files per manifest, where the pipeline reads sim's setting (${ManifestBatchSize}); else unknown
        "batch_size": fresh.settings.batch_size if project.pipeline.uses("ManifestBatchSize") else None,
        "bytes_landed": uploaded.bytes,
        "records_generated": uploaded.records,
        "generator_agrees_with_validation": generator_agrees,
        "upload_files_per_s": round(uploaded.files_per_s, 2),
        "end_to_end_files_per_s": round(opts.files / timings["drain_s"], 2) if timings["drain_s"] else None,
        "cpu_s": cpu_s,  # the uploads are sim's own threads here: `harness`
    }, final, timings, verdict)
