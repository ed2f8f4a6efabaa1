"""Watching a pipeline from the outside: what any described pipeline shows without `sim` knowing its
DynamoDB schema.

The queue (visible, in flight, DLQ), the workflow executions by status, and the Parquet objects
under the description's output prefix. The pipeline has drained when the queue and the DLQ hold
nothing in flight, no execution runs, and that has held for a settle period after the builder was
sent its flush event (when the description names one: partial batches wait for it otherwise).
"""

from __future__ import annotations

import json
import time
from typing import Callable

from sim.core.errors import SimError
from sim.infra.description import Description
from sim.infra.spec import Names
from sim.ops.watch import StageCounts

SETTLE_S = 5.0  # quiet this long after the last change (and the flush) before the drain is called done
FLUSH_EVERY_S = 10.0
# Execution statuses as the stage counts name manifests (sim's own pipeline records these on its items).
_AS_MANIFEST = {"RUNNING": "started", "PENDING_REDRIVE": "started", "SUCCEEDED": "succeeded", "FAILED": "failed",
                "TIMED_OUT": "failed", "ABORTED": "failed"}


class OutsideWatcher:
    """The Watcher's protocol (snapshot, flush, wait) for a pipeline `sim` did not write."""

    def __init__(self, target, names: Names, pipeline: Description, output_bucket: str, state_machine_arn: str):
        self.names = names
        self.pipeline = pipeline
        self.sqs = target.client("sqs")
        self.s3 = target.client("s3")
        self.sfn = target.client("stepfunctions")
        self.lam = target.client("lambda")
        self.output_bucket = output_bucket
        self.state_machine_arn = state_machine_arn
        self.queue_url = self.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
        self.dlq_url = self.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]

    def snapshot(self) -> StageCounts:
        snap = StageCounts(outside=True)
        for url, attr in ((self.queue_url, "queue"), (self.dlq_url, "dlq")):
            a = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            if attr == "queue":
                snap.queue_visible = int(a.get("ApproximateNumberOfMessages", 0))
                snap.queue_in_flight = int(a.get("ApproximateNumberOfMessagesNotVisible", 0))
            else:
                snap.dlq_visible = int(a.get("ApproximateNumberOfMessages", 0))
        try:
            for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=self.state_machine_arn):
                for e in page.get("executions", []):
                    status = _AS_MANIFEST.get(e["status"], "started")
                    snap.manifests[status] = snap.manifests.get(status, 0) + 1
        except self.sfn.exceptions.StateMachineDoesNotExist:
            pass
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.output_bucket,
                                                                      Prefix=self.pipeline.output.prefix):
            snap.outputs += sum(1 for o in page.get("Contents", []) if o["Key"].endswith(".parquet"))
        return snap

    def flush(self, max_wait_s: float = 0.0) -> dict:
        """Send the builder the description's flush event; its answer, or the error it failed with
        (a builder failing its flush is the pipeline's behaviour to observe, not a failure of sim)."""
        event = self.pipeline.builder.flush_event
        if event is None:
            return {"sent": False, "reason": "the description names no flush_event"}
        resp = self.lam.invoke(FunctionName=self.names.builder_function, Payload=json.dumps(event).encode())
        payload = json.loads(resp["Payload"].read() or b"null")
        if resp.get("FunctionError"):
            return {"sent": True, "failed": True, "error": payload}
        return {"sent": True, "answer": payload}

    def wait(self, expected_files: int, on_progress: Callable[[StageCounts], None] | None = None,
             stall_timeout_s: float = 180.0, poll_s: float = 1.0, settle_s: float = SETTLE_S) -> StageCounts:
        """Block until the queue is empty, nothing runs, and that held for `settle_s` after a flush.
        `expected_files` is not observable from outside; it only names the run in a stall error."""
        last_key, last_change = None, time.monotonic()
        flushed_at, flushed_key = 0.0, None
        has_flush = self.pipeline.builder.flush_event is not None
        while True:
            snap = self.snapshot()
            if on_progress:
                on_progress(snap)
            key = snap.key()
            if key != last_key:
                last_key, last_change = key, time.monotonic()
            quiet = snap.queue_visible == 0 and snap.queue_in_flight == 0 and snap.manifests_open == 0
            if quiet and has_flush and flushed_key != key and time.monotonic() - flushed_at > FLUSH_EVERY_S:
                self.flush()
                flushed_at, flushed_key = time.monotonic(), key
                last_change = time.monotonic()
            elif quiet and (flushed_key == key or not has_flush) and time.monotonic() - last_change >= settle_s:
                return snap
            if time.monotonic() - last_change > stall_timeout_s:
                raise SimError(
                    f"the pipeline stopped moving for {stall_timeout_s:.0f} s with work left ({expected_files} files "
                    f"landed): queue {snap.queue_visible}+{snap.queue_in_flight} in flight, DLQ {snap.dlq_visible}, "
                    f"workflows {snap.manifests}, {snap.outputs} Parquet objects")
            time.sleep(poll_s)


def watcher_for(target, wiring):
    """The watcher of a deployed pipeline: `sim`'s own reads its state table; any other is watched
    from outside."""
    from sim.ops.watch import Watcher

    if wiring.pipeline.own:
        return Watcher(target, wiring.names)
    return OutsideWatcher(target, wiring.names, wiring.pipeline, wiring.names.output_bucket,
                          wiring.state_machine_arn())
