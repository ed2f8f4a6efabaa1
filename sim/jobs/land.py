"""`sim land`: the user's own NDJSON through the pipeline. Land the files or folders given (under a
date prefix, keeping their relative names), wait until they are converted, validate every record.

This is how a data engineer asks "does the pipeline keep MY data?" without writing a script: the
verdict is the same record-by-record, value-by-value validation as `sim demo`'s.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field

from sim.core.errors import SimError
from sim.core.runs import new_run_dir, write_run
from sim.infra.project import Project
from sim.jobs.demo import deploy_changes, drain, validate_all
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


def check_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise SimError(f"--date must be a date like 2026-11-25, not {text!r}") from None


def choose(opts: LandOptions) -> Selection:
    """The files to land and their keys; every problem with the paths is an error here, before
    anything is started or landed."""
    return select(opts.paths, opts.prefix, check_date(opts.date_prefix))


def run(project: Project, opts: LandOptions, chosen: Selection, progress: Progress) -> dict:
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    fresh = fresh_pipeline(project, batch_size=opts.batch_size, keep_data=opts.keep_data, phase=progress.phase)
    settings = fresh.settings
    timings["setup_s"] = time.monotonic() - t0
    run_dir = new_run_dir("land")
    write_run(run_dir, kind="land", started_at=time.time(), files=len(chosen.files), file_size_bytes=chosen.bytes // len(chosen.files),
              batch_size=settings.batch_size, target=project.target.name, endpoint=project.target.endpoint,
              workdir=str(project.workdir), telemetry_file=settings.telemetry_file)
    progress.phase(f"landing {len(chosen.files)} files ({chosen.bytes} bytes)")
    t1 = time.monotonic()
    uploaded = upload_files(project.target.client("s3", max_pool=16), project.names.landing_bucket, chosen.files,
                            on_file=progress.uploaded)
    timings["upload_s"] = uploaded.seconds
    final = drain(project, settings, len(chosen.files), progress)
    timings["drain_s"] = time.monotonic() - t1
    write_run(run_dir, ended_at=time.time(), bytes_landed=uploaded.bytes)
    verdict, timings["validate_s"] = validate_all(project, progress)
    timings["total_s"] = time.monotonic() - t0
    result = {
        "pass": bool(verdict["pass"]),
        "endpoint": project.target.endpoint,
        "target": project.target.name,
        "files": len(chosen.files),
        "bytes_landed": uploaded.bytes,
        "keys": {str(f.path): f.key for f in chosen.files},
        "skipped": [{"path": p, "reason": r} for p, r in chosen.skipped],
        "not_ndjson": [{"path": p, "reason": r} for p, r in chosen.doubtful],
        "manifests_by_status": final.manifests,
        "dlq_messages": final.dlq_visible,
        "deploy_changes": deploy_changes(fresh),
        "timings": {k: round(v, 2) for k, v in timings.items()},
        "run_dir": str(run_dir),
        "validation": verdict,
    }
    (run_dir / "land.json").write_text(json.dumps(result, indent=2, default=str))
    return result
