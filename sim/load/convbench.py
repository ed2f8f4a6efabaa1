"""The converter alone, on local files, in a child process so its peak RSS is its own.

Parent side: `measure(folder, files, out_dir)` runs `python -m sim.load.convbench` on a folder of
generated NDJSON files; the child builds one manifest of `files` sources (unique keys, bodies taken
round-robin from the folder, as the load's payload pool does), converts it with
`sim.pipeline.converter.convert` and prints one JSON line: seconds, bytes, records, RSS before the
conversion (interpreter + pyarrow) and the peak. That is the Glue job's work without S3 or
DynamoDB around it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from sim.errors import SimError


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    """This process's own peak. VmHWM starts afresh at exec; ru_maxrss does not on Linux (it keeps
    the forking parent's high-water mark), so it is only the fallback where /proc is missing."""
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(folder: str, files: int, out_dir: str) -> dict:
    from sim.pipeline.converter import Source, convert

    bodies = sorted(p for p in Path(folder).iterdir() if p.suffix == ".ndjson")
    if not bodies:
        raise SystemExit(f"no .ndjson files in {folder}")

    def opener(path: Path):
        return lambda: open(path, "rb")

    sources = [Source(f"incoming/2026-11-25/bench/part-{i:06d}.ndjson", opener(bodies[i % len(bodies)]))
               for i in range(files)]
    os.makedirs(out_dir, exist_ok=True)
    baseline = _status_mb("VmRSS") or 0.0
    out = os.path.join(out_dir, "bench-manifest.parquet")
    t0 = time.perf_counter()
    result = convert(sources, "bench-manifest", out, tmp_dir=out_dir)
    seconds = time.perf_counter() - t0
    size_out = os.path.getsize(out)
    os.unlink(out)
    return {
        "files": result.files,
        "records": result.records,
        "bytes_in": result.bytes_in,
        "bytes_out": size_out,
        "seconds": round(seconds, 3),
        "mb_per_s": round(result.bytes_in / 2**20 / seconds, 2) if seconds else None,
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def measure(folder: Path, files: int, out_dir: Path, timeout_s: float = 900.0) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run([sys.executable, "-m", "sim.load.convbench", str(folder), str(files), str(out_dir)],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise SimError(f"the standalone conversion of {files} files took over {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SimError(f"the standalone conversion failed: {tail[0][:300]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps(child(sys.argv[1], int(sys.argv[2]), sys.argv[3])))
