"""What the pipeline holds right now: landed objects, DynamoDB items, manifests, workflows, outputs.

One read of every store, shared by `sim status` (counts) and `sim validate` (accounting), so both
see the same picture.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sim.infra.spec import Names
from sim.pipeline.events import is_landing_key

MANIFEST_PREFIX = "MANIFEST#"
QUARANTINE_PREFIX = "quarantine/"


def output_manifest_id(key: str) -> str:
    """The manifest id an output's name says it holds: `parquet/.../manifest=<id>.parquet`."""
    return key.rsplit("manifest=", 1)[-1][: -len(".parquet")]


def manifest_doc_id(key: str) -> str:
    """The manifest id of a manifest document: `manifests/.../<id>.json`."""
    return key.rsplit("/", 1)[-1][: -len(".json")]


@dataclass
class ObjectInfo:
    key: str
    etag: str
    size: int


@dataclass
class Inventory:
    landed: dict[str, ObjectInfo] = field(default_factory=dict)
    not_landing: list[str] = field(default_factory=list)
    file_items: dict[str, dict] = field(default_factory=dict)
    manifest_items: dict[str, dict] = field(default_factory=dict)
    manifest_objects: dict[str, str] = field(default_factory=dict)  # manifest id -> key
    outputs: dict[str, ObjectInfo] = field(default_factory=dict)  # parquet key -> info
    quarantined: dict[str, ObjectInfo] = field(default_factory=dict)  # quarantine objects
    executions: dict[str, str] = field(default_factory=dict)  # name -> status
    manifest_docs: dict[str, dict] = field(default_factory=dict)  # manifest id -> document

    def counts(self) -> dict:
        statuses: dict[str, int] = {}
        for item in self.manifest_items.values():
            statuses[item.get("status", "?")] = statuses.get(item.get("status", "?"), 0) + 1
        runs: dict[str, int] = {}
        for status in self.executions.values():
            runs[status] = runs.get(status, 0) + 1
        pending = sum(1 for i in self.file_items.values() if i.get("status") == "pending")
        converted_files = sum(
            int(i.get("file_count", 0)) for i in self.manifest_items.values() if i.get("status") == "succeeded"
        )
        return {
            "files_landed": len(self.landed),
            "files_tracked": len(self.file_items),
            "files_pending": pending,
            "files_manifested": len(self.file_items) - pending,
            "files_converted": converted_files,
            "manifests": len(self.manifest_items),
            "manifests_by_status": dict(sorted(statuses.items())),
            "workflows": len(self.executions),
            "workflows_by_status": dict(sorted(runs.items())),
            "parquet_files": len(self.outputs),
            "records_converted": sum(int(i.get("record_count", 0)) for i in self.manifest_items.values()),
            "quarantine_objects": len(self.quarantined),
            "records_quarantined": sum(int(i.get("quarantined", 0)) for i in self.manifest_items.values()),
            "files_quarantined": sum(int(i.get("quarantined_files", 0)) for i in self.manifest_items.values()),
            "files_overwritten": sum(1 for i in self.file_items.values() if i.get("overwritten_etag")),
        }


def _list(s3, bucket: str, prefix: str = "") -> list[dict]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(page.get("Contents", []))
    return out


def _scan(ddb, table: str) -> list[dict]:
    items = []
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        items.extend(page.get("Items", []))
    return items


def plain(item: dict) -> dict:
    """A DynamoDB low-level item as plain Python values."""
    out = {}
    for k, v in item.items():
        (kind, val), = v.items()
        out[k] = int(val) if kind == "N" and "." not in val else float(val) if kind == "N" else val
    return out


def read(target, names: Names, with_manifest_docs: bool = False) -> Inventory:
    s3 = target.client("s3")
    ddb = target.client("dynamodb")
    sfn = target.client("stepfunctions")
    inv = Inventory()
    for obj in _list(s3, names.landing_bucket):
        if is_landing_key(obj["Key"]):
            inv.landed[obj["Key"]] = ObjectInfo(obj["Key"], obj["ETag"].strip('"'), obj["Size"])
        else:
            inv.not_landing.append(obj["Key"])
    for obj in _list(s3, names.output_bucket):
        key = obj["Key"]
        if key.startswith("parquet/") and key.endswith(".parquet"):
            inv.outputs[key] = ObjectInfo(key, obj["ETag"].strip('"'), obj["Size"])
        elif key.startswith("manifests/") and key.endswith(".json"):
            inv.manifest_objects[manifest_doc_id(key)] = key
        elif key.startswith(QUARANTINE_PREFIX):
            inv.quarantined[key] = ObjectInfo(key, obj["ETag"].strip('"'), obj["Size"])
    for raw in _scan(ddb, names.table):
        item = plain(raw)
        if item.get("record_type") == "FILE":
            inv.file_items[item["file_key"]] = item
        elif item.get("record_type") == "MANIFEST":
            inv.manifest_items[item["manifest_id"]] = item
    account = target.client("sts").get_caller_identity()["Account"]
    sm_arn = f"arn:aws:states:{target.region}:{account}:stateMachine:{names.state_machine}"
    try:
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=sm_arn):
            for e in page.get("executions", []):
                inv.executions[e["name"]] = e["status"]
    except sfn.exceptions.StateMachineDoesNotExist:
        pass
    if with_manifest_docs and inv.manifest_objects:
        def fetch(item):
            mid, key = item
            return mid, json.loads(s3.get_object(Bucket=names.output_bucket, Key=key)["Body"].read())

        with ThreadPoolExecutor(max_workers=8) as pool:
            inv.manifest_docs = dict(pool.map(fetch, inv.manifest_objects.items()))
    return inv
