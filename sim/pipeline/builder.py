"""The manifest builder Lambda.

Triggered by the SQS queue that receives the landing bucket's S3 notifications (batch size 10,
ReportBatchItemFailures), and by a schedule that flushes partial batches older than
FLUSH_MAX_WAIT_SECONDS. `{"action": "flush"}` flushes every pending file at once.

Order of writes (so that a crash at any point leaves state a retry or the flush can finish):
1. track each file with a conditional put (a redelivered file is skipped);
2. under a per-date lease, for each batch: write the MANIFEST item (status `claiming`) first,
   then claim files in transactions of up to 99 that also check the manifest is still open,
   then seal it (its file set is fixed), write the manifest object to S3, start the workflow
   named after the manifest, and mark the MANIFEST item `started` (a no-op when the execution
   already recorded its outcome).
A builder that dies after step 2 began leaves an open MANIFEST item; the flush seals it and
finishes it with the same execution name, which Step Functions deduplicates.

Work per invocation is bounded whatever the backlog: a batch reads at most one manifest's worth
of pending files, claims go 99 to a round trip, and the deadline (the function's timeout less a
margin) is checked before each manifest and between claim groups; out of time, the builder
submits what it has claimed and leaves the rest pending for the next invocation or the flush.
The flush reads the registry of dates with pending files and one item per date, never the
backlog, and its recovery stops at half the time it has.

The flush also retries: a failed manifest is redriven (`<id>--redrive-<attempt>`) until
MANIFEST_MAX_ATTEMPTS attempts have run; then it stays failed for a person (`sim redrive`).
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

from . import cloudwatch, manifests, telemetry
from .events import NotAnS3Event, is_landing_key, parse_body
from .logs import get_logger, kv
from .state import ABANDON, CLAIMING, FAILED, MAX_CLAIMS_PER_TRANSACTION, OPEN, REDRIVE, RETRY, STARTED, SUBMIT, WATCH, State

log = get_logger("manifest_builder")


_CLOSED_FAILED = {"FAILED", "TIMED_OUT", "ABORTED"}


class ExecutionClosedFailed(Exception):
    """StartExecution found this attempt's execution already closed, and not as SUCCEEDED."""

    def __init__(self, status: str, stopped_at: float | None = None):
        super().__init__(status)
        self.status = status
        self.stopped_at = stopped_at  # epoch seconds the execution closed, when known


@dataclass
class BuilderSettings:
    table: str
    manifest_bucket: str
    state_machine_arn: str
    batch_size: int = 200
    flush_max_wait_s: float = 3600.0
    lease_s: float = 120.0
    open_manifest_grace_s: float = 120.0
    max_attempts: int = 3
    claim_group: int = MAX_CLAIMS_PER_TRANSACTION
    # How long a converter run can go on (its timeout): an execution that closed without
    # recording its outcome (stopped by hand, its Mark step failed) may have left a run going, so
    # it is redriven only this long after it closed, when no run of it can still be writing.
    converter_run_limit_s: float = 0.0

    @classmethod
    def from_env(cls) -> "BuilderSettings":
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
            max_attempts=int(os.environ.get("MANIFEST_MAX_ATTEMPTS", "3")),
            converter_run_limit_s=float(os.environ.get("CONVERTER_RUN_LIMIT_SECONDS", "0")),
        )

class Builder:
    def __init__(self, settings: BuilderSettings, dynamodb=None, s3=None, sfn=None, deadline: float | None = None):
        self.settings = settings
        # monotonic time after which no new manifest is started and claiming stops (the
        # function's timeout nears)
        self.deadline = deadline
        self.clock = time.monotonic  # what the deadline is measured on
        dynamodb = dynamodb or boto3.resource("dynamodb")
        self.state = State(dynamodb.Table(settings.table))
        self.s3 = s3 or boto3.client("s3")
        self.sfn = sfn or boto3.client("stepfunctions")
        self.owner = uuid.uuid4().hex
        self.recovered: list[str] = []  # open manifests this builder finished for a dead one
        # dates whose lease another builder held when this one wanted it (reported by the flush)
        self.lease_busy: set[str] = set()

    def _out_of_time(self) -> bool:
        return self.deadline is not None and self.clock() > self.deadline

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
                    date_prefix = f.date_prefix
                    if not f.dated:
                        date_prefix = self.state.date_for_undated(f.key, date_prefix, f.etag, f.sequencer)
                    if self.state.track_file(date_prefix, f.key, f.bucket, f.size, f.etag, f.sequencer,
                                             version_id=f.version_id):
                        tracked += 1
                        log.debug(kv("tracked", key=f.key, date=date_prefix, size=f.size))
                        touched.add(date_prefix)
                        continue
                    outcome = self.state.seen_again(date_prefix, f.key, f.size, f.etag, f.sequencer,
                                                    version_id=f.version_id)
                    if outcome == "duplicate":
                        duplicates += 1
                        log.info(kv("already_tracked_skipped", key=f.key, date=date_prefix))
                    elif outcome == "overwritten":
                        seen[outcome] += 1
                        log.warning(kv("overwritten_after_manifest_not_converted", key=f.key, date=date_prefix,
                                       size=f.size))
                    else:
                        seen[outcome] += 1
                        log.info(kv(f"{outcome}_notification", key=f.key, date=date_prefix))
                    touched.add(date_prefix)
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
            cloudwatch.emit({"OverwrittenFiles": seen["overwritten"]})
        for date_prefix in sorted(touched):
            self.build_ready(date_prefix, flush=False)
        return {"batchItemFailures": failures}

    # -- manifests -------------------------------------------------------------------------
    def build_ready(self, date_prefix: str, flush: bool) -> list[str]:
        """Build every manifest a date is ready for; partial batches only when flushing.

        Whether a batch is ready is read from one query of at most `batch_size` pending files,
        never a count of the whole pending set."""
        built: list[str] = []
        size = self.settings.batch_size
        while True:
            pending = self.state.pending_files(date_prefix, limit=size)
            if not manifests.should_build(len(pending), size, flush):
                return built
            if self._out_of_time():
                log.info(kv("deadline_stop", date=date_prefix, built=len(built)))
                return built  # the next invocation or the scheduled flush goes on
            if not self.state.acquire_lock(date_prefix, self.owner, self.settings.lease_s):
                log.debug(kv("lock_busy", date=date_prefix))
                self.lease_busy.add(date_prefix)
                return built  # the holder reads the pending files again after it lets go
            before = len(built)
            try:
                self.recover_open_manifests(date_prefix)
                while True:
                    if self._out_of_time():
                        log.info(kv("deadline_stop", date=date_prefix, built=len(built)))
                        return built
                    mid = self._build_one(date_prefix, flush, pending)
                    pending = None
                    if mid is None:
                        break
                    built.append(mid)
            finally:
                self.state.release_lock(date_prefix, self.owner)
            # Files tracked by builders that found the lease taken are read again now; stop when
            # this round made nothing (a lagging index) or when flushing (done in one go).
            if flush or len(built) == before:
                return built

    def _build_one(self, date_prefix: str, flush: bool, pending: list[dict] | None = None) -> str | None:
        size = self.settings.batch_size
        if pending is None:
            pending = self.state.pending_files(date_prefix, limit=size)
        batch_keys = set(manifests.next_batch([p["file_key"] for p in pending], size, flush))
        if not batch_keys:
            return None
        candidates = sorted((p for p in pending if p["file_key"] in batch_keys), key=lambda p: p["file_key"])
        mid = manifests.new_manifest_id(date_prefix)
        mkey = manifests.manifest_key(date_prefix, mid)
        self.state.open_manifest(date_prefix, mid, mkey, owner=self.owner)
        claimed: list[dict] = []
        still_open, out_of_time = True, False
        groups = manifests.claim_groups(len(candidates), min(self.settings.claim_group, MAX_CLAIMS_PER_TRANSACTION))
        for i, (start, end) in enumerate(groups):
            if i and self._out_of_time():
                out_of_time = True  # between groups, never inside one: submit what is claimed
                break
            chunk = {p["file_key"]: p for p in candidates[start:end]}
            got, still_open = self.state.claim_files(date_prefix, list(chunk), mid)
            claimed += [chunk[k] for k in got]
            if not still_open:
                break
        if not still_open:
            # A recoverer sealed it (this builder outlived its lease): it finishes the manifest.
            log.warning(kv("manifest_sealed_by_another", manifest_id=mid, date=date_prefix, claimed=len(claimed)))
            return None
        if out_of_time:
            log.info(kv("deadline_partial_manifest", manifest_id=mid, date=date_prefix, claimed=len(claimed),
                        wanted=len(candidates)))
        purpose = SUBMIT if claimed and (out_of_time or flush or len(claimed) >= size) else ABANDON
        decided = self.state.seal(date_prefix, mid, purpose)
        if decided == ABANDON:
            self._abandon(date_prefix, mid, claimed, wanted=size)
            return None
        if decided != SUBMIT:
            log.warning(kv("manifest_taken_over", manifest_id=mid, date=date_prefix))
            return None
        if purpose != SUBMIT:  # sealed for submission by a recoverer first: it goes on as such
            claimed = self.state.files_of_manifest(date_prefix, mid)
        self._submit(date_prefix, mid, mkey, claimed)
        return mid

    def _abandon(self, date_prefix: str, mid: str, claimed: list[dict], wanted: int) -> None:
        """Give a sealed-for-abandon manifest's files back to pending, then delete it."""
        for p in claimed:
            self.state.release(date_prefix, p["file_key"], mid)
        self.state.drop_manifest(date_prefix, mid)
        log.info(kv("manifest_abandoned", manifest_id=mid, date=date_prefix, claimed=len(claimed), wanted=wanted))

    def _submit(self, date_prefix: str, mid: str, mkey: str, files: list[dict], attempt: int = 1) -> None:
        """Write the manifest object, start its workflow, and mark the MANIFEST item started."""
        body = manifests.manifest_document(mid, date_prefix, files)
        self.s3.put_object(Bucket=self.settings.manifest_bucket, Key=mkey, Body=body, ContentType="application/json")
        try:
            arn = self._start_workflow(date_prefix, mid, mkey, len(files), attempt)
        except ExecutionClosedFailed as closed:
            self._closed_failed(date_prefix, mid, attempt, closed)
            return
        if self.state.mark_started(date_prefix, mid, arn, len(files)):
            log.info(kv("manifest_started", manifest_id=mid, date=date_prefix, files=len(files), execution_arn=arn))
            return
        item = self.state.manifest(date_prefix, mid) or {}
        log.info(kv("mark_started_skipped", manifest_id=mid, date=date_prefix, status=item.get("status", "gone"),
                    reason="the manifest is no longer open"))

    def _run_may_be_going(self, stopped_at: float | None) -> bool:
        """An execution closed at `stopped_at` may have left a converter run going (stopped by
        hand, it does not stop the run) until the converter's run limit has passed."""
        return stopped_at is not None and time.time() < stopped_at + self.settings.converter_run_limit_s

    def _closed_failed(self, date_prefix: str, mid: str, attempt: int, closed: ExecutionClosedFailed) -> None:
        """Record the attempt failed (to be redriven), once no run it started can still be going;
        until then the manifest keeps its flag and a later flush comes back to it."""
        if self._run_may_be_going(closed.stopped_at):
            log.info(kv("execution_closed_failed_waiting_out_run", manifest_id=mid, attempt=attempt,
                        status=closed.status,
                        until=round(closed.stopped_at + self.settings.converter_run_limit_s, 3)))
            return
        recorded = self.state.mark_failed_closed(date_prefix, mid, attempt,
                                                 f"execution found closed as {closed.status}")
        log.warning(kv("execution_closed_failed", manifest_id=mid, attempt=attempt, status=closed.status,
                       recorded=recorded))

    def _start_workflow(self, date_prefix: str, mid: str, mkey: str, file_count: int, attempt: int = 1) -> str:
        payload = json.dumps(
            {"manifest_id": mid, "manifest_key": mkey, "date_prefix": date_prefix, "file_count": file_count,
             "attempt": attempt},
            sort_keys=True,
        )
        name = manifests.execution_name(mid, attempt)
        try:
            resp = self.sfn.start_execution(stateMachineArn=self.settings.state_machine_arn, name=name, input=payload)
            return resp["executionArn"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
        # It exists: running or succeeded is done; closed otherwise, this attempt failed.
        arn = manifests.execution_arn(self.settings.state_machine_arn, name)
        execution = self.sfn.describe_execution(executionArn=arn)
        status = execution["status"]
        log.info(kv("execution_already_exists", manifest_id=mid, execution=name, status=status))
        if status in _CLOSED_FAILED:
            stopped = execution.get("stopDate")
            raise ExecutionClosedFailed(status, stopped.timestamp() if stopped is not None else None)
        return arn

    # -- flush and recovery ----------------------------------------------------------------
    def flush(self, max_wait_s: float) -> dict:
        """Finish manifests a crashed builder left open, confirm or redo redrives, record
        executions that closed without recording their outcome, redrive failed manifests with
        attempts left, then turn old pending files into manifests.

        What it reads does not grow with the backlog: the DATE registry and one item per date
        (`pending_dates`), then per manifest built at most one manifest's worth of pending files.
        Recovery may use half the time left before the deadline, so a flush always gets to build."""
        recovery_deadline = self._share_of_time_left(0.5)
        self.recover_open_manifests(until=recovery_deadline)
        confirmed = self.recover_redrives(until=recovery_deadline)
        self.recover_unrecorded(until=recovery_deadline)
        redriven = self.retry_failed(until=recovery_deadline)
        built: list[str] = []
        cutoff = Decimal(str(time.time() - max_wait_s))
        dates = 0
        for date_prefix, oldest in self.state.each_pending_date(idle_margin_s=self.settings.lease_s):
            dates += 1
            if self._out_of_time():
                log.info(kv("deadline_stop", date=date_prefix, built=len(built)))
                break
            # Full batches are always built; a partial one only once its oldest file waited long enough.
            due = oldest is not None and oldest <= cutoff
            built.extend(self.build_ready(date_prefix, flush=due))
        recovered = list(dict.fromkeys(self.recovered))  # here, and under each date's lease
        leases_held = self._leases_held()
        log.info(kv("flush", max_wait_s=max_wait_s, manifests=len(built), recovered=len(recovered),
                    redriven=len(redriven["started"]), gave_up=len(redriven["gave_up"]),
                    leases_held=len(leases_held), dates=dates))
        return {"manifests": built, "recovered": recovered, "redriven": confirmed + redriven["started"],
                "gave_up": redriven["gave_up"], "leases_held": leases_held}

    def _share_of_time_left(self, share: float) -> float | None:
        """A deadline `share` of the way from now to the invocation's deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        now = self.clock()
        return now + max(0.0, self.deadline - now) * share

    def _past(self, until: float | None) -> bool:
        return self._out_of_time() or (until is not None and self.clock() > until)

    def _leases_held(self) -> list[dict]:
        """Dates this flush could not build because another builder held their lease: how many
        files wait there (counted up to one manifest's worth: `pending_at_least` when there are
        more) and when that lease runs out (None: released since), so a caller can say when to
        retry."""
        held = []
        most = max(1, self.settings.batch_size)
        for date_prefix in sorted(self.lease_busy):
            expires = self.state.lease_expiry(date_prefix)
            pending = self.state.count_pending(date_prefix, most=most)
            held.append({"date_prefix": date_prefix, "pending": pending, "pending_at_least": pending >= most,
                         "expires_at": None if expires is None else float(expires)})
        return held

    def recover_open_manifests(self, only_date: str | None = None, until: float | None = None) -> list[str]:
        """Finish manifests whose builder died (or stalled past its lease) between opening them
        and starting their workflow: seal them, so nothing more is claimed into them, then submit
        the files they hold, or drop them when they hold none. Stops at the deadline (or `until`):
        the next flush goes on."""
        cutoff = Decimal(str(time.time() - self.settings.open_manifest_grace_s))
        recovered = []
        for item in self.state.each_flagged(OPEN, date_prefix=only_date):
            if self._past(until):
                log.info(kv("deadline_stop", step="recover_open_manifests", recovered=len(recovered)))
                break
            if item.get("created_at", cutoff) > cutoff or (only_date and item["date_prefix"] != only_date):
                continue  # a live builder may still be working on it
            if item.get("status") != CLAIMING:
                continue  # the index lags: it started meanwhile
            date_prefix, mid = item["date_prefix"], item["manifest_id"]
            decided = self.state.seal(date_prefix, mid, SUBMIT)
            if decided is None:
                continue  # started or dropped meanwhile
            files = self.state.files_of_manifest(date_prefix, mid)
            if decided == ABANDON or not files:
                self._abandon(date_prefix, mid, files, wanted=0)
                log.info(kv("open_manifest_dropped", manifest_id=mid, reason=decided if files else "no_claimed_files"))
                continue
            self._submit(date_prefix, mid, item["manifest_key"], files)
            log.warning(kv("open_manifest_recovered", manifest_id=mid, date=date_prefix, files=len(files)))
            recovered.append(mid)
            self.recovered.append(mid)
        return recovered

    def recover_redrives(self, until: float | None = None) -> list[str]:
        """A redrive recorded but not confirmed (its starter died): start the same execution."""
        cutoff = Decimal(str(time.time() - self.settings.open_manifest_grace_s))
        done = []
        for item in self.state.each_flagged(REDRIVE):
            if self._past(until):
                log.info(kv("deadline_stop", step="recover_redrives", confirmed=len(done)))
                break
            if item.get("redriven_at", cutoff) > cutoff:
                continue
            self._start_redrive(item, int(item.get("attempt", 2)))
            done.append(item["manifest_id"])
        return done

    def recover_unrecorded(self, until: float | None = None) -> list[str]:
        """Manifests still `started` whose execution closed without recording its outcome: stopped
        by hand (ABORTED), timed out, or failed in MarkSucceeded or MarkFailed themselves. Each is
        recorded failed (RETRY), to be redriven, once no converter run it started can still be
        going (`converter_run_limit_s` after the execution closed). Found by their STARTED flag:
        one query of the manifests in flight, never a scan; a running one older than the grace
        costs one DescribeExecution."""
        cutoff = Decimal(str(time.time() - self.settings.open_manifest_grace_s))
        recorded = []
        for item in self.state.each_flagged(WATCH):
            if self._past(until):
                log.info(kv("deadline_stop", step="recover_unrecorded", recorded=len(recorded)))
                break
            if item.get("status") != STARTED or item.get("updated_at", cutoff) > cutoff or not item.get("execution_arn"):
                continue  # the index lags, or it started a moment ago
            date_prefix, mid, attempt = item["date_prefix"], item["manifest_id"], int(item.get("attempt", 1))
            try:
                execution = self.sfn.describe_execution(executionArn=item["execution_arn"])
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ExecutionDoesNotExist":
                    raise
                execution = {"status": "MISSING"}
            status = execution["status"]
            if status == "RUNNING":
                continue
            stopped = execution.get("stopDate")
            if self._run_may_be_going(stopped.timestamp() if stopped is not None else None):
                log.info(kv("unrecorded_execution_waiting_out_run", manifest_id=mid, status=status,
                            until=round(stopped.timestamp() + self.settings.converter_run_limit_s, 3)))
                continue
            # SUCCEEDED while the item says started: the outcome was never recorded (the workflow
            # records success before it succeeds), so the manifest is converted again.
            if self.state.mark_failed_closed(date_prefix, mid, attempt,
                                             f"execution closed as {status} without recording its outcome"):
                log.warning(kv("unrecorded_execution_recorded_failed", manifest_id=mid, attempt=attempt,
                               status=status))
                recorded.append(mid)
        return recorded

    def retry_failed(self, until: float | None = None) -> dict:
        """Redrive failed manifests while attempts are left; after the last, leave them failed."""
        started, gave_up = [], []
        for item in self.state.each_flagged(RETRY):
            if self._past(until):
                log.info(kv("deadline_stop", step="retry_failed", redriven=len(started)))
                break
            if item.get("status") != FAILED:
                continue
            attempt = int(item.get("attempt", 1))
            if attempt >= self.settings.max_attempts:
                if self.state.give_up(item["date_prefix"], item["manifest_id"], attempt):
                    log.error(kv("manifest_failed_for_good", manifest_id=item["manifest_id"], attempts=attempt,
                                 max_attempts=self.settings.max_attempts))
                    gave_up.append(item["manifest_id"])
                continue
            if self.redrive(item, by="flush"):
                started.append(item["manifest_id"])
        return {"started": started, "gave_up": gave_up}

    def redrive(self, item: dict, by: str) -> str | None:
        """Run a failed manifest again as its next attempt; None when someone else got there
        first (the attempt is recorded conditionally before the execution starts)."""
        date_prefix, mid = item["date_prefix"], item["manifest_id"]
        attempt = int(item.get("attempt", 1))
        if not self.state.begin_redrive(date_prefix, mid, attempt, by, str(item.get("failure", ""))):
            log.info(kv("redrive_skipped", manifest_id=mid, attempt=attempt + 1, reason="not failed at that attempt"))
            return None
        return self._start_redrive({**item, "attempt": attempt + 1}, attempt + 1)

    def _start_redrive(self, item: dict, attempt: int) -> str | None:
        date_prefix, mid = item["date_prefix"], item["manifest_id"]
        try:
            arn = self._start_workflow(date_prefix, mid, item["manifest_key"], int(item.get("file_count", 0)), attempt)
        except ExecutionClosedFailed as closed:
            self._closed_failed(date_prefix, mid, attempt, closed)
            return None
        self.state.redrive_started(date_prefix, mid, attempt, arn)
        log.warning(kv("manifest_redriven", manifest_id=mid, attempt=attempt,
                       execution=manifests.execution_name(mid, attempt)))
        return arn


def handler(event, context=None):
    """Lambda entry point: an SQS batch, or a flush request (scheduled or by hand)."""
    if not isinstance(event, dict):
        raise ValueError("unsupported event: expected SQS records or {'action': 'flush'}")
    deadline = _deadline(context)
    if "Records" in event:
        with telemetry.invocation("builder", kind="sqs", records=len(event["Records"])):
            return Builder(BuilderSettings.from_env(), deadline=deadline).handle_sqs(event["Records"])
    if event.get("action") == "flush" or event.get("source") == "aws.events":
        with telemetry.invocation("builder", kind="flush"):
            builder = Builder(BuilderSettings.from_env(), deadline=deadline)
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
