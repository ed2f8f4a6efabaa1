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

from sim.infra.spec import Names
from sim.validate import pools, records
from sim.validate.inventory import Inventory, manifest_doc_id, output_manifest_id

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
    read = set(result.read_etags)
    return not unit.skip and read.issuperset(unit.own) and read.isdisjoint(set_aside)


def reusable(early: Early | None, whole: list[records.Unit], inv: Inventory,
             set_aside: set[str]) -> dict[str, Checked]:
    """The early results that stand, by manifest id (`whole`: the final plan's uncut units)."""
    if early is None:
        return {}
    by_mid = {u.file_mid: u for u in whole if u.output_key is not None}
    return {mid: done for mid, done in early.checked.items()
            if mid in by_mid and still_valid(done, by_mid[mid], inv, set_aside)}


class Background:
    """A thread that polls the stores every `poll_s` and hands new work to worker processes: the
    thread at EARLY_NICE, each worker in a scheduling group of its own at EARLY_NICE (pools.py says why).
    Subclasses say how the pool is made and what a poll submits into `futures` (name -> (what it
    was made from, future))."""

    def __init__(self, poll_s: float):
        self.poll_s = poll_s
        self.futures: dict[str, tuple[object, Future]] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self) -> ProcessPoolExecutor:
        raise NotImplementedError

    def _poll(self) -> None:
        raise NotImplementedError

    def start(self):
        self._thread = threading.Thread(target=self._loop, name=f"early-{type(self).__name__}", daemon=True)
        self._thread.start()
        return self

    @property
    def submitted(self) -> int:
        return len(self.futures)

    @property
    def done(self) -> int:
        return sum(1 for _, f in self.futures.values() if f.done())

    def _loop(self) -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), EARLY_NICE)
        except (OSError, AttributeError):
            pass
        self._pool = self._new_pool()
        while True:
            stopping = self._stop.is_set()
            try:
                self._poll()
            except Exception as exc:  # the engine busy or a store read mid-change: the next poll, or the final check
                self.errors.append(f"{type(exc).__name__}: {exc}")
            if stopping:  # that was the last poll
                return
            self._stop.wait(self.poll_s)

    def _results(self):
        """One last poll, then each submitted piece of work's (name, source, result or None when it
        raised), every one finished (the drain is over: nothing else wants the CPU, so the lowest
        priority costs nothing now); and the seconds that took."""
        if self._thread is None:
            return [], 0.0
        self._stop.set()
        self._thread.join()
        self._thread = None
        t0 = time.monotonic()
        out = []
        for name, (source, future) in self.futures.items():
            try:
                out.append((name, source, future.result()))
            except Exception as exc:  # done again by the final validation
                self.errors.append(f"{name}: {type(exc).__name__}: {exc}")
                out.append((name, source, None))
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        return out, time.monotonic() - t0

    def close(self) -> None:
        """Give up (the run failed before its verdict): nothing is waited for, and no worker is left
        running (each is in a session of its own, out of reach of the terminal's Ctrl-C). Harmless
        after stop()."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            pools.end(self._pool)
            self._pool = None


class EarlyCheck(Background):
    """Polls for succeeded manifests of sim's own pipeline and checks their outputs. stop() gives
    what was checked."""

    def __init__(self, target, names: Names, workers: int | None = None, poll_s: float = POLL_S):
        super().__init__(poll_s)
        self.target, self.names = target, names
        self.workers = workers or records.default_workers()
        self._clients = None

    def _new_pool(self) -> ProcessPoolExecutor:
        t = self.target
        return pools.new(self.workers, records._init,
                         ((t.name, t.endpoint, t.region), self.names.landing_bucket, self.names.output_bucket),
                         nice=EARLY_NICE)

    def _poll(self) -> None:
        if self._clients is None:
            self._clients = (self.target.client("s3"), self.target.client("dynamodb"))
        s3, ddb = self._clients
        succeeded = _succeeded(ddb, self.names.table)
        todo = [m for m in sorted(succeeded) if m not in self.futures]
        if not todo:
            return
        outputs, docs = _outputs_and_manifests(s3, self.names.output_bucket)
        for mid in todo:
            if mid not in outputs or mid not in docs:
                continue  # the output or the manifest document not listed yet: the next poll
            doc = json.loads(s3.get_object(Bucket=self.names.output_bucket, Key=docs[mid])["Body"].read())
            own = list(dict.fromkeys(f["key"] for f in doc.get("files", [])))
            unit = records.Unit(outputs[mid], mid, own)
            self.futures[mid] = (unit, self._pool.submit(records._run, unit))

    def stop(self) -> Early:
        done, waited = self._results()
        early = Early(seconds_after_stop=waited)
        for mid, unit, result in done:
            if result is None:
                early.failed += 1
            else:
                early.checked[mid] = Checked(unit, result)
        return early


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
    """Manifest id -> its Parquet output's key, and -> its manifest document's key."""
    outputs, docs = {}, {}
    for prefix in ("parquet/", "manifests/"):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                key = obj["Key"]
                if prefix == "parquet/" and key.endswith(".parquet") and "manifest=" in key:
                    outputs[output_manifest_id(key)] = key
                elif prefix == "manifests/" and key.endswith(".json"):
                    docs[manifest_doc_id(key)] = key
    return outputs, docs
