"""Run one manifest's conversion against S3 and DynamoDB: the body of both entry points.

Reads the manifest object, streams each listed NDJSON object from S3 through the converter,
uploads the Parquet file to the contract key (a rerun overwrites the same key), and writes the
record count back to the MANIFEST item.
"""

from __future__ import annotations

import os
import tempfile
import time

import boto3

from . import faultpoints, manifests
from .converter import Source, convert
from .logs import get_logger, kv
from .state import State

log = get_logger("converter")


def run(
    manifest_bucket: str,
    manifest_key: str,
    output_bucket: str,
    table_name: str,
    s3=None,
    dynamodb=None,
) -> dict:
    s3 = s3 or boto3.client("s3")
    dynamodb = dynamodb or boto3.resource("dynamodb")
    faultpoints.on_invocation()
    started = time.monotonic()
    doc = manifests.parse_manifest(s3.get_object(Bucket=manifest_bucket, Key=manifest_key)["Body"].read())
    mid, date_prefix = doc["manifest_id"], doc["date_prefix"]
    log.info(kv("convert_start", manifest_id=mid, files=len(doc["files"])))

    def opener(bucket: str, key: str):
        return lambda: s3.get_object(Bucket=bucket, Key=key)["Body"]

    sources = [Source(f["key"], opener(f["bucket"], f["key"])) for f in doc["files"]]
    out_key = manifests.output_key(date_prefix, mid)
    with tempfile.TemporaryDirectory(prefix="manifest-") as work:
        local = os.path.join(work, "out.parquet")
        result = convert(
            sources,
            mid,
            local,
            tmp_dir=work,
            on_file=lambda key, n: log.debug(kv("file_converted", manifest_id=mid, key=key, records=n)),
        )
        s3.upload_file(local, output_bucket, out_key)
        out_bytes = os.path.getsize(local)
    faultpoints.reach("converter_after_upload")
    State(dynamodb.Table(table_name)).record_conversion(date_prefix, mid, result.records, out_key)
    summary = {
        "manifest_id": mid,
        "files": result.files,
        "records": result.records,
        "bytes_in": result.bytes_in,
        "bytes_out": out_bytes,
        "output_key": out_key,
        "json_text_fields": result.json_text_fields,
        "seconds": round(time.monotonic() - started, 3),
    }
    log.info(kv("convert_done", **{k: v for k, v in summary.items() if k != "json_text_fields"}))
    if result.json_text_fields:
        log.warning(kv("fields_written_as_json_text", manifest_id=mid, fields=",".join(result.json_text_fields)))
    return summary
