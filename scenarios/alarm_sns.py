"""alarm-sns: every alarm fires and its SNS message is observed (each is driven by its own fault)."""

import json
import time

from sim.faults.inject import faults_json

NAME = "alarm-sns"
ORDER = 4
DESCRIPTION = ("DLQ depth, builder errors, failed workflows, quarantined lines and files and an overwritten key "
               "each drive their alarm to ALARM and the SNS message arrives; a local publisher supplies the "
               "metrics the engine does not emit")


def run(ctx):
    # The converter dies after writing its output, on both runs the workflow gives it: one failed
    # workflow (and no automatic redrive, so it stays the one).
    ctx.fresh(faults=faults_json(ctx.project.workdir, crash_at="converter_after_upload", crash_times=2),
              conversion_max_runs=2, conversion_retry_wait_s=1, max_attempts=1)
    t = ctx.target
    sqs, lam, cw = t.client("sqs"), t.client("lambda"), t.client("cloudwatch")
    alarms = {a["AlarmName"] for a in ctx.wiring.alarms()}
    for name in alarms:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="scenario start")
    inbox = ctx.inbox()
    started = time.monotonic()
    # 1. DLQ depth: a poison message, redriven after three receives.
    sqs.set_queue_attributes(QueueUrl=ctx.queue_url(), Attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=ctx.queue_url(), MessageBody="poison")
    # 2. Builder errors: an invocation that fails.
    resp = lam.invoke(FunctionName=ctx.names.builder_function, Payload=json.dumps({"bogus": True}).encode())
    builder_failed = bool(resp.get("FunctionError"))
    # 3. A failed workflow: the converter crash injected above.
    ctx.land({"alarm/2026-11-25/one.ndjson": b'{"a": 1}\n{"a": 2}\n'})
    ctx.wait(1, stall_timeout_s=60)
    # 4. Bad input, converted once the crash is spent: a quarantined line and a quarantined file;
    # then a key overwritten after its manifest.
    ctx.land({"alarm/2026-11-25/bad-line.ndjson": b'{"a": 1}\nnot json\n',
              "alarm/2026-11-25/not-gzip.ndjson.gz": b'{"a": 1}\n'})
    ctx.wait(3, stall_timeout_s=60)
    ctx.land({"alarm/2026-11-25/one.ndjson": b'{"a": 3}\n'})

    publisher = ctx.publisher()
    fired_at = {}

    def all_fired():
        published = publisher.tick()
        inbox.poll()
        for name in inbox.alarms():
            fired_at.setdefault(name, round(time.monotonic() - started, 2))
        return alarms <= set(fired_at) and published

    try:
        ctx.until(all_fired, timeout=90, every=1, what="every alarm's SNS message")
    except TimeoutError:
        pass
    states = {a["AlarmName"]: a["StateValue"] for a in cw.describe_alarms(AlarmNames=sorted(alarms))["MetricAlarms"]}
    received = inbox.alarms()
    evidence = {
        "alarms": sorted(alarms),
        "states": states,
        "sns_messages": {n: {"state": m.get("NewStateValue"), "reason": m.get("NewStateReason", "")[:160]}
                         for n, m in received.items()},
        "seconds_to_fire": fired_at,
        "builder_invocation_failed": builder_failed,
        "alarm_actions": {a["AlarmName"]: a["AlarmActions"] for a in ctx.wiring.alarms()},
        "locally_published": ["AWS/SQS ApproximateNumberOfMessagesVisible", "AWS/States ExecutionsFailed"],
    }
    passed = builder_failed and all(received.get(n, {}).get("NewStateValue") == "ALARM" for n in alarms)
    return ctx.verdict(passed, evidence)
