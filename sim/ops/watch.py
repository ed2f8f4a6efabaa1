"""Watch the pipeline until everything that landed is converted (or stops moving).

A cheap snapshot (one table scan of keys and statuses, two queue attribute reads) every second;
when all expected files are tracked and the queue is empty but some files are still pending (a
partial last batch), the builder is asked to flush once, as the scheduled flush would later.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Callable

from sim.core.errors import SimError
from sim.infra.spec import Names

_DONE = {"succeeded", "failed"}


@dataclass
class StageCounts:
    tracked: int = 0
    pending: int = 0
    manifested: int = 0
    converted: int = 0
    manifests: dict = field(default_factory=dict)
    queue_visible: int = 0
    queue_in_flight: int = 0
    dlq_visible: int = 0
    # Seen from outside a pipeline sim did not write (sim/ops/outside.py): files are not tracked
    # here, `manifests` counts workflow executions by status, `outputs` the Parquet objects.
    outside: bool = False
    outputs: int = 0

    @property
    def manifests_open(self) -> int:
        return sum(n for s, n in self.manifests.items() if s not in _DONE)

    def key(self) -> tuple:
        return (self.tracked, self.pending, self.manifested, self.converted, tuple(sorted(self.manifests.items())),
                self.queue_visible, self.queue_in_flight, self.dlq_visible, self.outputs)


def workflows_settled(target, state_machine_arn: str) -> bool:
    """True when no execution of the state machine runs (or the state machine is gone)."""
    sfn = target.client("stepfunctions")
    try:
        return not sfn.list_executions(stateMachineArn=state_machine_arn, statusFilter="RUNNING")["executions"]
    except sfn.exceptions.StateMachineDoesNotExist:
        return True


class Watcher:
    def __init__(self, target, names: Names):
        self.names = names
        self.ddb = target.client("dynamodb")
        self.sqs = target.client("sqs")
        self.lam = target.client("lambda")
        self.queue_url = self.sqs.get_queue_url(QueueName=names.queue)["QueueUrl"]
        self.dlq_url = self.sqs.get_queue_url(QueueName=names.dlq)["QueueUrl"]

    def snapshot(self) -> StageCounts:
        snap = StageCounts()
        pages = self.ddb.get_paginator("scan").paginate(
            TableName=self.names.table,
            ProjectionExpression="record_type, #s, file_count",
            ExpressionAttributeNames={"#s": "status"},
        )
        for page in pages:
            for item in page.get("Items", []):
                kind = item.get("record_type", {}).get("S")
                status = item.get("status", {}).get("S", "")
                if kind == "FILE":
                    snap.tracked += 1
                    if status == "pending":
                        snap.pending += 1
                    else:
                        snap.manifested += 1
                elif kind == "MANIFEST":
                    snap.manifests[status] = snap.manifests.get(status, 0) + 1
                    if status == "succeeded":
                        snap.converted += int(item.get("file_count", {}).get("N", "0"))
        for url, attr in ((self.queue_url, "queue"), (self.dlq_url, "dlq")):
            a = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            if attr == "queue":
                snap.queue_visible = int(a.get("ApproximateNumberOfMessages", 0))
                snap.queue_in_flight = int(a.get("ApproximateNumberOfMessagesNotVisible", 0))
            else:
                snap.dlq_visible = int(a.get("ApproximateNumberOfMessages", 0))
        return snap

    def flush(self, max_wait_s: float = 0.0) -> dict:
        """Invoke the builder's flush (the same code the schedule runs) and return its answer."""
        resp = self.lam.invoke(
            FunctionName=self.names.builder_function,
            Payload=json.dumps({"action": "flush", "max_wait_seconds": max_wait_s}).encode(),
        )
        payload = json.loads(resp["Payload"].read() or b"null")
        if resp.get("FunctionError"):
            raise SimError(f"the flush failed in the builder: {payload}")
        return payload

    def wait(
        self,
        expected_files: int,
        on_progress: Callable[[StageCounts], None] | None = None,
        stall_timeout_s: float = 180.0,
        poll_s: float = 1.0,
    ) -> StageCounts:
        """Block until every expected file is tracked, manifested and its manifest finished."""
        last_key, last_change = None, time.monotonic()
        flushed_at = 0.0
        while True:
            snap = self.snapshot()
            if on_progress:
                on_progress(snap)
            if snap.key() != last_key:
                last_key, last_change = snap.key(), time.monotonic()
            idle_queue = snap.queue_visible == 0 and snap.queue_in_flight == 0
            # Messages in the DLQ are files that will never be tracked: stop waiting for them and
            # let validation name them.
            all_in = snap.tracked >= expected_files or snap.dlq_visible > 0
            if all_in and idle_queue and snap.pending == 0 and snap.manifests_open == 0:
                return snap
            if all_in and idle_queue and snap.pending and time.monotonic() - flushed_at > 10:
                self.flush(0.0)
                flushed_at = time.monotonic()
                last_change = time.monotonic()
            if time.monotonic() - last_change > stall_timeout_s:
                raise SimError(
                    f"the pipeline stopped moving for {stall_timeout_s:.0f} s: tracked {snap.tracked}/{expected_files}, "
                    f"pending {snap.pending}, manifests {snap.manifests}, queue {snap.queue_visible}+"
                    f"{snap.queue_in_flight} in flight, DLQ {snap.dlq_visible}"
                )
            time.sleep(poll_s)
