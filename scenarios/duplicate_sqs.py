"""duplicate-sqs: the same S3 event arrives several times; each record still lands once."""

import re
import time

from sim.faults.inject import faults_json

NAME = "duplicate-sqs"
ORDER = 1
DESCRIPTION = ("the same S3 event delivered several times, by direct re-sends and by redelivery after the "
               "visibility timeout expires while the builder is slow -> one file item, one manifest, records once")
FILES = 10
RESENDS = 3
SLOW_S = 6
VISIBILITY_S = 2


def run(ctx):
    ctx.fresh(faults=faults_json(ctx.project.workdir, slow_s=SLOW_S, slow_times=1))
    sqs = ctx.target.client("sqs")
    url = ctx.queue_url()
    # A visibility timeout shorter than the slow invocation: its batch is handed out again meanwhile.
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(VISIBILITY_S)})
    mark = ctx.log_mark()
    up = ctx.land_generated(FILES, size=2048, seed=21)
    resent = up.keys[: FILES // 2]
    for key in resent:
        for _ in range(RESENDS):
            sqs.send_message(QueueUrl=url, MessageBody=ctx.s3_event_body(key))
    started = time.monotonic()
    ctx.wait(FILES, stall_timeout_s=60)
    # The slow invocation finishes after the drain looks done: give it time to report.
    ctx.until(lambda: "already_tracked_skipped" in ctx.log_since(mark), timeout=30, what="duplicate lines")
    time.sleep(SLOW_S)
    log = ctx.log_since(mark)
    batches = [(int(a), int(b)) for a, b in re.findall(r"batch records=(\d+) tracked=(\d+) duplicates=\d+", log)]
    skipped = sum(int(n) for n in re.findall(r"batch records=\d+ tracked=\d+ duplicates=(\d+)", log))
    deliveries = sum(r for r, _ in batches)
    v = ctx.validate()
    redelivered = deliveries - (FILES + len(resent) * RESENDS)
    evidence = {
        "files": FILES,
        "direct_resends": len(resent) * RESENDS,
        "messages_delivered_to_builder": deliveries,
        "redelivered_after_visibility_timeout": max(redelivered, 0),
        "duplicates_skipped": skipped,
        "file_items": v["files_tracked"],
        "files_in_manifests": v["files_in_manifests"],
        "files_in_two_manifests": v["files_in_two_manifests"],
        "records_in": v["records_in"],
        "records_out": v["records_out"],
        "duplicate_records": v["duplicates"],
        "drain_s": round(time.monotonic() - started, 2),
        "validation_problems": v["problems"],
    }
    passed = (v["pass"] and v["files_tracked"] == FILES and v["files_in_manifests"] == FILES
              and skipped >= len(resent) * RESENDS and redelivered > 0)
    findings = [] if redelivered > 0 else ["no redelivery was observed while the builder was slow"]
    return ctx.verdict(passed, evidence, findings)
