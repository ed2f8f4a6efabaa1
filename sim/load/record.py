"""What a load run leaves behind for the discrete-event model (sim/report/predict) to replay and
compare with: when each file landed, was tracked and which manifest took it; when each manifest was
opened, its workflow started, its Glue run asked for and got a slot, converted and finished; and the
run's own telemetry lines (the builder's time per batch, StartExecution's latency, the converter's
time per manifest).

Written once after the drain, while the engine still holds the state (a table scan and one listing
of the workflow's executions), so the run folder is enough to calibrate on after `sim down`.
Nothing here runs while the load does.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

from sim.core.jsonl import read_jsonl
from sim.engine import glue_slots

FILES_CSV = "files.csv"
MANIFESTS_CSV = "manifests.csv"
TELEMETRY = "telemetry.jsonl"
GLUE_SLOTS = "glue-slots.jsonl"

FILE_COLUMNS = ("key", "size", "landed_at", "tracked_at", "manifest_id")
MANIFEST_COLUMNS = ("manifest_id", "status", "files", "bytes", "created_at", "execution_started_at",
                    "glue_asked_at", "glue_slot_at", "convert_started_at", "convert_ended_at", "converted_at",
                    "execution_stopped_at")


def _num(item: dict, name: str) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, dict):  # DynamoDB's low-level shape
        value = value.get("N", value.get("S"))
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(item: dict, name: str) -> str:
    value = item.get(name)
    if isinstance(value, dict):
        value = value.get("S", value.get("N"))
    return "" if value is None else str(value)


def _epoch(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def file_rows(items: list[dict], landed_at: dict[str, float]) -> list[dict]:
    """One row per FILE item: its size, when it landed (the upload returned), was tracked, and its manifest."""
    rows = []
    for item in items:
        if _text(item, "record_type") != "FILE":
            continue
        key = _text(item, "file_key")
        rows.append({"key": key, "size": int(_num(item, "size") or 0), "landed_at": landed_at.get(key),
                     "tracked_at": _num(item, "tracked_at"), "manifest_id": _text(item, "manifest_id")})
    return sorted(rows, key=lambda r: (r["landed_at"] is None, r["landed_at"] or 0.0, r["key"]))


def manifest_rows(items: list[dict], executions: dict[str, dict], converter_lines: list[dict],
                  slot_lines: list[dict]) -> list[dict]:
    """One row per MANIFEST item, joined with its first execution (named after the manifest), its
    converter's telemetry line (by manifest id) and that process's Glue slot (by pid)."""
    files: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for item in items:
        if _text(item, "record_type") == "FILE" and _text(item, "manifest_id"):
            mid = _text(item, "manifest_id")
            files[mid] = files.get(mid, 0) + 1
            sizes[mid] = sizes.get(mid, 0) + int(_num(item, "size") or 0)
    conv = {}
    for line in converter_lines:  # the last run of a manifest is the one that converted it
        if line.get("component") == "converter" and line.get("manifest_id"):
            conv[line["manifest_id"]] = line
    slots = {int(s["pid"]): s for s in slot_lines if "pid" in s}
    rows = []
    for item in items:
        if _text(item, "record_type") != "MANIFEST":
            continue
        mid = _text(item, "manifest_id")
        ex = executions.get(mid, {})
        line = conv.get(mid)
        end = float(line["at"]) if line else None
        start = end - float(line.get("duration_ms", 0)) / 1000 if line else None
        slot = slots.get(int(line["pid"])) if line and line.get("pid") is not None else None
        rows.append({
            "manifest_id": mid, "status": _text(item, "status"),
            "files": int(_num(item, "file_count") or files.get(mid, 0)), "bytes": sizes.get(mid, 0),
            "created_at": _num(item, "created_at"),
            "execution_started_at": _epoch(ex.get("startDate")),
            "glue_asked_at": slot.get("asked_at") if slot else None,
            "glue_slot_at": slot.get("slot_at") if slot else None,
            "convert_started_at": None if start is None else round(start, 3),
            "convert_ended_at": end,
            "converted_at": _num(item, "converted_at"),
            "execution_stopped_at": _epoch(ex.get("stopDate")) or _epoch(_text(item, "finished_at") or None),
        })
    return sorted(rows, key=lambda r: (r["created_at"] is None, r["created_at"] or 0.0))


def _write_csv(path: Path, columns: tuple, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})


def read_csv(path: Path) -> list[dict]:
    """A record's CSV back, numbers as floats (empty cells as None), names as text."""
    texts = {"key", "manifest_id", "status"}
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: (v if k in texts else (float(v) if v != "" else None)) for k, v in row.items()}
                for row in csv.DictReader(fh)]


def _lines_between(path: Path | str | None, start: float, end: float, key: str = "at") -> list[dict]:
    if not path or not Path(path).exists():
        return []
    return [l for l in read_jsonl(Path(path)) if start <= float(l.get(key, 0) or 0) <= end]


def write(run_dir: Path, project, landed_at: dict[str, float], started_at: float, ended_at: float) -> dict:
    """Scan the engine once and write the record into the run folder; returns what was written."""
    target, names = project.target, project.names
    ddb = target.client("dynamodb")
    items = []
    for page in ddb.get_paginator("scan").paginate(
            TableName=names.table,
            ProjectionExpression="file_key, record_type, manifest_id, #s, #z, tracked_at, file_count, created_at, "
                                 "converted_at, finished_at",
            ExpressionAttributeNames={"#s": "status", "#z": "size"}):  # both are reserved words
        items += page.get("Items", [])
    executions: dict[str, dict] = {}
    sfn = target.client("stepfunctions")
    account = target.client("sts").get_caller_identity()["Account"]
    arn = f"arn:aws:states:{target.region}:{account}:stateMachine:{names.state_machine}"
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        for e in page["executions"]:
            executions.setdefault(e["name"], e)
    telemetry = _lines_between(project.telemetry_file(), started_at, ended_at)
    slot_log = Path(project.workdir) / glue_slots.SLOT_DIR / glue_slots.RUNS_LOG
    slots = _lines_between(slot_log, started_at, ended_at, key="slot_at")
    files = file_rows(items, landed_at)
    manifests = manifest_rows(items, executions, telemetry, slots)
    _write_csv(run_dir / FILES_CSV, FILE_COLUMNS, files)
    _write_csv(run_dir / MANIFESTS_CSV, MANIFEST_COLUMNS, manifests)
    for name, lines in ((TELEMETRY, telemetry), (GLUE_SLOTS, slots)):
        with open(run_dir / name, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(l, separators=(",", ":")) + "\n" for l in lines)
    return {"files": len(files), "manifests": len(manifests), "telemetry_lines": len(telemetry),
            "glue_slot_lines": len(slots)}
