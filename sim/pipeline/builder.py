"""The manifest builder Lambda.

Triggered by the SQS queue that receives the landing bucket's S3 notifications (batch size 10,
ReportBatchItemFailures), and by a schedule that flushes partial batches older than
FLUSH_MAX_WAIT_SECONDS. `{"action": "flush"}` flushes every pending file at once.

Order of writes (so that a crash at any point leaves state a retry or the flush can finish):
1. track each file with a conditional put (a redelivered file is skipped);
2. under a per-date lease, for each batch: write the MANIFEST item (status `claiming`) first,
   then claim files with conditional updates, then write the manifest object to S3, then start
   the workflow named after the manifest, then mark the MANIFEST item `started` with its ARN.
A builder that dies after step 2 began leaves an open MANIFEST item; the flush finishes it with
the same execution name, which Step Functions deduplicates.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

from . import faultpoints, manifests, metrics, telemetry
from .events import NotAnS3Event, is_landing_key, parse_body
from .logs import get_logger, kv
from .state import State

log = get_logger("manifest_builder")


@dataclass
class Settings:
    table: str
    manifest_bucket: str
    state_machine_arn: str
    batch_size: int = 200
    flush_max_wait_s: float = 3600.0
    lease_s: float = 120.0
    open_manifest_grace_s: float = 120.0

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            table=os.environ["TABLE_NAME"],
            manifest_bucket=os.environ["MANIFEST_BUCKET"],
            state_machine_arn=os.environ["STATE_MACHINE_ARN"],
            batch_size=int(os.environ.get("MANIFEST_BATCH_SIZE", "200")),
            flush_max_wait_s=float(os.environ.get("FLUSH_MAX_WAIT_SECONDS", "3600")),
            lease_s=float(os.environ.get("LOCK_LEASE_SECONDS", "120")),
            # A builder cannot outlive its lease (twice the function timeout), so a manifest left
            # `claiming` for longer than that belongs to a builder that died.
            open_manifest_grace_s=float(
                os.environ.get("OPEN_MANIFEST_GRACE_SECONDS", os.environ.get("LOCK_LEASE_SECONDS", "120"))
            ),
        )


class Builder:
    def __init__(self, settings: Settings, dynamodb=None, s3=None, sfn=None, deadline: float | None = None):
        self.settings = settings
        # monotonic time after which no new manifest is started (the function's timeout nears)
        self.deadline = deadline
        dynamodb = dynamodb or boto3.resource("dynamodb")
        self.state = State(dynamodb.Table(settings.table))
        self.s3 = s3 or boto3.client("s3")
        self.sfn = sfn or boto3.client("stepfunctions")
        self.owner = uuid.uuid4().hex
        # dates whose lease another builder held when this one wanted it (reported by the flush)
        self.lease_busy: set[str] = set()
        if faultpoints.active():
            faultpoints.install(self.s3, self.sfn, self.state.table.meta.client)

    # -- SQS batch -------------------------------------------------------------------------
    def handle_sqs(self, records: list[dict]) -> dict:
        failures: list[dict] = []
        touched: set[str] = set()
        tracked = duplicates = ignored = tests = 0
        seen = {"stale": 0, "refreshed": 0, "overwritten": 0}
        for record in records:
            message_id = record.get("messageId", "")
            try:
                files = parse_body(record.get("body", ""))
                if files is None:
                    tests += 1
                    continue
                for f in files:
                    if not is_landing_key(f.key):
                        ignored += 1
                        log.warning(kv("ignored_not_landing_key", key=f.key, bucket=f.bucket))
                        continue
                    if self.state.track_file(f.date_prefix, f.key, f.bucket, f.size, f.etag, f.sequencer):
                        tracked += 1
                        log.debug(kv("tracked", key=f.key, date=f.date_prefix, size=f.size))
                        touched.add(f.date_prefix)
                        continue
                    outcome = self.state.seen_again(f.date_prefix, f.key, f.size, f.etag, f.sequencer)
                    if outcome == "duplicate":
                        duplicates += 1
                        log.info(kv("already_tracked_skipped", key=f.key, date=f.date_prefix))
                    elif outcome == "overwritten":
                        seen[outcome] += 1
                        log.warning(kv("overwritten_after_manifest_not_converted", key=f.key, date=f.date_prefix,
                                       size=f.size))
                    else:
                        seen[outcome] += 1
                        log.info(kv(f"{outcome}_notification", key=f.key, date=f.date_prefix))
                    touched.add(f.date_prefix)
            except NotAnS3Event as exc:
                log.error(kv("not_an_s3_event", message_id=message_id, reason=str(exc)))
                failures.append({"itemIdentifier": message_id})
            except ClientError as exc:
                log.error(kv("track_failed", message_id=message_id, error=exc.response["Error"]["Code"]))
                failures.append({"itemIdentifier": message_id})
        log.info(
            kv("batch", records=len(records), tracked=tracked, duplicates=duplicates,
               ignored=ignored, test_events=tests, failed=len(failures), **seen)
        )
        if seen["overwritten"]:
            metrics.emit({"OverwrittenFiles": seen["overwritten"]})
        faultpoints.reach("after_track")
        for date_prefix in sorted(touched):
            self.build_ready(date_prefix, flush=False)
        return {"batchItemFailures": failures}

    # -- manifests -------------------------------------------------------------------------
    def build_ready(self, date_prefix: str, flush: bool) -> list[str]:
        """Build every manifest a date is ready for; partial batches only when flushing."""
        built: list[str] = []
        while manifests.should_build(self.state.count_pending(date_prefix), self.settings.batch_size, flush):
            if not self.state.acquire_lock(date_prefix, self.owner, self.settings.lease_s):
                log.debug(kv("lock_busy", date=date_prefix))
                self.lease_busy.add(date_prefix)
                return built  # the holder re-checks the count after it lets go
            before = len(built)
            try:
                self.recover_open_manifests(date_prefix)
                while True:
                    if self.deadline is not None and time.monotonic() > self.deadline:
                        log.info(kv("deadline_stop", date=date_prefix, built=len(built)))
                        return built  # the next invocation or the scheduled flush goes on
                    mid = self._build_one(date_prefix, flush)
                    if mid is None:
                        break
                    built.append(mid)
            finally:
                self.state.release_lock(date_prefix, self.owner)
            # Files tracked by builders that found the lease taken are counted again now; stop
            # when this round made nothing (a lagging index) or when flushing (done in one go).
            if flush or len(built) == before:
                break
        return built

    def _build_one(self, date_prefix: str, flush: bool) -> str | None:
        size = self.settings.batch_size
        pending = self.state.pending_files(date_prefix, limit=size)
        batch_keys = set(manifests.next_batch([p["file_key"] for p in pending], size, flush))
        if not batch_keys:
            return None
        candidates = [p for p in pending if p["file_key"] in batch_keys]
        mid = manifests.new_manifest_id(date_prefix)
        mkey = manifests.manifest_key(date_prefix, mid)
        self.state.open_manifest(date_prefix, mid, mkey)
        faultpoints.reach("after_manifest_record")
        claimed = []
        for i, p in enumerate(candidates):
            if i == len(candidates) // 2:
                faultpoints.reach("mid_claims")
            if self.state.claim(date_prefix, p["file_key"], mid):
                claimed.append(p)
        faultpoints.reach("after_claims")
        if not claimed or (len(claimed) < size and not flush):
            for p in claimed:
                self.state.release(date_prefix, p["file_key"], mid)
            self.state.drop_manifest(date_prefix, mid)
            log.info(kv("manifest_abandoned", manifest_id=mid, date=date_prefix, claimed=len(claimed), wanted=size))
            return None
        self._submit(date_prefix, mid, mkey, claimed)
        return mid

    def _submit(self, date_prefix: str, mid: str, mkey: str, files: list[dict]) -> None:
        """Write the manifest object, start its workflow, and mark the MANIFEST item started."""
        body = manifests.manifest_document(mid, date_prefix, files)
        self.s3.put_object(Bucket=self.settings.manifest_bucket, Key=mkey, Body=body, ContentType="application/json")
        faultpoints.reach("after_manifest_object")
        arn = self._start_workflow(date_prefix, mid, mkey, len(files))
        faultpoints.reach("after_start_workflow")
        self.state.mark_started(date_prefix, mid, arn, len(files))
        faultpoints.reach("after_mark_started")
        log.info(kv("manifest_started", manifest_id=mid, date=date_prefix, files=len(files), execution_arn=arn))

    def _start_workflow(self, date_prefix: str, mid: str, mkey: str, file_count: int) -> str:
        payload = json.dumps(
            {"manifest_id": mid, "manifest_key": mkey, "date_prefix": date_prefix, "file_count": file_count},
            sort_keys=True,
        )
        try:
            resp = self.sfn.start_execution(stateMachineArn=self.settings.state_machine_arn, name=mid, input=payload)
            return resp["executionArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                log.info(kv("execution_already_exists", manifest_id=mid))
                return manifests.execution_arn(self.settings.state_machine_arn, mid)
            raise

    # -- flush and recovery ----------------------------------------------------------------
    def flush(self, max_wait_s: float) -> dict:
        """Finish manifests a crashed builder left open, then turn old pending files into manifests."""
        recovered = self.recover_open_manifests()
        built: list[str] = []
        cutoff = Decimal(str(time.time() - max_wait_s))
        for date_prefix, oldest in sorted(self.state.pending_dates().items()):
            # Full batches are always built; a partial one only once its oldest file waited long enough.
            built.extend(self.build_ready(date_prefix, flush=oldest <= cutoff))
        leases_held = self._leases_held()
        log.info(kv("flush", max_wait_s=max_wait_s, manifests=len(built), recovered=len(recovered),
                    leases_held=len(leases_held)))
        return {"manifests": built, "recovered": recovered, "leases_held": leases_held}

    def _leases_held(self) -> list[dict]:
        """Dates this flush could not build because another builder held their lease: how many
        files wait there and when that lease runs out (None: released since), so a caller can
        say when to retry."""
        held = []
        for date_prefix in sorted(self.lease_busy):
            expires = self.state.lease_expiry(date_prefix)
            held.append({"date_prefix": date_prefix, "pending": self.state.count_pending(date_prefix),
                         "expires_at": None if expires is None else float(expires)})
        return held

    def recover_open_manifests(self, only_date: str | None = None) -> list[str]:
        """Finish manifests whose builder died between opening them and starting their workflow."""
        cutoff = Decimal(str(time.time() - self.settings.open_manifest_grace_s))
        recovered = []
        for item in self.state.open_manifests():
            if item.get("created_at", cutoff) > cutoff or (only_date and item["date_prefix"] != only_date):
                continue  # a live builder may still be working on it
            date_prefix, mid = item["date_prefix"], item["manifest_id"]
            files = self.state.files_of_manifest(date_prefix, mid)
            if not files:
                self.state.drop_manifest(date_prefix, mid)
                log.info(kv("open_manifest_dropped", manifest_id=mid, reason="no_claimed_files"))
                continue
            self._submit(date_prefix, mid, item["manifest_key"], files)
            log.warning(kv("open_manifest_recovered", manifest_id=mid, date=date_prefix, files=len(files)))
            recovered.append(mid)
        return recovered


def handler(event, context=None):
    """Lambda entry point: an SQS batch, or a flush request (scheduled or by hand)."""
    if not isinstance(event, dict):
        raise ValueError("unsupported event: expected SQS records or {'action': 'flush'}")
    deadline = _deadline(context)
    faultpoints.on_invocation()
    if "Records" in event:
        with telemetry.invocation("builder", kind="sqs", records=len(event["Records"])):
            return Builder(Settings.from_env(), deadline=deadline).handle_sqs(event["Records"])
    if event.get("action") == "flush" or event.get("source") == "aws.events":
        with telemetry.invocation("builder", kind="flush"):
            builder = Builder(Settings.from_env(), deadline=deadline)
            max_wait = event.get("max_wait_seconds")
            return builder.flush(builder.settings.flush_max_wait_s if max_wait is None else float(max_wait))
    raise ValueError("unsupported event: expected SQS records or {'action': 'flush'}")


def _deadline(context) -> float | None:
    """Stop starting manifests with a safety margin before the function times out."""
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    if remaining_ms is None:
        return None
    remaining = remaining_ms() / 1000.0
    return time.monotonic() + remaining - max(10.0, 0.25 * remaining)
