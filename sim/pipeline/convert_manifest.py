"""Run one manifest's conversion against S3 and DynamoDB: the body of both entry points.

Reads the manifest object, streams each listed NDJSON object (the content the manifest pins) from
S3 through the converter, writes the lines it could not convert to the quarantine key (with key,
line number and reason), then uploads the Parquet file to the contract key (a rerun overwrites both
keys), and writes the record and quarantine counts back to the MANIFEST item.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import traceback

import boto3
from botocore.exceptions import ClientError

from . import cloudwatch, manifests
from .converter import Source, SourceGone, convert
from .gz import MAX_DECOMPRESSED_BYTES
from .logs import get_logger, kv
from .state import State

log = get_logger("converter")


class ConversionFailed(RuntimeError):
    """A conversion failed. Its message names the manifest and the kind of error only: the
    original message may quote record values (pyarrow's do), and this one reaches logs, the
    job's error message and the workflow's execution history."""


@contextlib.contextmanager
def values_withheld(manifest_id: str):
    """Turn any failure into one whose message names the manifest and the error's kind only."""
    try:
        yield
    except ClientError:
        raise  # S3's own errors carry codes, keys and ids, no record content
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        log.error(kv("convert_failed", manifest_id=manifest_id, error=type(exc).__name__,
                     at=f"{os.path.basename(where.filename)}:{where.lineno}"))
        raise ConversionFailed(f"{type(exc).__name__} while converting manifest {manifest_id} "
                               "(its message is withheld: it may quote record values)") from None


def opener(s3, listed: dict):
    """Open exactly the content the manifest pins: its version when it names one, else the
    object only while it still has the listed ETag. Content that changed since is not read: the
    file is quarantined whole with the reason (a newer content is a file of its own)."""
    kwargs = {"Bucket": listed["bucket"], "Key": listed["key"]}
    if listed.get("version_id"):
        kwargs["VersionId"] = listed["version_id"]
    elif listed.get("etag"):
        kwargs["IfMatch"] = '"%s"' % str(listed["etag"]).strip('"')

    def open_():
        try:
            return s3.get_object(**kwargs)["Body"]
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in ("NoSuchKey", "404"):
                raise SourceGone("object deleted before conversion") from None
            if code in ("NoSuchVersion",):
                raise SourceGone("the listed version was deleted before conversion") from None
            if code in ("PreconditionFailed", "412"):
                raise SourceGone("content changed before conversion: the object no longer has the ETag "
                                 "its manifest lists; that content is not converted") from None
            raise

    return open_


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
    started = time.monotonic()
    doc = manifests.parse_manifest(s3.get_object(Bucket=manifest_bucket, Key=manifest_key)["Body"].read())
    mid, date_prefix = doc["manifest_id"], doc["date_prefix"]
    state = State(dynamodb.Table(table_name))
    if not state.begin_conversion(date_prefix, mid):
        log.warning(kv("conversion_skipped", manifest_id=mid, reason="the manifest already succeeded, or is gone"))
        return {"manifest_id": mid, "records": None, "skipped": "the manifest already succeeded, or is gone"}
    log.info(kv("convert_start", manifest_id=mid, files=len(doc["files"])))

    sources = [Source(f["key"], opener(s3, f)) for f in doc["files"]]
    out_key = manifests.output_key(date_prefix, mid)
    with tempfile.TemporaryDirectory(prefix="manifest-") as work:
        local = os.path.join(work, "out.parquet")
        with values_withheld(mid):
            result = convert(
                sources,
                mid,
                local,
                tmp_dir=work,
                on_file=lambda key, n: log.debug(kv("file_converted", manifest_id=mid, key=key, records=n)),
                max_gz_bytes=int(os.environ.get("GZIP_MAX_BYTES") or MAX_DECOMPRESSED_BYTES),
            )
        # The quarantine first, the Parquet file last: the output is the conversion's commit, so a
        # run killed between the two leaves no output beside a quarantine it does not match, and
        # the next run (the workflow's retry or a redrive) writes both again.
        q_key = manifests.quarantine_key(date_prefix, mid)
        if result.quarantined:
            body = "".join(json.dumps(q.as_record(mid), ensure_ascii=False) + "\n" for q in result.quarantined)
            s3.put_object(Bucket=output_bucket, Key=q_key, Body=body.encode(), ContentType="application/x-ndjson")
            for q in result.quarantined[:20]:
                log.warning(kv("quarantined", manifest_id=mid, key=q.key, line=q.line,
                               reason=q.reason.replace(" ", "_")))
        else:
            s3.delete_object(Bucket=output_bucket, Key=q_key)  # a rerun that converts everything leaves none
        s3.upload_file(local, output_bucket, out_key)
        out_bytes = os.path.getsize(local)
    whole_files = sum(1 for q in result.quarantined if q.line is None)
    if not state.record_conversion(date_prefix, mid, result.records, out_key,
                                   quarantined=len(result.quarantined) - whole_files, quarantined_files=whole_files):
        log.error(kv("conversion_finished_after_success", manifest_id=mid,
                     why="another run converted this manifest meanwhile; its counts stand"))
    cloudwatch.emit({"QuarantinedRecords": len(result.quarantined) - whole_files, "QuarantinedFiles": whole_files})
    summary = {
        "manifest_id": mid,
        "files": result.files,
        "records": result.records,
        "bytes_in": result.bytes_in,
        "bytes_out": out_bytes,
        "output_key": out_key,
        "json_text_fields": result.json_text_fields,
        "renamed_fields": result.renamed_fields,
        "repeated_names": result.repeated_names,
        "parts": result.parts,
        "checked_writes": result.checked_writes,
        "quarantined": len(result.quarantined) - whole_files,
        "quarantined_files": whole_files,
        "seconds": round(time.monotonic() - started, 3),
    }
    log.info(kv("convert_done", **{k: v for k, v in summary.items() if k not in ("json_text_fields", "renamed_fields")}))
    if result.json_text_fields:
        log.info(kv("fields_written_as_json_text", manifest_id=mid, fields=",".join(result.json_text_fields)))
    if result.checked_writes:
        log.warning(kv("converted_again_with_checked_writes", manifest_id=mid,
                       why="rows failed to fit or write; each failing row is quarantined"))
    if result.repeated_names:
        log.warning(kv("records_repeating_a_name", manifest_id=mid, records=result.repeated_names,
                       kept="the last value of each repeated name"))
    return summary
