"""The builder's DynamoDB state: one item per landed file, one MANIFEST item per manifest.

Table keys: `date_prefix` (partition), `file_key` (sort).
- File item: status `pending` -> `manifested` (with `manifest_id`). While pending it carries
  `pending_date`, the key of the sparse `pending-index`, so pending files are found without a scan.
- MANIFEST item (`file_key` = `MANIFEST#<id>`): status `claiming` (open) -> `started` ->
  `succeeded` | `failed`, and `failed` -> `started` only by a redrive that records its `attempt`
  (1 for the first execution). Every transition is a conditional write, so a late or repeated
  writer cannot move a status backwards. While open it is claimed into until someone seals it
  (`sealed_at`, `seal` = `submit` or `abandon`): claims check in the same transaction that it is
  still open and unsealed, so after the seal its file set is fixed.
  `open_flag`, the key of the sparse `open-manifest-index`, says what the flush must look at:
  `OPEN` (not started yet), `REDRIVE` (a redrive recorded, its execution not yet confirmed),
  `RETRY` (failed, with attempts left), `STARTED` (its execution runs: only the execution's own
  MarkSucceeded or MarkFailed removes or replaces it, so an execution that closed without
  recording its outcome, stopped by hand, or whose Mark step failed, is found by the flush).
- LOCK item (`file_key` = `LOCK`): a lease so that one builder at a time assembles a date's
  manifests; claims stay conditional underneath, so even an expired lease cannot double-claim.
- KEY item (`date_prefix` = `KEY#<key>`, `file_key` = `IDENTITY`), for keys without a date
  segment only: the date their content was tracked under, so a notification of the same content
  (same ETag, or an older sequencer) finds the same file item whatever its event date.
"""

from __future__ import annotations

import time
from decimal import Decimal

from botocore.exceptions import ClientError

PENDING_INDEX = "pending-index"
OPEN_MANIFEST_INDEX = "open-manifest-index"
MANIFEST_PREFIX = "MANIFEST#"
LOCK_KEY = "LOCK"
KEY_PREFIX = "KEY#"
IDENTITY = "IDENTITY"
# open_flag values (the open-manifest-index): what the flush must look at
OPEN = "OPEN"
REDRIVE = "REDRIVE"
RETRY = "RETRY"
WATCH = "STARTED"
# MANIFEST statuses, and the fate of a sealed open manifest
CLAIMING, STARTED, SUCCEEDED, FAILED = "claiming", "started", "succeeded", "failed"
SUBMIT, ABANDON = "submit", "abandon"
# TransactWriteItems takes 100 actions: one ConditionCheck on the MANIFEST item and 99 claims.
MAX_CLAIMS_PER_TRANSACTION = 99


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def cancellation_reasons(exc: ClientError, count: int) -> list[str]:
    """The per-action codes of a canceled transaction, in request order ("None" for an action
    that was not a reason). botocore puts them in the error response; DynamoDB also lists them
    in the message ("... reasons [None, ConditionalCheckFailed]"), read when the first is absent."""
    reasons = exc.response.get("CancellationReasons")
    if isinstance(reasons, list) and len(reasons) == count:
        return [str(r.get("Code", "None")) for r in reasons]
    message = exc.response.get("Error", {}).get("Message", "")
    if "[" in message and message.rstrip().endswith("]"):
        codes = [c.strip() for c in message[message.rindex("[") + 1:message.rstrip().rindex("]")].split(",")]
        if len(codes) == count:
            return codes
    return ["Unknown"] * count


def newer_sequencer(a: str, b: str) -> bool:
    """S3 sequencers order events for one key. As the S3 User Guide (event message structure)
    says: sequencers can be of different lengths; right-pad the shorter with zeros, then compare
    lexicographically (hex digits, case-insensitive)."""
    width = max(len(a), len(b))
    return a.upper().ljust(width, "0") > b.upper().ljust(width, "0")


def now() -> Decimal:
    return Decimal(str(round(time.time(), 3)))


class State:
    def __init__(self, table):
        self.table = table

    # -- files -----------------------------------------------------------------------------
    def track_file(self, date_prefix: str, key: str, bucket: str, size: int, etag: str, sequencer: str = "",
                   version_id: str = "") -> bool:
        """Record a landed file as pending; False when it was already tracked (see `seen_again`).
        Its ETag (and version, from a versioned bucket) is the content its manifest pins."""
        try:
            self.table.put_item(
                Item={**({"version_id": version_id} if version_id else {}),
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

    def seen_again(self, date_prefix: str, key: str, size: int, etag: str, sequencer: str = "",
                   version_id: str = "") -> str:
        """A notification for a key already tracked. The semantics of an overwritten key:

        - `duplicate`: the same content again (S3 and SQS deliver at least once);
        - `stale`: an older version's notification arriving after a newer one's (S3 sequencers);
        - `refreshed`: new content while the file is still pending: the item takes the new ETag
          (and version), which its manifest pins, so the new content is converted once and the
          replaced content is not converted;
        - `overwritten`: new content after the file went into a manifest. The manifest pins the
          first content (its ETag, or its version in a versioned bucket) and the converter reads
          exactly that: when it can no longer be read (an unversioned bucket overwritten before
          the read), the file is quarantined whole with the reason. The new content is not
          converted. The item records the overwrite, the builder alarms, and validation reports
          the key. Land corrections under a new key.
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
                        UpdateExpression="SET etag = :e, #sz = :s, #q = :q, refreshed_at = :t, version_id = :v",
                        ConditionExpression="#st = :p AND etag = :old",
                        ExpressionAttributeNames={"#sz": "size", "#q": "sequencer", "#st": "status"},
                        ExpressionAttributeValues={":e": etag, ":s": size, ":q": sequencer, ":t": now(),
                                                   ":p": "pending", ":old": item.get("etag", ""),
                                                   ":v": version_id},
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
        """Pending files of one date in key order (the index may lag; claims are conditional).

        With `limit`, one bounded read: at most `limit` items, however many are pending."""
        items: list[dict] = []
        kwargs = {"IndexName": PENDING_INDEX, "KeyConditionExpression": "pending_date = :d",
                  "ExpressionAttributeValues": {":d": date_prefix}}
        if limit is not None:
            kwargs["Limit"] = limit
        for resp in self._pages("query", **kwargs):
            items.extend(resp.get("Items", []))
            if limit is not None and len(items) >= limit:
                return items[:limit]
        return items

    def count_pending(self, date_prefix: str) -> int:
        """Every pending file of a date (reads them all: for tools and tests, never per batch)."""
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

    def claim_files(self, date_prefix: str, keys: list[str], manifest_id: str) -> tuple[list[str], bool]:
        """Move up to 99 pending files to this manifest in one transaction that also checks the
        manifest is still open and unsealed. Returns (keys claimed, manifest still open).

        A file someone else claimed meanwhile cancels the transaction; it is retried without the
        files whose condition failed. A sealed or missing manifest claims nothing more."""
        keys = list(keys)
        if len(keys) > MAX_CLAIMS_PER_TRANSACTION:
            raise ValueError(f"at most {MAX_CLAIMS_PER_TRANSACTION} claims per transaction")
        client, name, t = self.table.meta.client, self.table.name, now()
        conflicts = 0
        while keys:
            items = [{"ConditionCheck": {
                "TableName": name,
                "Key": {"date_prefix": date_prefix, "file_key": MANIFEST_PREFIX + manifest_id},
                "ConditionExpression": "#s = :c AND attribute_not_exists(sealed_at)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":c": CLAIMING},
            }}]
            items += [{"Update": {
                "TableName": name,
                "Key": {"date_prefix": date_prefix, "file_key": key},
                "UpdateExpression": "SET #s = :m, manifest_id = :mid, claimed_at = :t REMOVE pending_date",
                "ConditionExpression": "#s = :p",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":m": "manifested", ":p": "pending", ":mid": manifest_id, ":t": t},
            }} for key in keys]
            try:
                client.transact_write_items(TransactItems=items)
                return keys, True
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons, canceled = cancellation_reasons(exc, len(items)), exc
            if reasons[0] == "ConditionalCheckFailed":
                return [], False  # sealed by a recoverer, or gone: claim nothing more into it
            taken = {keys[i - 1] for i, code in enumerate(reasons) if i and code == "ConditionalCheckFailed"}
            if taken:
                keys = [k for k in keys if k not in taken]
                continue
            # TransactionConflict (another write on one of these items in flight), throttling, or
            # reasons we cannot read: try again a few times with backoff, then let the caller fail.
            conflicts += 1
            if conflicts > 5:
                raise canceled
            time.sleep(min(1.0, 0.05 * 2 ** conflicts))
        return [], True

    def claim(self, date_prefix: str, key: str, manifest_id: str) -> bool:
        """One file into an open manifest (see `claim_files`); False when it is not pending or
        the manifest is no longer open."""
        claimed, _ = self.claim_files(date_prefix, [key], manifest_id)
        return bool(claimed)

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

    # -- undated keys ------------------------------------------------------------------------
    def date_for_undated(self, key: str, event_date: str, etag: str, sequencer: str) -> str:
        """The date an undated key's notification is tracked under: the date its content was
        first tracked under when this is the same content (same ETag, no ETag, or an older
        sequencer: a redelivery or a stale event), else the event's date (a real re-upload of new
        content is a new file). Records the identity of new content."""
        ikey = {"date_prefix": KEY_PREFIX + key, "file_key": IDENTITY}
        for _ in range(3):
            item = self.table.get_item(Key=ikey, ConsistentRead=True).get("Item")
            if item:
                same = not etag or etag == item.get("etag") or not item.get("etag")
                older = sequencer and item.get("sequencer") and not newer_sequencer(sequencer, item["sequencer"])
                if same or older or item.get("date") == event_date:
                    return item["date"]
                cond, values = "etag = :old", {":old": item.get("etag", "")}
            else:
                cond, values = "attribute_not_exists(file_key)", {}
            try:
                self.table.put_item(
                    Item={**ikey, "record_type": "KEY", "key": key, "date": event_date, "etag": etag,
                          "sequencer": sequencer, "updated_at": now()},
                    ConditionExpression=cond, **({"ExpressionAttributeValues": values} if values else {}))
                return event_date
            except ClientError as exc:
                if not _conditional_failed(exc):
                    raise
        return event_date

    # -- manifests -------------------------------------------------------------------------
    def _mkey(self, date_prefix: str, manifest_id: str) -> dict:
        return {"date_prefix": date_prefix, "file_key": MANIFEST_PREFIX + manifest_id}

    def manifest(self, date_prefix: str, manifest_id: str) -> dict | None:
        return self.table.get_item(Key=self._mkey(date_prefix, manifest_id), ConsistentRead=True).get("Item")

    def open_manifest(self, date_prefix: str, manifest_id: str, manifest_key: str, owner: str = "") -> None:
        """Write the MANIFEST item before any file is claimed for it, so no claim is orphaned."""
        self.table.put_item(
            Item={
                **self._mkey(date_prefix, manifest_id),
                "record_type": "MANIFEST",
                "manifest_id": manifest_id,
                "manifest_key": manifest_key,
                "status": CLAIMING,
                "attempt": 1,
                "owner": owner,
                "open_flag": OPEN,
                "created_at": now(),
                "updated_at": now(),
            },
            ConditionExpression="attribute_not_exists(file_key)",
        )

    def seal(self, date_prefix: str, manifest_id: str, purpose: str) -> str | None:
        """Fix an open manifest's file set: no claim goes into it after this. The first sealer
        decides its fate (`submit` or `abandon`); the purpose that holds is returned, or None when
        the manifest is not open any more (gone, or already started)."""
        if purpose not in (SUBMIT, ABANDON):
            raise ValueError(purpose)
        try:
            self.table.update_item(
                Key=self._mkey(date_prefix, manifest_id),
                UpdateExpression="SET sealed_at = :t, seal = :p",
                ConditionExpression="#s = :c AND attribute_not_exists(sealed_at)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":t": now(), ":p": purpose, ":c": CLAIMING},
            )
            return purpose
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
        item = self.manifest(date_prefix, manifest_id)
        if not item or item.get("status") != CLAIMING:
            return None
        return item.get("seal")

    def drop_manifest(self, date_prefix: str, manifest_id: str) -> bool:
        """Delete a sealed manifest that never started (abandoned, or with no files)."""
        try:
            self.table.delete_item(
                Key=self._mkey(date_prefix, manifest_id),
                ConditionExpression="#s = :c AND attribute_exists(sealed_at)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":c": CLAIMING},
            )
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False

    def mark_started(self, date_prefix: str, manifest_id: str, execution_arn: str, file_count: int) -> bool:
        """open -> started. False (a no-op) when the manifest is no longer open: its execution
        already ended and recorded succeeded or failed, or another builder marked it first."""
        try:
            self.table.update_item(
                Key=self._mkey(date_prefix, manifest_id),
                UpdateExpression="SET #s = :s, execution_arn = :a, file_count = :n, updated_at = :t, "
                                 "open_flag = :watch",
                ConditionExpression="#s = :c AND seal = :submit",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": STARTED, ":a": execution_arn, ":n": file_count, ":t": now(),
                                           ":c": CLAIMING, ":submit": SUBMIT, ":watch": WATCH},
            )
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False

    def mark_failed_closed(self, date_prefix: str, manifest_id: str, attempt: int, reason: str) -> bool:
        """The execution of this attempt closed as failed without recording it (it was found
        closed on a restart): open or started -> failed, to be redriven."""
        try:
            self.table.update_item(
                Key=self._mkey(date_prefix, manifest_id),
                UpdateExpression="SET #s = :f, failure = :r, open_flag = :retry, finished_at = :t, updated_at = :t",
                ConditionExpression="(#s = :c OR #s = :st) AND (attribute_not_exists(attempt) OR attempt = :a)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":f": FAILED, ":r": reason, ":retry": RETRY, ":t": now(),
                                           ":c": CLAIMING, ":st": STARTED, ":a": attempt},
            )
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False

    def begin_redrive(self, date_prefix: str, manifest_id: str, attempt: int, by: str, last_failure: str = "") -> bool:
        """failed (at `attempt`) -> started at attempt + 1, recorded before its execution starts.
        Only one caller wins an attempt, so a manifest never has two reruns at once."""
        try:
            self.table.update_item(
                Key=self._mkey(date_prefix, manifest_id),
                UpdateExpression="SET #s = :st, attempt = :next, open_flag = :redrive, redriven_by = :by, "
                                 "redriven_at = :t, updated_at = :t, last_failure = :lf REMOVE failure",
                ConditionExpression="#s = :f AND " + ("(attribute_not_exists(attempt) OR attempt = :a)"
                                                      if attempt == 1 else "attempt = :a"),
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":st": STARTED, ":next": attempt + 1, ":redrive": REDRIVE, ":by": by,
                                           ":t": now(), ":f": FAILED, ":a": attempt, ":lf": last_failure},
            )
            return True
        except ClientError as exc:
            if _conditional_failed(exc):
                return False
            raise

    def redrive_started(self, date_prefix: str, manifest_id: str, attempt: int, execution_arn: str) -> None:
        """The redrive's execution is confirmed: the flush watches it as any started execution."""
        try:
            self.table.update_item(
                Key=self._mkey(date_prefix, manifest_id),
                UpdateExpression="SET execution_arn = :a, open_flag = :watch, updated_at = :t",
                ConditionExpression="attempt = :n AND open_flag = :redrive",
                ExpressionAttributeValues={":a": execution_arn, ":n": attempt, ":redrive": REDRIVE,
                                           ":watch": WATCH, ":t": now()},
            )
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise  # the execution already recorded its outcome (and removed the flag)

    def give_up(self, date_prefix: str, manifest_id: str, attempt: int) -> bool:
        """No attempts left: the manifest stays failed and leaves the flush's view (`sim redrive`
        is the manual path)."""
        try:
            self.table.update_item(
                Key=self._mkey(date_prefix, manifest_id),
                UpdateExpression="SET retries_exhausted_at = :t REMOVE open_flag",
                ConditionExpression="#s = :f AND attempt = :a AND open_flag = :retry",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":t": now(), ":f": FAILED, ":a": attempt, ":retry": RETRY},
            )
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False

    def flagged(self, flag: str) -> list[dict]:
        """MANIFEST items the flush must look at, by their `open_flag` (OPEN, REDRIVE, RETRY, STARTED)."""
        return [item for resp in self._pages("query", IndexName=OPEN_MANIFEST_INDEX,
                                             KeyConditionExpression="open_flag = :f",
                                             ExpressionAttributeValues={":f": flag})
                for item in resp.get("Items", [])]

    def open_manifests(self) -> list[dict]:
        return self.flagged(OPEN)

    def begin_conversion(self, date_prefix: str, manifest_id: str) -> bool:
        """A converter run about to write this manifest's output: False (write nothing) when the
        manifest already succeeded, so a late run (an orphan of a start that seemed to fail, a
        replayed execution) never replaces a complete output, or when it is gone."""
        try:
            self.table.update_item(
                Key=self._mkey(date_prefix, manifest_id),
                UpdateExpression="SET conversion_started_at = :t",
                ConditionExpression="attribute_exists(file_key) AND #s <> :done",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":t": now(), ":done": SUCCEEDED},
            )
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False

    def record_conversion(self, date_prefix: str, manifest_id: str, record_count: int, output_key: str,
                          quarantined: int = 0, quarantined_files: int = 0) -> bool:
        """The converter writes back how many records it produced, where, and how many lines and
        whole files it quarantined; False (nothing written) when the manifest succeeded meanwhile."""
        try:
            self.table.update_item(
                Key={"date_prefix": date_prefix, "file_key": MANIFEST_PREFIX + manifest_id},
                UpdateExpression="SET record_count = :n, output_key = :o, quarantined = :q, "
                                 "quarantined_files = :f, converted_at = :t, updated_at = :t",
                ConditionExpression="attribute_exists(file_key) AND #s <> :done",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":n": record_count, ":o": output_key, ":q": quarantined,
                                           ":f": quarantined_files, ":t": now(), ":done": SUCCEEDED},
            )
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False

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
