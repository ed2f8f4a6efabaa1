"""The converter alone, on local files, in a child process so its peak RSS is its own.

Parent side: `measure(folder, files, out_dir)` runs `python -m sim.load.convbench` on a folder of
generated NDJSON files; the child builds one manifest of `files` sources (unique keys, bodies taken
round-robin from the folder, as the load's payload pool does), converts it with
`sim.pipeline.converter.convert` and prints one JSON line: seconds, bytes, records, RSS before the
conversion (interpreter + pyarrow) and the peak. That is the Glue job's work without S3 or
DynamoDB around it.

`measure_baseline` does the same for the machine's plain pyarrow floor, in its own child: the same
files in the same order, each read with `pyarrow.json.read_json` under one schema every file fits
(the first file's, inferred, less fields Parquet cannot hold such as always-empty objects; every
file parsed straight into it, fields it lacks ignored)
and written into one zstd `ParquetWriter`. No lineage columns, no fidelity rules, no quarantine:
what the converter's MB/s is divided by.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from sim.core.errors import SimError


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

    bodies = _bodies(folder)

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


def baseline_child(folder: str, files: int, out_dir: str) -> dict:
    import pyarrow as pa
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    paths = [str(p) for p in _bodies(folder)]
    paths = [paths[i % len(paths)] for i in range(files)]
    os.makedirs(out_dir, exist_ok=True)
    baseline = _status_mb("VmRSS") or 0.0
    out = os.path.join(out_dir, "baseline.parquet")
    t0 = time.perf_counter()
    schema = writable_schema(pajson.read_json(paths[0]).schema)
    parse = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    records = bytes_in = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for path in paths:
            try:
                table = pajson.read_json(path, parse_options=parse)
            except pa.ArrowInvalid as exc:
                raise SystemExit(f"{Path(path).name} does not fit the first file's schema: {exc}") from None
            if table.schema != schema:
                table = table.cast(schema)
            writer.write_table(table)
            records += table.num_rows
            bytes_in += os.path.getsize(path)
            del table
    seconds = time.perf_counter() - t0
    size_out = os.path.getsize(out)
    os.unlink(out)
    return {
        "files": len(paths),
        "records": records,
        "bytes_in": bytes_in,
        "bytes_out": size_out,
        "seconds": round(seconds, 3),
        "mb_per_s": round(bytes_in / 2**20 / seconds, 2) if seconds else None,
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "method": "pyarrow.json.read_json per file (the first file's schema) into one zstd ParquetWriter",
    }


def writable_schema(schema):
    """The first file's inferred schema without what Parquet cannot hold (an object that is always
    empty infers as a struct with no fields); later files are parsed straight into it."""
    import pyarrow as pa

    def fit(t):
        if pa.types.is_struct(t):
            fields = [f.with_type(ft) for f in t if (ft := fit(f.type)) is not None]
            return pa.struct(fields) if fields else None
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            value = fit(t.value_type)
            return None if value is None else (pa.list_(value) if pa.types.is_list(t) else pa.large_list(value))
        return t

    return pa.schema([f.with_type(ft) for f in schema if (ft := fit(f.type)) is not None])


def _bodies(folder: str) -> list[Path]:
    bodies = sorted(p for p in Path(folder).iterdir() if p.suffix == ".ndjson")
    if not bodies:
        raise SystemExit(f"no .ndjson files in {folder}")
    return bodies


def measure(folder: Path, files: int, out_dir: Path, timeout_s: float = 900.0) -> dict:
    """The converter on `files` sources from `folder`, in a child process."""
    return _run_child("convert", folder, files, out_dir, timeout_s, "the standalone conversion")


def measure_baseline(folder: Path, files: int, out_dir: Path, timeout_s: float = 900.0) -> dict:
    """The plain pyarrow read-and-write of the same sources, in a child process."""
    return _run_child("baseline", folder, files, out_dir, timeout_s, "the pyarrow baseline")


def _run_child(mode: str, folder: Path, files: int, out_dir: Path, timeout_s: float, what: str) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run([sys.executable, "-m", "sim.load.convbench", mode, str(folder), str(files), str(out_dir)],
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise SimError(f"{what} of {files} files took over {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SimError(f"{what} failed: {tail[0][:300]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    mode, args = (sys.argv[1], sys.argv[2:]) if sys.argv[1] in ("convert", "baseline") else ("convert", sys.argv[1:])
    run = baseline_child if mode == "baseline" else child
    print(json.dumps(run(args[0], int(args[1]), args[2])))
