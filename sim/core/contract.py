"""The `--json` documents of the commands, as code: the keys scripts outside the project rely on
(DESIGN.md's CLI contract, and the README's), with their types. Commands may add keys freely; they
never drop or rename these. `problems(doc, Document)` lists where a real output breaks the contract;
the integration tests run each command and check its output with it.

Keys that are not Python names ("pass", "1x") use TypedDict's functional form.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal, NotRequired, Optional, TypedDict, Union

Number = Union[int, float]

Percentiles = TypedDict("Percentiles", {"p50": Optional[Number], "p95": Optional[Number], "p99": Optional[Number]})

# Validation without lineage (sim/validate/multiset.py): landed records and output rows as multisets.
Multiset = TypedDict("Multiset", {
    "pass": bool, "records_in": int, "records_out": int, "quarantined": int, "missing": int, "duplicated": int,
    "altered": int, "unexpected": int, "not_records": int, "problems": list[str], "examples": dict, "seconds": dict,
})

Validation = TypedDict("Validation", {
    # files_in_manifests and orphans are read from sim's own DynamoDB schema: null for another pipeline
    "pass": bool, "files_landed": int, "files_in_manifests": Optional[int], "manifests": int, "records_in": int,
    "records_out": int, "duplicates": int, "missing": int, "quarantined": int, "orphans": Optional[int], "altered": int,
    "records_compared": int, "peak_extra_disk_bytes": int, "problems": list[str], "seconds": dict,
    # sim's own pipeline: the multiset check beside the lineage check, and whether they agree
    "multiset": NotRequired[Multiset], "checks_agree": NotRequired[bool],
})

Timings = TypedDict("Timings", {"setup_s": Number, "upload_s": Number, "drain_s": Number, "validate_s": Number,
                                "total_s": Number})

Demo = TypedDict("Demo", {
    "pass": bool, "endpoint": Optional[str], "target": str, "files": int, "file_size_bytes": int, "batch_size": Optional[int],
    "bytes_landed": int, "records_generated": int, "end_to_end_files_per_s": Optional[Number],
    "manifests_by_status": dict, "dlq_messages": int, "deploy_changes": int, "timings": Timings, "run_dir": str,
    "validation": Validation,
})


class PathReason(TypedDict):
    path: str
    reason: str


Land = TypedDict("Land", {
    "pass": bool, "endpoint": Optional[str], "target": str, "files": int, "bytes_landed": int,
    "keys": dict[str, str], "skipped": list[PathReason], "not_ndjson": list[PathReason],
    "manifests_by_status": dict, "dlq_messages": int, "deploy_changes": int, "timings": Timings, "run_dir": str,
    "validation": Validation,
})

# The peak window's verdict (sim/load/peak.py).
PeakWindow = TypedDict("PeakWindow", {
    "window_s": list[Number], "target_files_per_s": Number, "achieved_files_per_s": Number,
    "limit": Literal["target", "raw_put_ceiling"], "limit_files_per_s": Number, "required_files_per_s": Number,
    "pass": bool, "reason": Optional[str], "limited_by": Optional[str],
})

Load = TypedDict("Load", {
    "pass": bool, "profile": str, "target_files_per_s": Number, "achieved_files_per_s": Number,
    "upload_ms": Percentiles, "end_to_end_s": Percentiles, "max_queue_depth": int, "longest_stall_s": Number,
    "builder_timeouts": Optional[int], "rate_limited_by": Optional[str],
    "raw_put_ceiling_files_per_s": Optional[Number], "reasons": list[str], "run_dir": str,
    "validation": Optional[Validation],
    "peak_window": NotRequired[PeakWindow],  # since the peak window is judged; older load.json files lack it
})

Bench = TypedDict("Bench", {
    "pass": bool, "file_size_bytes": int, "raw_put_ceiling_files_per_s": Number, "sustained_files_per_s": Number,
    "sustained_multiple_of_production": Number, "ratio_to_ceiling": Number, "converter_mb_per_s": Optional[Number],
    "converter_peak_rss_mb": Optional[Number], "converter_baseline_mb_per_s": Optional[Number],
    "converter_ratio_to_baseline": Optional[Number], "requests_per_file": dict, "run_dir": str,
    "validation_baseline_s": Optional[Number], "validation_s": Optional[Number],
    "validation_ratio_to_baseline": Optional[Number],
})

Utilization = TypedDict("Utilization", {"1x": Optional[Number], "600x": Optional[Number]})


class CapacityRow(TypedDict):
    component: str
    quota: Optional[Number]
    utilization: Utilization


class Bottleneck(TypedDict):
    component: Optional[str]
    multiple_of_today: Optional[Number]


class Capacity(TypedDict):
    rows: list[CapacityRow]
    first_bottleneck: Bottleneck


class CostRow(TypedDict):
    component: str
    monthly_usd: Number


class Optimization(TypedDict):
    name: str
    monthly_saving_usd: Number
    valid: bool
    note: str


class Cost(TypedDict):
    monthly_total_usd: Number
    rows: list[CostRow]
    optimizations: list[Optimization]


class SeedClaim(TypedDict):
    claim: str
    seed_value: Any
    model_value: Any
    verdict: str


class ReportFiles(TypedDict):
    metrics: str
    charts: dict[str, str]
    report_json: str
    report_md: str
    report_html: str


class Report(TypedDict):
    capacity: Capacity
    cost: Cost
    seed_claims: list[SeedClaim]
    files: ReportFiles


class Saturated(TypedDict):
    resource: str
    at_s: Number


class Prediction(TypedDict):
    drain_s: Optional[Number]
    end_to_end_s: Percentiles
    max_queue_depth: int
    max_pending_files: int
    first_saturated: Optional[Saturated]
    cost_usd: Number


class CalibrationErrors(TypedDict):
    drain_s: Optional[Number]
    end_to_end_p50_s: Optional[Number]
    end_to_end_p95_s: Optional[Number]
    max_pending_files: Optional[Number]
    max_queue_depth: Optional[Number]


class Calibration(TypedDict):
    run: str
    errors: CalibrationErrors
    within_tolerance: bool


Predict = TypedDict("Predict", {"pass": bool, "verdict": str, "prediction": Prediction, "calibration": Calibration,
                                "sweep": Optional[dict], "files": dict})


class CheckResult(TypedDict):
    id: str
    title: str
    status: Literal["pass", "fail", "warn", "not_applicable"]
    detail: str
    fix: str
    source: str


CheckCounts = TypedDict("CheckCounts", {"pass": int, "fail": int, "warn": int, "not_applicable": int})

Check = TypedDict("Check", {"pass": bool, "target": str, "endpoint": Optional[str], "counts": CheckCounts,
                            "checks": list[CheckResult]})


class ScenarioVerdict(TypedDict):
    name: str
    verdict: Literal["PASS", "FAIL", "SKIP"]  # SKIP: the scenario judges only sim's own pipeline
    evidence: dict


ScenarioRun = TypedDict("ScenarioRun", {"pass": bool, "scenarios": list[ScenarioVerdict]})


class Resources(TypedDict):
    landing_bucket: str
    output_bucket: str
    queue_url: str
    dlq_url: str
    table: str
    state_machine_arn: str
    alerts_topic_arn: str


class Status(TypedDict):
    endpoint: Optional[str]
    target: str
    resources: Resources
    counts: dict


Error = TypedDict("Error", {"pass": bool, "error": str})

DOCUMENTS = {"demo": Demo, "land": Land, "validate": Validation, "load": Load, "bench": Bench, "report": Report,
             "report --predict": Predict, "check": Check, "scenario run": ScenarioRun, "status": Status, "error": Error}


def problems(doc: Any, kind: Any, where: str = "$") -> list[str]:
    """Where `doc` breaks the document type `kind`: missing keys, wrong types (extra keys are fine)."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return []
    if typing.is_typeddict(kind):
        if not isinstance(doc, dict):
            return [f"{where}: an object expected, got {type(doc).__name__}"]
        hints = typing.get_type_hints(kind)
        out = [f"{where}.{key}: missing" for key in sorted(kind.__required_keys__) if key not in doc]
        for key, hint in hints.items():
            if key in doc:
                out += problems(doc[key], hint, f"{where}.{key}")
        return out
    if origin in (Union, types.UnionType):
        if any(not problems(doc, a, where) for a in args):
            return []
        others = [a for a in args if a is not type(None)]
        if len(others) == 1:  # Optional[X] holding something: what is wrong with it as an X
            return problems(doc, others[0], where)
        return [f"{where}: {doc!r:.60} is none of {', '.join(_name(a) for a in args)}"]
    if origin is Literal:
        return [] if doc in args else [f"{where}: {doc!r} is not one of {args}"]
    if origin is list:
        if not isinstance(doc, list):
            return [f"{where}: a list expected, got {type(doc).__name__}"]
        return [p for i, item in enumerate(doc) for p in problems(item, args[0] if args else Any, f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(doc, dict):
            return [f"{where}: an object expected, got {type(doc).__name__}"]
        return [p for k, v in doc.items() for p in problems(v, args[1] if args else Any, f"{where}.{k}")]
    if kind is type(None):
        return [] if doc is None else [f"{where}: null expected"]
    if kind in (int, float):  # JSON numbers: a bool is not one
        ok = isinstance(doc, (int, float) if kind is float else int) and not isinstance(doc, bool)
        return [] if ok else [f"{where}: {kind.__name__} expected, got {type(doc).__name__}"]
    return [] if isinstance(doc, kind) else [f"{where}: {kind.__name__} expected, got {type(doc).__name__}"]


def _name(kind: Any) -> str:
    return getattr(kind, "__name__", None) or str(kind)
