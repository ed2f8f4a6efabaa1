"""State checks that need no record data: files vs manifests vs workflows (pure functions).

These are DESIGN's invariants 1 and 3: every landed file in exactly one manifest; no MANIFEST item
without a workflow, no workflow without a MANIFEST item, no file claimed by a manifest that does
not exist.
"""

from __future__ import annotations

from collections import Counter

from sim.validate.inventory import Inventory, output_manifest_id

_FINISHED = {"succeeded", "failed"}
_FAILED_RUNS = {"FAILED", "TIMED_OUT", "ABORTED"}
EXAMPLES = 5
REDRIVE = "--redrive-"


def manifest_of_execution(name: str) -> str:
    """Executions are named after their manifest; a redrive adds `--redrive-<n>`."""
    return name.split(REDRIVE, 1)[0]


def latest_runs(executions: dict[str, str]) -> dict[str, str]:
    """Manifest id -> status of its latest execution (the original or its last redrive)."""
    latest: dict[str, tuple[int, str]] = {}
    for name, status in executions.items():
        mid, _, n = name.partition(REDRIVE)
        attempt = int(n) if n.isdigit() else 0
        if mid not in latest or attempt > latest[mid][0]:
            latest[mid] = (attempt, status)
    return {mid: status for mid, (_, status) in latest.items()}


def check_state(inv: Inventory) -> dict:
    # A file is a key's content: manifests pin it (version, else ETag), so a key rewritten while
    # pending is two files in two manifests, and only the same content listed twice is one too many.
    entries = Counter(
        (f["key"], str(f.get("version_id") or f.get("etag") or ""))
        for mid, doc in inv.manifest_docs.items() if mid in inv.manifest_items for f in doc.get("files", [])
    )
    landed, tracked = set(inv.landed), set(inv.file_items)
    in_manifests = {key for key, _pin in entries}
    runs = latest_runs(inv.executions)
    without_workflow = sorted(m for m, i in inv.manifest_items.items()
                              if i.get("status") != "claiming" and m not in runs)
    open_manifests = sorted(m for m, i in inv.manifest_items.items() if i.get("status") == "claiming")
    workflows_without_manifest = sorted(n for n in inv.executions if manifest_of_execution(n) not in inv.manifest_items)
    claims_without_manifest = sorted(
        k for k, i in inv.file_items.items()
        if i.get("status") == "manifested" and i.get("manifest_id") not in inv.manifest_items
    )
    failed = sorted(m for m, i in inv.manifest_items.items()
                    if i.get("status") == "failed" or runs.get(m) in _FAILED_RUNS)
    unfinished = sorted(m for m, i in inv.manifest_items.items()
                        if i.get("status") not in _FINISHED and m not in failed)
    succeeded = [m for m, i in inv.manifest_items.items() if i.get("status") == "succeeded"]
    output_of = {output_manifest_id(k): k for k in inv.outputs}
    outputs_missing = sorted(m for m in succeeded if m not in output_of)
    docs_missing = sorted(m for m, i in inv.manifest_items.items()
                          if i.get("status") != "claiming" and m not in inv.manifest_docs)
    return {
        "files_landed": len(landed),
        "files_tracked": len(tracked),
        "files_in_manifests": sum(entries.values()),
        "files_in_two_manifests": sorted({key for (key, _pin), n in entries.items() if n > 1}),
        "landed_not_tracked": sorted(landed - tracked),
        "landed_not_in_manifest": sorted(landed - in_manifests),
        "in_manifest_not_landed": sorted(in_manifests - landed),
        "manifests": len(inv.manifest_items),
        "workflows": len(inv.executions),
        "redrives": sum(1 for n in inv.executions if REDRIVE in n),
        "manifests_without_workflow": without_workflow,
        "workflows_without_manifest": workflows_without_manifest,
        "claims_without_manifest": claims_without_manifest,
        "open_manifests": open_manifests,
        "manifests_failed": failed,
        "manifests_unfinished": unfinished,
        "manifest_docs_missing": docs_missing,
        "outputs_missing": outputs_missing,
        "output_of": output_of,
    }


def problems(state: dict, records) -> list[str]:
    """Human-readable reasons a validation fails; empty means it passes."""
    out = []

    def add(label: str, items) -> None:
        if items:
            shown = ", ".join(str(i) for i in list(items)[:EXAMPLES])
            more = f" (+{len(items) - EXAMPLES} more)" if len(items) > EXAMPLES else ""
            out.append(f"{label}: {len(items)}: {shown}{more}")

    add("files in two manifests", state["files_in_two_manifests"])
    add("landed files never tracked", state["landed_not_tracked"])
    add("landed files in no manifest", state["landed_not_in_manifest"])
    gone = set(records.quarantined_files)  # deleted before conversion, and quarantined as such
    add("manifest files that did not land", [k for k in state["in_manifest_not_landed"] if k not in gone])
    add("manifests without a workflow", state["manifests_without_workflow"])
    add("workflows without a MANIFEST item", state["workflows_without_manifest"])
    add("files claimed by a missing manifest", state["claims_without_manifest"])
    add("manifests left open by a builder", state["open_manifests"])
    add("failed manifests", state["manifests_failed"])
    add("manifests not finished", state["manifests_unfinished"])
    add("manifest objects missing", state["manifest_docs_missing"])
    add("succeeded manifests without Parquet", state["outputs_missing"])
    if records.records_in != records.records_out + records.quarantined:
        out.append(f"records in {records.records_in} != records out {records.records_out}"
                   f" + quarantined {records.quarantined}")
    for label in ("duplicates", "missing", "unexpected"):
        n = getattr(records, label)
        if n:
            examples = records.examples.get(label, [])
            shown = ", ".join(f"{e['key']}:{e['line']}" for e in examples)
            out.append(f"{label} records: {n} (e.g. {shown})")
    if records.wrong_manifest:
        out.append(f"rows whose _manifest_id differs from their file's manifest: {records.wrong_manifest}")
    return out
