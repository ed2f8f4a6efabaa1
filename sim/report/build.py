"""`sim report` end to end for one run folder: metrics, models, claims, then every output file.

Returns the report as a dict (report.json's content, per the CLI contract in DESIGN.md).
"""

from __future__ import annotations

import json
from pathlib import Path

from sim.core import contract
from sim.core.errors import SimError

from . import capacity as capacity_mod, fmt
from . import charts, claims, cost as cost_mod, loadseries, collect, optimizations, render, run_pipeline, unit_work
from .data import plan
from .inputs import Inputs

REPORT_JSON, REPORT_MD, REPORT_HTML = "report.json", "report.md", "report.html"


def run_validated(run_dir: Path) -> bool | None:
    """Whether the run's own validation passed (demo.json / load.json), None when it has none."""
    for name in ("demo.json", "load.json", "bench.json"):
        path = run_dir / name
        if path.exists():
            try:
                data = json.loads(path.read_text())
            except ValueError:
                continue
            v = data.get("validation")
            if isinstance(v, dict) and "pass" in v:
                return bool(v["pass"])
    return None


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else fmt.sig(x, 2)


def _pct(u: float | None) -> str:
    return fmt.pct(u, "n/a")


def _q(row: dict) -> str:
    return "no limit" if row["quota"] is None else f"{row['quota']:,g}"


def plan_table(cap: dict, inputs: Inputs) -> list[dict]:
    """The plan's utilization table, each row beside the model's (the limit that binds first)."""
    rows = {r["quota_id"]: r for r in cap["rows"]}
    load = cap["load"]
    mapping = [
        ("SQS", "sqs.standard.inflight", lambda r: f"no throughput limit (standard); {_q(r)} in flight",
         lambda r: f"{_fmt(load['avg_files_per_s'])}/s avg, {_fmt(load['peak_files_per_s'])}/s peak; {_fmt(r['demand']['1x'])} in flight"),
        ("Lambda Concurrency", "lambda.concurrency", lambda r: _q(r),
         lambda r: f"{_fmt(r['demand_avg_1x'])} avg, {_fmt(r['demand']['1x'])} peak"),
        ("DynamoDB Writes", "dynamodb.partition_wcu", lambda r: f"{_q(r)} WRU/s per partition (40,000 per table)",
         lambda r: f"{_fmt(r['demand_avg_1x'])} WRU/s avg, {_fmt(r['demand']['1x'])} peak"),
        ("Glue Concurrent Jobs", "glue.job_max_concurrent_runs", lambda r: f"{_q(r)} (job MaxConcurrentRuns; AWS default 1)",
         lambda r: f"{_fmt(r['demand_avg_1x'])} avg, {_fmt(r['demand']['1x'])} peak"),
        ("Step Functions", "sfn.start_execution_refill", lambda r: f"{_q(r)} StartExecution/s",
         lambda r: f"{_fmt(r['demand_avg_1x'])}/s avg, {_fmt(r['demand']['1x'])}/s peak"),
    ]
    out = []
    for seed, (name, qid, capf, usef) in zip(plan.UTILIZATION, mapping):
        r = rows[qid]
        out.append({"component": name, "plan_capacity": seed["capacity"], "model_capacity": capf(r),
                    "plan_current_use": seed["current"], "model_current_use": usef(r),
                    "plan_utilization": seed["utilization"], "model_utilization": _pct(r["utilization"]["1x"]),
                    "model_utilization_600x": _pct(r["utilization"].get("600x")),
                    "model_limit": f"{r['component']}: {r['limit']}"})
    return out


def _measured_summary(m: dict, prof: unit_work.UnitWork) -> dict:
    b = m["lambda"]["builder"]
    return {
        "files_landed": m["files_landed"], "bytes_landed": m["bytes_landed"], "manifests": m["manifests"],
        "files_per_manifest": m["files_per_manifest"],
        "builder": {"invocations": b["invocations"], "records_per_batch": b["records_per_batch_mean"],
                    "duration_ms": b["duration_ms"], "max_rss_mb": b["max_rss_mb"]},
        "per_file": {"dynamodb_write_units": round(m["dynamodb"]["write_units"] / max(1, m["files_landed"]), 3),
                     "dynamodb_read_units": round(m["dynamodb"]["read_units"] / max(1, m["files_landed"]), 3),
                     "s3_put": round(m["s3"]["put"]["count"] / max(1, m["files_landed"]), 3),
                     "s3_get": round(m["s3"]["get"]["count"] / max(1, m["files_landed"]), 3),
                     "sqs_requests": round(m["sqs"]["requests"] / max(1, m["files_landed"]), 3)},
        "requests_per_file": m.get("requests_per_file"),
        "conversion": {"runs": m["glue"].get("runs", 0), "duration_ms": m["glue"].get("duration_ms"),
                       "peak_rss_mb": m["glue"].get("peak_rss_mb")},
        "transitions_per_execution": m["stepfunctions"].get("transitions_per_execution"),
        "log_bytes": m["logs"].get("bytes"),
        "parquet_to_ndjson": round(prof.parquet_ratio, 3),
        "aws_side": {"batch_ms_1_record": round(prof.batch_ms(1), 1), "batch_ms_10_records": round(prof.batch_ms(10), 1),
                     "manifest_ms": round(prof.manifest_ms(prof.params.batch_size), 1),
                     "transitions_per_execution": prof.transitions_per_execution()},
    }


def build(run_dir: Path, inputs: Inputs, refresh: bool = False, grace_s: float | None = None,
          workdir: str | None = None, pipeline: run_pipeline.RunPipeline | None = None) -> contract.Report:
    """The report of one run. With `workdir`, its metrics are collected again from that workdir's
    telemetry (a run whose workdir moved); otherwise from the file the run recorded, once.
    `pipeline`: the run's (default: the one its run.json names); `inputs` should hold its deployed
    settings (inputs.build(pipeline=...))."""
    telemetry_file = None
    if workdir is not None:
        from sim.infra.project import Project

        telemetry_file = str(Project(workdir).telemetry_file())
    m = collect.load_or_collect(run_dir, refresh=refresh or telemetry_file is not None, telemetry_file=telemetry_file,
                                pipeline=pipeline, **({"grace_s": grace_s} if grace_s is not None else {}))
    try:
        prof = unit_work.from_metrics(m, inputs.params)
    except SimError as exc:
        raise SimError(f"run {run_dir.name}: {exc}") from None
    cap = capacity_mod.model(inputs, prof)
    cst = cost_mod.model(inputs, prof)
    validated = run_validated(run_dir)
    opts = optimizations.model(inputs, prof, cst, validated)
    cl = claims.model(cap, cst, opts, m, inputs)
    verdicts = {v: sum(1 for c in cl if c["verdict"] == v) for v in (claims.HOLDS, claims.WRONG, claims.CANNOT_TELL)}
    report = {
        "run": {"name": run_dir.name, "kind": m["run"]["kind"], "dir": str(run_dir), "validated": validated,
                "engine": m["run"]["engine"], "telemetry_lines": m["run"]["telemetry_lines"]},
        "pipeline": m.get("pipeline") or {"own": True},
        "inputs": {**inputs.as_dict(),
                   "prices": [dict(r) for r in inputs.prices.values()],
                   "quotas": [dict(r) for r in inputs.quotas.values()]},
        "measured": _measured_summary(m, prof),
        "assumed": prof.assumed,
        "capacity": {**cap, "plan_table": plan_table(cap, inputs)},
        "cost": {**cst, "optimizations": opts,
                 "total_valid_saving_usd": optimizations.total_valid_saving(opts),
                 "plan_optimizations_total_usd": plan.OPTIMIZATIONS_TOTAL},
        "seed_claims": cl,
        "verdicts": verdicts,
        "not_measured": m.get("not_measured", []),
        "load_cpu": loadseries.cpu_by_part(run_dir),
    }
    report["files"] = write_outputs(run_dir, report, (m.get("end_to_end") or {}).get("quantiles_s"))
    return report


def write_outputs(run_dir: Path, report: dict, latency_quantiles: list[float] | None = None) -> dict:
    scenes = {"utilization": charts.utilization(report["capacity"]["rows"]),
              "cost": charts.cost(report["cost"]["rows"], report["cost"]["month"])}
    by_stage, uploads_end = loadseries.work_by_stage(run_dir)
    depth = loadseries.queue_depth(run_dir)
    if len(by_stage) >= 2:
        scenes["work_by_stage"] = charts.work_by_stage(by_stage, "Where the work waits over the run (files by stage)",
                                                       uploads_end)
    elif len(depth) >= 2:
        scenes["queue_depth"] = charts.timeline(depth, "Queue depth over the run (visible + in flight)", "messages")
    lat = latency_quantiles or loadseries.latencies(run_dir)
    if lat:
        what = "percentiles of every file" if latency_quantiles else f"{len(lat):,} files"
        scenes["latency_cdf"] = charts.cdf(lat, f"End-to-end latency ({what})")
    files = {"metrics": str(run_dir / collect.METRICS_FILE), "charts": {}}
    for name, scene in scenes.items():
        path = run_dir / f"chart-{name}.svg"
        path.write_text(scene.svg())
        files["charts"][name] = str(path)
    report["files"] = {**files, "report_json": str(run_dir / REPORT_JSON), "report_md": str(run_dir / REPORT_MD),
                       "report_html": str(run_dir / REPORT_HTML)}
    (run_dir / REPORT_MD).write_text(render.markdown(report, {n: Path(p).name for n, p in files["charts"].items()}))
    (run_dir / REPORT_HTML).write_text(render.html_page(report, {n: s.svg() for n, s in scenes.items()}))
    (run_dir / REPORT_JSON).write_text(json.dumps(report, indent=2, default=str))
    return report["files"]
