"""converter-failure: the Glue job dies after writing part of its output; a redrive repairs it."""

from sim.faults.inject import faults_json
from sim.ops.redrive import redrive

NAME = "converter-failure"
ORDER = 8
DESCRIPTION = ("the Glue job fails after uploading its Parquet and before recording it, on every run of the "
               "workflow -> the workflow fails, the manifest is marked failed, the alarm fires; with no automatic "
               "attempts left, `sim redrive` reruns it; each record once")
FILES = 5
RUNS = 2  # converter runs per execution (one retry inside the workflow); both fail


def run(ctx):
    ctx.fresh(faults=faults_json(ctx.project.workdir, crash_at="converter_after_upload", crash_times=RUNS),
              conversion_max_runs=RUNS, conversion_retry_wait_s=1, max_attempts=1)
    t = ctx.target
    cw, s3 = t.client("cloudwatch"), t.client("s3")
    cw.set_alarm_state(AlarmName=ctx.names.alarm("failed-workflows"), StateValue="OK", StateReason="scenario start")
    inbox = ctx.inbox()
    up = ctx.land_generated(FILES, size=2048, seed=81)
    ctx.wait(FILES, stall_timeout_s=90)
    before = ctx.validate()
    partial = [o["Key"] for o in s3.list_objects_v2(Bucket=ctx.names.output_bucket, Prefix="parquet/").get("Contents", [])]
    alarm_msg = ctx.await_alarm(inbox, ctx.names.alarm("failed-workflows"))
    failure_alert = [b for b in inbox.received if "failed" in b and "AlarmName" not in b]
    runs = redrive(t, ctx.wiring)
    after = ctx.validate()
    evidence = {
        "before_redrive": {"pass": before["pass"], "manifests_failed": before["manifests_failed"],
                           "records_out": before["records_out"], "missing": before["missing"]},
        "partial_output_objects": len(partial),
        "workflow_failure_alert": failure_alert[:1],
        "alarm": {"name": alarm_msg.get("AlarmName"), "state": alarm_msg.get("NewStateValue")},
        "redriven": runs,
        "after_redrive": {"pass": after["pass"], "records_in": after["records_in"], "records_out": after["records_out"],
                          "duplicates": after["duplicates"], "missing": after["missing"], "redrives": after["redrives"]},
        "records_generated": up.records,
    }
    passed = (not before["pass"] and before["manifests_failed"] == 1 and len(partial) == 1 and failure_alert
              and alarm_msg.get("NewStateValue") == "ALARM" and runs and all(r["status"] == "SUCCEEDED" for r in runs)
              and after["pass"] and after["records_out"] == up.records and after["duplicates"] == 0)
    return ctx.verdict(bool(passed), evidence)
