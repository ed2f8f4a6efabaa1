"""Crash the builder at every step boundary, for three orderings and two ways of dying, and judge
what recovery leaves.

Each cell: a clean pipeline with the landing notification detached (so only this builder runs),
one full batch of files landed, the builder's real code run on their S3 events until the crash:
- `exception`: an exception at the boundary, in this process: `finally` blocks run, so the lease
  is given back at once;
- `kill`: the builder runs in a worker process that is SIGKILLed at the boundary, as a Lambda
  worker dies at its timeout: nothing runs after it, the lease stays held until it expires.
Then what AWS and the pipeline do next, on the production timeline scaled down (not zeroed):
the flush (the scheduled sweeper) runs every FLUSH_EVERY_S, SQS redelivers the failed batch once
its visibility timeout has passed, the lease expires after LEASE_S, an open manifest is
abandoned after GRACE_S; workflows convert on the engine. When everything settled, validation
judges the cell, every part of it (see `violations`).

Three more cases, hardened only: the worker killed after StartExecution and recovery only after
that execution CLOSED, as SUCCEEDED and as FAILED (a converter that fails every run of the
first attempt); and a builder that stalls mid-claims past its lease while the flush takes its
manifest over, then resumes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict

from sim.faults.inject import builder_settings, faults_json, in_process_builder
from sim.faults.seed_builder import SeedBuilder
from sim.infra import reset
from sim.ops.watch import workflows_settled
from sim.pipeline import faultpoints
from sim.pipeline.builder import Builder
from sim.pipeline.state import OPEN, REDRIVE, RETRY

ORDERINGS = ("seed-original", "seed-plan", "hardened")
MODES = ("exception", "kill")
# The boundaries each ordering has, in the order it reaches them.
POINTS = {
    "hardened": ("after_track", "after_manifest_record", "mid_claims", "after_claims", "after_manifest_object",
                 "after_start_workflow", "after_mark_started"),
    "seed-original": ("after_track", "after_manifest_record", "mid_claims", "after_claims", "after_manifest_object",
                      "after_start_workflow"),
    "seed-plan": ("after_track", "after_manifest_object", "after_start_workflow", "after_manifest_record",
                  "mid_claims", "after_claims"),
}
# Production: builder timeout 60 s, so the lease and the open-manifest grace are 120 s, the queue's
# visibility timeout 360 s, and the flush runs every minute. Scaled down 60 times, not zeroed.
SCALE = 60
LEASE_S = 120 / SCALE
GRACE_S = 120 / SCALE
VISIBILITY_S = 360 / SCALE
FLUSH_EVERY_S = 60 / SCALE
SETTLE_TIMEOUT_S = 120
DATE = "2026-11-25"


def make_builder(ctx, ordering: str):
    settings = {"open_manifest_grace_s": GRACE_S, "lease_s": LEASE_S}
    if ordering == "hardened":
        return in_process_builder(ctx.target, ctx.wiring, Builder, settings=settings)
    return in_process_builder(ctx.target, ctx.wiring, SeedBuilder, settings=settings, ordering=ordering)


def violations(v: dict) -> list[str]:
    """Everything validation found wrong: DESIGN's invariants 1-3 by name, then every other
    problem it reports (unfinished or failed manifests, missing outputs, rows carrying another
    manifest's id, record counts), and a failed verdict even when no problem is named."""
    out = []
    named = [
        ("duplicated records", v["duplicates"]),
        ("files in no manifest", v["landed_not_in_manifest"]),
        ("records never converted", v["missing"]),
        ("files in two manifests", v["files_in_two_manifests"]),
        ("MANIFEST records without a workflow", v["manifests_without_workflow"] + v["open_manifests"]),
        ("workflows without a MANIFEST record", v["workflows_without_manifest"]),
        ("files claimed by a missing manifest", v["claims_without_manifest"]),
        ("failed workflows", v["manifests_failed"]),
        ("manifests not finished", v["manifests_unfinished"]),
    ]
    out += [f"{label}: {n}" for label, n in named if n]
    covered = ("duplicates records", "landed files in no manifest", "missing records", "files in two manifests",
               "manifests without a workflow", "manifests left open", "workflows without a MANIFEST",
               "files claimed by a missing manifest", "failed manifests", "manifests not finished")
    out += [f"validation: {p}" for p in v.get("problems", []) if not p.startswith(covered)]
    if not v["pass"] and not out:
        out.append("validation did not pass")
    return out


def _clean(ctx) -> None:
    """A clean pipeline, the same deployment: wipe the data, recreate the state machine."""
    reset.wipe(ctx.target, ctx.names, ctx.wiring.state_machine_arn())
    ctx.deployer.apply()
    ctx.target.client("s3").put_bucket_notification_configuration(
        Bucket=ctx.names.landing_bucket, NotificationConfiguration={})


def _land(ctx, files: int) -> tuple[list[str], list[dict]]:
    up = ctx.land_generated(files, size=2048, seed=17, date_prefix=DATE)
    return up.keys, ctx.sqs_records(up.keys)


def _state_dir(ctx, name: str) -> str:
    path = ctx.project.workdir / "faults" / f"{name}-{time.time_ns()}"
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def _crash(ctx, ordering: str, point: str, mode: str, records: list[dict]) -> bool:
    """Run the batch until the crash; True when the builder died at `point`."""
    faults = {"crash_at": point, "state_dir": _state_dir(ctx, f"{ordering}-{point}")}
    if mode == "exception":
        faultpoints.configure(faults)
        try:
            make_builder(ctx, ordering).handle_sqs(records)
        except faultpoints.InjectedCrash:
            return True
        finally:
            faultpoints.configure(None)
        return False
    settings = builder_settings(ctx.wiring, open_manifest_grace_s=GRACE_S, lease_s=LEASE_S)
    job = {"target": {"name": ctx.target.name, "endpoint": ctx.target.endpoint, "region": ctx.target.region},
           "ordering": ordering, "settings": asdict(settings), "faults": {**faults, "crash_mode": "kill"},
           "records": records}
    proc = subprocess.run([sys.executable, "-m", "sim.faults.worker"], input=json.dumps(job), text=True,
                          capture_output=True, timeout=120, env={**os.environ, "SIM_FAULTS": ""})
    if proc.returncode not in (0, -9):
        raise RuntimeError(f"the builder worker failed: {proc.stderr[-2000:]}")
    return proc.returncode == -9


def _settled(ctx, ordering: str) -> bool:
    b = make_builder(ctx, ordering)
    if b.state.pending_files(DATE, limit=1):
        return False
    if any(b.state.flagged(flag) for flag in (OPEN, REDRIVE, RETRY)):
        return False
    return workflows_settled(ctx.target, ctx.wiring.state_machine_arn())


def recover(ctx, ordering: str, records: list[dict], redeliver: bool, started: float) -> dict:
    """The pipeline after a crash at `started`: the flush every FLUSH_EVERY_S, the batch
    redelivered once VISIBILITY_S passed; until nothing is left to do."""
    redelivered, flushes, errors = not redeliver, 0, []
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        if not redelivered and time.monotonic() - started >= VISIBILITY_S:
            make_builder(ctx, ordering).handle_sqs(records)
            redelivered = True
        try:
            make_builder(ctx, ordering).flush(0.0)
            flushes += 1
        except Exception as exc:  # noqa: BLE001 - a failing sweeper is evidence, not a crash of the matrix
            errors.append(f"{type(exc).__name__}: {exc}")
        if redelivered and _settled(ctx, ordering):
            break
        time.sleep(FLUSH_EVERY_S)
    return {"flushes": flushes, "redelivered": redelivered, "settle_s": round(time.monotonic() - started, 1),
            "sweeper_errors": errors[:3]}


def _judge(ctx, row: dict) -> dict:
    ctx.wait_workflows(timeout=120)
    v = ctx.validate()
    row.update({"violations": violations(v), "manifests": v["manifests"], "workflows": v["workflows"],
                "redrives": v["redrives"], "records_in": v["records_in"], "records_out": v["records_out"]})
    return row


def run_cell(ctx, ordering: str, point: str, files: int, mode: str = "exception") -> dict:
    _clean(ctx)
    _, records = _land(ctx, files)
    crashed = _crash(ctx, ordering, point, mode, records)
    timeline = recover(ctx, ordering, records, redeliver=crashed, started=time.monotonic())
    return _judge(ctx, {"ordering": ordering, "crash_point": point, "mode": mode, "crashed": crashed, **timeline})


def closed_execution_cell(ctx, files: int, outcome: str) -> dict:
    """Kill the worker right after StartExecution and recover only after that execution CLOSED."""
    if outcome == "FAILED":  # every run of the first attempt fails; the redrive's runs succeed
        runs = ctx.wiring.settings.conversion_max_runs
        ctx.fresh(faults=faults_json(ctx.project.workdir, crash_at="converter_after_upload", crash_times=runs),
                  conversion_retry_wait_s=1)
    _clean(ctx)
    _, records = _land(ctx, files)
    crashed = _crash(ctx, "hardened", "after_start_workflow", "kill", records)
    started = time.monotonic()
    ctx.wait_workflows(timeout=180)
    sfn = ctx.target.client("stepfunctions")
    closed = [e["status"] for e in sfn.list_executions(stateMachineArn=ctx.wiring.state_machine_arn())["executions"]]
    b = make_builder(ctx, "hardened")
    statuses = sorted(i["status"] for i in b.state.table.scan()["Items"] if i.get("record_type") == "MANIFEST")
    timeline = recover(ctx, "hardened", records, redeliver=crashed, started=started)
    row = _judge(ctx, {"ordering": "hardened", "crash_point": "after_start_workflow", "mode": "kill",
                       "crashed": crashed, "recovered_after": f"execution closed {outcome}",
                       "executions_closed": closed, "manifest_status_before_recovery": statuses, **timeline})
    if outcome == "FAILED":  # no fault left behind (a deploy without faults keeps the Glue job's argument)
        ctx.fresh(faults=faults_json(ctx.project.workdir))
    if closed != [outcome]:
        row["violations"].append(f"the execution closed {closed}, not {outcome}: the case was not set up")
    return row


def stalled_past_lease_case(ctx, files: int) -> dict:
    """A builder stalls mid-claims past its lease and the grace; the flush takes its manifest
    over (seals it, converts what it holds); the builder resumes, and claims nothing more."""
    _clean(ctx)
    _, records = _land(ctx, files)
    stall = LEASE_S + GRACE_S + 3 * FLUSH_EVERY_S
    state_dir = _state_dir(ctx, "stall")
    faultpoints.configure({"pause_at": "mid_claims", "pause_s": stall, "state_dir": state_dir})
    result: dict = {}

    def stalled():
        try:
            make_builder(ctx, "hardened").handle_sqs(records)
        except Exception as exc:  # noqa: BLE001
            result["error"] = f"{type(exc).__name__}: {exc}"

    worker = threading.Thread(target=stalled)
    started = time.monotonic()
    worker.start()
    taken_over: list[str] = []
    try:
        paused = os.path.join(state_dir, "pause-mid_claims.0")  # faultpoints' mark: the stall began
        ctx.until(lambda: os.path.exists(paused) or not worker.is_alive(), timeout=60, every=0.05,
                  what="the builder to stall mid-claims")
        while worker.is_alive():  # the scheduled flush: a young partial batch is left to wait
            taken_over += make_builder(ctx, "hardened").flush(3600)["recovered"]
            time.sleep(FLUSH_EVERY_S)
        worker.join()
    finally:
        faultpoints.configure(None)
    timeline = recover(ctx, "hardened", records, redeliver=False, started=started)
    row = _judge(ctx, {"ordering": "hardened", "crash_point": "mid_claims", "mode": "stall",
                       "stalled_s": stall, "taken_over_by_flush": taken_over, **timeline})
    if "error" in result:
        row["violations"].append(f"the stalled builder failed: {result['error']}")
    if not taken_over:
        row["violations"].append("the flush never took the stalled builder's manifest over: the case was not set up")
    return row
