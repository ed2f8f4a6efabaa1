"""Unit work from telemetry lines: what one file, one SQS batch and one manifest cost in calls,
capacity units and time. The capacity and cost models scale these to any load.

A builder's SQS invocation costs a fixed part plus a part per record (least squares over the
run's invocations). An invocation that also assembles a manifest costs more than that line
predicts; the excess is the manifest's work. That excess is split into a part per file of the
manifest (calls made about once per file, such as claims) and a fixed part, by call counts.
"""

from __future__ import annotations

from collections import Counter

from sim.core.stats import summary

WRITE_OPS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
UPLOAD_OPS = ("s3.PutObject", "s3.CreateMultipartUpload", "s3.UploadPart", "s3.CompleteMultipartUpload")
START = "stepfunctions.StartExecution"


def linear_fit(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """y = a + b*x by least squares; with one distinct x, all of y is taken as per-unit work."""
    n = len(xs)
    if n == 0:
        return 0.0, 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return (0.0, my / mx) if mx else (my, 0.0)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    a = my - b * mx
    if a < 0:  # a negative fixed cost means noise: refit through the origin
        return 0.0, sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs)
    if b < 0:
        return my, 0.0
    return a, b


def _starts(line: dict) -> int:
    return int(line.get("calls", {}).get(START, 0))


def _metric(line: dict, name: str) -> float:
    if name in ("duration_ms", "write_units", "read_units"):
        return float(line.get(name, 0) or 0)
    return float(line.get("calls", {}).get(name, 0))


def _fit_all(lines: list[dict], names: list[str]) -> dict[str, tuple[float, float]]:
    xs = [float(l.get("records", 0)) for l in lines]
    return {name: linear_fit(xs, [_metric(l, name) for l in lines]) for name in names}


def split_manifest_excess(excess: dict, files_per_manifest: float) -> dict:
    """Per-manifest excess -> {"per_file": {...}, "fixed": {...}} for calls, units and duration."""
    calls = excess["calls"]
    per_file_calls = {c: n for c, n in calls.items() if files_per_manifest and n >= 0.5 * files_per_manifest}
    fixed_calls = {c: n for c, n in calls.items() if c not in per_file_calls}

    def share(subset, pred):
        total = sum(n for c, n in calls.items() if pred(c))
        return sum(n for c, n in subset.items() if pred(c)) / total if total else 0.0

    is_write = lambda c: c.startswith("dynamodb.") and c.split(".", 1)[1] in WRITE_OPS  # noqa: E731
    is_read = lambda c: c.startswith("dynamodb.") and not is_write(c)  # noqa: E731
    w, r, d = share(per_file_calls, is_write), share(per_file_calls, is_read), share(per_file_calls, lambda c: True)
    fpm = files_per_manifest or 1.0
    return {
        "per_file": {
            "calls": {c: round(n / fpm, 4) for c, n in per_file_calls.items()},
            "write_units": excess["write_units"] * w / fpm,
            "read_units": excess["read_units"] * r / fpm,
            "duration_ms": excess["duration_ms"] * d / fpm,
        },
        "fixed": {
            "calls": {c: round(n, 3) for c, n in fixed_calls.items()},
            "write_units": excess["write_units"] * (1 - w),
            "read_units": excess["read_units"] * (1 - r),
            "duration_ms": excess["duration_ms"] * (1 - d),
        },
    }


def builder_work(lines: list[dict], files_per_manifest: float) -> dict:
    sqs = [l for l in lines if l.get("component") == "builder" and l.get("kind") == "sqs"]
    flush = [l for l in lines if l.get("component") == "builder" and l.get("kind") == "flush"]
    plain = [l for l in sqs if _starts(l) == 0] or sqs
    names = sorted({c for l in plain for c in l.get("calls", {})} | {"duration_ms", "write_units", "read_units"})
    fits = _fit_all(plain, names)

    def predict(line, name):
        a, b = fits.get(name, (0.0, 0.0))
        return a + b * float(line.get("records", 0))

    flush_plain = [l for l in flush if _starts(l) == 0]
    flush_base = {n: (sum(_metric(l, n) for l in flush_plain) / len(flush_plain) if flush_plain else 0.0)
                  for n in {c for l in flush for c in l.get("calls", {})} | {"duration_ms", "write_units", "read_units"}}
    building = [(l, predict) for l in sqs if _starts(l) > 0] + [(l, None) for l in flush if _starts(l) > 0]
    manifests = sum(_starts(l) for l, _ in building)
    excess = {"calls": Counter(), "write_units": 0.0, "read_units": 0.0, "duration_ms": 0.0}
    for line, pred in building:
        base = (lambda n: pred(line, n)) if pred else (lambda n: flush_base.get(n, 0.0))
        for c, n in line.get("calls", {}).items():
            excess["calls"][c] += max(0.0, n - base(c))
        for key in ("write_units", "read_units", "duration_ms"):
            excess[key] += max(0.0, _metric(line, key) - base(key))
    per_manifest = {"calls": {c: n / manifests for c, n in excess["calls"].items() if n > 0} if manifests else {},
                    "write_units": excess["write_units"] / manifests if manifests else 0.0,
                    "read_units": excess["read_units"] / manifests if manifests else 0.0,
                    "duration_ms": excess["duration_ms"] / manifests if manifests else 0.0}
    records = [float(l.get("records", 0)) for l in sqs]
    return {
        "sqs_invocations": len(sqs),
        "flush_invocations": len(flush),
        "records": int(sum(records)),
        "records_per_batch_mean": round(sum(records) / len(records), 2) if records else 0.0,
        "per_batch": {n: {"fixed": round(a, 4), "per_record": round(b, 4)} for n, (a, b) in fits.items()},
        "manifests_built": manifests,
        "per_manifest": {k: (v if k == "calls" else round(v, 3)) for k, v in per_manifest.items()},
        "manifest_split": split_manifest_excess(per_manifest, files_per_manifest) if manifests else None,
        "per_flush": {n: round(v, 3) for n, v in flush_base.items()} if flush_plain else None,
        "duration_ms": summary([float(l["duration_ms"]) for l in sqs + flush]),
        "max_rss_mb": max((float(l.get("max_rss_mb", 0)) for l in sqs + flush), default=None),
    }


def converter_work(lines: list[dict], files_per_manifest: float) -> dict:
    runs = [l for l in lines if l.get("component") == "converter"]
    if not runs:
        return {"runs": 0}
    n = len(runs)
    calls = Counter()
    for l in runs:
        calls.update(l.get("calls", {}))
    per_run = {c: v / n for c, v in calls.items()}
    upload = {c: round(per_run.pop(c), 3) for c in UPLOAD_OPS if c in per_run}
    split = split_manifest_excess(
        {"calls": per_run, "write_units": sum(float(l.get("write_units", 0)) for l in runs) / n,
         "read_units": sum(float(l.get("read_units", 0)) for l in runs) / n, "duration_ms": 0.0},
        files_per_manifest)
    return {
        "runs": n,
        "failed": sum(1 for l in runs if not l.get("ok", True)),
        "runtime": sorted({l.get("runtime", "?") for l in runs}),
        "duration_ms": summary([float(l["duration_ms"]) for l in runs]),
        "peak_rss_mb": max(float(l.get("max_rss_mb", 0)) for l in runs),
        "per_run_calls": {c: round(v, 3) for c, v in sorted(calls.items())},
        "upload_calls_per_run": upload,
        "per_file_calls": split["per_file"]["calls"],
        "fixed_calls": split["fixed"]["calls"],
        "write_units_per_run": round(split["fixed"]["write_units"] + split["per_file"]["write_units"] * (files_per_manifest or 1), 3),
        "read_units_per_run": round(split["fixed"]["read_units"] + split["per_file"]["read_units"] * (files_per_manifest or 1), 3),
    }
