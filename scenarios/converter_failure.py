"""converter-failure: the converter dies after writing its output, on every run; a rerun repairs it."""

from sim.ops.redrive import redrive, rerun_failed_executions

NAME = "converter-failure"
ORDER = 8
DESCRIPTION = ("the converter process is killed after its script ends (its output written) on every run, with no "
               "automatic attempt left -> the workflow fails and the failed-workflows alarm reaches SNS; once the "
               "fault is lifted, a rerun (sim redrive for sim's pipeline, the failed executions started again "
               "with their input for another) converts each record once")
FILES = 5
RUNS = 2  # converter runs per execution in sim's own workflow (one retry inside it); both fail


def run(ctx):
    ctx.fresh(rules=[{"process": "converter", "action": "kill", "when": "exit", "times": 0}],
              conversion_max_runs=RUNS, conversion_retry_wait_s=1, max_attempts=1)
    t = ctx.target
    cw, s3 = t.client("cloudwatch"), t.client("s3")
    cw.set_alarm_state(AlarmName=ctx.names.alarm("failed-workflows"), StateValue="OK", StateReason="scenario start")
    inbox = ctx.inbox()
    up = ctx.land_generated(FILES, size=2048, seed=81)
    ctx.wait(FILES, stall_timeout_s=90)
    before = ctx.validate()
    prefix = ctx.pipeline.output.prefix
    partial = [o["Key"] for o in s3.list_objects_v2(Bucket=ctx.names.output_bucket, Prefix=prefix).get("Contents", [])
               if o["Key"].endswith(".parquet")]
    alarm_msg = ctx.await_alarm(inbox, ctx.names.alarm("failed-workflows"))
    failure_alert = [b for b in inbox.received if "failed" in b and "AlarmName" not in b]
    ctx.redeploy(rules=[], conversion_max_runs=RUNS, conversion_retry_wait_s=1, max_attempts=1)  # the fault lifted
    runs = redrive(t, ctx.wiring) if ctx.own else rerun_failed_executions(t, ctx.wiring)
    ctx.wait(FILES, stall_timeout_s=90)
    after = ctx.validate()
    evidence = {
        "before_rerun": {"pass": before["pass"], "manifests_failed": before["manifests_failed"],
                         "records_out": before["records_out"], "missing": before["missing"]},
        "output_objects_left_by_the_killed_runs": len(partial),
        "alarm": {"name": alarm_msg.get("AlarmName"), "state": alarm_msg.get("NewStateValue")},
        "reruns": runs,
        "after_rerun": {"pass": after["pass"], "records_in": after["records_in"], "records_out": after["records_out"],
                        "duplicates": after["duplicates"], "missing": after["missing"],
                        "problems": after["problems"]},
        "records_generated": up.records,
    }
    passed = (not before["pass"] and before["manifests_failed"] >= 1 and alarm_msg.get("NewStateValue") == "ALARM"
              and runs and all(r["status"] == "SUCCEEDED" for r in runs)
              and after["records_out"] == up.records and after["duplicates"] == 0
              and not [p for p in after["problems"] if "failed workflow executions" not in p])
    if ctx.own:  # sim's workflow also alerts the topic itself, and the redrive leaves nothing failed
        evidence["workflow_failure_alert"] = failure_alert[:1]
        passed = passed and before["manifests_failed"] == 1 and len(partial) == 1 and bool(failure_alert) and after["pass"]
    return ctx.verdict(bool(passed), evidence)
