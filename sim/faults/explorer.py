"""The crash explorer: kill a pipeline's builder between every two AWS calls it makes, let the
pipeline recover as AWS and its own code would, and judge what is left.

1. On a clean pipeline, one builder invocation is run on one batch of landed files (the S3
   notification detached, so this invocation is the only builder), with every AWS call recorded
   by the fault bundle (sim/inject): that sequence is the invocation's boundaries (boundaries.py).
2. For each boundary and each way of dying, from a clean pipeline again: the same invocation, the
   builder stopped at that boundary (`kill`: SIGKILL, nothing after it runs; `exception`: an
   exception raised there, so the code's own `finally` and handlers run); then what happens next
   on AWS, on the production timeline scaled down: the failed batch redelivered once its visibility
   timeout passed, and the pipeline's own flush schedule every FLUSH_EVERY_S (only when the
   description has one); once nothing moves, the flush event once more, as at the end of a day.
3. Validation judges the cell: the multiset for any pipeline, and `sim`'s own state checks for its
   own (files in two manifests, orphans, open manifests).

Works the same on any described pipeline: nothing here knows the builder's code or schema.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sim.faults.boundaries import Boundary, boundaries, calls_of

# How the builder dies at a boundary (the crash matrix's contract names): by an exception (the
# bundle's `raise`: its own handlers and `finally` blocks run), or killed (SIGKILL: nothing runs).
MODES = ("exception", "kill")
ACTIONS = {"exception": "raise", "kill": "kill"}
# Production: builder timeout 60 s, so the lease and the open-manifest grace are 120 s, the queue's
# visibility timeout 360 s, and the flush runs every minute. Scaled down 120 times, not zeroed.
SCALE = 120
LEASE_S = 120 / SCALE
VISIBILITY_S = 360 / SCALE
FLUSH_EVERY_S = 60 / SCALE
SETTLE_TIMEOUT_S = 150
QUIET_FLUSHES = 3  # flushes in a row that start nothing, with nothing running: settled
DATE = "2026-11-25"


@dataclass
class Batch:
    keys: list[str]
    records: int
    event: dict  # the SQS event the builder is invoked with


def timings(ctx) -> dict:
    """Settings for the scaled timeline: the lease (or lock) lifetime a description reads from
    ${LeaseSeconds} (sim's builder: its lease and open-manifest grace), and a flush that builds a
    partial batch at once (its production wait, an hour, scaled down is still longer than a cell
    needs: a partial batch a crash left behind would wait it out; ${FlushMaxWaitSeconds}).
    Lifetimes a pipeline keeps in its code are not scaled: they run at production speed.

    The engine's own flush schedule is not deployed: `recover` sends the flush on the scaled
    timeline itself. The engine's schedule fires on the minute whatever a cell is doing, and a
    flush it sent while one invocation was being recorded was once recorded instead of it (its
    calls replayed as the cell's boundaries), or took a cell's fault."""
    return {"lease_s": LEASE_S, "flush_max_wait_s": 0, "flush_schedule": ""}


def _scheduled(ctx) -> bool:
    """Whether the pipeline describes a flush schedule (played by `recover`, not the engine)."""
    b = ctx.pipeline.builder
    return bool(b.flush_schedule) and b.flush_event is not None


def _prepare(ctx, files: int, rules: list[dict] | None, record: bool, batch_size: int, **overrides) -> Batch:
    """A clean pipeline with these rules (and settings), the notification detached, one batch landed."""
    ctx.fresh(rules=rules or [], record=record, batch_size=batch_size, **{**timings(ctx), **overrides})
    ctx.target.client("s3").put_bucket_notification_configuration(
        Bucket=ctx.names.landing_bucket, NotificationConfiguration={})
    up = ctx.land_generated(files, size=2048, seed=17, date_prefix=DATE)
    return Batch(up.keys, up.records, {"Records": ctx.sqs_records(up.keys)})


def _invoke(ctx, event: dict) -> dict:
    lam = ctx.target.client("lambda")
    resp = lam.invoke(FunctionName=ctx.names.builder_function, Payload=json.dumps(event).encode())
    body = resp["Payload"].read()
    return {"error": resp.get("FunctionError"), "payload": body[:500].decode("utf-8", "replace")}


def record_invocation(ctx, files: int) -> tuple[list, dict]:
    """The calls one clean builder invocation makes, and that clean run's own judgement."""
    batch = _prepare(ctx, files, None, True, files)
    answer = _invoke(ctx, batch.event)
    # Calls made while the code was imported (invocation "<pid>.0") belong to no invocation.
    recorded = [c for c in ctx.calls() if c["process"] == "builder" and not str(c.get("invocation")).endswith(".0")]
    calls = calls_of(recorded)
    others = sorted({c.get("invocation") for c in recorded} - {recorded[0].get("invocation")}) if recorded else []
    timeline = recover(ctx, batch, redeliver=False, started=time.monotonic())
    row = judge(ctx, {"boundary": "none (a clean invocation)", "mode": "none", "calls": len(calls),
                      "invocation_error": answer["error"], **timeline}, batch)
    if others:  # its calls and another's cannot be told apart: the boundaries would be a guess
        row["violations"].append(f"{len(others)} other builder invocation(s) made AWS calls while the clean "
                                 "invocation was recorded: the boundaries were not set up")
    return calls, row


def recover(ctx, batch: Batch, redeliver: bool, started: float) -> dict:
    """AWS and the pipeline after a crash at `started`: the batch redelivered once VISIBILITY_S
    passed, the pipeline's flush schedule (if it has one) every FLUSH_EVERY_S; once nothing moves,
    its flush event once more (the end of a day), and again until nothing moves."""
    redelivered, flushes, errors, quiet = not redeliver, 0, [], 0
    scheduled = _scheduled(ctx)
    has_flush = ctx.pipeline.builder.flush_event is not None
    watcher = ctx.watcher()
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    last, final_flush = None, not has_flush

    max_wait = ctx.wiring.settings.flush_max_wait_s

    def flush() -> None:
        nonlocal flushes
        try:
            answer = watcher.flush(max_wait)
            flushes += 1
            if isinstance(answer, dict) and answer.get("failed"):
                errors.append(f"the flush failed: {str(answer.get('error'))[:200]}")
        except Exception as exc:  # noqa: BLE001 - a failing flush is evidence, not a crash of the explorer
            errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    while time.monotonic() < deadline:
        if not redelivered and time.monotonic() - started >= VISIBILITY_S:
            answer = _invoke(ctx, batch.event)
            if answer["error"]:
                errors.append(f"redelivery: {answer['payload'][:200]}")
            redelivered = True
        if scheduled:
            flush()
        snap = watcher.snapshot()
        state = (snap.key(), snap.manifests_open)
        quiet = quiet + 1 if redelivered and snap.manifests_open == 0 and state == last else 0
        last = state
        if quiet >= QUIET_FLUSHES:
            if final_flush:
                break
            flush()  # the end of a day: what is still pending goes now
            final_flush, quiet, last = True, 0, None
        time.sleep(FLUSH_EVERY_S)
    return {"flushes": flushes, "redelivered": redelivered and redeliver,
            "settle_s": round(time.monotonic() - started, 1), "recovery_errors": errors[:3]}


def violations(v: dict) -> list[str]:
    """What validation found wrong, by name (the crash matrix's vocabulary), then every other
    problem it reports; a failed verdict even when no problem is named."""
    named = [
        ("duplicated records", v.get("duplicates")),
        ("records never converted", v.get("missing")),
        ("altered records", v.get("altered")),
        ("files in no manifest", v.get("landed_not_in_manifest")),
        ("files in two manifests", v.get("files_in_two_manifests")),
        ("MANIFEST records without a workflow",
         (v.get("manifests_without_workflow") or 0) + (v.get("open_manifests") or 0)),
        ("workflows without a MANIFEST record", v.get("workflows_without_manifest")),
        ("files claimed by a missing manifest", v.get("claims_without_manifest")),
        ("failed workflows", v.get("manifests_failed")),
        ("manifests not finished", v.get("manifests_unfinished")),
    ]
    out = [f"{label}: {n}" for label, n in named if n]
    covered = ("duplicates records", "duplicated records", "landed files in no manifest", "missing records",
               "files in two manifests", "manifests without a workflow", "manifests left open",
               "workflows without a MANIFEST", "files claimed by a missing manifest", "failed manifests",
               "manifests not finished", "failed workflow executions", "workflow executions still running",
               "records never converted", "altered records", "duplicated", "missing")
    out += [f"validation: {p}" for p in v.get("problems", []) if not p.startswith(covered)]
    if not v["pass"] and not out:
        out.append("validation did not pass")
    return out


def judge(ctx, row: dict, batch: Batch) -> dict:
    ctx.wait_workflows(timeout=120)
    v = ctx.validate()
    row.update({"violations": violations(v), "workflows": v["workflows"], "records_landed": batch.records,
                "records_in": v["records_in"], "records_out": v["records_out"]})
    if v["records_in"] != batch.records:
        row["violations"].append(f"validation counted {v['records_in']} records in, {batch.records} were landed")
    return row


def run_cell(ctx, boundary: Boundary, mode: str, files: int, label: str) -> dict:
    """One boundary, one way of dying, from a clean pipeline; the judged row. An exception the
    builder's own code catches is its choice: the invocation goes on, and the row says so."""
    batch = _prepare(ctx, files, [boundary.rule("builder", ACTIONS[mode])], True, files)
    answer = _invoke(ctx, batch.event)
    fired = any(c.get("injected") for c in ctx.calls() if c["process"] == "builder") or (
        boundary.after is None and boundary.before is None)
    crashed = bool(answer["error"]) and fired
    timeline = recover(ctx, batch, redeliver=crashed, started=time.monotonic())
    row = judge(ctx, {"ordering": label, "boundary": boundary.name, "crash_point": boundary.name, "mode": mode,
                      "index": boundary.index, "reached": fired, "crashed": crashed, **timeline}, batch)
    if fired and not crashed:
        row["caught"] = "the builder's code caught the exception and the invocation went on"
    if not fired:
        row["violations"].append("the fault never fired at the boundary: the cell was not set up")
    return row


def explore(ctx, label: str, files: int, modes: tuple[str, ...] = MODES,
            progress=lambda _m: None) -> dict:
    """Every boundary of one clean invocation, in every mode: the table, with the clean run first."""
    calls, clean = record_invocation(ctx, files)
    clean["ordering"] = label
    rows = []
    for b in boundaries(calls):
        for mode in modes:
            progress(f"  {label}: {mode} {b.name}")
            rows.append(run_cell(ctx, b, mode, files, label))
    return {"ordering": label, "calls": [c.label for c in calls], "clean": clean, "rows": rows}
