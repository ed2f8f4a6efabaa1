"""workflow-retry: failed conversions are retried by the pipeline itself, boundedly."""

from sim.faults.inject import faults_json
from sim.ops.redrive import redrive

NAME = "workflow-retry"
ORDER = 9
DESCRIPTION = ("a converter that fails twice then succeeds is retried without a person (a rerun inside the "
               "workflow, then the flush's redrive); one that always fails ends failed after the stated attempts, "
               "alarmed, and `sim redrive` after the fault is lifted converts it once; never two runs at once")
FILES = 5
RUNS = 2  # converter runs per execution
ATTEMPTS = 3  # executions per manifest before it stays failed (the default)


def _executions(ctx) -> list[dict]:
    sfn = ctx.target.client("stepfunctions")
    out = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=ctx.wiring.state_machine_arn()):
        out += page["executions"]
    return sorted(out, key=lambda e: e["startDate"])


def _overlaps(executions: list[dict]) -> list[str]:
    """Executions of one manifest that ran at the same time (there must be none)."""
    found, by_manifest = [], {}
    for e in executions:
        by_manifest.setdefault(e["name"].split("--redrive-", 1)[0], []).append(e)
    for runs in by_manifest.values():
        for a, b in zip(runs, runs[1:]):
            if a.get("stopDate") is None or b["startDate"] < a["stopDate"]:
                found.append(f"{a['name']} and {b['name']}")
    return found


def _manifest(ctx) -> dict:
    items = [i for i in ctx.target.session.resource("dynamodb", endpoint_url=ctx.target.endpoint)
             .Table(ctx.names.table).scan()["Items"] if i.get("record_type") == "MANIFEST"]
    return items[0] if len(items) == 1 else {"manifests": len(items)}


def _flush_until(ctx, done, timeout: float = 240.0) -> int:
    """What the per-minute flush schedule does, sooner: flush until `done()` holds."""
    watcher, flushes = ctx.watcher(), []

    def settled() -> bool:
        if done():
            return True
        ctx.wait_workflows(timeout=120)
        flushes.append(watcher.flush(3600))
        return False

    ctx.until(settled, timeout=timeout, every=1, what="the retries to settle")
    return len(flushes)


def _fails_twice(ctx) -> dict:
    ctx.fresh(faults=faults_json(ctx.project.workdir, crash_at="converter_after_upload", crash_times=2),
              conversion_max_runs=RUNS, conversion_retry_wait_s=1, max_attempts=ATTEMPTS)
    up = ctx.land_generated(FILES, size=2048, seed=91)
    ctx.wait(FILES, stall_timeout_s=120)
    flushes = _flush_until(ctx, lambda: _manifest(ctx).get("status") == "succeeded")
    ctx.wait_workflows(timeout=120)
    v, item, runs = ctx.validate(), _manifest(ctx), _executions(ctx)
    return {"records_generated": up.records, "flushes": flushes, "status": item.get("status"),
            "attempt": int(item.get("attempt", 0)), "executions": [(e["name"], e["status"]) for e in runs],
            "overlapping_runs": _overlaps(runs), "pass": v["pass"], "records_out": v["records_out"],
            "duplicates": v["duplicates"], "missing": v["missing"]}


def _always_fails(ctx) -> dict:
    ctx.fresh(faults=faults_json(ctx.project.workdir, crash_at="converter_after_upload", crash_times=1000),
              conversion_max_runs=RUNS, conversion_retry_wait_s=1, max_attempts=ATTEMPTS)
    ctx.target.client("cloudwatch").set_alarm_state(AlarmName=ctx.names.alarm("failed-workflows"), StateValue="OK",
                                                    StateReason="scenario start")
    inbox = ctx.inbox()
    up = ctx.land_generated(FILES, size=2048, seed=92)
    ctx.wait(FILES, stall_timeout_s=120)
    flushes = _flush_until(ctx, lambda: _manifest(ctx).get("retries_exhausted_at") is not None)
    ctx.wait_workflows(timeout=120)
    item, runs_before = _manifest(ctx), _executions(ctx)
    alarm = ctx.await_alarm(inbox, ctx.names.alarm("failed-workflows"))
    # One more flush after the last attempt starts nothing.
    ctx.watcher().flush(3600)
    ctx.wait_workflows(timeout=60)
    after_extra_flush = len(_executions(ctx))
    # The fault lifted: a fault configuration with no fault in it (a deploy without one leaves the
    # Glue job's old SIM_FAULTS argument in place: it only adds and changes arguments).
    ctx.redeploy(faults=faults_json(ctx.project.workdir), conversion_max_runs=RUNS, conversion_retry_wait_s=1,
                 max_attempts=ATTEMPTS)
    manual = redrive(ctx.target, ctx.wiring)
    ctx.wait_workflows(timeout=120)
    v, runs = ctx.validate(), _executions(ctx)
    return {"records_generated": up.records, "flushes": flushes, "status_after_attempts": item.get("status"),
            "attempts": int(item.get("attempt", 0)), "executions_before_redrive": [(e["name"], e["status"])
                                                                                 for e in runs_before],
            "executions_after_extra_flush": after_extra_flush,
            "alarm": {"name": alarm.get("AlarmName"), "state": alarm.get("NewStateValue")},
            "manual_redrive": manual, "overlapping_runs": _overlaps(runs),
            "final_status": _manifest(ctx).get("status"), "pass": v["pass"], "records_out": v["records_out"],
            "duplicates": v["duplicates"], "missing": v["missing"]}


def run(ctx):
    twice = _fails_twice(ctx)
    always = _always_fails(ctx)
    names_twice = [n for n, _ in twice["executions"]]
    failed_runs = [s for _, s in always["executions_before_redrive"]]
    passed = (twice["pass"] and twice["status"] == "succeeded" and twice["records_out"] == twice["records_generated"]
              and twice["duplicates"] == 0 and not twice["overlapping_runs"]
              and len(names_twice) == 2 and names_twice[1].endswith("--redrive-2") and twice["attempt"] == 2
              and always["status_after_attempts"] == "failed" and always["attempts"] == ATTEMPTS
              and failed_runs == ["FAILED"] * ATTEMPTS
              and always["executions_after_extra_flush"] == ATTEMPTS
              and always["alarm"]["state"] == "ALARM"
              and len(always["manual_redrive"]) == 1 and always["manual_redrive"][0]["status"] == "SUCCEEDED"
              and always["manual_redrive"][0]["attempt"] == ATTEMPTS + 1
              and always["final_status"] == "succeeded" and always["pass"]
              and always["records_out"] == always["records_generated"] and always["duplicates"] == 0
              and not always["overlapping_runs"])
    findings = [f"a converter failing {RUNS * ATTEMPTS} runs in a row stays failed after {ATTEMPTS} attempts "
                "and waits for a person"] if always["status_after_attempts"] == "failed" else []
    return ctx.verdict(bool(passed), {"fails_twice_then_succeeds": twice, "always_fails": always,
                                      "runs_per_execution": RUNS, "max_attempts": ATTEMPTS}, findings)
