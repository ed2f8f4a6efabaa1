"""Watch the pipeline until everything that landed is converted (or stops moving).

A snapshot every second: two queue attribute reads and a scan of the state table's statuses. When
all expected files are tracked and the queue is empty but some files are still pending (a partial
last batch), the builder is asked to flush once, as the scheduled flush would later.

The scan reads every item, and on the embedded engine its cost grows with the table (about 90 ms
of CPU, the engine's and ours, at 3,300 files), taken from the engine every second of a long
drain. So once nothing can add or release files (the queue empty and idle, no file pending), the
snapshot reads only the manifests the last scan saw open, by key (about 2 ms), and scans again at
least every FULL_SCAN_EVERY_S, whenever the queue moves, and before it reports no manifest open:
the end of a drain is always a whole scan's answer.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from typing import Callable

from sim.core.errors import SimError
from sim.infra.spec import Names

_DONE = {"succeeded", "failed"}
FULL_SCAN_EVERY_S = 10.0
_STATUSES = "record_type, #s, file_count"
_WITH_KEYS = _STATUSES + ", date_prefix, file_key"  # a third more to read: only when the manifests are read by key next


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
        self._scanned: StageCounts | None = None  # the last scan that found no file pending and manifests open
        self._scanned_at = 0.0
        self._open: dict[str, dict] = {}  # file_key -> key and status of each manifest open at that scan
        self._last_pending: int | None = None  # files pending at the last scan

    def snapshot(self) -> StageCounts:
        visible, in_flight, dlq = self._queues()
        quiet = visible == 0 and in_flight == 0
        snap = self._open_manifests_again() if quiet else None
        if snap is None:
            snap = self._scan(with_keys=quiet and self._last_pending == 0)
            self._last_pending = snap.pending
        snap.queue_visible, snap.queue_in_flight, snap.dlq_visible = visible, in_flight, dlq
        return snap

    def _queues(self) -> tuple[int, int, int]:
        """Messages visible and in flight in the queue, visible in the DLQ (read before the table)."""
        out = []
        for url in (self.queue_url, self.dlq_url):
            a = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            out.append((int(a.get("ApproximateNumberOfMessages", 0)), int(a.get("ApproximateNumberOfMessagesNotVisible", 0))))
        return out[0][0], out[0][1], out[1][0]

    def _scan(self, with_keys: bool = False) -> StageCounts:
        """Counts from every item of the state table; with the keys of the manifests still open,
        kept for `_open_manifests_again` when no file is pending."""
        snap = StageCounts()
        open_keys: dict[str, dict] = {}
        pages = self.ddb.get_paginator("scan").paginate(
            TableName=self.names.table,
            ProjectionExpression=_WITH_KEYS if with_keys else _STATUSES,
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
                    elif status not in _DONE and with_keys:
                        open_keys[item["file_key"]["S"]] = {"date_prefix": item["date_prefix"], "file_key": item["file_key"],
                                                            "status": status}
        if with_keys and snap.pending == 0 and open_keys:
            self._scanned, self._scanned_at, self._open = snap, time.monotonic(), open_keys
        else:
            self._scanned, self._open = None, {}
        return snap

    def _open_manifests_again(self) -> StageCounts | None:
        """The last scan's counts with the manifests it saw open read again by key; None when a
        scan is due: none kept, too old, a manifest gone or unread, or none left open."""
        if not self._open or time.monotonic() - self._scanned_at >= FULL_SCAN_EVERY_S:
            return None
        keys = [{"date_prefix": k["date_prefix"], "file_key": k["file_key"]} for k in self._open.values()]
        now: dict[str, dict] = {}
        for i in range(0, len(keys), 100):
            resp = self.ddb.batch_get_item(RequestItems={self.names.table: {
                "Keys": keys[i:i + 100], "ConsistentRead": True,
                "ProjectionExpression": "file_key, #s, file_count", "ExpressionAttributeNames": {"#s": "status"}}})
            if resp.get("UnprocessedKeys"):
                return None
            for item in resp.get("Responses", {}).get(self.names.table, []):
                now[item["file_key"]["S"]] = item
        if set(now) != set(self._open):
            return None
        statuses = {k: item.get("status", {}).get("S", "") for k, item in now.items()}
        if all(status in _DONE for status in statuses.values()):
            return None
        snap = copy.deepcopy(self._scanned)
        for k, status in statuses.items():
            before = self._open[k]["status"]
            if status == before:
                continue
            snap.manifests[before] -= 1
            if not snap.manifests[before]:
                del snap.manifests[before]
            snap.manifests[status] = snap.manifests.get(status, 0) + 1
            if status == "succeeded":
                snap.converted += int(now[k].get("file_count", {}).get("N", "0"))
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
