"""Pure manifest assembly: ids, batching decisions and the manifest document.

A manifest is the unit of conversion: up to MANIFEST_BATCH_SIZE landed files of one date prefix,
written to S3 as JSON and converted into one Parquet file. Its id doubles as the Step Functions
execution name, so it is unique, at most 80 characters, and made of [A-Za-z0-9-_].
"""

from __future__ import annotations

import json
import re
import time
import uuid

_NAME_OK = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def new_manifest_id(date_prefix: str) -> str:
    mid = f"{date_prefix}-{uuid.uuid4().hex[:20]}"
    assert _NAME_OK.match(mid), mid
    return mid


def manifest_key(date_prefix: str, manifest_id: str) -> str:
    return f"manifests/date={date_prefix}/{manifest_id}.json"


def output_key(date_prefix: str, manifest_id: str) -> str:
    """The contract's output location of a manifest's Parquet file."""
    return f"parquet/date={date_prefix}/manifest={manifest_id}.parquet"


def quarantine_key(date_prefix: str, manifest_id: str) -> str:
    """Where a manifest's unconvertible lines go, one JSON line each with key, line and reason."""
    return f"quarantine/date={date_prefix}/manifest={manifest_id}.jsonl"


def should_build(pending_count: int, batch_size: int, flush: bool) -> bool:
    """A full batch is always built; a partial one only when flushing."""
    if pending_count <= 0:
        return False
    return flush or pending_count >= batch_size


def next_batch(pending_keys: list[str], batch_size: int, flush: bool) -> list[str]:
    """The files the next manifest claims: the first `batch_size` pending keys in key order.

    Empty when there is not a full batch and this is not a flush.
    """
    ordered = sorted(pending_keys)
    if not should_build(len(ordered), batch_size, flush):
        return []
    return ordered[:batch_size]


def claim_groups(count: int, most: int) -> list[tuple[int, int]]:
    """(start, end) of the claim transactions for `count` files: as few as `most` per group
    allows, of near-equal size, and at least two when there are two files or more, so a
    builder that dies between groups leaves a manifest half claimed (never more than `most`)."""
    if count <= 0:
        return []
    n = max(-(-count // max(1, most)), 2 if count > 1 else 1)
    bounds = [round(i * count / n) for i in range(n + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(n)]


def manifest_document(manifest_id: str, date_prefix: str, files: list[dict]) -> bytes:
    """The manifest object: which files, in which order, the converter reads."""
    doc = {
        "manifest_id": manifest_id,
        "date_prefix": date_prefix,
        "created_at": round(time.time(), 3),
        "file_count": len(files),
        "files": [pinned(f) for f in sorted(files, key=lambda f: f["file_key"])],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def pinned(f: dict) -> dict:
    """A file as its manifest lists it: where, and which content (the ETag its notification
    named, and its version in a versioned bucket), so the converter reads exactly that content
    and never a newer one that is tracked, and converted, as a file of its own."""
    entry = {"bucket": f["bucket"], "key": f["file_key"], "size": int(f.get("size", 0))}
    if f.get("etag"):
        entry["etag"] = str(f["etag"])
    if f.get("version_id"):
        entry["version_id"] = str(f["version_id"])
    return entry


def parse_manifest(body: bytes) -> dict:
    doc = json.loads(body)
    if not isinstance(doc, dict) or not isinstance(doc.get("files"), list) or "manifest_id" not in doc:
        raise ValueError("not a manifest document")
    return doc


REDRIVE = "--redrive-"


def execution_name(manifest_id: str, attempt: int) -> str:
    """Attempt 1 runs as the manifest id; a rerun as `<id>--redrive-<attempt>` (Step Functions
    never reuses a closed execution's name, and the attempt reads off the name)."""
    return manifest_id if attempt <= 1 else f"{manifest_id}{REDRIVE}{attempt}"


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN an execution of `name` has (used when StartExecution says it already exists)."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name
