"""Metrics of one run: the work each component did, from the pipeline's telemetry lines (and the
engine, while it still runs), stored as `reports/<run>/metrics.json`.

The run's pipeline (run_pipeline.py) gives the deployed settings (memory, batch size) and the
resource names read on the engine. Its telemetry lines are the same for every pipeline: `sim`'s own
code writes them, and the fault bundle writes them for a pipeline sim did not write. Figures that
need `sim`'s own schema are listed under `not_measured` for another pipeline, with the reason.

Collected once: the engine's data may be wiped by the next run, so `sim report` reuses the file
unless asked to collect again.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from sim.core import stats
from sim.core.errors import SimError
from sim.core.runs import read_run
from sim.infra.spec import Names, Wiring, deployed_settings
from sim.load import requests

from . import engine_facts, run_pipeline, unit_work, work
from .window import DEFAULT_GRACE_S, of_run

METRICS_FILE = "metrics.json"
VERSION = 1


def _files_landed(run: dict, lines: list[dict]) -> int:
    for key in ("files", "files_landed", "files_uploaded", "uploaded"):
        if isinstance(run.get(key), (int, float)) and run[key] > 0:
            return int(run[key])
    return int(sum(l.get("calls", {}).get("dynamodb.PutItem", 0) for l in lines
                   if l.get("component") == "builder" and l.get("kind") == "sqs"))


def _sum_calls(lines: list[dict], component: str | None = None) -> Counter:
    total = Counter()
    for l in lines:
        if component is None or l.get("component") == component:
            total.update(l.get("calls", {}))
    return total


def _by_service(calls: Counter, service: str) -> dict:
    return {k.split(".", 1)[1]: v for k, v in sorted(calls.items()) if k.startswith(service + ".")}


def end_to_end_latencies(run_dir: Path, target, names: Names) -> dict | None:
    """Landed -> in Parquet per file of a load run: its upload logs joined with the conversions the
    engine recorded. Kept as 101 quantiles, enough for a CDF."""
    folder = next((d for d in (run_dir / "uploads", run_dir) if any(d.glob("uploads-*.jsonl"))), None)
    if target is None or folder is None:
        return None
    try:
        from sim.load import latency, measure

        uploads = measure.read_uploads(folder, (0.0, float("inf")))
        values, unconverted = latency.end_to_end(uploads.landed_at, latency.read_conversions(target, names))
    except Exception as exc:  # the load command's files or the engine changed: report without the CDF
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {"files": len(values), "unconverted": unconverted, "quantiles_s": stats.curve(values)}


def _output_bucket(rp: run_pipeline.RunPipeline, settings) -> str:
    wiring = Wiring("000000000000", "us-east-1", settings, names=rp.names, pipeline=rp.description)
    return wiring.substitute(rp.description.output.bucket, f"{rp.description.path}: [output] bucket")


def requests_per_file(files: int, file_size: int, lines: list[dict], sf: dict | None) -> dict:
    """Requests per landed file by service and operation (sim/load/requests.py): the pipeline's
    calls from its telemetry, the workflow's task calls and transitions from the histories the
    engine kept (scaled from the sampled executions), the client's uploads by boto3's defaults."""
    workflow = Counter()
    executions = 0
    if sf:
        executions = int(sf.get("executions") or 0)
        workflow["states.StateTransition"] = int(sf.get("transitions") or 0)
        for op, per_execution in (sf.get("task_calls_per_execution") or {}).items():
            workflow[op] = round(per_execution * executions)
    out = requests.per_file(files, lines, workflow, executions, files * unit_work.put_requests(file_size),
                            client_puts_source="inferred: boto3's uploads of files of the run's size")
    if not sf:
        out["note"] = "the engine was not reachable: the workflow's own requests (task calls, transitions) are missing"
    return out


def collect(run_dir: Path, grace_s: float = DEFAULT_GRACE_S, use_engine: bool = True,
            telemetry_file: str | None = None, pipeline: run_pipeline.RunPipeline | None = None) -> dict:
    run = read_run(run_dir)
    rp = pipeline or run_pipeline.of_run(run_dir.name, run)
    window, lines = of_run(run_dir, run, grace_s, telemetry_file)
    if not lines:
        raise SimError(f"no telemetry lines for run {run_dir.name} in {telemetry_file or run.get('telemetry_file') or 'its workdir'}:"
                       " the pipeline recorded no work (telemetry is on for the embedded engine only)")
    names = rp.names
    deployed = deployed_settings("aws", rp.description)
    files = _files_landed(run, lines)
    calls = _sum_calls(lines)
    starts = calls.get(work.START, 0)
    conv_lines = [l for l in lines if l.get("component") == "converter"]
    manifests = max(starts, len(conv_lines))
    fpm = files / manifests if manifests else float(run.get("batch_size") or deployed.batch_size)
    builder = work.builder_work(lines, fpm)
    converter = work.converter_work(lines, fpm)

    target = engine_facts.target_of(run) if use_engine else None
    facts = {}
    if target is not None:
        args = (target, names, window.start, window.end)
        layout = ({} if rp.own else {"bucket": _output_bucket(rp, deployed), "parquet_prefix": rp.description.output.prefix,
                                     "manifests_prefix": None})
        facts = {"stepfunctions": engine_facts.state_transitions(*args), "glue": engine_facts.glue_runs(*args),
                 "logs": engine_facts.log_bytes(*args), "objects": engine_facts.written_objects(*args, **layout)}

    bytes_landed = int(run.get("bytes_landed") or files * int(run.get("file_size_bytes") or 0))
    objects = facts.get("objects") or {}
    s3_calls = _by_service(calls, "s3")
    put_ops = ("PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "CopyObject", "ListObjectsV2")
    s3 = {
        "put": {"count": files + sum(v for k, v in s3_calls.items() if k in put_ops),
                "bytes": bytes_landed + sum(o.get("bytes", 0) for o in objects.values()) if objects else None,
                "landing_files": files, "landing_bytes": bytes_landed},
        "get": {"count": sum(v for k, v in s3_calls.items() if k in ("GetObject", "HeadObject")),
                "bytes": bytes_landed + (objects.get("manifests", {}).get("bytes", 0) if objects else 0)},
        "calls_by_pipeline": s3_calls,
        "written": objects or None,
        "source": "telemetry + engine listing" if objects else "telemetry (output sizes unknown: engine not reachable)",
    }
    records = builder["records"]
    sqs = {"sent": max(files, records), "received": records, "receive_requests": builder["sqs_invocations"],
           "delete_requests": builder["sqs_invocations"],
           "requests": max(files, records) + 2 * builder["sqs_invocations"],
           "note": "S3 sends one message per landed file (plus a test event when the notification is set); "
                   "the event source mapping receives and deletes once per batch; empty polls are not counted"}
    builder_gb_s = builder["duration_ms"]["total"] / 1000 * deployed.builder_memory_mb / 1024
    lam = {"builder": {**builder, "memory_mb": deployed.builder_memory_mb, "gb_s": round(builder_gb_s, 3),
                       "invocations": builder["sqs_invocations"] + builder["flush_invocations"],
                       "errors": sum(1 for l in lines if l.get("component") == "builder" and not l.get("ok", True))}}
    if "lambda" in converter.get("runtime", []):
        lam["converter"] = {"invocations": converter["runs"], "memory_mb": deployed.converter_memory_mb,
                            "duration_ms": converter["duration_ms"]}
    ddb = {"write_units": round(sum(float(l.get("write_units", 0)) for l in lines), 2),
           "read_units": round(sum(float(l.get("read_units", 0)) for l in lines), 2),
           "calls": _by_service(calls, "dynamodb"),
           "by_component": {c: {"write_units": round(sum(float(l.get("write_units", 0)) for l in lines if l.get("component") == c), 2),
                                "read_units": round(sum(float(l.get("read_units", 0)) for l in lines if l.get("component") == c), 2)}
                            for c in ("builder", "converter")},
           "source": "ReturnConsumedCapacity as the engine reports it"}
    sf = facts.get("stepfunctions")
    stepfunctions = dict(sf, source="execution histories on the engine") if sf else {
        "executions": starts, "transitions": None, "source": "telemetry (engine not reachable: transitions from the state machine's shape)"}
    glue_facts = facts.get("glue")
    glue = {**converter, "engine": glue_facts,
            "bytes_in_per_run": round(bytes_landed / manifests) if manifests else None}
    not_measured = [] if rp.own else [{"figure": k, "reason": v} for k, v in run_pipeline.NEEDS_OWN_SCHEMA.items()]
    latencies = end_to_end_latencies(run_dir, target, names) if rp.own else None
    logs = dict(facts["logs"], source="CloudWatch Logs on the engine") if facts.get("logs") else {
        "bytes": None, "source": "not measured (engine not reachable)"}
    return {
        "version": VERSION,
        "collected_at": round(time.time(), 3),
        "run": {"name": run_dir.name, "kind": run.get("kind"), "started_at": run.get("started_at"),
                "ended_at": run.get("ended_at"), "window": [round(window.start, 3), round(window.end, 3)],
                "open_ended": window.open_ended, "grace_s": grace_s, "target": run.get("target"),
                "file_size_bytes": run.get("file_size_bytes"), "batch_size": run.get("batch_size"),
                "telemetry_file": run.get("telemetry_file"), "telemetry_lines": len(lines),
                "engine": "reachable" if target is not None else "not reachable"},
        "pipeline": rp.as_dict(),
        "files_landed": files,
        "bytes_landed": bytes_landed,
        "manifests": manifests,
        "files_per_manifest": round(fpm, 2),
        "s3": s3,
        "sqs": sqs,
        "lambda": lam,
        "dynamodb": ddb,
        "stepfunctions": stepfunctions,
        "glue": glue,
        "logs": logs,
        "calls": dict(sorted(calls.items())),
        "end_to_end": latencies,
        "requests_per_file": requests_per_file(files, int(run.get("file_size_bytes") or 0), lines, sf),
        "not_measured": not_measured,
    }


def load_or_collect(run_dir: Path, refresh: bool = False, grace_s: float = DEFAULT_GRACE_S,
                    telemetry_file: str | None = None, pipeline: run_pipeline.RunPipeline | None = None) -> dict:
    path = run_dir / METRICS_FILE
    if path.exists() and not refresh:
        data = json.loads(path.read_text())
        finished_since = data.get("run", {}).get("open_ended") and read_run(run_dir).get("ended_at") is not None
        if data.get("version") == VERSION and not finished_since:
            return data
    data = collect(run_dir, grace_s, telemetry_file=telemetry_file, pipeline=pipeline)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    return data
