"""duplicate-sqs: the same S3 event arrives several times; each record still lands once."""

import re
import time

NAME = "duplicate-sqs"
ORDER = 1
DESCRIPTION = ("the same S3 event delivered several times, by direct re-sends and by redelivery after the "
               "visibility timeout expires while the builder is slow -> every record converted exactly once")
FILES = 10
RESENDS = 3
SLOW_S = 6
VISIBILITY_S = 2


def run(ctx):
    # The first builder invocation is slow (a fault at its start): it outlives the visibility
    # timeout, so SQS hands its batch out again meanwhile.
    ctx.fresh(rules=[{"process": "builder", "action": "delay", "when": "start", "seconds": SLOW_S, "times": 1}],
              record=True)
    sqs = ctx.target.client("sqs")
    url = ctx.queue_url()
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(VISIBILITY_S)})
    mark = ctx.log_mark()
    up = ctx.land_generated(FILES, size=2048, seed=21)
    resent = up.keys[: FILES // 2]
    for key in resent:
        for _ in range(RESENDS):
            sqs.send_message(QueueUrl=url, MessageBody=ctx.s3_event_body(key))
    started = time.monotonic()
    ctx.wait(FILES, stall_timeout_s=60)
    time.sleep(SLOW_S)  # the slow invocation finishes after the drain looks done: let it end
    ctx.wait(FILES, stall_timeout_s=60)
    v = ctx.validate()
    invocations = {c["invocation"] for c in ctx.calls() if c["process"] == "builder"}
    evidence = {
        "files": FILES,
        "direct_resends": len(resent) * RESENDS,
        "slow_first_invocation_s": SLOW_S,
        "visibility_timeout_s": VISIBILITY_S,
        "builder_invocations": len(invocations),
        "records_generated": up.records,
        "records_in": v["records_in"],
        "records_out": v["records_out"],
        "duplicate_records": v["duplicates"],
        "missing_records": v["missing"],
        "drain_s": round(time.monotonic() - started, 2),
        "validation_problems": v["problems"],
    }
    findings = []
    passed = v["pass"] and v["records_out"] == up.records
    if ctx.own:  # sim's own builder logs each batch: redeliveries and skipped duplicates can be counted
        log = ctx.log_since(mark)
        deliveries = sum(int(r) for r in re.findall(r"batch records=(\d+) tracked=\d+ duplicates=\d+", log))
        skipped = sum(int(n) for n in re.findall(r"batch records=\d+ tracked=\d+ duplicates=(\d+)", log))
        redelivered = deliveries - (FILES + len(resent) * RESENDS)
        evidence.update({"messages_delivered_to_builder": deliveries, "duplicates_skipped": skipped,
                         "redelivered_after_visibility_timeout": max(redelivered, 0),
                         "file_items": v["files_tracked"], "files_in_two_manifests": v["files_in_two_manifests"]})
        passed = passed and v["files_tracked"] == FILES and skipped >= len(resent) * RESENDS and redelivered > 0
        if redelivered <= 0:
            findings.append("no redelivery was observed while the builder was slow")
    if v["duplicates"]:
        findings.append(f"{v['duplicates']} records converted more than once after duplicate deliveries of "
                        f"{len(resent)} notifications")
    return ctx.verdict(passed, evidence, findings)
