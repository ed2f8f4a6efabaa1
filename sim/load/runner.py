"""`sim load`: replay a load shape with Locust against the landing bucket, watch the pipeline,
wait for it to drain, validate every record, and judge: at least 95% of the target rate landed
and nothing was lost.

The run folder `reports/load-<stamp>/` gets run.json (kind "load", started_at/ended_at bracketing
the telemetry lines that belong to the run), Locust's CSV and HTML, the upload logs, the timeline,
the record the discrete-event model calibrates on (files.csv, manifests.csv, the run's telemetry
lines and Glue slots: sim/load/record.py) and load.json (the result below).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from sim.core import contract
from sim.core.errors import SimError
from sim.core.runs import new_run_dir, write_run
from sim.core.stats import percentiles
from sim.infra.project import Project
from sim.load import ceiling as ceiling_mod
from sim.load import engine_log, latency, locust_run, peak, record, shapes, stalls
from sim.load.measure import (Uploads, UploadCounter, locust_aggregate, peak_in_flight, read_uploads,
                              user_changes)
from sim.load.timeline import Sampler, Timeline, read_timeline
from sim.ops import diskspace, priority
from sim.ops.checking import check_early, validate_all
from sim.ops.fresh import fresh_pipeline
from sim.ops.progress import NoProgress, Progress
from sim.ops.outside import watcher_for
from sim.ops.watch import StageCounts
from sim.validate.early import EARLY_NICE
from sim.workload.generator import DEFAULT_FILE_SIZE

MIN_RATE_RATIO = peak.MIN_RATE_RATIO
MAX_STALL_S = 30.0  # longer with work in hand and nothing moving fails the run
DEFAULT_CEILING_S = 5.0


@dataclass
class LoadOptions:
    profile: str = "burst"
    time_scale: float = 144.0
    multiplier: float = 600.0
    duration_s: float = 60.0
    ramp_s: float | None = None
    file_size: int = DEFAULT_FILE_SIZE
    workers: int = 1
    users: int = 0
    seed: int = 7
    keep_data: bool = False
    batch_size: int | None = None
    validate: bool = True
    early_check: bool = True  # outputs checked as their workflows succeed (sim/validate/early.py)
    ceiling_s: float = DEFAULT_CEILING_S  # the raw PUT ceiling measured before the load; 0 skips it
    max_stall_s: float = MAX_STALL_S
    latency_s: float | None = None  # upload p95 measured before the load: the first user count's basis
    date_prefix: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date().isoformat())

    def shape(self) -> shapes.Shape:
        if self.profile not in ("daily", "burst"):
            raise SimError(f"unknown profile {self.profile!r}; choose daily or burst")
        return shapes.make(self.profile, self.time_scale, self.multiplier, self.duration_s, self.ramp_s)


@dataclass
class Phase:
    """One shape replayed and drained (the bench runs several on one prepared pipeline)."""

    shape: shapes.Shape
    run_dir: Path
    uploads: Uploads
    final: StageCounts
    timeline: Timeline
    locust: dict
    started_at: float
    upload_end: float
    drained_at: float
    stall: dict = field(default_factory=dict)  # the longest, see sim/load/stalls.py
    builder_timeouts: dict = field(default_factory=dict)  # see sim/load/engine_log.py
    users: dict = field(default_factory=dict)  # how the harness sized its users
    verdict_at: float | None = None  # when validation gave its verdict (epoch)


def replay(project: Project, settings, opts: LoadOptions, shape: shapes.Shape, run_dir: Path, progress: Progress,
           stall_timeout_s: float | None = None, engine_log_path: str | None = None) -> Phase:
    """Run Locust for the shape with a timeline, then wait until the pipeline holds nothing unfinished.
    With the engine's log, the builder timeouts logged meanwhile are counted."""
    log_mark = engine_log.mark(engine_log_path)
    started_at = time.time()
    timeline = Timeline(run_dir / "timeline.csv", started_at)
    job = locust_run.LocustJob(
        out_dir=run_dir, endpoint=project.target.endpoint, bucket=project.names.landing_bucket, profile=shape.name,
        duration_s=getattr(shape, "hold_s", shape.duration_s), file_size=opts.file_size,
        time_scale=getattr(shape, "time_scale", opts.time_scale), multiplier=getattr(shape, "multiplier", opts.multiplier),
        ramp_s=getattr(shape, "ramp_s", None), seed=opts.seed,
        date_prefix=opts.date_prefix, users=opts.users, workers=opts.workers,
        extra=["--sim-latency-s", f"{opts.latency_s:.3f}"] if opts.latency_s else [],
    )
    counter = UploadCounter(job.upload_dir)
    seen = {"n": 0}

    def on_sample(snap: StageCounts, n: int) -> None:
        progress.uploaded(n - seen["n"])
        seen["n"] = n
        progress.pipeline(snap)

    wiring = project.wiring(settings)
    sampler = Sampler(watcher_for(project.target, wiring).snapshot, timeline, counter.poll, on_sample).start()
    try:
        outcome = locust_run.run(job, shape.duration_s + locust_run.START_MARGIN_S)
    finally:
        sampler.stop()
    uploads = read_uploads(job.upload_dir, shape.window, shape.peak_window, due=shape.due)
    progress.uploaded(uploads.ok - seen["n"])
    upload_end = uploads.last_end or time.time()
    if not uploads.processes:
        raise_locust_failed(outcome.log)

    progress.phase("waiting for the pipeline to drain")
    watcher = watcher_for(project.target, wiring)

    def on_drain(snap: StageCounts) -> None:
        timeline.record(snap, "drain", uploads.ok)
        progress.pipeline(snap)

    give_up_s = stall_timeout_s or settings.visibility_timeout_s + 60
    try:
        final = watcher.wait(uploads.ok, on_progress=on_drain, stall_timeout_s=give_up_s)
    finally:
        timeline.close()
    drained_at = time.time()
    stats = locust_aggregate(run_dir / "locust_stats.csv")
    stats["exit_code"] = outcome.exit_code
    stats["seconds"] = round(outcome.seconds, 2)
    stall = stalls.longest_stall(read_timeline(timeline.path))
    timeouts = engine_log.builder_timeouts(engine_log_path, log_mark, project.names.builder_function)
    return Phase(shape, run_dir, uploads, final, timeline, stats, started_at, upload_end, drained_at,
                 stall=stall, builder_timeouts=timeouts, users=users_summary(uploads, job.upload_dir, opts.users))


def users_summary(uploads: Uploads, upload_dir: Path, fixed: int = 0) -> dict:
    """The users the harness started with, grew to and could have grown to, and the most ever busy."""
    start = sum(p.get("users", 0) for p in uploads.processes[:1])
    limit = max((p.get("users_limit", start) for p in uploads.processes[:1]), default=start)
    changes = user_changes(upload_dir)
    most = max([start] + [c["users"] for c in changes])
    return {"start": start, "max": most, "limit": limit, "at_limit": most >= limit, "fixed": fixed > 0,
            "peak_in_flight": peak_in_flight(upload_dir), "changes": changes}


def raise_locust_failed(log: Path) -> None:
    text = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    hint = next((t for t in reversed(text) if "Error" in t or "error" in t), text[-1] if text else "no output")
    raise SimError(f"Locust did not start uploading: {hint.strip()[:300]} (see {log})")


def run(project: Project, opts: LoadOptions, progress: Progress | None = None) -> contract.Load:
    progress = progress or NoProgress()
    shape = opts.shape()
    t0 = time.monotonic()
    fresh = fresh_pipeline(project, batch_size=opts.batch_size, keep_data=opts.keep_data,
                           phase=progress.phase)
    settings, engine = fresh.settings, fresh.engine
    disk = diskspace.check_run(project, shape.total_files, opts.file_size, f"the {shape.name} profile")
    run_dir = new_run_dir("load")
    ceiling = None
    if opts.ceiling_s > 0:
        # Before the run's own window (run.json's started_at): the scratch bucket's PUTs are not the run's work.
        progress.phase(f"the engine's raw S3 PUT ceiling, {opts.ceiling_s:.0f} s of closed-loop uploads")
        ceiling = ceiling_mod.measure(project, opts.file_size, opts.ceiling_s, run_dir / "ceiling", seed=opts.seed,
                                      workers=opts.workers)
        if not opts.latency_s and ceiling["upload_ms"].get("p95"):
            opts = dataclasses.replace(opts, latency_s=ceiling["upload_ms"]["p95"] / 1000)
    watch = priority.CpuWatch(engine.pid if engine else None, project.names.builder_function,
                              project.names.converter_function).start()
    write_run(run_dir, kind="load", started_at=time.time(), profile=shape.name, shape=shape.describe(),
              files=shape.total_files, file_size_bytes=opts.file_size, batch_size=settings.batch_size,
              target=project.target.name, endpoint=project.target.endpoint, workdir=str(project.workdir),
              telemetry_file=settings.telemetry_file, workers=opts.workers, **project.run_fields())
    progress.phase(f"{shape.name}: {shape.total_files} files over {shape.duration_s:.0f} s "
                   f"(target {shape.target_files_per_s:.1f} files/s, peak {shape.peak_files_per_s:.1f}) with Locust")
    try:
        phase, cpu_until_drained, verdict, recorded = _replay_and_validate(project, settings, opts, shape, run_dir,
                                                                           progress, engine, watch)
    finally:
        cpu_s = watch.stop()
        watch.write_series(run_dir / "cpu.csv")
    if project.pipeline.own:
        progress.phase("measuring end-to-end latency")
        conversions = latency.read_conversions(project.target, project.names)
        e2e, unconverted = latency.end_to_end(phase.uploads.landed_at, conversions)
    else:  # which manifest converted which file is in that pipeline's own state, unknown to sim:
        conversions, e2e, unconverted = latency.Conversions(), [], 0  # validation counts what never arrived
    result = summarize(phase, verdict, opts, e2e, unconverted, ceiling)
    result.update({"record": recorded, "endpoint": project.target.endpoint, "target": project.target.name,
                   "engine_log": engine.log if engine else None, "batch_size": settings.batch_size,
                   "manifests": len(conversions.file_counts), "total_s": round(time.monotonic() - t0, 2),
                   "cpu_s": cpu_s, "cpu_s_until_drained": cpu_until_drained, "cpu_nice": cpu_nice(),
                   "cpu_s_until_last_upload": watch.at(phase.upload_end), "cpu_idle_s": cpu_idle(watch, phase),
                   "cpu_lowered_processes": watch.lowered_counts(), "disk": disk})
    (run_dir / "load.json").write_text(json.dumps(result, indent=2, default=str, ensure_ascii=False))
    return result


def _replay_and_validate(project, settings, opts, shape, run_dir, progress, engine, watch):
    """The load, its drain, the record for the model and validation (at its lower priority; each
    manifest's output checked as soon as its workflow succeeds, sim/validate/early.py)."""
    early = check_early(project, project.wiring(settings)) if opts.validate and opts.early_check else None
    try:
        phase = replay(project, settings, opts, shape, run_dir, progress,
                       engine_log_path=engine.log if engine else None)
        cpu_until_drained = watch.totals()
        write_run(run_dir, ended_at=phase.drained_at, files=phase.uploads.ok, records=phase.uploads.records,
                  bytes_landed=phase.uploads.bytes, glue_slots=local_glue_slots(project) if engine else None)
        progress.phase("recording per-file and per-manifest times for the model")
        recorded = record.write(run_dir, project, phase.uploads.landed_at, phase.started_at, time.time())
        verdict = None
        if opts.validate:
            verdict, _ = validate_all(project, progress, early)
            phase.verdict_at = time.time()
    finally:
        if early is not None:
            early.close()
    return phase, cpu_until_drained, verdict, recorded


def cpu_idle(watch: priority.CpuWatch, phase: Phase) -> dict:
    """The machine's idle CPU seconds (all cores) from the run's start to the last upload, to the end
    of the drain and to the verdict (None without validation): what no part used (cpu.csv has them
    sample by sample)."""
    marks = {"until_last_upload": phase.upload_end, "until_drained": phase.drained_at, "until_verdict": phase.verdict_at}
    return {name: None if when is None else watch.idle_at(when) for name, when in marks.items()}


def cpu_nice() -> dict:
    """The nice value each part ran at (sim/ops/priority.py): higher is a lower priority."""
    return {"engine": 0, "load_generator": 0, "builder": priority.BUILDER_NICE,
            "converter": priority.CONVERTER_NICE, "validation": priority.VALIDATION_NICE,
            "validation_while_draining": EARLY_NICE}


def local_glue_slots(project: Project) -> int:
    """How many Glue runs the embedded engine lets convert at once (sim/engine/glue_slots.py)."""
    import os

    from sim.engine import glue_slots
    from sim.engine.profiles import LOCAL_GLUE_CONCURRENT_RUNS

    return int(os.environ.get(glue_slots.ENV) or LOCAL_GLUE_CONCURRENT_RUNS)


def rate_limit(phase: Phase, ceiling: dict | None, target: float | None = None,
               achieved: float | None = None) -> tuple[str, str]:
    """Who missed the rate (the whole window's, or the one given), the harness or the engine, and
    why, from what the run recorded: the Locust log, how the users were sized and used, and the raw
    PUT ceiling measured in the run."""
    log = phase.run_dir / "locust.log"
    text = log.read_text(errors="replace") if log.exists() else ""
    cpu = any(m in text for m in ("CPU usage above", "CPU usage threshold", "CPU usage was too high"))
    return judge_rate(phase.shape.target_files_per_s if target is None else target,
                      phase.uploads.achieved_files_per_s if achieved is None else achieved,
                      percentiles(phase.uploads.latencies_ms)["p95"] or 0.0, phase.users,
                      (ceiling or {}).get("files_per_s") or 0.0, cpu)


def judge_rate(target: float, achieved: float, p95_ms: float, users: dict, ceiling_fps: float,
               locust_cpu_bound: bool) -> tuple[str, str]:
    """("harness" | "engine", why) for a missed rate.

    The schedule is an open model: a slot starts late only when no user is free (or the Locust
    process is out of CPU). With users sized from the live latency, all of them busy at the cap
    means each PUT took over MAX_USERS_NOTE: the engine. All busy below the cap, or late with
    users free, is the harness. A target above the raw ceiling is the engine whatever else."""
    raw = (f"the engine's raw PUT ceiling, measured in this run with nothing else running, is {ceiling_fps:.1f} files/s"
           if ceiling_fps else "the raw PUT ceiling was not measured in this run (--ceiling-seconds 0)")
    if locust_cpu_bound:
        return "harness", f"the Locust process used a whole core and could not start uploads on time (add --workers; {raw})"
    if ceiling_fps and target > MIN_RATE_RATIO * ceiling_fps:
        return "engine", f"the target {target:.2f} files/s is above what the engine's PUTs carry: {raw}"
    if users.get("at_limit") and not users.get("fixed"):
        return "engine", (f"PUTs took {p95_ms:.0f} ms at p95 under the pipeline's load, so all {users['max']} users "
                          f"(the cap: {MAX_USERS_NOTE}) were busy; the engine took {achieved:.2f} files/s while the "
                          f"pipeline ran, and {raw}")
    if users.get("peak_in_flight", 0) >= users.get("max", 0) > 0:
        fixed = " (fixed by --users: leave it unset to size users from the latency)" if users.get("fixed") else ""
        return "harness", (f"all {users['max']} users were busy at once{fixed} with uploads taking {p95_ms:.0f} ms at "
                           f"p95, below the cap: too few users ({raw})")
    return "harness", (f"uploads started late while users were free (at most {users.get('peak_in_flight', 0)} of "
                       f"{users.get('max', 0)} busy): the Locust process could not keep the schedule ({raw})")


MAX_USERS_NOTE = "enough for 4 s of upload latency at the peak rate"


def judge_peak_window(phase: Phase, ceiling: dict | None, rate_failed: bool) -> dict:
    """The peak window judged (sim/load/peak.py), with who held it back when it fell short. Where
    the peak window is the judged window itself (the burst's hold), a missed rate is already the
    reason: the verdict keeps the figures and adds no second reason."""
    shape, up = phase.shape, phase.uploads
    same = tuple(shape.peak_window) == tuple(shape.window)
    target = shape.mean_rate(*shape.peak_window)
    result = peak.judge_peak(shape.peak_window, target, up.peak_achieved_files_per_s,
                             (ceiling or {}).get("files_per_s"), same_as_window=same)
    result["limited_by"] = None
    if not result["pass"]:
        who, why = rate_limit(phase, ceiling, target, up.peak_achieved_files_per_s)
        result["limited_by"] = who
        result["reason"] = f"{result['reason']}; limited by the {who}: {why}"
        if same and rate_failed:
            result["reason"] = None
    return result


def summarize(phase: Phase, verdict: dict | None, opts: LoadOptions, e2e: list[float], unconverted: int,
              ceiling: dict | None = None) -> dict:
    shape, up = phase.shape, phase.uploads
    target = shape.target_files_per_s
    achieved = up.achieved_files_per_s
    ratio = achieved / target if target else 0.0
    reasons = []
    limited_by = None
    if ratio < MIN_RATE_RATIO:
        limited_by, why = rate_limit(phase, ceiling)
        reasons.append(f"achieved {achieved:.2f} files/s is {ratio:.0%} of the target {target:.2f} "
                       f"(at least {MIN_RATE_RATIO:.0%} needed); limited by the {limited_by}: {why}")
    peak_window = judge_peak_window(phase, ceiling, rate_failed=ratio < MIN_RATE_RATIO)
    if peak_window["reason"]:
        reasons.append(peak_window["reason"])
    if up.failed:
        reasons.append(f"{up.failed} upload(s) failed: {up.errors}")
    if verdict is not None:
        if not verdict["pass"]:
            reasons.append("validation failed: " + "; ".join(verdict.get("problems", [])[:3]))
        elif not opts.keep_data and verdict["records_in"] != up.records:
            reasons.append(f"the landing bucket holds {verdict['records_in']} records, the uploads sent {up.records}")
    if unconverted:
        reasons.append(f"{unconverted} uploaded file(s) never reached Parquet")
    timeouts = phase.builder_timeouts.get("count")
    if timeouts:
        reasons.append(f"the builder timed out {timeouts} time(s) (the engine log, at {', '.join(phase.builder_timeouts['at'][:5])})")
    stall = phase.stall
    if stall.get("seconds", 0) > opts.max_stall_s:
        reasons.append(f"the pipeline stalled longer than {opts.max_stall_s:.0f} s: {stalls.describe(stall)}")
    m = phase.timeline.max
    return {
        "pass": not reasons,
        "profile": shape.name,
        "target_files_per_s": round(target, 3),
        "achieved_files_per_s": round(achieved, 3),
        "rate_ratio": round(ratio, 4),
        "upload_ms": percentiles(up.latencies_ms, digits=1),
        "lateness_s": percentiles(up.lateness_s, digits=2),
        "end_to_end_s": percentiles(e2e, digits=2),
        "max_queue_depth": m["queue_depth"],
        "max_queue_visible": m["queue_visible"],
        "max_dlq_depth": m["dlq_visible"],
        "max_pending_files": m["pending"],
        "max_workflows_running": m["workflows_running"],
        "longest_stall_s": stall.get("seconds", 0.0),
        "longest_stall": stall,
        "builder_timeouts": timeouts,
        "builder_timeouts_at": phase.builder_timeouts.get("at", []),
        "builder_timeouts_source": phase.builder_timeouts.get("source"),
        "rate_limited_by": limited_by,
        "raw_put_ceiling_files_per_s": (ceiling or {}).get("files_per_s"),
        "ceiling": ceiling,
        "users_sizing": {k: v for k, v in phase.users.items() if k != "changes"},
        "user_changes": phase.users.get("changes", []),
        "validation": verdict,
        "reasons": reasons,
        "shape": shape.describe(),
        "peak_window_target_files_per_s": round(shape.mean_rate(*shape.peak_window), 3),
        "peak_window_achieved_files_per_s": round(up.peak_achieved_files_per_s, 3),
        "peak_window": peak_window,
        "files_scheduled": shape.total_files,
        "files_uploaded": up.ok,
        "upload_failures": up.failed,
        "bytes_uploaded": up.bytes,
        "records_uploaded": up.records,
        "file_size_bytes": opts.file_size,
        "workers": opts.workers,
        "users": phase.users.get("max") if phase.users else (up.processes[0].get("users") if up.processes else None),
        "end_to_end_files": len(e2e),
        "upload_s": round(phase.upload_end - phase.started_at, 2),
        "drain_after_last_upload_s": round(phase.drained_at - phase.upload_end, 2),
        # what the user waits for after the last upload: the drain, then validation
        "verdict_after_last_upload_s": round(phase.verdict_at - phase.upload_end, 2) if phase.verdict_at else None,
        "end_to_end_files_per_s": round(up.ok / (phase.drained_at - up.first_start), 3) if up.first_start else None,
        "timeline_rows": phase.timeline.rows,
        "locust": phase.locust,
        "run_dir": str(phase.run_dir),
    }
