"""Crash the builder at every step boundary, for three orderings, and judge what recovery leaves.

Each cell: a clean pipeline with the landing notification detached (so only this builder runs),
one full batch of files landed, the builder's real code run in-process with its S3 events until
the injected crash; then what AWS and the pipeline do next: SQS redelivers the failed batch, the
flush (scheduled sweeper) runs; workflows convert on the engine; validation checks DESIGN's
invariants 1-3. A crash is an exception at the boundary: `finally` blocks still run, so the lease
is given back at once instead of expiring (that changes when recovery can start, not what it does),
and the sweeper treats the crashed builder's open manifest as abandoned without waiting.
"""

from __future__ import annotations

from sim.faults.inject import in_process_builder
from sim.faults.seed_builder import SeedBuilder
from sim.pipeline import faultpoints
from sim.pipeline.builder import Builder

ORDERINGS = ("seed-original", "seed-plan", "hardened")
# The boundaries each ordering has, in the order it reaches them.
POINTS = {
    "hardened": ("after_track", "after_manifest_record", "mid_claims", "after_claims", "after_manifest_object",
                 "after_start_workflow", "after_mark_started"),
    "seed-original": ("after_track", "after_manifest_record", "mid_claims", "after_claims", "after_manifest_object",
                      "after_start_workflow"),
    "seed-plan": ("after_track", "after_manifest_object", "after_start_workflow", "after_manifest_record",
                  "mid_claims", "after_claims"),
}


def make_builder(ctx, ordering: str):
    settings = {"open_manifest_grace_s": 0.0}
    if ordering == "hardened":
        return in_process_builder(ctx.target, ctx.wiring, Builder, settings=settings)
    return in_process_builder(ctx.target, ctx.wiring, SeedBuilder, settings=settings, ordering=ordering)


def violations(v: dict) -> list[str]:
    """DESIGN's invariants 1-3, read off a validation result."""
    out = []
    if v["duplicates"]:
        out.append(f"duplicated records: {v['duplicates']}")
    if v["landed_not_in_manifest"]:
        out.append(f"files in no manifest: {v['landed_not_in_manifest']}")
    if v["missing"]:
        out.append(f"records never converted: {v['missing']}")
    if v["files_in_two_manifests"]:
        out.append(f"files in two manifests: {v['files_in_two_manifests']}")
    orphan_manifests = v["manifests_without_workflow"] + v["open_manifests"]
    if orphan_manifests:
        out.append(f"MANIFEST records without a workflow: {orphan_manifests}")
    if v["workflows_without_manifest"]:
        out.append(f"workflows without a MANIFEST record: {v['workflows_without_manifest']}")
    if v["claims_without_manifest"]:
        out.append(f"files claimed by a missing manifest: {v['claims_without_manifest']}")
    if v["manifests_failed"]:
        out.append(f"failed workflows: {v['manifests_failed']}")
    return out


def run_cell(ctx, ordering: str, point: str, files: int) -> dict:
    ctx.fresh()
    ctx.target.client("s3").put_bucket_notification_configuration(
        Bucket=ctx.names.landing_bucket, NotificationConfiguration={})
    up = ctx.land_generated(files, size=2048, seed=17, date_prefix="2026-11-25")
    records = ctx.sqs_records(up.keys)
    faultpoints.configure({"crash_at": point, "state_dir": str(ctx.project.workdir / "faults" / f"{ordering}-{point}")})
    crashed = False
    try:
        make_builder(ctx, ordering).handle_sqs(records)
    except faultpoints.InjectedCrash:
        crashed = True
    finally:
        faultpoints.configure(None)
    if crashed:  # the invocation failed: SQS delivers the whole batch again
        make_builder(ctx, ordering).handle_sqs(records)
    make_builder(ctx, ordering).flush(0.0)  # the scheduled sweeper
    ctx.wait_workflows(timeout=120)
    v = ctx.validate()
    return {
        "ordering": ordering,
        "crash_point": point,
        "crashed": crashed,
        "violations": violations(v),
        "manifests": v["manifests"],
        "workflows": v["workflows"],
        "records_in": v["records_in"],
        "records_out": v["records_out"],
    }
