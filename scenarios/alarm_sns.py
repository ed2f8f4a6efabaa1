"""alarm-sns: every alarm fires and its SNS message is observed (each is driven by its own fault)."""

import json
import time

NAME = "alarm-sns"
ORDER = 4
DESCRIPTION = ("DLQ depth, builder errors and failed workflows (and, for sim's own pipeline, quarantined lines and "
               "files and an overwritten key) each drive their alarm to ALARM and the SNS message arrives; a local "
               "publisher supplies the metrics the engine does not emit")
DRIVEN_ANYWHERE = ("dlq-not-empty", "builder-errors", "failed-workflows")


def run(ctx):
    # First fault: every builder invocation raises at its start (builder errors).
    knobs = {"conversion_max_runs": 2, "conversion_retry_wait_s": 1, "max_attempts": 1}
    ctx.fresh(rules=[{"process": "builder", "action": "raise", "when": "start", "times": 0}], **knobs)
    t = ctx.target
    sqs, lam, cw = t.client("sqs"), t.client("lambda"), t.client("cloudwatch")
    alarms = {a["AlarmName"] for a in ctx.wiring.alarms()}
    driven = {ctx.names.alarm(a) for a in DRIVEN_ANYWHERE}
    if ctx.own:
        driven = set(alarms)
    for name in alarms:
        cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="scenario start")
    inbox = ctx.inbox()
    started = time.monotonic()
    # 1. Builder errors: an invocation fails (the fault above). Then the next fault instead: the
    # converter is killed after its script ends, on every run until lifted (a failed workflow).
    event = ctx.pipeline.builder.flush_event or {"Records": []}
    resp = lam.invoke(FunctionName=ctx.names.builder_function, Payload=json.dumps(event).encode())
    builder_failed = bool(resp.get("FunctionError"))
    ctx.redeploy(rules=[{"process": "converter", "action": "kill", "when": "exit", "times": 0}], **knobs)
    # 2. DLQ depth: a poison message, redriven after maxReceiveCount receives.
    sqs.set_queue_attributes(QueueUrl=ctx.queue_url(), Attributes={"VisibilityTimeout": "1"})
    sqs.send_message(QueueUrl=ctx.queue_url(), MessageBody="poison")
    # 3. A failed workflow: the converter killed above.
    ctx.land({"alarm/2026-11-25/one.ndjson": b'{"a": 1}\n{"a": 2}\n'})
    ctx.wait(1, stall_timeout_s=60)
    if ctx.own:
        # 4. Bad input, converted once the converter fault is lifted: a quarantined line and a
        # quarantined file; then a key overwritten after its manifest.
        ctx.redeploy(rules=[], **knobs)
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
        return driven <= set(fired_at) and published

    try:
        ctx.until(all_fired, timeout=90, every=1, what="every alarm's SNS message")
    except TimeoutError:
        pass
    states = {a["AlarmName"]: a["StateValue"] for a in cw.describe_alarms(AlarmNames=sorted(alarms))["MetricAlarms"]}
    received = inbox.alarms()
    evidence = {
        "alarms": sorted(alarms),
        "driven": sorted(driven),
        "not_driven": sorted(alarms - driven),
        "states": states,
        "sns_messages": {n: {"state": m.get("NewStateValue"), "reason": m.get("NewStateReason", "")[:160]}
                         for n, m in received.items()},
        "seconds_to_fire": fired_at,
        "builder_invocation_failed": builder_failed,
        "alarm_actions": {a["AlarmName"]: a["AlarmActions"] for a in ctx.wiring.alarms()},
        "locally_published": ["AWS/SQS ApproximateNumberOfMessagesVisible", "AWS/States ExecutionsFailed"],
    }
    findings = []
    if alarms - driven:
        findings.append(f"alarms on the pipeline's own metrics were not driven (sim does not know what makes "
                        f"them fire): {', '.join(sorted(alarms - driven))}")
    passed = builder_failed and all(received.get(n, {}).get("NewStateValue") == "ALARM" for n in driven)
    return ctx.verdict(passed, evidence, findings)
