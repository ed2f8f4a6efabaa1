"""late-status: the workflow ends before the builder marks its manifest started."""

import time

NAME = "late-status"
ORDER = 10
DESCRIPTION = ("the builder stalls right after StartExecution (a delay at the AWS-call boundary) while the "
               "execution runs to its end -> every record converted once; for sim's pipeline the late mark is a "
               "logged no-op, the manifest keeps its terminal status (succeeded; failed, then redriven by the "
               "flush) and the drain settles")
FILES = 5
STALL_S = 40  # longer than an execution with two failed runs takes here, inside the builder's 60 s timeout


def _manifests(ctx) -> list[dict]:
    table = ctx.target.session.resource("dynamodb", endpoint_url=ctx.target.endpoint).Table(ctx.names.table)
    return [i for i in table.scan()["Items"] if i.get("record_type") == "MANIFEST"]


STALL = {"process": "builder", "call": "stepfunctions.StartExecution", "when": "after", "action": "delay",
         "seconds": STALL_S, "times": 1}


def _generic(ctx) -> dict:
    """Any pipeline: the builder stalls after starting the workflow; judged by the records."""
    ctx.fresh(rules=[STALL])
    up = ctx.land_generated(FILES, size=2048, seed=95)
    time.sleep(STALL_S)
    ctx.wait(FILES, stall_timeout_s=120)
    ctx.wait_workflows(timeout=120)
    v = ctx.validate()
    return {"builder_stall_s": STALL_S, "pass": v["pass"], "records_generated": up.records,
            "records_out": v["records_out"], "duplicates": v["duplicates"], "missing": v["missing"],
            "problems": v["problems"]}


def _case(ctx, fail_first_attempt: bool) -> dict:
    rules = [STALL]
    if fail_first_attempt:  # both runs of the first attempt fail: the execution ends FAILED
        rules.append({"process": "converter", "action": "kill", "when": "exit", "times": 2})
    ctx.fresh(rules=rules, conversion_max_runs=2, conversion_retry_wait_s=1)
    mark = ctx.log_mark()
    started = time.monotonic()
    up = ctx.land_generated(FILES, size=2048, seed=95 + fail_first_attempt)
    expected = "failed" if fail_first_attempt else "succeeded"

    def ended_while_stalled():
        items = _manifests(ctx)
        if not items:
            return None
        if items[0]["status"] == expected:
            return expected
        # The scheduled flush may have redriven the failed attempt before this poll saw it failed.
        return "failed" if fail_first_attempt and int(items[0].get("attempt", 1)) >= 2 else None

    seen = ctx.until(ended_while_stalled, timeout=STALL_S + 30, what=f"the execution to record {expected}")
    ended_after_s = round(time.monotonic() - started, 1)
    if fail_first_attempt:
        # Redrive now, while the builder still stalls (the converter fault has had its two runs):
        # the redrive comes before the late mark every time (the scheduled flush may have done it
        # already).
        ctx.watcher().flush(3600)
    ctx.until(lambda: "mark_started_skipped" in ctx.log_since(mark), timeout=STALL_S + 60,
              what="the builder's late mark_started")
    item = _manifests(ctx)[0]
    after_late_mark = (item["status"], int(item.get("attempt", 1)))
    if fail_first_attempt:  # no fault left behind for the next case or scenario
        ctx.redeploy(rules=[], conversion_max_runs=2, conversion_retry_wait_s=1)
    snap = ctx.wait(FILES, stall_timeout_s=120)
    ctx.wait_workflows(timeout=120)
    sfn = ctx.target.client("stepfunctions")
    executions = sorted((e["name"], e["status"]) for e in
                        sfn.list_executions(stateMachineArn=ctx.wiring.state_machine_arn())["executions"])
    v = ctx.validate()
    item = _manifests(ctx)[0]
    log = ctx.log_since(mark)
    return {"expected_terminal_status": expected, "status_seen_while_builder_stalled": seen,
            "seconds_to_terminal_status": ended_after_s, "builder_stall_s": STALL_S,
            "late_mark_logged": log.count("mark_started_skipped"),
            "status_after_late_mark": after_late_mark[0], "attempt_after_late_mark": after_late_mark[1],
            "executions": executions,
            "final_status": item["status"], "attempt": int(item.get("attempt", 1)),
            "drain_settled": {"pending": snap.pending, "manifests": snap.manifests},
            "pass": v["pass"], "records_generated": up.records, "records_out": v["records_out"],
            "duplicates": v["duplicates"], "manifests_unfinished": v["manifests_unfinished"]}


def run(ctx):
    if not ctx.own:
        generic = _generic(ctx)
        return ctx.verdict(bool(generic["pass"] and generic["records_out"] == generic["records_generated"]),
                           {"builder_stalled_after_start": generic})
    ok = _case(ctx, fail_first_attempt=False)
    failed = _case(ctx, fail_first_attempt=True)
    passed = (ok["status_seen_while_builder_stalled"] == "succeeded" and ok["late_mark_logged"] >= 1
              and ok["status_after_late_mark"] == "succeeded" and ok["final_status"] == "succeeded" and ok["pass"]
              and ok["records_out"] == ok["records_generated"] and [st for _, st in ok["executions"]] == ["SUCCEEDED"]
              and failed["status_seen_while_builder_stalled"] == "failed" and failed["late_mark_logged"] >= 1
              # redriven before the late mark: the redrive's own status (attempt 2), never the first
              # attempt put back to started
              and failed["attempt_after_late_mark"] == 2
              and failed["status_after_late_mark"] in ("started", "succeeded")
              and [st for _, st in failed["executions"]] == ["FAILED", "SUCCEEDED"]
              and failed["final_status"] == "succeeded" and failed["attempt"] == 2 and failed["pass"]
              and failed["records_out"] == failed["records_generated"] and failed["duplicates"] == 0)
    return ctx.verdict(bool(passed), {"execution_succeeded_first": ok, "execution_failed_first": failed})
