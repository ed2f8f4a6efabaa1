"""workflow-retry: failed conversions are retried by the pipeline itself, boundedly, never two at once."""

from sim.ops.redrive import redrive, rerun_failed_executions

NAME = "workflow-retry"
ORDER = 9
DESCRIPTION = ("a converter that fails twice then succeeds is converted without a person (sim's pipeline: a rerun "
               "inside the workflow, then the flush's redrive); one that always fails ends failed after the stated "
               "attempts, alarmed, and a rerun after the fault is lifted converts it once; never two Glue runs of "
               "one manifest at once")
FILES = 5
RUNS = 2  # converter runs per execution (sim's own workflow)
ATTEMPTS = 3  # executions per manifest before it stays failed (sim's own default)
KNOBS = {"conversion_max_runs": RUNS, "conversion_retry_wait_s": 1, "max_attempts": ATTEMPTS}


def _executions(ctx) -> list[dict]:
    sfn = ctx.target.client("stepfunctions")
    out = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=ctx.wiring.state_machine_arn()):
        out += page["executions"]
    return sorted(out, key=lambda e: e["startDate"])


def glue_runs(ctx) -> list[dict]:
    glue = ctx.target.client("glue")
    out, kwargs = [], {"JobName": ctx.names.glue_job}
    while True:
        page = glue.get_job_runs(**kwargs)
        out += page.get("JobRuns", [])
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def overlapping_runs(runs: list[dict]) -> list[str]:
    """Glue runs converting the same input (the same run arguments) at the same time: there must be none."""
    def seconds(value):
        return value.timestamp() if hasattr(value, "timestamp") else float(value or 0)

    by_input: dict[tuple, list[dict]] = {}
    for r in runs:
        args = tuple(sorted((k, v) for k, v in (r.get("Arguments") or {}).items() if not k.startswith("--SIM_")))
        by_input.setdefault(args, []).append(r)
    found = []
    for group in by_input.values():
        group.sort(key=lambda r: seconds(r.get("StartedOn")))
        for a, b in zip(group, group[1:]):
            end = a.get("CompletedOn")
            if end is None or seconds(b.get("StartedOn")) < seconds(end):
                found.append(f"{a['Id']} and {b['Id']}")
    return found


def _manifest(ctx) -> dict:
    items = [i for i in ctx.target.session.resource("dynamodb", endpoint_url=ctx.target.endpoint)
             .Table(ctx.names.table).scan()["Items"] if i.get("record_type") == "MANIFEST"]
    return items[0] if len(items) == 1 else {"manifests": len(items)}


def _flush_until(ctx, done, timeout: float = 240.0) -> int:
    """What the per-minute flush schedule does, sooner: flush until `done()` holds."""
    flushes = []

    def settled() -> bool:
        if done():
            return True
        ctx.wait_workflows(timeout=120)
        flushes.append(ctx.flush())
        return False

    ctx.until(settled, timeout=timeout, every=1, what="the retries to settle")
    return len(flushes)


def _fails_twice(ctx) -> dict:
    ctx.fresh(rules=[{"process": "converter", "action": "kill", "when": "exit", "times": 2}], **KNOBS)
    up = ctx.land_generated(FILES, size=2048, seed=91)
    ctx.wait(FILES, stall_timeout_s=120)
    flushes = _flush_until(ctx, lambda: _manifest(ctx).get("status") == "succeeded") if ctx.own else 0
    ctx.wait_workflows(timeout=120)
    v, runs = ctx.validate(), _executions(ctx)
    out = {"records_generated": up.records, "flushes": flushes,
           "executions": [(e["name"], e["status"]) for e in runs], "glue_runs": len(glue_runs(ctx)),
           "overlapping_glue_runs": overlapping_runs(glue_runs(ctx)), "pass": v["pass"],
           "records_out": v["records_out"], "duplicates": v["duplicates"], "missing": v["missing"]}
    if ctx.own:
        item = _manifest(ctx)
        out.update({"status": item.get("status"), "attempt": int(item.get("attempt", 0))})
    return out


def _always_fails(ctx) -> dict:
    ctx.fresh(rules=[{"process": "converter", "action": "kill", "when": "exit", "times": 0}], **KNOBS)
    ctx.target.client("cloudwatch").set_alarm_state(AlarmName=ctx.names.alarm("failed-workflows"), StateValue="OK",
                                                    StateReason="scenario start")
    inbox = ctx.inbox()
    up = ctx.land_generated(FILES, size=2048, seed=92)
    ctx.wait(FILES, stall_timeout_s=120)
    out = {"records_generated": up.records}
    if ctx.own:
        out["flushes"] = _flush_until(ctx, lambda: _manifest(ctx).get("retries_exhausted_at") is not None)
        ctx.wait_workflows(timeout=120)
        item = _manifest(ctx)
        out.update({"status_after_attempts": item.get("status"), "attempts": int(item.get("attempt", 0))})
    runs_before = _executions(ctx)
    alarm = ctx.await_alarm(inbox, ctx.names.alarm("failed-workflows"))
    ctx.flush()  # one more flush after the last attempt starts nothing
    ctx.wait_workflows(timeout=60)
    out["executions_after_extra_flush"] = len(_executions(ctx))
    ctx.redeploy(rules=[], **KNOBS)  # the fault lifted
    manual = redrive(ctx.target, ctx.wiring) if ctx.own else rerun_failed_executions(ctx.target, ctx.wiring)
    ctx.wait_workflows(timeout=120)
    v = ctx.validate()
    out.update({"executions_before_rerun": [(e["name"], e["status"]) for e in runs_before],
                "alarm": {"name": alarm.get("AlarmName"), "state": alarm.get("NewStateValue")},
                "manual_rerun": manual, "overlapping_glue_runs": overlapping_runs(glue_runs(ctx)),
                "pass": v["pass"], "records_out": v["records_out"], "duplicates": v["duplicates"],
                "missing": v["missing"]})
    if ctx.own:
        out["final_status"] = _manifest(ctx).get("status")
    return out


def run(ctx):
    twice = _fails_twice(ctx)
    always = _always_fails(ctx)
    generic = (twice["pass"] and twice["records_out"] == twice["records_generated"] and twice["duplicates"] == 0
               and not twice["overlapping_glue_runs"]
               and always["alarm"]["state"] == "ALARM"
               and always["executions_after_extra_flush"] == len(always["executions_before_rerun"])
               and always["manual_rerun"] and all(r["status"] == "SUCCEEDED" for r in always["manual_rerun"])
               and always["records_out"] == always["records_generated"] and always["duplicates"] == 0
               and not always["overlapping_glue_runs"])
    findings = []
    passed = generic
    if ctx.own:
        names_twice = [n for n, _ in twice["executions"]]
        failed_runs = [s for _, s in always["executions_before_rerun"]]
        passed = (generic and twice["status"] == "succeeded" and len(names_twice) == 2
                  and names_twice[1].endswith("--redrive-2") and twice["attempt"] == 2
                  and always["status_after_attempts"] == "failed" and always["attempts"] == ATTEMPTS
                  and failed_runs == ["FAILED"] * ATTEMPTS and always["executions_after_extra_flush"] == ATTEMPTS
                  and len(always["manual_rerun"]) == 1 and always["manual_rerun"][0]["attempt"] == ATTEMPTS + 1
                  and always["final_status"] == "succeeded" and always["pass"])
        if always["status_after_attempts"] == "failed":
            findings.append(f"a converter failing {RUNS * ATTEMPTS} runs in a row stays failed after {ATTEMPTS} "
                            "attempts and waits for a person")
    elif not twice["pass"]:
        findings.append("a conversion that fails twice is not converted without a person: the pipeline does not "
                        "retry a failed conversion")
    return ctx.verdict(bool(passed), {"fails_twice_then_succeeds": twice, "always_fails": always,
                                      "runs_per_execution": RUNS, "max_attempts": ATTEMPTS}, findings)
