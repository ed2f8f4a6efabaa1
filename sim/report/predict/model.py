"""The pipeline as a discrete-event model (SimPy): S3 notifications -> SQS -> the event source
mapping's batches -> builder invocations (tracking, the per-date lease, manifests of
`files_per_manifest`, the flush schedule) -> StartExecution -> Glue runs (slots, retries or queuing,
start-up, work) -> the workflow's polling -> converted.

It follows the code it models: the builder's `build_ready` loop (sim/pipeline/builder.py: a batch
that finds the lease taken leaves its files to the holder, who reads the pending files again after
letting go; the pending index hands out files in key order), and the workflow's states
(sim/pipeline/workflow-glue.asl.json: StartJobRun with its Retry on ConcurrentRunsExceeded, then Wait and
GetJobRun until the run ends, then the MANIFEST item marked). Everything it knows about limits and
service times comes in `ModelParams`; one run is deterministic for a seed.

The result keeps every file's and manifest's times and the stage counts over time (the same columns
`sim load` samples into timeline.csv), so a run of the model reads like a recorded one.
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections import deque
from dataclasses import dataclass

import simpy

from .params import ModelParams

SATURATION_WAIT_S = 1.0  # work that waited this long for a resource means the resource was saturated
TIMELINE_COLUMNS = ("t", "uploaded", "queue_visible", "queue_in_flight", "tracked", "pending", "manifested",
                    "converted", "workflows_running", "workflows_finished")


@dataclass
class Manifest:
    number: int
    files: list[int]
    bytes: int
    created_at: float
    claimed_at: float | None = None
    execution_started_at: float | None = None
    glue_asked_at: float | None = None  # the first StartJobRun
    glue_slot_at: float | None = None  # a run slot held
    run_started_at: float | None = None  # the converter's own work begins (after start-up)
    converted_at: float | None = None  # the converter's work ends: its records are in Parquet
    run_ended_at: float | None = None
    finished_at: float | None = None  # the workflow marked it succeeded
    start_attempts: int = 0
    transitions: int = 0
    billed_s: float = 0.0
    by_flush: bool = False


@dataclass
class Saturation:
    resource: str
    first_at_s: float
    waits: int = 0
    longest_wait_s: float = 0.0


@dataclass
class Counts:
    """What the model did, for the cost: requests and durations by service."""

    lambda_invocations: int = 0
    lambda_seconds: float = 0.0
    lambda_cold_starts: int = 0
    sqs_receives: int = 0
    flush_invocations: int = 0
    glue_runs: int = 0
    glue_billed_s: float = 0.0
    glue_dpu_s: float = 0.0
    start_executions: int = 0
    transitions: int = 0
    concurrent_runs_exceeded: int = 0
    peak_batches_in_flight: int = 0
    peak_glue_runs: int = 0


@dataclass
class Result:
    params: ModelParams
    landed: list[float]
    tracked_at: list[float | None]
    manifest_of: list[int | None]
    manifests: list[Manifest]
    rows: list[tuple]  # TIMELINE_COLUMNS, only where a count changed
    saturations: dict[str, Saturation]
    counts: Counts
    ended_at: float
    complete: bool  # every file converted before the horizon

    def converted_at(self, i: int) -> float | None:
        k = self.manifest_of[i]
        return None if k is None else self.manifests[k].converted_at

    def end_to_end_s(self) -> list[float]:
        """Landed -> its records in Parquet (the converter's end), for every converted file."""
        out = []
        for i, landed in enumerate(self.landed):
            done = self.converted_at(i)
            if done is not None:
                out.append(max(0.0, done - landed))
        return out

    def drain_s(self) -> float | None:
        """From the first file landed to the last file's records in Parquet."""
        done = [m.converted_at for m in self.manifests if m.converted_at is not None]
        if not done or not self.landed or not self.complete:
            return None
        return max(done) - min(self.landed)

    def at(self, times: list[float]) -> list[dict]:
        """The stage counts at each time (the last change at or before it), as timeline rows."""
        stamps = [r[0] for r in self.rows]
        out = []
        for t in times:
            j = bisect.bisect_right(stamps, t) - 1
            row = self.rows[j] if j >= 0 else (t,) + (0,) * (len(TIMELINE_COLUMNS) - 1)
            values = dict(zip(TIMELINE_COLUMNS, (t,) + tuple(row[1:])))
            values["uploaded"] = bisect.bisect_right(self.landed, t)  # landings need no event of their own
            out.append(values)
        return out

    def sampled(self, step_s: float | None = None) -> list[dict]:
        """Rows every `step_s` seconds from 0 to the end (the model's own sampling by default)."""
        step = step_s or self.params.sample_s
        n = int(math.ceil(self.ended_at / step)) + 1
        return self.at([k * step for k in range(n)])

    def maxima(self, times: list[float] | None = None) -> dict:
        rows = self.at(times) if times is not None else self.sampled()
        return {"queue_depth": max((r["queue_visible"] + r["queue_in_flight"] for r in rows), default=0),
                "pending": max((r["pending"] for r in rows), default=0),
                "workflows_running": max((r["workflows_running"] for r in rows), default=0)}

    def first_saturated(self) -> Saturation | None:
        return min(self.saturations.values(), key=lambda s: s.first_at_s, default=None)


class Pipeline:
    """One run of the model. `run()` returns the Result."""

    def __init__(self, params: ModelParams):
        self.p = params
        self.env = simpy.Environment()
        self.rng = random.Random(params.seed)
        order = sorted(range(len(params.arrivals_s)), key=lambda i: params.arrivals_s[i])
        self.landed = [float(params.arrivals_s[i]) for i in order]
        self.sizes = [int(params.sizes[i]) for i in order]
        keys = params.sort_keys
        self.keys = [keys[i] for i in order] if keys is not None else None
        n = len(self.landed)
        self.tracked_at: list[float | None] = [None] * n
        self.manifest_of: list[int | None] = [None] * n
        self.manifests: list[Manifest] = []
        self.visible: deque = deque()  # (file, enqueued at)
        self.pending: list = []  # heap of (key, file)
        self.n_tracked = self.n_pending = self.n_manifested = self.n_converted = 0
        self.in_queue = 0  # messages not yet deleted (visible + in flight)
        self.in_flight_msgs = 0
        self.batches_in_flight = 0
        self.level = float(params.esm.initial)
        self.idle_since: float | None = 0.0
        self.lease_busy = False
        self.workflows_running = self.workflows_finished = 0
        self.glue_running = 0
        self.warm = self.running_invocations = 0
        self.tokens = params.start.bucket
        self.tokens_at = 0.0
        self.counts = Counts()
        self.saturations: dict[str, Saturation] = {}
        self.rows: list[tuple] = []
        self.done = self.env.event()
        glue = params.glue
        cap = min([c for c in (glue.slots, glue.account_slots) if c is not None], default=None)
        self.glue_capacity = cap
        self.slots = simpy.Resource(self.env, capacity=cap) if cap is not None and glue.when_full != "retry" else None
        run_at_once = params.builder.run_at_once
        self.executors = simpy.Resource(self.env, capacity=run_at_once) if run_at_once else None
        self.last_drain_flush = -math.inf

    # -- bookkeeping ---------------------------------------------------------------------------
    def _saturated(self, resource: str, since: float, waited: float) -> None:
        if waited < SATURATION_WAIT_S:
            return
        s = self.saturations.get(resource)
        if s is None:
            s = self.saturations[resource] = Saturation(resource, round(since, 3))
        s.first_at_s = min(s.first_at_s, round(since, 3))
        s.waits += 1
        s.longest_wait_s = max(s.longest_wait_s, round(waited, 3))

    def _row(self) -> tuple:
        uploaded = bisect.bisect_right(self.landed, self.env.now)
        return (self.env.now, uploaded, len(self.visible), self.in_flight_msgs, self.n_tracked,
                self.n_pending, self.n_manifested, self.n_converted, self.workflows_running, self.workflows_finished)

    def _record(self) -> None:
        row = self._row()
        if self.rows and self.rows[-1][1:] == row[1:]:
            return
        if self.rows and self.rows[-1][0] == row[0]:
            self.rows[-1] = row
        else:
            self.rows.append(row)

    # -- S3 -> SQS -------------------------------------------------------------------------------
    def _arrivals(self):
        for i, t in enumerate(self.landed):
            at = t + self.p.notify_s
            if at > self.env.now:
                yield self.env.timeout(at - self.env.now)
            self.visible.append((i, self.env.now))
            self.in_queue += 1
            self._record()
            self._dispatch()

    # -- the event source mapping ----------------------------------------------------------------
    def _dispatch(self) -> None:
        esm = self.p.esm
        while self.visible and self.batches_in_flight < int(self.level):
            n = min(esm.batch_size, len(self.visible))
            batch = [self.visible.popleft() for _ in range(n)]
            now = self.env.now
            for _i, enqueued in batch:
                self._saturated("SQS event source mapping (concurrent batches)", enqueued, now - enqueued)
            self.batches_in_flight += 1
            self.in_flight_msgs += n
            self.counts.sqs_receives += 1
            self.counts.peak_batches_in_flight = max(self.counts.peak_batches_in_flight, self.batches_in_flight)
            self.idle_since = None
            self.env.process(self._invocation([i for i, _ in batch]))
        self._record()

    def _scaler(self):
        """AWS adds concurrent batches each minute while every batch is busy and messages wait."""
        esm = self.p.esm
        while True:
            yield self.env.timeout(1.0)
            if self.visible and self.batches_in_flight >= int(self.level) and self.level < esm.maximum:
                self.level = min(float(esm.maximum), self.level + esm.scale_per_min / 60.0)
                self._dispatch()
            if not self.visible and self.batches_in_flight == 0:
                if self.idle_since is None:
                    self.idle_since = self.env.now
                elif self.env.now - self.idle_since >= esm.idle_reset_s:
                    self.level = float(esm.initial)

    # -- the builder -----------------------------------------------------------------------------
    def _lambda(self, work, kind: str):
        """One builder invocation: an execution environment (warm or cold), then `work`."""
        b = self.p.builder
        req = self.executors.request() if self.executors is not None else None
        if req is not None:
            yield req
        began = self.env.now
        self.running_invocations += 1
        try:
            extra = b.overhead_s
            if self.running_invocations > self.warm:
                self.warm = self.running_invocations
                if b.cold_start_s:
                    extra += b.cold_start_s
                    self.counts.lambda_cold_starts += 1
            if extra:
                yield self.env.timeout(extra)
            yield from work()
        finally:
            self.running_invocations -= 1
            if req is not None:
                self.executors.release(req)
        self.counts.lambda_invocations += 1
        self.counts.lambda_seconds += self.env.now - began
        if kind == "flush":
            self.counts.flush_invocations += 1

    def _invocation(self, batch: list[int]):
        def work():
            yield self.env.timeout(max(0.0, self.p.builder.batch_s(len(batch), self.env.now)))
            now = self.env.now
            for i in batch:
                self.tracked_at[i] = now
                key = self.keys[i] if self.keys is not None else i
                heapq.heappush(self.pending, (key, i))
            self.n_tracked += len(batch)
            self.n_pending += len(batch)
            self._record()
            yield from self._build_ready(flush=False)

        yield from self._lambda(work, "sqs")
        self.in_queue -= len(batch)
        self.in_flight_msgs -= len(batch)
        self.batches_in_flight -= 1
        self._record()
        self._dispatch()
        self._check_done()

    def _should_build(self, flush: bool) -> bool:
        unclaimed = len(self.pending)  # tracked, not yet taken into a manifest being assembled
        return unclaimed > 0 if flush else unclaimed >= self.p.builder.files_per_manifest

    def _build_ready(self, flush: bool):
        """sim/pipeline/builder.py Builder.build_ready, for the one date of the load."""
        while True:
            if not self._should_build(flush):
                return
            if self.lease_busy:
                if len(self.pending) >= 2 * self.p.builder.files_per_manifest:
                    oldest = min(self.tracked_at[i] for _k, i in self.pending)
                    self._saturated("builder per-date lease (one builder assembles a date's manifests)",
                                    oldest, self.env.now - oldest)
                return
            self.lease_busy = True
            built = 0
            try:
                while self._should_build(flush):
                    yield from self._build_one(flush)
                    built += 1
            finally:
                self.lease_busy = False
            if flush or built == 0:
                return

    def _build_one(self, flush: bool):
        b = self.p.builder
        size = b.files_per_manifest
        take = min(size, len(self.pending))
        files = [heapq.heappop(self.pending)[1] for _ in range(take)]
        m = Manifest(len(self.manifests), files, sum(self.sizes[i] for i in files), self.env.now,
                     by_flush=flush and take < size)
        self.manifests.append(m)
        for i in files:
            self.manifest_of[i] = m.number
        # The manifest's calls share its time; the files stay pending until their claim commits.
        groups = [files[j:j + b.claim_group] for j in range(0, take, b.claim_group)]
        calls = b.calls_before_claims + len(groups) + b.calls_after_claims
        per_call = max(0.0, b.manifest_s(take, self.env.now) - b.start_execution_s) / max(1, calls - 1)
        yield self.env.timeout(per_call * b.calls_before_claims)
        for group in groups:
            yield self.env.timeout(per_call)
            self.n_pending -= len(group)
            self.n_manifested += len(group)
            self._record()
        m.claimed_at = self.env.now
        before_start = min(2, max(0, b.calls_after_claims - 1))  # the seal and the manifest object
        yield self.env.timeout(per_call * before_start)
        yield from self._start_token()
        yield self.env.timeout(b.start_execution_s)
        m.execution_started_at = self.env.now
        self.counts.start_executions += 1
        self.workflows_running += 1
        self._record()
        self.env.process(self._workflow(m))
        # the MANIFEST item marked started and the lease's next step, still under the lease
        yield self.env.timeout(per_call * max(0, b.calls_after_claims - 1 - before_start))

    def _start_token(self):
        """StartExecution's token bucket: wait for a token (the SDK retries a throttled start)."""
        lim = self.p.start
        if lim.refill_per_s is None:
            return
        now = self.env.now
        self.tokens = min(lim.bucket, self.tokens + (now - self.tokens_at) * lim.refill_per_s)
        self.tokens_at = now
        if self.tokens < 1:
            wait = (1 - self.tokens) / lim.refill_per_s
            self._saturated("Step Functions StartExecution rate", now, wait)
            yield self.env.timeout(wait)
            self.tokens, self.tokens_at = 1.0, self.env.now
        self.tokens -= 1

    # -- the flush --------------------------------------------------------------------------------
    def _oldest_pending(self) -> float | None:
        return min((self.tracked_at[i] for _k, i in self.pending), default=None)

    def _flush_invocation(self, max_wait_s: float):
        def work():
            yield self.env.timeout(max(0.0, self.p.builder.batch_s(0, self.env.now)))
            oldest = self._oldest_pending()
            if oldest is None:
                return
            yield from self._build_ready(flush=self.env.now - oldest >= max_wait_s)

        yield from self._lambda(work, "flush")
        self._check_done()

    def _schedule(self):
        f = self.p.flush
        yield self.env.timeout(f.first_at_s)
        while True:
            self.env.process(self._flush_invocation(f.max_wait_s))
            yield self.env.timeout(f.every_s)

    def _drain(self):
        """The load harness (sim/ops/watch.py): once every landed file is tracked and the queue is
        empty, it asks the builder to flush what is pending, and again every 10 s until done."""
        f = self.p.flush
        n = len(self.landed)
        if f.drain_from_s > self.env.now:
            yield self.env.timeout(f.drain_from_s - self.env.now)
        while True:
            yield self.env.timeout(f.drain_check_s)
            if (self.n_tracked >= n and self.in_queue == 0 and len(self.pending) > 0
                    and self.env.now - self.last_drain_flush >= f.drain_retry_s):
                self.last_drain_flush = self.env.now
                yield self.env.process(self._flush_invocation(0.0))

    # -- the workflow and Glue ---------------------------------------------------------------------
    def _retry_delay(self, attempt: int) -> float:
        g = self.p.glue
        delay = min(g.retry_max_delay_s, g.retry_interval_s * g.retry_backoff ** (attempt - 1))
        return self.rng.uniform(0, delay) if g.retry_jitter else delay

    def _workflow(self, m: Manifest):
        g = self.p.glue
        m.transitions += 2  # Prepare, StartConversion
        if g.start_latency_s:
            yield self.env.timeout(g.start_latency_s)
        m.glue_asked_at = self.env.now
        m.start_attempts = 1
        req = None
        if g.when_full == "retry":
            attempt = 0
            while self.glue_capacity is not None and self.glue_running >= self.glue_capacity:
                attempt += 1
                self.counts.concurrent_runs_exceeded += 1
                m.transitions += 1  # a retried task state counts again
                yield self.env.timeout(self._retry_delay(attempt))
                m.start_attempts += 1
            polls_from = self.env.now
        else:
            polls_from = self.env.now  # StartJobRun returned: the run waits (queued, or the engine's slots)
            if self.slots is not None:
                req = self.slots.request()
                yield req
        m.glue_slot_at = self.env.now
        self._saturated("Glue concurrent runs (the job's MaxConcurrentRuns)", m.glue_asked_at,
                        m.glue_slot_at - m.glue_asked_at)
        self.glue_running += 1
        self.counts.peak_glue_runs = max(self.counts.peak_glue_runs, self.glue_running)
        try:
            if g.startup_s:
                yield self.env.timeout(g.startup_s)
            m.run_started_at = self.env.now
            yield self.env.timeout(max(0.0, g.run_s(m.number, m.bytes, self.env.now)))
            m.converted_at = self.env.now
            if g.finish_latency_s:
                yield self.env.timeout(g.finish_latency_s)
            m.run_ended_at = self.env.now
        finally:
            self.glue_running -= 1
            if req is not None:
                self.slots.release(req)
        billed = max(g.min_billed_s, m.run_ended_at - m.glue_slot_at)
        m.billed_s = billed
        self.counts.glue_runs += 1
        self.counts.glue_billed_s += billed
        self.counts.glue_dpu_s += billed * g.dpu
        polls = max(1, math.ceil((m.run_ended_at - polls_from) / g.poll_s - 1e-9)) if g.poll_s > 0 else 0
        seen = polls_from + polls * g.poll_s + g.mark_s
        m.transitions += 3 * polls + 2  # Wait, GetConversion, ConversionDone per poll; MarkSucceeded, Converted
        if seen > self.env.now:
            yield self.env.timeout(seen - self.env.now)
        m.finished_at = self.env.now
        self.counts.transitions += m.transitions
        self.workflows_running -= 1
        self.workflows_finished += 1
        self.n_converted += len(m.files)
        self._record()
        self._check_done()

    # -- the run -----------------------------------------------------------------------------------
    def _check_done(self) -> None:
        if self.n_converted >= len(self.landed) and not self.done.triggered:
            self.done.succeed()

    def run(self) -> Result:
        p = self.p
        env = self.env
        self._record()
        if self.landed:
            env.process(self._arrivals())
        else:
            self.done.succeed()
        if p.esm.scale_per_min > 0:
            env.process(self._scaler())
        if p.flush.every_s > 0:
            env.process(self._schedule())
        if p.flush.drain:
            env.process(self._drain())
        last = self.landed[-1] if self.landed else 0.0
        horizon = p.horizon_s if p.horizon_s is not None else last + p.flush.max_wait_s + 6 * 3600
        stop = env.timeout(horizon)
        env.run(until=self.done | stop)
        complete = self.done.triggered
        self._record()
        return Result(params=p, landed=self.landed, tracked_at=self.tracked_at, manifest_of=self.manifest_of,
                      manifests=self.manifests, rows=self.rows, saturations=self.saturations, counts=self.counts,
                      ended_at=env.now, complete=complete)


def simulate(params: ModelParams) -> Result:
    return Pipeline(params).run()
