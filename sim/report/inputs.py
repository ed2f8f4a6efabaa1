"""The model's inputs: the target load, the AWS-side assumptions the user can change, and the price
and quota tables after the user's overrides.

What a deployment fixes (files per manifest, the Glue job's DPU and MaxConcurrentRuns, the
builder's memory, the event source mapping's batch size, the alarms) is read from the pipeline's
description as `sim deploy --target aws` deploys it: `sim`'s own by default, the run's own with
`sim report --pipeline` (sim/infra/spec.py `deployed_settings`).

Overrides come from a TOML or JSON file ({"params": {...}, "prices": {id: value}, "quotas": {id: value}})
and from flags; flags win. Unknown names are errors, so a typo never silently keeps a default.
"""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from sim.core.errors import SimError
from sim.infra import description
from sim.infra.spec import Settings, Wiring, deployed_settings
from sim.workload.sizes import parse_size

from .data import load_prices, load_quotas, plan

GLUE_WORKER_DPU = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0}
PYTHON_SHELL = "pythonshell"


def _deployed() -> Settings:
    """The settings `sim deploy --target aws` deploys `sim`'s own pipeline with."""
    return deployed_settings("aws")


def _deployed_wiring() -> Wiring:
    return Wiring("000000000000", "us-east-1", _deployed())


def _own_metrics(w: Wiring) -> set[str]:
    return {a["MetricName"] for a in w.alarms() if a["Namespace"] == w.names.metrics_namespace}


def deployed_params(pipeline: description.Description) -> dict:
    """The Params a deployment of `pipeline` on AWS fixes (Params' defaults are `sim`'s own)."""
    s = deployed_settings("aws", pipeline)
    w = Wiring("000000000000", "us-east-1", s, pipeline=pipeline)
    return {"batch_size": s.batch_size, "glue_max_capacity": s.glue_max_capacity, "poll_seconds": s.poll_seconds,
            "builder_memory_mb": s.builder_memory_mb, "esm_batch_size": pipeline.builder.batch_size,
            "alarms": len(w.alarms()), "custom_metrics": len(_own_metrics(w))}


@dataclass
class Params:
    """Target load and AWS-side assumptions. Defaults: the plan's load, this project's deployment."""

    files_per_day: float = plan.LOAD["files_per_day"]
    peak_hour_files: float | None = None  # default: the plan's 1,000 of 8,000, scaled with files_per_day
    multiplier: float = plan.LOAD["headroom_multiple"]
    file_size_bytes: int = field(default_factory=lambda: parse_size("3.5MB"))
    batch_size: int = field(default_factory=lambda: _deployed().batch_size)
    days_per_month: float = 30.0
    # Glue: the deployed job is a Python-shell job at 0.0625 DPU; "G.1X" etc. model a Spark job
    glue_worker_type: str = PYTHON_SHELL
    glue_max_capacity: float = field(default_factory=lambda: _deployed().glue_max_capacity)
    glue_workers: int = 2
    glue_version: str = "3.0"
    glue_run_minutes: float = 4.0  # AWS-side duration of one run; the plan says 3-5 minutes
    # Step Functions polls the Glue run every poll_seconds on AWS
    poll_seconds: int = field(default_factory=lambda: _deployed().poll_seconds)
    flush_every_s: float = 60.0  # the schedule rate(1 minute)
    aws_call_ms: float = 5.0  # AWS-side latency of one sequential SDK call from Lambda (the engine answers faster)
    builder_memory_mb: int = field(default_factory=lambda: _deployed().builder_memory_mb)
    lambda_arch: str = "x86"
    esm_batch_size: int = 10
    esm_idle_pollers: int = 5  # pollers long-polling an idle queue (assumption)
    esm_long_poll_s: float = 20.0
    storage_month: int = 12  # the bill of this month after go-live: stored data accumulates
    landing_retention_days: int = 30  # for the lifecycle-rule optimization
    free_tier: bool = False  # free tiers are per account, usually used up by other workloads
    platform_log_bytes: int = 300  # START/END/REPORT lines per Lambda invocation on AWS
    glue_log_bytes_per_run: int = 4096  # the Glue service's own lines per run (assumption)
    log_level: str = "INFO"  # production level (sim/infra/spec.py)
    alarms: int = field(default_factory=lambda: len(_deployed_wiring().alarms()))
    # the pipeline's own metrics (quarantined lines and files, overwritten keys)
    custom_metrics: int = field(default_factory=lambda: len(_own_metrics(_deployed_wiring())))

    def __post_init__(self):
        if self.peak_hour_files is None:
            share = plan.LOAD["peak_hour_files"] / plan.LOAD["files_per_day"]
            self.peak_hour_files = self.files_per_day * share
        checks = [(self.files_per_day > 0, "files per day must be positive"),
                  (self.multiplier > 0, "the multiplier must be positive"),
                  (self.batch_size >= 1, "batch size must be at least 1"),
                  (self.glue_run_minutes > 0, "the Glue run duration must be positive"),
                  (self.peak_hour_files >= self.files_per_day / 24, "the peak hour cannot be below the average hour"),
                  (self.glue_worker_type in GLUE_WORKER_DPU or self.glue_worker_type == PYTHON_SHELL,
                   f"unknown Glue worker type {self.glue_worker_type!r}: pythonshell, {', '.join(GLUE_WORKER_DPU)}"),
                  (self.lambda_arch in ("x86", "arm"), "lambda_arch is x86 or arm")]
        for ok, message in checks:
            if not ok:
                raise SimError(message)

    # -- derived load ----------------------------------------------------------------------
    @property
    def avg_files_per_s(self) -> float:
        return self.files_per_day / 86400

    @property
    def peak_files_per_s(self) -> float:
        return self.peak_hour_files / 3600

    @property
    def manifests_per_day(self) -> float:
        return math.ceil(self.files_per_day / self.batch_size)

    @property
    def glue_run_s(self) -> float:
        return self.glue_run_minutes * 60

    @property
    def glue_dpu(self) -> float:
        if self.glue_worker_type == PYTHON_SHELL:
            return self.glue_max_capacity
        return GLUE_WORKER_DPU[self.glue_worker_type] * self.glue_workers

    def glue_label(self) -> str:
        if self.glue_worker_type == PYTHON_SHELL:
            return f"Python shell, {self.glue_max_capacity:g} DPU"
        return f"Spark {self.glue_workers} x {self.glue_worker_type} (Glue {self.glue_version})"


@dataclass
class Inputs:
    params: Params
    prices: dict[str, dict]
    quotas: dict[str, dict]
    overridden: list[str] = field(default_factory=list)

    def price(self, pid: str) -> float:
        return float(self.prices[pid]["value"])

    def quota(self, qid: str) -> float | None:
        value = self.quotas[qid]["value"]
        return None if value is None else float(value)

    def as_dict(self) -> dict:
        return {"params": asdict(self.params), "overridden": self.overridden}


def _read_file(path: str) -> dict:
    p = Path(path)
    if not p.exists():
        raise SimError(f"overrides file not found: {path}")
    try:
        return tomllib.loads(p.read_text()) if p.suffix == ".toml" else json.loads(p.read_text())
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise SimError(f"cannot read overrides file {path}: {exc}") from None


def parse_assignments(items: list[str] | None, what: str) -> dict[str, float | None]:
    """["glue.dpu_hour=0.5", ...] -> {"glue.dpu_hour": 0.5}; "none" clears a quota."""
    out: dict[str, float | None] = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise SimError(f"--{what} takes ID=VALUE, got {item!r}")
        try:
            out[key.strip()] = None if value.strip().lower() == "none" else float(value.replace(",", ""))
        except ValueError:
            raise SimError(f"--{what} {key.strip()}: not a number: {value!r}") from None
    return out


def build(overrides_file: str | None = None, params: dict | None = None,
          prices: dict | None = None, quotas: dict | None = None,
          pipeline: description.Description | None = None) -> Inputs:
    """The inputs after the overrides (file, then flags), on the deployed settings of `pipeline`
    (None: `sim`'s own)."""
    data = _read_file(overrides_file) if overrides_file else {}
    names = {f.name for f in fields(Params)}
    merged = {**data.get("params", {}), **{k: v for k, v in (params or {}).items() if v is not None}}
    unknown = sorted(set(merged) - names)
    if unknown:
        raise SimError(f"unknown parameter(s): {', '.join(unknown)}")
    if isinstance(merged.get("file_size_bytes"), str):
        merged["file_size_bytes"] = parse_size(merged["file_size_bytes"])
    deployed = deployed_params(pipeline) if pipeline is not None else {}
    p = Params(**{**deployed, **merged})
    price_table, quota_table = load_prices(), load_quotas()
    quota_table["glue.job_max_concurrent_runs"]["value"] = deployed_settings("aws", pipeline).glue_max_concurrent_runs
    overridden = [f"param {k}" for k in sorted(merged)]
    for table, given, kind in ((price_table, {**data.get("prices", {}), **(prices or {})}, "price"),
                               (quota_table, {**data.get("quotas", {}), **(quotas or {})}, "quota")):
        for key, value in given.items():
            if key not in table:
                raise SimError(f"unknown {kind} id {key!r}; see `sim report --list-ids`")
            if value is None and kind == "price":
                raise SimError(f"price {key} needs a number")
            if value is not None and not isinstance(value, (int, float)):
                try:
                    value = float(str(value).replace(",", ""))
                except ValueError:
                    raise SimError(f"{kind} {key}: not a number: {value!r}") from None
            table[key] = dict(table[key], value=value, status="overridden", source="user override")
            overridden.append(f"{kind} {key}")
    return Inputs(p, price_table, quota_table, overridden)
