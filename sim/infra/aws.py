"""Reading AWS's answers the same way everywhere: which error codes mean "not there", a read that
may find nothing, and emptying a bucket (objects, versions, unfinished uploads)."""

from __future__ import annotations

from typing import Callable, TypeVar

from botocore.exceptions import ClientError

T = TypeVar("T")

# Codes the services (and the engines) answer for a resource that does not exist.
MISSING_CODES = {"ResourceNotFoundException", "NoSuchEntity", "NoSuchBucket", "NotFound", "404",
                 "EntityNotFoundException", "StateMachineDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
                 "QueueDoesNotExist", "NotFoundException", "ResourceNotFound"}


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def missing(exc: ClientError) -> bool:
    """True when the error says the thing asked for is not there."""
    code = error_code(exc)
    return code in MISSING_CODES or "NotFound" in code or "NoSuch" in code or "NonExistent" in code


def live(read: Callable[[], T]) -> T | None:
    """What `read` returns, or None when the thing it reads is not there; any other error is raised."""
    try:
        return read()
    except ClientError as exc:
        if not missing(exc):
            raise
        return None


def empty_bucket(s3, bucket: str, versions: bool = False) -> int:
    """Delete every object (and with `versions` every version and delete marker, and unfinished
    uploads); how many keys were deleted. A bucket that is not there is empty."""
    removed = 0
    pages = []
    if versions:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            pages.append([{"Key": v["Key"], "VersionId": v["VersionId"]}
                          for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                          if v.get("VersionId") not in (None, "null")]
                         + [{"Key": v["Key"]} for v in page.get("Versions", []) if v.get("VersionId") in (None, "null")])
    for batch in pages:
        removed += _delete(s3, bucket, batch)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        removed += _delete(s3, bucket, [{"Key": o["Key"]} for o in page.get("Contents", [])])
    if versions:
        for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    return removed


def _delete(s3, bucket: str, keys: list[dict]) -> int:
    for i in range(0, len(keys), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[i: i + 1000], "Quiet": True})
    return len(keys)


def remove_bucket(s3, bucket: str, versions: bool = False) -> int | None:
    """Empty a bucket and delete it: how many keys it held, None when it was not there."""
    removed = live(lambda: empty_bucket(s3, bucket, versions))
    if removed is not None:
        s3.delete_bucket(Bucket=bucket)
    return removed
