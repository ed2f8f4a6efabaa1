"""The engine's raw S3 PUT ceiling: closed-loop PUTs of the file size into a scratch bucket with no
notification, so nothing downstream competes. `sim bench` reports it; `sim load` measures it in the
same run before its load, so a missed target can be laid against it."""

from __future__ import annotations

from pathlib import Path

from sim.core.stats import percentiles
from sim.infra import aws
from sim.infra.project import Project
from sim.load import locust_run, shapes
from sim.load.measure import read_uploads

CEILING_USERS = 16  # the locustfile's closed-loop user count (users_for, profile "ceiling")


def measure(project: Project, file_size: int, seconds: float, out_dir: Path, seed: int = 7, workers: int = 1,
            pool_files: int = 16) -> dict:
    """Closed-loop PUTs for `seconds` into `<prefix>-bench-scratch`, then the bucket is removed."""
    s3 = project.target.client("s3")
    bucket = f"{project.names.prefix}-bench-scratch"
    aws.remove_bucket(s3, bucket)
    s3.create_bucket(Bucket=bucket)
    try:
        job = locust_run.LocustJob(out_dir=out_dir, endpoint=project.target.endpoint, bucket=bucket,
                                   profile="ceiling", duration_s=seconds, file_size=file_size,
                                   seed=seed, workers=workers, extra=["--sim-pool-files", str(pool_files)])
        outcome = locust_run.run(job, seconds + locust_run.START_MARGIN_S)
        shape = shapes.ClosedLoop(duration_s=seconds)
        up = read_uploads(job.upload_dir, shape.window, keep_keys=False)
    finally:
        aws.remove_bucket(s3, bucket)
    return {"files_per_s": round(up.achieved_files_per_s, 3), "files": up.ok, "failed": up.failed,
            "seconds": seconds, "users": up.processes[0].get("users") if up.processes else None,
            "upload_ms": percentiles(up.latencies_ms, digits=1), "locust_exit_code": outcome.exit_code,
            "bucket": bucket}
