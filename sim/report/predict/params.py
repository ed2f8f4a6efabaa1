"""What the discrete-event model needs, as plain data: the arrivals, and each stage's limits and
service times. `local.py` fills it from a recorded run on the embedded engine, `aws.py` from the
deployed (or the plan's) settings and the quotas table; the model itself (model.py) knows neither.

Service times are functions, so a calibration can replay how the run's own times moved as the
engine got busier, and a prediction can use one figure per stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

# n records, model time -> seconds of the builder's handler for one SQS batch
BatchTime = Callable[[int, float], float]
# files, model time -> seconds to assemble one manifest under the lease (claims, manifest object, mark)
ManifestTime = Callable[[int, float], float]
# manifest number (0-based, in order of creation), bytes, model time -> seconds of the converter's own work
RunTime = Callable[[int, int, float], float]


def constant_batch(fixed_s: float, per_record_s: float) -> BatchTime:
    return lambda n, _t: fixed_s + per_record_s * n


def constant_manifest(fixed_s: float, per_file_s: float) -> ManifestTime:
    return lambda files, _t: fixed_s + per_file_s * files


def constant_rate(mb_per_s: float) -> RunTime:
    return lambda _k, size, _t: size / 1e6 / mb_per_s


@dataclass
class Esm:
    """The SQS event source mapping: how many batches it keeps in flight at once."""

    batch_size: int = 10
    initial: int = 5  # concurrent batches when messages first appear
    scale_per_min: float = 0.0  # added each minute while every batch is busy and messages wait (AWS: 300)
    maximum: int = 5  # MaximumConcurrency, else the account's Lambda concurrency
    idle_reset_s: float = 60.0  # after this long with nothing to read, back to `initial`


@dataclass
class Builder:
    """The manifest builder: its handler per SQS batch, and the manifests it assembles under the lease."""

    batch_s: BatchTime = field(default_factory=lambda: constant_batch(0.05, 0.005))
    manifest_s: ManifestTime = field(default_factory=lambda: constant_manifest(0.05, 0.001))
    # The calls that assemble a manifest, in order (sim/pipeline/builder.py): the lease, the open-manifest
    # and pending queries and the MANIFEST item, then one claim transaction per 99 files, then the seal,
    # the manifest object, StartExecution, the mark and the release. Claims commit group by group.
    calls_before_claims: int = 4
    calls_after_claims: int = 5
    claim_group: int = 99
    start_execution_s: float = 0.05  # StartExecution's own latency, inside the manifest's assembly
    overhead_s: float = 0.0  # per invocation outside the handler (the local engine's dispatch)
    cold_start_s: float = 0.0  # a new execution environment (AWS)
    memory_mb: int = 512
    files_per_manifest: int = 200  # MANIFEST_BATCH_SIZE
    run_at_once: Optional[int] = None  # invocations that run at once (None: every batch in flight)


@dataclass
class Flush:
    every_s: float = 60.0  # the schedule rate(1 minute)
    max_wait_s: float = 3600.0  # FLUSH_MAX_WAIT_SECONDS: a partial batch waits this long
    first_at_s: float = 30.0  # the schedule's phase against the load's start
    drain: bool = False  # the load harness's own flush once every file is tracked and the queue is empty
    drain_from_s: float = 0.0  # the harness starts watching for that after the uploads end
    drain_check_s: float = 1.0  # how often it looks
    drain_retry_s: float = 10.0


@dataclass
class StartLimit:
    """Step Functions' StartExecution token bucket."""

    bucket: float = 1300.0
    refill_per_s: Optional[float] = 300.0  # None: no limit


@dataclass
class Glue:
    """The conversion: Glue run slots, what happens when they are full, start-up and work per run."""

    slots: Optional[int] = 10  # the job's MaxConcurrentRuns (local: the engine's slots); None: no limit
    account_slots: Optional[int] = None  # concurrent runs across the account
    when_full: str = "retry"  # "retry": ConcurrentRunsExceeded and the workflow's backoff; "queue": WAITING
    # until a slot frees (job run queuing); "wait": started at once, then waits for a slot (the local engine)
    run_s: RunTime = field(default_factory=lambda: constant_rate(50.0))
    startup_s: float = 0.0  # from a slot to the converter's own work (provisioning, interpreter, imports)
    start_latency_s: float = 0.0  # from the execution's start to StartJobRun
    finish_latency_s: float = 0.0  # from the converter's end to the run's end (exit, upload of logs)
    poll_s: float = 30.0  # the workflow's Wait between GetJobRun calls
    mark_s: float = 0.0  # from the run's end seen to the MANIFEST item marked succeeded
    retry_interval_s: float = 30.0  # the workflow's Retry on ConcurrentRunsExceeded (sim/pipeline/workflow-glue.asl.json)
    retry_backoff: float = 1.5
    retry_max_delay_s: float = 300.0
    retry_jitter: bool = True  # JitterStrategy FULL
    dpu: float = 0.0625
    min_billed_s: float = 60.0


@dataclass
class ModelParams:
    arrivals_s: list[float]  # when each file landed (the upload returned), seconds from the load's start
    sizes: list[int]  # bytes of each file
    sort_keys: Optional[list[str]] = None  # the order the pending index returns files in (by key); None: arrival
    notify_s: float = 0.0  # S3 event -> SQS message visible
    esm: Esm = field(default_factory=Esm)
    builder: Builder = field(default_factory=Builder)
    flush: Flush = field(default_factory=Flush)
    start: StartLimit = field(default_factory=StartLimit)
    glue: Glue = field(default_factory=Glue)
    sample_s: float = 1.0  # the timeline's sampling, as `sim load` samples a run
    horizon_s: Optional[float] = None  # stop here even with work left (None: when everything is converted)
    seed: int = 7
    label: str = ""

    def __post_init__(self):
        if len(self.arrivals_s) != len(self.sizes):
            raise ValueError("one size per arrival")
        if self.sort_keys is not None and len(self.sort_keys) != len(self.arrivals_s):
            raise ValueError("one sort key per arrival")
