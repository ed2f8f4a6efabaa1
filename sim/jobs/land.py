"""`sim land`: the user's own NDJSON through the pipeline. Land the files or folders given (under a
date prefix, keeping their relative names), wait until they are converted, validate every record.

This is how a data engineer asks "does the pipeline keep MY data?" without writing a script: the
verdict is the same record-by-record, value-by-value validation as `sim demo`'s.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from sim.core import contract
from sim.core.errors import SimError
from sim.core.runs import write_run
from sim.infra.project import Project
from sim.jobs.steps import drain, finish, open_run, watch_cpu
from sim.ops import diskspace
from sim.ops.checking import check_early, validate_all
from sim.ops.fresh import fresh_pipeline
from sim.ops.progress import Progress
from sim.workload.localfiles import Selection, select
from sim.workload.upload import upload_files


@dataclass
class LandOptions:
    paths: list[str]
    prefix: str = "incoming"
    date_prefix: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date().isoformat())
    keep_data: bool = False
    batch_size: int | None = None
    early_check: bool = True  # outputs checked as their workflows succeed (sim/validate/early.py)


def check_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise SimError(f"--date must be a date like 2026-11-25, not {text!r}") from None


def choose(opts: LandOptions) -> Selection:
    """The files to land and their keys; every problem with the paths is an error here, before
    anything is started or landed."""
    return select(opts.paths, opts.prefix, check_date(opts.date_prefix))


def run(project: Project, opts: LandOptions, chosen: Selection, progress: Progress) -> contract.Land:
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    fresh = fresh_pipeline(project, batch_size=opts.batch_size, keep_data=opts.keep_data, phase=progress.phase)
    timings["setup_s"] = time.monotonic() - t0
    diskspace.check_run(project, len(chosen.files), chosen.bytes // len(chosen.files), "landing these files")
    run_dir = open_run("land", fresh, len(chosen.files), chosen.bytes // len(chosen.files))
    progress.phase(f"landing {len(chosen.files)} files ({chosen.bytes} bytes)")
    t1 = time.monotonic()
    watch = watch_cpu(fresh)
    early = check_early(project, fresh.wiring) if opts.early_check else None
    try:
        uploaded = upload_files(project.target.client("s3", max_pool=16), project.names.landing_bucket, chosen.files,
                                on_file=progress.uploaded)
        timings["upload_s"] = uploaded.seconds
        final = drain(fresh, len(chosen.files), progress)
        timings["drain_s"] = time.monotonic() - t1
        write_run(run_dir, ended_at=time.time(), bytes_landed=uploaded.bytes)
        verdict, timings["validate_s"] = validate_all(project, progress, early)
        # what the user waits for once the last file is up: the drain, then the rest of validation
        timings["verdict_after_last_upload_s"] = time.monotonic() - t1 - uploaded.seconds
    finally:
        if early is not None:
            early.close()
        cpu_s = watch.stop()
    timings["total_s"] = time.monotonic() - t0
    return finish("land", run_dir, fresh, {
        "pass": bool(verdict["pass"]),
        "files": len(chosen.files),
        "bytes_landed": uploaded.bytes,
        "keys": {str(f.path): f.key for f in chosen.files},
        "skipped": [{"path": p, "reason": r} for p, r in chosen.skipped],
        "not_ndjson": [{"path": p, "reason": r} for p, r in chosen.doubtful],
        "cpu_s": cpu_s,  # the uploads are sim's own threads here: `harness`
    }, final, timings, verdict)
