"""The builder's DynamoDB state: one item per landed file, one MANIFEST item per manifest.

Table keys: `date_prefix` (partition), `file_key` (sort).
- File item: status `pending` -> `manifested` (with `manifest_id`). While pending it carries
  `pending_date`, the key of the sparse `pending-index` (files in key order) and of the sparse
  `pending-age-index` (files by `tracked_at`), so a date's pending files and its oldest one are
  found without a scan.
- DATE item (`date_prefix` = `DATES`, `file_key` = `<date>`): the registry of dates that may have
  pending files, so the flush reads O(dates) items, never the pending files themselves. It is
  touched (`touched_at`) before any file of its date becomes pending (`track_file`, `release`), and
  removed only when the date has no pending file and nobody touched it for a margin longer than an
  invocation (`pending_dates`). It may list a date with nothing pending (a crash between touch and
  put, a duplicate notification), never miss one that has a pending file. Anything that makes a
  file pending must touch its date first.
- MANIFEST item (`file_key` = `MANIFEST#<id>`): status `claiming` (open) -> `started` ->
  `succeeded` | `failed`, and `failed` -> `started` only by a redrive that records its `attempt`
  (1 for the first execution). Every transition is a conditional write, so a late or repeated
  writer cannot move a status backwards. While open it is claimed into until someone seals it
  (`sealed_at`, `seal` = `submit` or `abandon`): claims check in the same transaction that it is
  still open and unsealed, so after the seal its file set is fixed. The same transaction adds the
  claimed keys to the item's `claimed_keys` set, so its files are read by key (`files_of_manifest`),
  not by reading its date.
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
PENDING_AGE_INDEX = "pending-age-index"
DATES = "DATES"  # the partition of DATE items
# A State re-touches a date at most this often while tracking into it; removing a DATE item needs
# it untouched for longer than this plus the longest write (see `pending_dates`).
TOUCH_EVERY_S = 10.0
# The least idle time after which an empty date leaves the registry (see `pending_dates`).
MIN_IDLE_MARGIN_S = 3 * TOUCH_EVERY_S
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
# TransactWriteItems takes 100 actions: one conditional update of the MANIFEST item and 99 claims.
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
        self._touched: dict[str, float] = {}  # date -> monotonic time this State last touched it

    # -- dates with pending files --------------------------------------------------------------
    def touch_date(self, date_prefix: str) -> None:
        """Register a date before a file of it becomes pending (at most every TOUCH_EVERY_S per State)."""
        last = self._touched.get(date_prefix)
        if last is not None and time.monotonic() - last < TOUCH_EVERY_S:
            return
        started = time.monotonic()
        self.table.update_item(
            Key={"date_prefix": DATES, "file_key": date_prefix},
            UpdateExpression="SET record_type = :r, touched_at = :t ADD touches :one",
            ExpressionAttributeValues={":r": "DATE", ":t": now(), ":one": 1},
        )
        self._touched[date_prefix] = started

    def registered_dates(self) -> list[dict]:
        """The DATE items: one per date that may have pending files (one consistent query)."""
        return [item for resp in self._pages("query", KeyConditionExpression="date_prefix = :d",
                                             ExpressionAttributeValues={":d": DATES}, ConsistentRead=True)
                for item in resp.get("Items", [])]

    def oldest_pending(self, date_prefix: str) -> Decimal | None:
        """When the date's oldest pending file was tracked (one item read), or None when none is.
        The index may lag: a file claimed a moment ago can still show, which only makes the date
        look older (a partial batch built sooner), never younger."""
        resp = self.table.query(IndexName=PENDING_AGE_INDEX, KeyConditionExpression="pending_date = :d",
                                ExpressionAttributeValues={":d": date_prefix}, Limit=1, ScanIndexForward=True)
        items = resp.get("Items", [])
        return items[0]["tracked_at"] if items else None

    # -- files -----------------------------------------------------------------------------
    def track_file(self, date_prefix: str, key: str, bucket: str, size: int, etag: str, sequencer: str = "",
                   version_id: str = "") -> bool:
        """Record a landed file as pending; False when it was already tracked (see `seen_again`).
        Its ETag (and version, from a versioned bucket) is the content its manifest pins. Its date
        is registered first, so a crash in between lists a date, never loses one."""
        self.touch_date(date_prefix)
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

    def count_pending(self, date_prefix: str, most: int | None = None) -> int:
        """Pending files of a date. With `most`, one bounded read that stops counting there (what
        a flush reports); without it every pending file is read (tools and tests only)."""
        kwargs = {"IndexName": PENDING_INDEX, "KeyConditionExpression": "pending_date = :d",
                  "ExpressionAttributeValues": {":d": date_prefix}, "Select": "COUNT"}
        if most is not None:
            kwargs["Limit"] = most
        count = 0
        for resp in self._pages("query", **kwargs):
            count += resp.get("Count", 0)
            if most is not None and count >= most:
                return most
        return count

    def pending_dates(self, idle_margin_s: float | None = None) -> dict[str, Decimal | None]:
        """Dates with pending files, with the oldest pending file's tracking time (None when the
        pending files carry none): see `each_pending_date`."""
        return dict(self.each_pending_date(idle_margin_s))

    def each_pending_date(self, idle_margin_s: float | None = None):
        """(date, oldest pending file's tracking time) in date order, each read as the caller gets
        to it: the DATE registry, then one item per date (O(dates), never the pending files).

        With `idle_margin_s`, a registered date with no pending file whose DATE item nobody
        touched for that long is removed (conditionally: a touch meanwhile keeps it). The margin
        must exceed TOUCH_EVERY_S plus the longest a write can take plus the index's lag, so any
        file whose touch is older than it is visible to the read that found the date empty; it is
        never less than MIN_IDLE_MARGIN_S."""
        if idle_margin_s is not None:
            idle_margin_s = max(idle_margin_s, MIN_IDLE_MARGIN_S)
        for item in self.registered_dates():
            date_prefix = item["file_key"]
            looked = time.time()
            t = self.oldest_pending(date_prefix)
            if t is None and not self.pending_files(date_prefix, limit=1):
                if idle_margin_s is not None:
                    self._forget_date(date_prefix, Decimal(str(round(looked - idle_margin_s, 3))))
                continue
            yield date_prefix, t

    def _forget_date(self, date_prefix: str, touched_before: Decimal) -> bool:
        self._touched.pop(date_prefix, None)
        try:
            self.table.delete_item(Key={"date_prefix": DATES, "file_key": date_prefix},
                                   ConditionExpression="touched_at < :b",
                                   ExpressionAttributeValues={":b": touched_before})
            return True
        except ClientError as exc:
            if not _conditional_failed(exc):
                raise
            return False

    def claim_files(self, date_prefix: str, keys: list[str], manifest_id: str) -> tuple[list[str], bool]:
        """Move up to 99 pending files to this manifest in one transaction that also checks the
        manifest is still open and unsealed and adds the keys to its `claimed_keys`. Returns (keys
        claimed, manifest still open).

        A file someone else claimed meanwhile cancels the transaction; it is retried without the
        files whose condition failed. A sealed or missing manifest claims nothing more."""
        keys = list(keys)
        if len(keys) > MAX_CLAIMS_PER_TRANSACTION:
            raise ValueError(f"at most {MAX_CLAIMS_PER_TRANSACTION} claims per transaction")
        client, name, t = self.table.meta.client, self.table.name, now()
        conflicts = 0
        while keys:
            items = [{"Update": {
                "TableName": name,
                "Key": {"date_prefix": date_prefix, "file_key": MANIFEST_PREFIX + manifest_id},
                "UpdateExpression": "ADD claimed_keys :ks",
                "ConditionExpression": "#s = :c AND attribute_not_exists(sealed_at)",
                "ExpressionAttributeNames": {"#s": "status"},
                "ExpressionAttributeValues": {":c": CLAIMING, ":ks": set(keys)},
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
        """Give a claimed file back to pending (only if this manifest still holds it); its date is
        registered first."""
        self.touch_date(date_prefix)
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
        """The file items a manifest holds: its item's `claimed_keys`, read by key (at most one
        manifest's worth, whatever else the date holds). Keys given back by an abandon are left out.
        A manifest written before claims were listed (no `claims_listed`) is found by reading its date."""
        item = self.manifest(date_prefix, manifest_id)
        if item is None:
            return []
        if not item.get("claims_listed"):
            return self._files_of_manifest_by_date(date_prefix, manifest_id)
        keys = sorted(item.get("claimed_keys") or ())
        client, name, found = self.table.meta.client, self.table.name, []  # the resource's client: plain values
        for i in range(0, len(keys), 100):
            want = [{"date_prefix": date_prefix, "file_key": k} for k in keys[i:i + 100]]
            tries = 0
            while want:
                resp = client.batch_get_item(RequestItems={name: {"Keys": want, "ConsistentRead": True}})
                found += resp.get("Responses", {}).get(name, [])
                want = resp.get("UnprocessedKeys", {}).get(name, {}).get("Keys", [])
                tries += 1
                if want:
                    time.sleep(min(1.0, 0.05 * 2 ** tries))
        return sorted((f for f in found if f.get("record_type") == "FILE" and f.get("manifest_id") == manifest_id),
                      key=lambda f: f["file_key"])

    def _files_of_manifest_by_date(self, date_prefix: str, manifest_id: str) -> list[dict]:
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
                "claims_listed": True,
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
        return list(self.each_flagged(flag))

    def each_flagged(self, flag: str, date_prefix: str | None = None, page: int = 25):
        """The same, a page of `page` items at a time, read only as far as the caller iterates (a
        caller out of time stops reading). With `date_prefix`, that date's manifests only (their
        ids start with the date)."""
        condition, values = "open_flag = :f", {":f": flag}
        if date_prefix is not None:
            condition += " AND begins_with(file_key, :m)"
            values[":m"] = f"{MANIFEST_PREFIX}{date_prefix}-"
        for resp in self._pages("query", IndexName=OPEN_MANIFEST_INDEX, KeyConditionExpression=condition,
                                ExpressionAttributeValues=values, Limit=page):
            yield from resp.get("Items", [])

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
