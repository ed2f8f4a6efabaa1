"""Outputs checked as they land: while a run drains, each manifest whose workflow succeeded has its
output compared with its landed files (the record pass's unit, records.py) at the lowest CPU
priority, so that when the drain ends only the last manifests are left to check.

A unit checked early stands in the final `sim validate` only while nothing it read has changed:
the output's ETag, the ETag of every landed object it read (or that object still being gone), the
files it counted as its own and no key it read set aside since (sim/validate/run.py plans the
rest and reruns what differs). The whole-run checks (accounting across manifests, duplicates,
state) always run at the end. Results live in memory for the one run: `sim validate` on its own
checks everything from scratch, so a run interrupted half-way is validated again whole.
"""

from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from sim.infra.spec import Names
from sim.validate import records
from sim.validate.inventory import Inventory

EARLY_NICE = 19  # the lowest: only CPU nothing else wants
POLL_S = 5.0


@dataclass
class Checked:
    unit: records.Unit
    result: records.UnitResult


@dataclass
class Early:
    """What was checked while the run drained, by manifest id, and how it went."""

    checked: dict[str, Checked] = field(default_factory=dict)
    failed: int = 0  # units that raised (checked again at the end)
    seconds_after_stop: float = 0.0  # waiting for the units still running when the drain ended


def still_valid(done: Checked, whole: records.Unit, inv: Inventory, set_aside: set[str]) -> bool:
    """Whether a unit checked early gives what `whole` (the final plan's unit for the same output,
    uncut) would give now."""
    unit, result = done.unit, done.result
    if (unit.output_key, unit.file_mid, unit.own) != (whole.output_key, whole.file_mid, whole.own):
        return False
    now = inv.outputs.get(unit.output_key)
    if now is None or result.output_etag is None or now.etag != result.output_etag:
        return False
    for key, etag in result.read_etags.items():
        landed = inv.landed.get(key)
        if (landed.etag if landed is not None else None) != etag:
            return False
    read = set(result.read_etags) | set(unit.own)
    return unit.skip == frozenset() and read.isdisjoint(set_aside) and read.issuperset(unit.own)


def reusable(early: Early | None, whole: list[records.Unit], inv: Inventory,
             set_aside: set[str]) -> dict[str, Checked]:
    """The early results that stand, by manifest id (`whole`: the final plan's uncut units)."""
    if early is None:
        return {}
    by_mid = {u.file_mid: u for u in whole if u.output_key is not None}
    return {mid: done for mid, done in early.checked.items()
            if mid in by_mid and still_valid(done, by_mid[mid], inv, set_aside)}


class EarlyCheck:
    """Polls for succeeded manifests and checks their outputs in worker processes at EARLY_NICE.
    start() begins, stop() submits what succeeded since the last poll, waits for every unit and
    returns what was checked."""

    def __init__(self, target, names: Names, workers: int | None = None, poll_s: float = POLL_S):
        from sim.validate.run import default_workers

        self.target, self.names = target, names
        self.workers = workers or default_workers()
        self.poll_s = poll_s
        self.futures: dict[str, tuple[records.Unit, Future]] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._docs: dict[str, dict] = {}

    def start(self) -> "EarlyCheck":
        self._thread = threading.Thread(target=self._loop, name="early-check", daemon=True)
        self._thread.start()
        return self

    @property
    def submitted(self) -> int:
        return len(self.futures)

    @property
    def done(self) -> int:
        return sum(1 for _, f in self.futures.values() if f.done())

    def _loop(self) -> None:
        try:  # this thread, and the worker processes it starts, at the lowest priority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), EARLY_NICE)
        except (OSError, AttributeError):
            pass
        target = self.target
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=get_context("spawn"), initializer=records._init,
            initargs=((target.name, target.endpoint, target.region), self.names.landing_bucket,
                      self.names.output_bucket))
        s3, ddb = target.client("s3"), target.client("dynamodb")
        while True:
            stopping = self._stop.is_set()
            try:
                self._poll(s3, ddb)
            except Exception as exc:  # the engine busy or a store read mid-change: the next poll, or the final check
                self.errors.append(f"{type(exc).__name__}: {exc}")
            if stopping or self._stop.wait(self.poll_s):
                if stopping:
                    return
                continue

    def _poll(self, s3, ddb) -> None:
        succeeded = _succeeded(ddb, self.names.table)
        todo = [m for m in sorted(succeeded) if m not in self.futures]
        if not todo:
            return
        outputs, docs = _outputs_and_manifests(s3, self.names.output_bucket)
        for mid in todo:
            if mid not in outputs or mid not in docs:
                continue  # the output or the manifest document not listed yet: the next poll
            doc = self._docs.get(mid) or json.loads(
                s3.get_object(Bucket=self.names.output_bucket, Key=docs[mid])["Body"].read())
            self._docs[mid] = doc
            own = list(dict.fromkeys(f["key"] for f in doc.get("files", [])))
            unit = records.Unit(outputs[mid], mid, own)
            self.futures[mid] = (unit, self._pool.submit(records._run, unit))

    def stop(self) -> Early:
        """One last poll, then every submitted unit finished (the drain is over: nothing else
        wants the CPU, so the lowest priority costs nothing now)."""
        early = Early()
        if self._thread is None:
            return early
        self._stop.set()
        self._thread.join()
        self._thread = None
        t0 = time.monotonic()
        for mid, (unit, future) in self.futures.items():
            try:
                early.checked[mid] = Checked(unit, future.result())
            except Exception as exc:  # checked again by the final validation
                early.failed += 1
                self.errors.append(f"{mid}: {type(exc).__name__}: {exc}")
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        early.seconds_after_stop = time.monotonic() - t0
        return early

    def close(self) -> None:
        """Give up (the run failed before its verdict): no unit is waited for. Harmless after stop()."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _succeeded(ddb, table: str) -> set[str]:
    ids = set()
    pages = ddb.get_paginator("scan").paginate(
        TableName=table, ProjectionExpression="record_type, #s, manifest_id",
        ExpressionAttributeNames={"#s": "status"})
    for page in pages:
        for item in page.get("Items", []):
            if item.get("record_type", {}).get("S") == "MANIFEST" and item.get("status", {}).get("S") == "succeeded":
                ids.add(item["manifest_id"]["S"])
    return ids


def _outputs_and_manifests(s3, bucket: str) -> tuple[dict[str, str], dict[str, str]]:
    """Manifest id -> its Parquet output's key, and -> its manifest document's key (named as
    sim/validate/inventory.py names them)."""
    outputs, docs = {}, {}
    for prefix in ("parquet/", "manifests/"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if prefix == "parquet/" and key.endswith(".parquet") and "manifest=" in key:
                    outputs[key.rsplit("manifest=", 1)[-1][: -len(".parquet")]] = key
                elif prefix == "manifests/" and key.endswith(".json"):
                    docs[key.rsplit("/", 1)[-1][: -len(".json")]] = key
    return outputs, docs
