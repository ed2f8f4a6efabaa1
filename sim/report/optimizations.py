"""Each optimization the plan names, and the obvious others, with the monthly saving, whether it
is valid for this pipeline, and why. Validity rules follow AWS's documented constraints.
"""

from __future__ import annotations

from . import cost as cost_mod, fmt
from .data import plan
from .inputs import GLUE_WORKER_DPU, Inputs, PYTHON_SHELL
from .unit_work import UnitWork

PYTHON_SHELL_MEMORY_MB = 1024  # a 0.0625-DPU Python-shell job has 1 GB
FLEX_WORKERS = ("G.1X", "G.2X")


def _version(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _glue_month(inputs: Inputs, dpu: float, flex: bool = False) -> float:
    p = inputs.params
    return p.manifests_per_day * p.days_per_month * cost_mod.glue_run_cost(inputs, dpu, flex)


def flex_valid(worker_type: str, glue_version: str) -> bool:
    return worker_type in FLEX_WORKERS and _version(glue_version) >= 3.0


def g025x_valid(streaming: bool) -> bool:
    return streaming  # G.025X exists for Glue 3.0+ streaming jobs only


def intelligent_tiering_valid(object_bytes: float, min_kb: float) -> bool:
    return object_bytes >= min_kb * 1024


def python_shell_fits(peak_rss_mb: float | None) -> bool | None:
    return None if peak_rss_mb is None else peak_rss_mb <= PYTHON_SHELL_MEMORY_MB


def it_saving(inputs: Inputs, daily_bytes: float, daily_objects: float, retention_days: float | None = None) -> float:
    """Intelligent-Tiering on never-read-again objects: 30 days to the infrequent tier, 90 to archive
    instant; minus the monitoring fee per object."""
    p = inputs.params
    days = p.days_per_month
    std, ia, aia = (inputs.price("s3.standard_gb_month"), inputs.price("s3.it_infrequent_gb_month"),
                    inputs.price("s3.it_archive_instant_gb_month"))
    saving = fee = 0.0
    samples = [(p.storage_month - 1) * days + i + 0.5 for i in range(int(days))]
    for t in samples:
        kept = t if retention_days is None else min(t, retention_days)
        in_ia = max(0.0, min(kept, 90) - 30)
        in_aia = max(0.0, kept - 90)
        saving += (in_ia * (std - ia) + in_aia * (std - aia)) * daily_bytes / cost_mod.GIB
        fee += kept * daily_objects / 1000 * inputs.price("s3.it_monitoring")
    return (saving - fee) / len(samples)


def model(inputs: Inputs, prof: UnitWork, cost: dict, validated: bool | None) -> list[dict]:
    p = inputs.params
    glue_now = next(r["monthly_usd"] for r in cost["rows"] if r["component"] == "Glue")
    q = cost["quantities_per_day"]
    plan_save = {o["name"]: o["monthly_saving_usd"] for o in plan.OPTIMIZATIONS}
    out = []

    # Glue Flex
    ok = flex_valid(p.glue_worker_type, p.glue_version)
    save = glue_now - _glue_month(inputs, p.glue_dpu, flex=True) if ok else 0.0
    out.append({"name": "Glue Flex", "plan_saving_usd": plan_save["Glue Flex"], "monthly_saving_usd": round(save, 2),
                "valid": ok, "note": (
        f"Flex runs Spark jobs on G.1X/G.2X workers (Glue 3.0+) at ${inputs.price('glue.flex_dpu_hour')}/DPU-h instead of "
        f"${inputs.price('glue.dpu_hour')}; the saving is {1 - inputs.price('glue.flex_dpu_hour') / inputs.price('glue.dpu_hour'):.0%} of the Glue bill. "
        + ("Valid for this Spark job." if ok else
           f"Not available for this job ({p.glue_label()}): Python-shell jobs have no Flex class. "
           f"The plan's $75 is 34% of a $220 Glue bill this pipeline does not have."))})

    # G.0.25X
    out.append({"name": "G.0.25X workers", "plan_saving_usd": plan_save["G.0.25X workers"], "monthly_saving_usd": 0.0,
                "valid": g025x_valid(streaming=False), "note":
                "G.025X workers exist only for Glue 3.0+ streaming jobs; this is a batch job, so the worker type "
                "cannot be chosen and the saving does not exist."})

    # S3 Intelligent-Tiering on the landed files
    ok = intelligent_tiering_valid(p.file_size_bytes, inputs.price("s3.it_min_object_kb"))
    save = it_saving(inputs, q["landing_bytes"], q["files"]) if ok else 0.0
    save_m1 = it_saving_month(inputs, q["landing_bytes"], q["files"], 1) if ok else 0.0
    out.append({"name": "S3 Intelligent-Tiering", "plan_saving_usd": plan_save["S3 Intelligent-Tiering"],
                "monthly_saving_usd": round(save, 2), "valid": ok, "note": (
        (f"Landed files of {p.file_size_bytes / 1024:,.0f} KB are monitored (>= 128 KB) and, never read after "
         f"conversion, move to the infrequent tier after 30 days and archive instant after 90. In month 1 nothing "
         f"has aged 30 days: saving {fmt.usd(save_m1)} (the plan's $8 is 40% of month 1's storage). In month {p.storage_month}: "
         f"{fmt.usd(save)}. A lifecycle rule that deletes converted files saves more and leaves nothing to tier.")
        if ok else "Objects under 128 KB are neither monitored nor moved: no saving.")})

    # Python-shell Glue at 0.0625 DPU
    fits = python_shell_fits(prof.peak_rss_mb)
    spark_dpu = p.glue_dpu if p.glue_worker_type != PYTHON_SHELL else GLUE_WORKER_DPU["G.1X"] * 2
    save = _glue_month(inputs, spark_dpu) - _glue_month(inputs, 0.0625)
    measured = (f"measured peak {prof.peak_rss_mb:.0f} MB" if prof.peak_rss_mb is not None else "peak memory not measured")
    size_note = ""
    if prof.measured_file_size and prof.measured_file_size < p.file_size_bytes:
        size_note = (f" Measured with {prof.measured_file_size / 1024:,.0f} KB files; the converter streams file by file, "
                     f"so rerun the demo with --file-size {p.file_size_bytes / 2**20:g}MB to confirm at the target size.")
    out.append({"name": "Python-shell Glue job at 0.0625 DPU", "plan_saving_usd": None,
                "monthly_saving_usd": round(save if fits else 0.0, 2), "valid": bool(fits),
                "already_applied": p.glue_worker_type == PYTHON_SHELL and p.glue_max_capacity == 0.0625, "note": (
        f"{measured} of {PYTHON_SHELL_MEMORY_MB} MB; " +
        ("fits. " if fits else "does not fit. " if fits is False else "cannot tell. ") +
        f"Saving against {'the configured' if p.glue_worker_type != PYTHON_SHELL else 'the smallest Spark'} job "
        f"({spark_dpu:g} DPU) for the same {p.glue_run_minutes:g}-minute runs; this project deploys it already "
        f"(the plan's $220 Glue line would drop to ${_glue_month(inputs, 0.0625):.2f})." + size_note)})

    # Lifecycle rule on landed files
    days = p.days_per_month
    keep = p.landing_retention_days
    now_gb = cost_mod.stored_gb_month(q["landing_bytes"], p.storage_month, days=days)
    after_gb = cost_mod.stored_gb_month(q["landing_bytes"], p.storage_month, keep, days=days)
    save = (now_gb - after_gb) * inputs.price("s3.standard_gb_month")
    ok = validated is not False
    out.append({"name": f"Lifecycle rule: expire landed NDJSON after {keep} days", "plan_saving_usd": None,
                "monthly_saving_usd": round(save if ok else 0.0, 2), "valid": ok, "note": (
        f"Every record is in Parquet with its lineage (_source_key, _line), so the NDJSON can go once a manifest "
        f"converted: month {p.storage_month} keeps {after_gb:,.0f} GB instead of {now_gb:,.0f} GB. "
        + ("The run's validation passed." if validated else
           "The run's validation failed: keep raw files until it passes." if validated is False else
           "Validate the output first (sim validate).")
        + " Use a transition to Glacier instead if raw replays must stay possible.")})

    # Lambda on Arm
    gbs = q["lambda_gb_s"] * days
    save = gbs * (inputs.price("lambda.gb_s.x86") - inputs.price("lambda.gb_s.arm")) if p.lambda_arch == "x86" else 0.0
    out.append({"name": "Lambda on Arm (Graviton)", "plan_saving_usd": None, "monthly_saving_usd": round(save, 2),
                "valid": True, "note": "The builder is pure Python with boto3, so the arm64 runtime runs it unchanged; "
                "20% off duration, which is small here."})
    return out


def it_saving_month(inputs: Inputs, daily_bytes: float, daily_objects: float, month: int) -> float:
    p = inputs.params
    original = p.storage_month
    p.storage_month = month
    try:
        return it_saving(inputs, daily_bytes, daily_objects)
    finally:
        p.storage_month = original


GROUPS = {  # optimizations that act on the same bill: only the larger saving counts
    "glue": ("Glue Flex", "G.0.25X workers", "Python-shell Glue job at 0.0625 DPU"),
    "storage": ("S3 Intelligent-Tiering", "Lifecycle rule"),
}


def _group(name: str) -> str:
    return next((g for g, names in GROUPS.items() if any(name.startswith(n) for n in names)), name)


def total_valid_saving(optimizations: list[dict]) -> float:
    """Sum of valid savings not yet in the bill, counting only the largest of those acting on the same bill."""
    best: dict[str, float] = {}
    for o in optimizations:
        if o["valid"] and not o.get("already_applied"):
            g = _group(o["name"])
            best[g] = max(best.get(g, 0.0), o["monthly_saving_usd"])
    return round(sum(best.values()), 2)
