"""How many Glue runs this machine converts at once before more only share the cores: a measurement.

    python -m sim.load.glue_concurrency [--file-size 3.5MB] [--files 60] [--manifests 12] [--levels 1,2,3,4]

On a fresh embedded engine of its own (a temporary workdir, the slot bound lifted), the pipeline is
deployed, `files` objects are put into a scratch bucket (no notification, so the builder never sees
them) and `manifests` manifest objects listing them are written, each with its MANIFEST item. Then,
for each level c, the same manifests are converted by real Glue job runs (StartJobRun, the engine's
`python3 sim_glue_launcher.py`, which starts glue_entry.py), at most c at a time: a new run starts as soon as one ends. Reported per
level: total MB/s, the runs' median seconds, the peak summed RSS of the Glue processes and of the
engine, the lowest MemAvailable, and the CPU busy share. The level past which MB/s stops rising
(and memory only grows) is what `LOCAL_GLUE_CONCURRENT_RUNS` (sim/engine/profiles.py) records.

It puts heavy load on the machine for a few minutes: run it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sim.engine import glue_slots, ministack
from sim.infra import aws
from sim.infra.project import Project
from sim.load.payloads import PayloadPool
from sim.ops.fresh import fresh_pipeline
from sim.pipeline import manifests
from sim.workload.sizes import parse_size

MB = 2**20
DATE = "2026-11-25"


class Sampler:
    """Memory and CPU of the Glue runs and the engine, sampled from /proc every 0.2 s. A Glue run
    is a process running the job's script from this engine's workdir (other engines on the machine
    run the same script from theirs)."""

    def __init__(self, engine_pid: int, workdir: Path):
        self.engine_pid = engine_pid
        self.script = str(Path(workdir) / "s3").encode()
        self.glue_rss_peak = 0.0
        self.engine_rss_peak = 0.0
        self.mem_available_min = _meminfo_mb("MemAvailable")
        self.glue_at_once = 0
        self._stop = threading.Event()
        self._cpu0 = _cpu()
        self._tree0 = _tree_cpu_s(engine_pid)
        self._t0 = time.monotonic()
        # Per thread of the engine and the runs: (ns on a CPU, ns runnable but waiting for one).
        self._tasks0 = _schedstats(str(engine_pid))
        self._tasks: dict[tuple[str, str], tuple[int, int]] = dict(self._tasks0)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        busy0, total0 = self._cpu0
        busy1, total1 = _cpu()
        self.cpu_busy = (busy1 - busy0) / (total1 - total0) if total1 > total0 else None
        # The engine and its finished Glue runs (reaped children count in its cutime/cstime):
        # the cores this measurement used, whatever else runs on the machine.
        wall = max(time.monotonic() - self._t0, 1e-9)
        self.tree_cores = (_tree_cpu_s(self.engine_pid) - self._tree0) / wall
        # Threads that wanted a CPU, on average: what the work would use on an idle machine
        # (contention stretches the waiting, not the wanting), capped by its cores there.
        self._tasks.update(_schedstats(str(self.engine_pid)))
        runnable = sum(run + wait - sum(self._tasks0.get(k, (0, 0))) for k, (run, wait) in self._tasks.items())
        self.demand_cores = runnable / 1e9 / wall

    def _run(self):
        while not self._stop.is_set():
            glue, n = 0.0, 0
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                if any(g.encode() in cmd for g in glue_slots.GATED_SCRIPTS) and self.script in cmd:
                    glue += _rss_mb(pid)
                    n += 1
                    self._tasks.update(_schedstats(pid))
            self.glue_rss_peak = max(self.glue_rss_peak, glue)
            self.glue_at_once = max(self.glue_at_once, n)
            self.engine_rss_peak = max(self.engine_rss_peak, _rss_mb(str(self.engine_pid)))
            self._tasks.update(_schedstats(str(self.engine_pid)))
            self.mem_available_min = min(self.mem_available_min, _meminfo_mb("MemAvailable"))
            self._stop.wait(0.2)


def _schedstats(pid: str) -> dict[tuple[str, str], tuple[int, int]]:
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            run, wait, _slices = Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()
        except (OSError, ValueError):
            continue
        out[(pid, tid)] = (int(run), int(wait))
    return out


def _rss_mb(pid: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _meminfo_mb(field: str) -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _tree_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")  # utime stime cutime cstime


def _cpu() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def setup(project: Project, file_size: int, files: int, n_manifests: int) -> tuple[list[dict], int]:
    """Scratch objects, manifest documents and MANIFEST items; returns the manifests and bytes each."""
    s3 = project.target.client("s3")
    ddb = project.target.client("dynamodb")
    bucket = f"{project.names.prefix}-glueconc-scratch"
    aws.remove_bucket(s3, bucket)
    s3.create_bucket(Bucket=bucket)
    pool = PayloadPool(7, file_size, DATE, max_files=min(files, 16), max_bytes=max(file_size, 64 * MB))
    listed, total = [], 0
    for i in range(files):
        key = f"incoming/{DATE}/glueconc/part-{i:06d}.ndjson"
        body = pool.bodies[i % len(pool)]
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        listed.append({"bucket": bucket, "file_key": key, "size": len(body)})
        total += len(body)
    out = []
    for m in range(n_manifests):
        mid = f"{DATE}-glueconc-{m:03d}"
        key = manifests.manifest_key(DATE, mid)
        s3.put_object(Bucket=project.names.output_bucket, Key=key,
                      Body=manifests.manifest_document(mid, DATE, listed))
        # Started, without the flag the flush looks for, so the flush leaves it alone; the
        # converter converts a manifest that has not succeeded and writes its counts back.
        ddb.put_item(TableName=project.names.table, Item={
            "date_prefix": {"S": DATE}, "file_key": {"S": "MANIFEST#" + mid}, "record_type": {"S": "MANIFEST"},
            "manifest_id": {"S": mid}, "status": {"S": "started"}, "file_count": {"N": str(files)},
            "created_at": {"N": str(round(time.time(), 3))}})
        out.append({"manifest_id": mid, "manifest_key": key})
    return out, total


def run_level(project: Project, manifest_list: list[dict], bytes_each: int, at_once: int, engine_pid: int) -> dict:
    """The manifests converted by Glue runs, at most `at_once` at a time."""
    glue = project.target.client("glue")
    job = project.names.glue_job
    todo = list(manifest_list)
    running: dict[str, float] = {}
    durations, failed = [], []
    with Sampler(engine_pid, project.workdir) as sampler:
        t0 = time.monotonic()
        while todo or running:
            while todo and len(running) < at_once:
                m = todo.pop(0)
                rid = glue.start_job_run(JobName=job, Arguments={"--manifest_key": m["manifest_key"],
                                                                 "--manifest_id": m["manifest_id"]})["JobRunId"]
                running[rid] = time.monotonic()
            time.sleep(0.2)
            for rid in list(running):
                state = glue.get_job_run(JobName=job, RunId=rid)["JobRun"]
                if state["JobRunState"] in ("SUCCEEDED", "FAILED", "TIMEOUT", "ERROR", "STOPPED"):
                    durations.append(time.monotonic() - running.pop(rid))
                    if state["JobRunState"] != "SUCCEEDED":
                        failed.append(f"{state['JobRunState']}: {str(state.get('ErrorMessage', ''))[-300:]}")
        seconds = time.monotonic() - t0
    total_mb = bytes_each * len(manifest_list) / MB
    return {
        "at_once": at_once, "runs": len(manifest_list), "failed": failed, "seconds": round(seconds, 1),
        "mb_per_s": round(total_mb / seconds, 1), "run_s_median": round(statistics.median(durations), 1),
        "run_s_max": round(max(durations), 1), "glue_processes_at_once": sampler.glue_at_once,
        "glue_rss_peak_mb": round(sampler.glue_rss_peak), "engine_rss_peak_mb": round(sampler.engine_rss_peak),
        "mem_available_min_mb": round(sampler.mem_available_min), "machine_cpu_busy": round(sampler.cpu_busy or 0, 3),
        "engine_and_glue_cores": round(sampler.tree_cores, 2),
        "engine_and_glue_cores_wanted": round(sampler.demand_cores, 2),
        # Throughput per core the engine and its runs got: comparable across levels even when
        # other work on the machine takes some of the cores.
        "mb_per_core_s": round(total_mb / seconds / sampler.tree_cores, 1) if sampler.tree_cores else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--file-size", default="3.5MB")
    ap.add_argument("--files", type=int, default=60, help="files per manifest")
    ap.add_argument("--manifests", type=int, default=12, help="manifests per level (12 divides evenly by 1-4)")
    ap.add_argument("--levels", default="1,2,3,4")
    ap.add_argument("--workdir", default="", help="default: a temporary folder, removed afterwards")
    args = ap.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="sim-glueconc-"))
    engine, _ = ministack.start(workdir, extra_env={glue_slots.ENV: "0"})  # this tool bounds the runs itself
    try:
        project = Project(str(workdir))
        fresh_pipeline(project, phase=lambda m: print(f"> {m}", flush=True))
        size = parse_size(args.file_size)
        print(f"> {args.manifests} manifests of {args.files} x {args.file_size}", flush=True)
        manifest_list, bytes_each = setup(project, size, args.files, args.manifests)
        results = []
        for c in levels:
            r = run_level(project, manifest_list, bytes_each, c, engine.pid)
            results.append(r)
            print(json.dumps(r), flush=True)
        print(json.dumps({"file_size_bytes": size, "files_per_manifest": args.files, "manifests": args.manifests,
                          "cpus": os.cpu_count(), "levels": results}))
    finally:
        ministack.stop(workdir)
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
