"""Measured unit work turned into AWS-side unit work: what one file, one SQS batch, one manifest and
one flush cost on AWS, given the run's metrics and the model's parameters.

Durations on AWS are the larger of the time measured on the local engine and the number of
sequential SDK calls times `aws_call_ms` (the engine answers in 1-2 ms; AWS services from Lambda
take several). Where the run did not exercise a path (no manifest built, no conversion, no flush),
the shape of the code gives the counts and the profile says so in `assumed`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim.core.errors import SimError

from .inputs import Params

MULTIPART_THRESHOLD = 8 * 1024 * 1024  # boto3's default: larger uploads go in 8 MiB parts
UNIT_KEYS = ("duration_ms", "write_units", "read_units")
# The code's shape, for paths a run did not exercise (see sim/pipeline/builder.py and state.py).
DEFAULT_MANIFEST = {"per_file": {"calls": {"dynamodb.UpdateItem": 1.0}, "write_units": 2.0, "read_units": 0.0, "duration_ms": 1.0},
                    "fixed": {"calls": {"dynamodb.PutItem": 2.0, "dynamodb.Query": 3.0, "dynamodb.Scan": 1.0,
                                        "dynamodb.DeleteItem": 1.0, "s3.PutObject": 1.0, "stepfunctions.StartExecution": 1.0},
                              "write_units": 6.0, "read_units": 2.0, "duration_ms": 20.0}}
# A flush with one date and nothing to recover: the date registry, the date's oldest pending file,
# and the three kinds of manifest the flush looks at (open, redriven, to retry).
DEFAULT_FLUSH = {"dynamodb.Query": 5.0, "duration_ms": 20.0, "write_units": 0.0, "read_units": 3.0}
DEFAULT_PARQUET_RATIO = 0.2


def put_requests(size_bytes: float) -> int:
    """PUT-class requests to upload one object with boto3's defaults."""
    if size_bytes <= MULTIPART_THRESHOLD:
        return 1
    return math.ceil(size_bytes / MULTIPART_THRESHOLD) + 2  # create + parts + complete


def _calls_total(calls: dict) -> float:
    return sum(v for k, v in calls.items() if k not in UNIT_KEYS)


@dataclass
class UnitWork:
    params: Params
    batch: dict  # name -> {"fixed", "per_record"}
    manifest: dict  # {"per_file": {...}, "fixed": {...}}
    converter_per_file_gets: float
    converter_fixed_calls: dict
    converter_units: tuple[float, float]
    flush: dict
    parquet_ratio: float
    transitions_local: float | None
    info_log_bytes_per_record: float
    info_log_bytes_per_batch: float
    debug_log_bytes_per_file: float
    peak_rss_mb: float | None
    measured_file_size: int | None
    assumed: list[str] = field(default_factory=list)

    # -- the SQS batch -----------------------------------------------------------------------
    def batch_calls(self, records: float) -> float:
        return sum(v["fixed"] + v["per_record"] * records for k, v in self.batch.items() if k not in UNIT_KEYS)

    def batch_units(self, records: float) -> tuple[float, float]:
        w, r = self.batch.get("write_units", {}), self.batch.get("read_units", {})
        return (w.get("fixed", 0) + w.get("per_record", 0) * records, r.get("fixed", 0) + r.get("per_record", 0) * records)

    def batch_ms(self, records: float) -> float:
        d = self.batch.get("duration_ms", {"fixed": 0.0, "per_record": 0.0})
        return max(d["fixed"] + d["per_record"] * records, self.batch_calls(records) * self.params.aws_call_ms)

    def records_per_batch(self, files_per_s: float) -> float:
        """Messages that arrive while one batch is processed, between 1 and the ESM batch size."""
        size = self.params.esm_batch_size
        return min(size, max(1.0, files_per_s * self.batch_ms(size) / 1000))

    # -- the manifest --------------------------------------------------------------------------
    def manifest_calls(self, files: float) -> float:
        return _calls_total(self.manifest["fixed"]["calls"]) + _calls_total(self.manifest["per_file"]["calls"]) * files

    def manifest_units(self, files: float) -> tuple[float, float]:
        f, p = self.manifest["fixed"], self.manifest["per_file"]
        return f["write_units"] + p["write_units"] * files, f["read_units"] + p["read_units"] * files

    def manifest_ms(self, files: float) -> float:
        f, p = self.manifest["fixed"], self.manifest["per_file"]
        return max(f["duration_ms"] + p["duration_ms"] * files, self.manifest_calls(files) * self.params.aws_call_ms)

    def manifest_s3_puts(self) -> float:
        return self.manifest["fixed"]["calls"].get("s3.PutObject", 1.0)

    # -- the conversion ------------------------------------------------------------------------
    def output_bytes(self, files: float) -> float:
        return files * self.params.file_size_bytes * self.parquet_ratio

    def conversion_gets(self, files: float) -> float:
        return self.converter_fixed_calls.get("s3.GetObject", 1.0) + self.converter_per_file_gets * files

    def conversion_puts(self, files: float) -> int:
        return put_requests(self.output_bytes(files))

    def transitions_per_execution(self) -> float:
        """Glue mode: start, then Wait + GetJobRun + Choice per poll, then mark and succeed."""
        polls = max(1, math.ceil(self.params.glue_run_s / self.params.poll_seconds))
        return 3 + 3 * polls

    def execution_s(self) -> float:
        polls = max(1, math.ceil(self.params.glue_run_s / self.params.poll_seconds))
        return polls * self.params.poll_seconds + 3 * self.params.aws_call_ms / 1000

    # -- the scheduled flush -------------------------------------------------------------------
    def flush_ms(self) -> float:
        calls = _calls_total(self.flush)
        return max(self.flush.get("duration_ms", 0.0), calls * self.params.aws_call_ms)

    def flush_units(self) -> tuple[float, float]:
        return self.flush.get("write_units", 0.0), self.flush.get("read_units", 0.0)

    # -- S3 per landed file --------------------------------------------------------------------
    def landing_puts_per_file(self) -> int:
        return put_requests(self.params.file_size_bytes)


def from_metrics(metrics: dict, params: Params) -> UnitWork:
    assumed: list[str] = []
    # Defaults follow sim's own code; for another pipeline they are sim's figures, not that code's.
    code = "the builder's code" if (metrics.get("pipeline") or {}).get("own", True) else "sim's own builder's code"
    b = metrics["lambda"]["builder"]
    batch = b.get("per_batch") or {}
    if not batch:
        raise SimError("the run has no SQS batches of the builder: nothing to scale")
    split = b.get("manifest_split")
    if not split:
        split = DEFAULT_MANIFEST
        assumed.append(f"manifest work: no manifest was built in the run; counts from {code}")
    g = metrics["glue"]
    if g.get("runs"):
        gets = g.get("per_file_calls", {}).get("s3.GetObject", 1.0)
        fixed = g.get("fixed_calls", {})
        conv_units = (g.get("write_units_per_run", 1.0), g.get("read_units_per_run", 0.0))
    else:
        gets, fixed, conv_units = 1.0, {"s3.GetObject": 1.0, "dynamodb.UpdateItem": 1.0}, (1.0, 0.0)
        assumed.append("conversion: no conversion ran in the run; one GET per file plus the manifest")
    flush = b.get("per_flush")
    if not flush:
        flush = DEFAULT_FLUSH
        assumed.append(f"flush: no scheduled flush ran in the run; two index scans per flush, as in {code}")
    written = (metrics["s3"].get("written") or {})
    parquet = written.get("parquet", {})
    landed = metrics.get("bytes_landed") or 0
    if parquet.get("bytes") and landed:
        ratio = parquet["bytes"] / landed
    else:
        ratio = DEFAULT_PARQUET_RATIO
        assumed.append(f"Parquet size: not measured; {DEFAULT_PARQUET_RATIO:.0%} of the NDJSON assumed")
    logs = metrics.get("logs") or {}
    by_level = logs.get("bytes_by_level") or {}
    files = max(1, metrics.get("files_landed") or 1)
    batches = max(1, b.get("sqs_invocations") or 1)
    if logs.get("bytes") is not None:
        info = sum(v for k, v in by_level.items() if k in ("INFO", "WARNING", "ERROR", "CRITICAL"))
        info_per_batch, info_per_record = info / batches, 0.0
        debug_per_file = by_level.get("DEBUG", 0) / files
    else:
        info_per_batch, info_per_record, debug_per_file = 110.0, 0.0, 110.0
        assumed.append("log bytes: not measured; one 110-byte INFO line per batch")
    sf = metrics.get("stepfunctions") or {}
    return UnitWork(
        params=params, batch=batch, manifest=split, converter_per_file_gets=gets, converter_fixed_calls=fixed,
        converter_units=conv_units, flush=flush, parquet_ratio=ratio,
        transitions_local=sf.get("transitions_per_execution"),
        info_log_bytes_per_record=info_per_record, info_log_bytes_per_batch=info_per_batch,
        debug_log_bytes_per_file=debug_per_file, peak_rss_mb=g.get("peak_rss_mb"),
        measured_file_size=metrics["run"].get("file_size_bytes"), assumed=assumed)
