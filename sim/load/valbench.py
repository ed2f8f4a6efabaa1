"""`sim bench` (e): validation beside the least work any value-by-value check must do.

The baseline GETs every landed object and parses every non-blank line with orjson, and reads every
Parquet output into Arrow, in as many worker processes as validation uses (started inside the
timing, as validation's are). Then `sim validate` runs on the same data. Their ratio is what to
compare: both move with whatever else runs on the machine.
"""

from __future__ import annotations

import gzip
import io
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import orjson
import pyarrow.parquet as pq

from sim.pipeline.events import is_landing_key
from sim.validate import native
from sim.validate.records import default_workers
from sim.validate.run import validate


def measure(project, workers: int | None = None) -> dict:
    """The baseline and `sim validate` on what is deployed now, one after the other."""
    workers = workers or default_workers()
    names, target = project.names, project.target
    s3 = target.client("s3", max_pool=8)
    landed = [(o["Key"], o["Size"]) for o in _list(s3, names.landing_bucket, "") if is_landing_key(o["Key"])]
    outputs = [(o["Key"], o["Size"]) for o in _list(s3, names.output_bucket, "parquet/")
               if o["Key"].endswith(".parquet")]
    base = baseline((target.name, target.endpoint, target.region), names.landing_bucket, names.output_bucket,
                    landed, outputs, workers)
    t0 = time.monotonic()
    verdict = validate(target, names, project.cache_dir(), workers=workers, pipeline=project.pipeline)
    validation_s = time.monotonic() - t0
    return {
        "baseline_s": round(base["seconds"], 3),
        "validation_s": round(validation_s, 3),
        "ratio_to_baseline": round(validation_s / base["seconds"], 2) if base["seconds"] else None,
        "workers": workers,
        "files": len(landed),
        "outputs": len(outputs),
        "records": base["records"],
        "rows": base["rows"],
        "validation_pass": verdict["pass"],
        "validation_records_in": verdict["records_in"],
        "validation_seconds": verdict["seconds"],
        # landed lines' canonical texts written by native code (None), or why not (the Python reading)
        "native_texts_unavailable": native.unavailable(),
    }


def baseline(target_spec: tuple, landing_bucket: str, output_bucket: str, landed: list[tuple[str, int]],
             outputs: list[tuple[str, int]], workers: int) -> dict:
    """Seconds to read and parse everything, with `workers` processes, biggest objects first."""
    tasks = [(landing_bucket, k, n, False) for k, n in landed] + [(output_bucket, k, n, True) for k, n in outputs]
    tasks.sort(key=lambda t: -t[2])
    t0 = time.monotonic()
    records = rows = 0
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_init,
                             initargs=(target_spec,)) as pool:
        for is_output, n in pool.map(_read, tasks, chunksize=1):
            if is_output:
                rows += n
            else:
                records += n
    return {"seconds": time.monotonic() - t0, "records": records, "rows": rows}


_s3 = None


def _init(target_spec: tuple) -> None:
    from sim.engine.target import Target

    global _s3
    name, endpoint, region = target_spec
    _s3 = Target(name, endpoint, region).client("s3", max_pool=2)


def _read(task: tuple) -> tuple[bool, int]:
    """(is output, lines parsed or rows read) of one object."""
    bucket, key, _, is_output = task
    body = _s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if is_output:
        return True, pq.read_table(io.BytesIO(body)).num_rows
    if key.lower().endswith(".gz"):
        body = gzip.decompress(body)
    n = 0
    loads = orjson.loads
    for line in body.split(b"\n"):
        if line.strip():
            try:
                loads(line)
            except orjson.JSONDecodeError:
                pass
            n += 1
    return False, n


def _list(s3, bucket: str, prefix: str) -> list[dict]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(page.get("Contents", []))
    return out
