"""The builder's DynamoDB state: one item per landed file, one MANIFEST item per manifest.

Table keys: `date_prefix` (partition), `file_key` (sort).
- File item: status `pending` -> `manifested` (with `manifest_id`). While pending it carries
  `pending_date`, the key of the sparse `pending-index`, so pending files are found without a scan.
- MANIFEST item (`file_key` = `MANIFEST#<id>`): status `claiming` -> `started` -> `succeeded` or
  `failed`. While not yet started it carries `open_flag`, the key of the sparse
  `open-manifest-index`, so the flush can finish manifests whose builder crashed.
- LOCK item (`file_key` = `LOCK`): a lease so that one builder at a time assembles a date's
  manifests; claims stay conditional underneath, so even an expired lease cannot double-claim.
"""

from __future__ import annotations

import time
from decimal import Decimal

from botocore.exceptions import ClientError

PENDING_INDEX = "pending-index"
OPEN_MANIFEST_INDEX = "open-manifest-index"
MANIFEST_PREFIX = "MANIFEST#"
LOCK_KEY = "LOCK"
OPEN = "OPEN"


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def newer_sequencer(a: str, b: str) -> bool:
    """S3 sequencers order events for one key: compare as hex after padding to equal length."""
    width = max(len(a), len(b))
    return a.upper().rjust(width, "0") > b.upper().rjust(width, "0")


def now() -> Decimal:
    return Decimal(str(round(time.time(), 3)))


class State:
    def __init__(self, table):
        self.table = table

    # -- files -----------------------------------------------------------------------------
    def track_file(self, date_prefix: str, key: str, bucket: str, size: int, etag: str, sequencer: str = "") -> bool:
        """Record a landed file as pending; False when it was already tracked (see `seen_again`)."""
        try:
            self.table.put_item(
                Item={
                    "date_prefix": date_prefix,
                    "file_key": key,
                    "record_type": "FILE",
                    "status": "pending",
                    "pending_date": date_prefix,
                    "bucket": bucket,
                    "size": size,
                    "etag": etag,
                    "sequencer": sequencer,
                    "tracked_at": now(),
                },
                ConditionExpression="attribute_not_exists(file_key)",
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def seen_again(self, date_prefix: str, key: str, size: int, etag: str, sequencer: str = "") -> str:
        """A notification for a key already tracked. The semantics of an overwritten key:

        - `duplicate`: the same content again (S3 and SQS deliver at least once);
        - `stale`: an older version's notification arriving after a newer one's (S3 sequencers);
        - `refreshed`: new content while the file is still pending: the item takes the new ETag,
          and the manifest will convert whatever the object holds when it is converted;
        - `overwritten`: new content after the file went into a manifest. The manifest converts
          what the object holds when the converter reads it (the first content, unless the
          overwrite came between claim and read); it is not converted again. The item records the
          overwrite, the builder alarms, and validation reports the key. Land corrections under
          a new key.
        """
        for _ in range(3):  # optimistic: re-read when another builder changed the item meanwhile
            item = self.table.get_item(Key={"date_prefix": date_prefix, "file_key": key}, ConsistentRead=True).get("Item")
            if not item or not etag or etag in (item.get("etag"), item.get("overwritten_etag")):
                return "duplicate"
            if not item.get("etag"):
                # Tracked from a notification without an ETag (a hand-made or re-sent event): the
                # first real one names the content, so a later overwrite can be told from it.
                try:
                    self.table.update_item(
                        Key={"date_prefix": date_prefix, "file_key": key},
                        UpdateExpression="SET etag = :e, #q = :q",
                        ConditionExpression="etag = :none",
                        ExpressionAttributeNames={"#q": "sequencer"},
                        ExpressionAttributeValues={":e": etag, ":q": sequencer, ":none": ""},
                    )
                    return "duplicate"
                except ClientError as exc:
                    if not _conditional_failed(exc):
                        raise
                    continue
            latest = str(item.get("overwritten_sequencer") or item.get("sequencer") or "")
            if sequencer and latest and not newer_sequencer(sequencer, latest):
                return "stale"
            try:
                if item.get("status") == "pending":
                    self.table.update_item(
                        Key={"date_prefix": date_prefix, "file_key": key},
                        UpdateExpression="SET etag = :e, #sz = :s, #q = :q, refreshed_at = :t",
                        ConditionExpression="#st = :p AND etag = :old",
                        ExpressionAttributeNames={"#sz": "size", "#q": "sequencer", "#st": "status"},
                        ExpressionAttributeValues={":e": etag, ":s": size, ":q": sequencer, ":t": now(),
                                                   ":p": "pending", ":old": item.get("etag", "")},
                    )
                    return "refreshed"
                self.table.update_item(
                    Key={"date_prefix": date_prefix, "file_key": key},
                    UpdateExpression="SET overwritten_etag = :e, overwritten_size = :s, overwritten_sequencer = :q, "
                                     "overwritten_at = :t ADD overwrites :one",
                    ConditionExpression="#st = :st AND etag = :old AND "
                                        "(attribute_not_exists(overwritten_etag) OR overwritten_etag = :prev)",
                    ExpressionAttributeNames={"#st": "status"},
                    ExpressionAttributeValues={":e": etag, ":s": size, ":q": sequencer, ":t": now(), ":one": 1,
                                               ":st": item.get("status"), ":old": item.get("etag", ""),
                                               ":prev": item.get("overwritten_etag", "")},
                )
                return "overwritten"
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
        return "duplicate"

    def _pages(self, op: str, **kwargs):
        """Every page of a Query or Scan, following LastEvaluatedKey."""
        call = getattr(self.table, op)
        while True:
            resp = call(**kwargs)
            yield resp
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def pending_files(self, date_prefix: str, limit: int | None = None) -> list[dict]:
        """Pending files of one date in key order (the index may lag; claims are conditional)."""
        items: list[dict] = []
        for resp in self._pages("query", IndexName=PENDING_INDEX, KeyConditionExpression="pending_date = :d",
                                ExpressionAttributeValues={":d": date_prefix}):
            items.extend(resp.get("Items", []))
            if limit is not None and len(items) >= limit:
                return items[:limit]
        return items

    def count_pending(self, date_prefix: str) -> int:
        return sum(
            resp.get("Count", 0)
            for resp in self._pages("query", IndexName=PENDING_INDEX, KeyConditionExpression="pending_date = :d",
                                    ExpressionAttributeValues={":d": date_prefix}, Select="COUNT")
        )

    def pending_dates(self) -> dict[str, Decimal]:
        """Every date with pending files, with the oldest pending file's tracking time."""
        oldest: dict[str, Decimal] = {}
        for resp in self._pages("scan", IndexName=PENDING_INDEX):
            for item in resp.get("Items", []):
                d, t = item["pending_date"], item.get("tracked_at", now())
                if d not in oldest or t < oldest[d]:
                    oldest[d] = t
        return oldest

    def claim(self, date_prefix: str, key: str, manifest_id: str) -> bool:
        """Move one file from pending to this manifest; False when someone else has it."""
        try:
            self.table.update_item(
                Key={"date_prefix": date_prefix, "file_key": key},
                UpdateExpression="SET #s = :m, manifest_id = :mid, claimed_at = :t REMOVE pending_date",
                ConditionExpression="#s = :p",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":m": "manifested", ":p": "pending", ":mid": manifest_id, ":t": now()},
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def release(self, date_prefix: str, key: str, manifest_id: str) -> None:
        """Give a claimed file back to pending (only if this manifest still holds it)."""
        try:
            self.table.update_item(
                Key={"date_prefix": date_prefix, "file_key": key},
                UpdateExpression="SET #s = :p, pending_date = :d REMOVE manifest_id, claimed_at",
                ConditionExpression="#s = :m AND manifest_id = :mid",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":m": "manifested", ":p": "pending", ":mid": manifest_id, ":d": date_prefix},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def files_of_manifest(self, date_prefix: str, manifest_id: str) -> list[dict]:
        return [
            item
            for resp in self._pages("query", KeyConditionExpression="date_prefix = :d", ConsistentRead=True,
                                    FilterExpression="manifest_id = :mid AND record_type = :f",
                                    ExpressionAttributeValues={":d": date_prefix, ":mid": manifest_id, ":f": "FILE"})
            for item in resp.get("Items", [])
        ]

    # -- manifests -------------------------------------------------------------------------
    def open_manifest(self, date_prefix: str, manifest_id: str, manifest_key: str) -> None:
        """Write the MANIFEST item before any file is claimed for it, so no claim is orphaned."""
        self.table.put_item(
            Item={
                "date_prefix": date_prefix,
                "file_key": MANIFEST_PREFIX + manifest_id,
                "record_type": "MANIFEST",
                "manifest_id": manifest_id,
                "manifest_key": manifest_key,
                "status": "claiming",
                "open_flag": OPEN,
                "created_at": now(),
                "updated_at": now(),
            },
            ConditionExpression="attribute_not_exists(file_key)",
        )

    def drop_manifest(self, date_prefix: str, manifest_id: str) -> None:
        self.table.delete_item(Key={"date_prefix": date_prefix, "file_key": MANIFEST_PREFIX + manifest_id})

    def mark_started(self, date_prefix: str, manifest_id: str, execution_arn: str, file_count: int) -> None:
        self.table.update_item(
            Key={"date_prefix": date_prefix, "file_key": MANIFEST_PREFIX + manifest_id},
            UpdateExpression="SET #s = :s, execution_arn = :a, file_count = :n, updated_at = :t REMOVE open_flag",
            ConditionExpression="attribute_exists(file_key)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": "started", ":a": execution_arn, ":n": file_count, ":t": now()},
        )

    def open_manifests(self) -> list[dict]:
        return [item for resp in self._pages("scan", IndexName=OPEN_MANIFEST_INDEX) for item in resp.get("Items", [])]

    def record_conversion(self, date_prefix: str, manifest_id: str, record_count: int, output_key: str,
                          quarantined: int = 0, quarantined_files: int = 0) -> None:
        """The converter writes back how many records it produced, where, and how many lines and
        whole files it quarantined."""
        self.table.update_item(
            Key={"date_prefix": date_prefix, "file_key": MANIFEST_PREFIX + manifest_id},
            UpdateExpression="SET record_count = :n, output_key = :o, quarantined = :q, quarantined_files = :f, "
                             "converted_at = :t, updated_at = :t",
            ConditionExpression="attribute_exists(file_key)",
            ExpressionAttributeValues={":n": record_count, ":o": output_key, ":q": quarantined,
                                       ":f": quarantined_files, ":t": now()},
        )

    # -- lease -----------------------------------------------------------------------------
    def acquire_lock(self, date_prefix: str, owner: str, lease_s: float) -> bool:
        t = now()
        try:
            self.table.put_item(
                Item={
                    "date_prefix": date_prefix,
                    "file_key": LOCK_KEY,
                    "record_type": "LOCK",
                    "owner": owner,
                    "expires_at": t + Decimal(str(lease_s)),
                },
                ConditionExpression="attribute_not_exists(file_key) OR expires_at < :t OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":t": t, ":me": owner},
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def release_lock(self, date_prefix: str, owner: str) -> None:
        try:
            self.table.delete_item(
                Key={"date_prefix": date_prefix, "file_key": LOCK_KEY},
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": owner},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise

    def lease_expiry(self, date_prefix: str) -> Decimal | None:
        """When the date's lease runs out (epoch seconds), or None when nobody holds it."""
        item = self.table.get_item(Key={"date_prefix": date_prefix, "file_key": LOCK_KEY},
                                   ConsistentRead=True).get("Item")
        return item.get("expires_at") if item else None
