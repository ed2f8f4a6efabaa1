"""`sim validate`: read the inventory, stream every landed record past its Parquet row, account for
every record, give a verdict."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import pyarrow as pa

from sim.core import contract
from sim.infra.spec import Names
from sim.validate import agreement, content, inventory, multiset, quarantine
from sim.validate.accounting import account
from sim.validate.named import concat
from sim.validate.checks import check_state, problems
from sim.validate.early import Early, reusable
from sim.validate.records import ROUT_SCHEMA, RIN_SCHEMA, default_workers, peak_disk, plan_units, run_units

# Mirrors older versions kept under the cache; validation no longer copies landed data to disk.
_OLD_MIRRORS = ("landing", "parquet", "quarantine")


def overwritten_keys(inv: inventory.Inventory) -> set[str]:
    """Keys overwritten after their manifest (see State.seen_again): what was converted is not
    what the landing bucket holds now, so their records cannot be checked line by line."""
    return {k for k, item in inv.file_items.items()
            if item.get("overwritten_etag") and k in inv.landed and inv.landed[k].etag != item.get("etag")}


def validate(target, names: Names, cache_dir: Path, on_step: Callable[[str], None] | None = None,
             workers: int | None = None, pipeline=None,
             early: Early | multiset.Hashed | None = None) -> contract.Validation:
    """Every record accounted for. `pipeline` (a Description): another pipeline than `sim`'s own is
    judged without lineage (sim/validate/described.py). `early`: what was checked while the run
    drained (sim/validate/early.py; early_hashing.py for another pipeline); what it read and is
    unchanged is not read again."""
    if pipeline is not None and not pipeline.own:
        from sim.infra.spec import Settings, Wiring
        from sim.validate.described import validate_described

        account_id = target.client("sts").get_caller_identity()["Account"]
        wiring = Wiring(account_id, target.region, Settings(target=target.name), names, pipeline)
        return validate_described(target, wiring, on_step=on_step, workers=workers or default_workers(),
                                  early=early if isinstance(early, multiset.Hashed) else None)
    started = time.monotonic()
    step = on_step or (lambda _msg: None)
    for old in _OLD_MIRRORS:
        shutil.rmtree(Path(cache_dir) / old, ignore_errors=True)
    step("reading pipeline state")
    inv = inventory.read(target, names, with_manifest_docs=True)
    state = check_state(inv)
    overwritten = overwritten_keys(inv)
    workers = workers or default_workers()
    sizes = {k: o.size for k, o in inv.landed.items()}
    early = early if isinstance(early, Early) else None
    reused = reusable(early, plan_units(sizes, state["output_of"], inv.manifest_docs, overwritten), inv, overwritten)
    left = {mid: key for mid, key in state["output_of"].items() if mid not in reused}
    units = plan_units(sizes, left, inv.manifest_docs, overwritten, workers,
                       taken={k for done in reused.values() for k in done.unit.own})
    if early is not None:
        step(f"{len(reused)} of {len(state['output_of'])} outputs checked while the run drained and unchanged since; "
             f"comparing the other {len(left)} with their landed files")
    else:
        step(f"comparing {len(inv.landed)} landed files with {len(inv.outputs)} Parquet files")
    t0 = time.monotonic()
    results = run_units(units, (target.name, target.endpoint, target.region), names.landing_bucket,
                        names.output_bucket, workers,
                        on_done=lambda i, n: step(f"compared {i}/{n} parts of the output"))
    units += [done.unit for done in reused.values()]
    results += [done.result for done in reused.values()]
    quarantined_lines = _quarantine(target.client("s3", max_pool=8), names.output_bucket, inv.quarantined)
    records_s = time.monotonic() - t0
    # The multiset check (its DuckDB count) runs beside the accounting (DuckDB's): each leaves
    # the other's Python steps a core, and neither reads what the other writes.
    step("comparing landed records and rows as multisets (without lineage), beside the accounting")
    beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="multiset")
    multiset_check = beside.submit(multiset.check, target, own_pipeline_options(names, workers, overwritten),
                                   on_step=step, hashed=_hashed(results, units))
    beside.shutdown(wait=False)
    step("accounting records with DuckDB")
    t0 = time.monotonic()
    records = account(concat([r.rin for r in results], RIN_SCHEMA, names=True),
                      concat([r.rout for r in results], ROUT_SCHEMA, names=True),
                      quarantined_lines, set_aside=overwritten)
    account_s = time.monotonic() - t0
    altered = sum(r.altered for r in results)
    examples = dict(records.examples)
    altered_examples = sorted((e for r in results for e in r.altered_examples), key=lambda e: (e["key"], e["line"]))
    if altered_examples:
        examples["altered"] = altered_examples[:5]
    reasons = problems(state, records)
    if altered:
        shown = ", ".join(f"{e['key']}:{e['line']} at {e['path'] or 'the whole record'}" for e in altered_examples[:5])
        reasons.append(f"altered records (content differs from the landed line): {altered} (e.g. {shown})")
    orphans = (
        len(state["manifests_without_workflow"])
        + len(state["workflows_without_manifest"])
        + len(state["claims_without_manifest"])
    )
    landed_bytes = sum(r.landed_bytes for r in results)
    doc = {
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
        "records_compared": sum(r.compared for r in results),
        "altered": altered,
        "duplicates": records.duplicates,
        "missing": records.missing,
        "unexpected": records.unexpected,
        "wrong_manifest": records.wrong_manifest,
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
        "examples": examples,
        "bytes_landed_read": landed_bytes,
        "peak_extra_disk_bytes": peak_disk(results),
        "workers": workers,
        "seconds": {"total": 0.0, "records": round(records_s, 3), "duckdb": round(account_s, 3)},
    }
    if early is not None:
        doc["early"] = {"outputs_checked": len(early.checked), "outputs_reused": len(reused),
                        "outputs_checked_at_end": len(left), "unit_errors": early.failed,
                        "seconds_waiting_for_early_units": round(early.seconds_after_stop, 3)}
    without_lineage = multiset_check.result()
    doc["multiset"] = without_lineage
    disagree = agreement.disagreements(doc, without_lineage)
    doc["checks_agree"] = not disagree
    doc["problems"] += disagree
    doc["pass"] = not doc["problems"]
    doc["seconds"]["multiset"] = without_lineage["seconds"]["total"]
    doc["seconds"]["total"] = round(time.monotonic() - started, 3)
    return doc


def own_pipeline_options(names: Names, workers: int, overwritten: set[str]) -> multiset.Options:
    """The multiset check's parameters for sim's own pipeline: the three lineage columns ignored,
    renamed fields and JSON text columns known from each file's metadata, quarantine under
    `quarantine/`. Keys overwritten after their manifest are set aside on both sides, their rows
    found by `_source_key` (the one use of lineage here: the content they were converted from is
    no longer in the landing bucket)."""
    return multiset.Options(landing_bucket=names.landing_bucket, output_bucket=names.output_bucket,
                            output_prefix="parquet/", ignore_columns=content.LINEAGE,
                            quarantine_prefix=inventory.QUARANTINE_PREFIX, workers=workers,
                            set_aside_keys=frozenset(overwritten), set_aside_column="_source_key")


def _hashed(results, units) -> multiset.Hashed:
    """The digests the record pass made, for the multiset check. An output that two manifests
    name is left for the multiset check to read itself (the record pass reads it once per manifest)."""
    mids: dict[str, set] = {}
    for u in units:
        if u.output_key is not None:
            mids.setdefault(u.output_key, set()).add(u.file_mid)
    twice = {k for k, m in mids.items() if len(m) > 1}
    return multiset.Hashed([h for r in results for h in r.hashed
                            if h.name not in twice or multiset.hashing.is_landed(h)])


def _quarantine(s3, bucket: str, objects: dict) -> pa.Table:
    """(key, line) of every quarantined line and file, streamed from the quarantine objects."""
    return quarantine.read_lines(s3, bucket, objects)
