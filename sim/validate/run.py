"""`sim validate`: read the inventory, mirror the data, account for every record, give a verdict."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from sim.infra.spec import Names
from sim.validate import inventory
from sim.validate.accounting import account
from sim.validate.checks import check_state, problems
from sim.validate.mirror import mirror


def overwritten_keys(inv: inventory.Inventory) -> set[str]:
    """Keys overwritten after their manifest (see State.seen_again): what was converted is not
    what the landing bucket holds now, so their records cannot be checked line by line."""
    return {k for k, item in inv.file_items.items()
            if item.get("overwritten_etag") and k in inv.landed and inv.landed[k].etag != item.get("etag")}


def validate(target, names: Names, cache_dir: Path, on_step: Callable[[str], None] | None = None) -> dict:
    started = time.monotonic()
    step = on_step or (lambda _msg: None)
    step("reading pipeline state")
    inv = inventory.read(target, names, with_manifest_docs=True)
    state = check_state(inv)
    s3 = target.client("s3", max_pool=16)
    step(f"mirroring {len(inv.landed)} landed files")
    t0 = time.monotonic()
    landed = mirror(s3, names.landing_bucket, inv.landed.values(), cache_dir / "landing", ".ndjson", repair_utf8=True)
    step(f"mirroring {len(inv.outputs)} Parquet files")
    outputs = mirror(s3, names.output_bucket, inv.outputs.values(), cache_dir / "parquet", ".parquet")
    quarantine = mirror(s3, names.output_bucket, inv.quarantined.values(), cache_dir / "quarantine", ".jsonl")
    fetch_s = time.monotonic() - t0
    step("accounting records with DuckDB")
    t0 = time.monotonic()
    output_manifest = {key: mid for mid, key in state["output_of"].items()}
    overwritten = overwritten_keys(inv)
    records = account(landed, outputs, output_manifest, quarantine=list(quarantine.values()), set_aside=overwritten)
    account_s = time.monotonic() - t0
    reasons = problems(state, records)
    orphans = (
        len(state["manifests_without_workflow"])
        + len(state["workflows_without_manifest"])
        + len(state["claims_without_manifest"])
    )
    return {
        "pass": not reasons,
        "files_landed": state["files_landed"],
        "files_tracked": state["files_tracked"],
        "files_in_manifests": state["files_in_manifests"],
        "files_in_two_manifests": len(state["files_in_two_manifests"]),
        "manifests": state["manifests"],
        "workflows": state["workflows"],
        "manifests_failed": len(state["manifests_failed"]),
        "manifests_unfinished": len(state["manifests_unfinished"]),
        "records_in": records.records_in,
        "records_out": records.records_out,
        "duplicates": records.duplicates,
        "missing": records.missing,
        "unexpected": records.unexpected,
        "quarantined": records.quarantined,
        "quarantined_files": len(records.quarantined_files),
        "quarantine_objects": len(inv.quarantined),
        "orphans": orphans,
        "overwritten_files": len(overwritten),
        "overwritten_rows_set_aside": records.set_aside_rows,
        "not_landing_keys": len(inv.not_landing),
        "redrives": state["redrives"],
        "landed_not_tracked": len(state["landed_not_tracked"]),
        "landed_not_in_manifest": len(state["landed_not_in_manifest"]),
        "manifests_without_workflow": len(state["manifests_without_workflow"]),
        "workflows_without_manifest": len(state["workflows_without_manifest"]),
        "claims_without_manifest": len(state["claims_without_manifest"]),
        "open_manifests": len(state["open_manifests"]),
        "problems": reasons,
        "examples": records.examples,
        "seconds": {"total": round(time.monotonic() - started, 3), "fetch": round(fetch_s, 3),
                    "duckdb": round(account_s, 3)},
    }
