"""Manifest builder Lambda, written as the seed plan (final-implementation-plan.md) writes it.

SQS delivers batches of S3 notifications. Each landed file is tracked in DynamoDB as `pending`
(`track_file`); when a date has BATCH_SIZE pending files, they become a manifest: a MANIFEST
record, the files' statuses set to `manifested`, and a Step Functions execution that converts
them. An `{"action": "flush"}` event also turns the partial batches into manifests.

Each Phase 1 item the plan asks for (and the Phase 3 conditional claims) is a switch, an
environment variable; unset, the code is the plan's ORIGINAL code, before Phase 1:
- IDEMPOTENT_TRACKING (item 1): track_file's put_item conditioned on attribute_not_exists(file_key);
- MANIFEST_ORDER (item 2): `original` = MANIFEST record, statuses, workflow; `plan` = workflow,
  MANIFEST record with the execution ARN, statuses (the plan's create_and_submit_manifest);
- CONDITIONAL_CLAIMS (item 13): the status update conditioned on `pending`;
- DISTRIBUTED_LOCK (on unless set false): the per-date lock the plan's code already has around
  manifest building, which item 13 is titled after ("Fix Distributed Lock Race Condition"). The
  plan does not show it, so it is the plain one: a conditional put of a lock item that expires
  after LOCK_SECONDS (120). Its race is the classic one: a builder slower than the lock's lifetime
  shares the date with the next builder, and without conditional claims both claim the same files;
- LOG_LEVEL (item 3) and REDACT_EVENT_LOG (item 4).
Nothing else: the plan has no recovery sweeper, no deadline and no redrive, so neither does this code.
"""

import json
import logging
import os
import re
import uuid
from datetime import datetime, timezone
from urllib.parse import unquote_plus

import boto3
import botocore.exceptions
from boto3.dynamodb.conditions import Key


class ConfigError(ValueError):
    """An environment variable the function needs is missing or has a value it cannot use."""


def _flag(name):
    value = os.environ.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={os.environ[name]!r}: expected true or false")


def _choice(name, choices):
    value = os.environ.get(name, "").strip().lower() or choices[0]
    if value not in choices:
        raise ConfigError(f"{name}={os.environ[name]!r}: expected one of {', '.join(choices)}")
    return value


def _required(name):
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _positive_int(name, default):
    text = os.environ.get(name, "").strip() or str(default)
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(f"{name}={text!r}: expected a whole number of at least 1")
    return int(text)


# Switches (see the module docstring); unset = the plan's original code.
IDEMPOTENT_TRACKING = _flag("IDEMPOTENT_TRACKING")
MANIFEST_ORDER = _choice("MANIFEST_ORDER", ("original", "plan"))
CONDITIONAL_CLAIMS = _flag("CONDITIONAL_CLAIMS")
DISTRIBUTED_LOCK = _flag("DISTRIBUTED_LOCK") if os.environ.get("DISTRIBUTED_LOCK", "").strip() else True
LOCK_SECONDS = _positive_int("LOCK_SECONDS", 120)  # a lock older than this belongs to a builder that died
REDACT_EVENT_LOG = _flag("REDACT_EVENT_LOG")

# Item 3: LOG_LEVEL from the environment. Before it the level was fixed in the code; the plan does
# not say at which level, but item 4 (the event logged at DEBUG, "High" priority) only matters if
# that line was printed, so the original here logs at DEBUG.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "").strip().upper()
logger = logging.getLogger()
if LOG_LEVEL:
    # The plan's line is `getattr(logging, LOG_LEVEL)`; a wrong value gets one clear error here
    # instead of an AttributeError.
    if not isinstance(getattr(logging, LOG_LEVEL, None), int):
        raise ConfigError(f"LOG_LEVEL={LOG_LEVEL!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    logger.setLevel(getattr(logging, LOG_LEVEL))
else:
    logger.setLevel(logging.DEBUG)

TABLE_NAME = _required("MANIFEST_TABLE_NAME")
STATE_MACHINE_ARN = _required("STATE_MACHINE_ARN")
MANIFEST_BUCKET = _required("MANIFEST_BUCKET")
BATCH_SIZE = _positive_int("BATCH_SIZE", 200)
# The GSI the builder finds pending files by (hash `status`, range `date_prefix`); the plan names
# no index, this is the plain one a team keying files by (date_prefix, file_key) would add.
STATUS_INDEX = "status-index"
MANIFEST_KEY_PREFIX = "MANIFEST#"
LOCK_KEY = "LOCK"  # the file_key of a date's lock item

dynamodb = boto3.resource("dynamodb")
s3 = boto3.client("s3")
stepfunctions = boto3.client("stepfunctions")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def now():
    return datetime.now(timezone.utc).isoformat()


def date_prefix_for(key, event_time=""):
    """The first YYYY-MM-DD folder of the key, else the event's date (the plan is silent on how
    files are dated; this is the convention the landing keys follow)."""
    for segment in key.split("/")[:-1]:
        if _DATE.match(segment):
            return segment
    if event_time[:10] and _DATE.match(event_time[:10]):
        return event_time[:10]
    return datetime.now(timezone.utc).date().isoformat()


def s3_objects_from_sqs_event(event):
    """The objects an SQS batch of S3 notifications names: (bucket, key, size, date_prefix).

    S3 URL-encodes keys in its events (a space arrives as `+`), so keys are decoded. A message
    that is not an S3 notification at all raises: the batch fails and SQS retries it (the plan is
    silent; this is Lambda's plain behaviour). S3's `s3:TestEvent` and events other than
    ObjectCreated carry no file and are skipped."""
    objects = []
    for message in event.get("Records", []):
        try:
            body = json.loads(message["body"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"SQS message {message.get('messageId', '?')} is not an S3 notification (body is not JSON)")
        if not isinstance(body, dict):
            raise ValueError(f"SQS message {message.get('messageId', '?')} is not an S3 notification")
        if body.get("Event") == "s3:TestEvent":
            continue
        if not isinstance(body.get("Records"), list):
            raise ValueError(f"SQS message {message.get('messageId', '?')} is not an S3 notification (no Records)")
        for record in body["Records"]:
            if not str(record.get("eventName", "")).startswith("ObjectCreated"):
                continue
            try:
                bucket = record["s3"]["bucket"]["name"]
                key = unquote_plus(record["s3"]["object"]["key"])
                size = int(record["s3"]["object"].get("size", 0) or 0)
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"SQS message {message.get('messageId', '?')} has an S3 record without bucket or key")
            if key.endswith("/"):
                continue  # a folder marker, not a file
            objects.append((bucket, key, size, date_prefix_for(key, str(record.get("eventTime", "")))))
    return objects


def manifest_batches(files, batch_size, flush):
    """Full batches of `batch_size`, in order; with `flush`, the rest as one last smaller batch."""
    full = len(files) - len(files) % batch_size
    batches = [files[i:i + batch_size] for i in range(0, full, batch_size)]
    if flush and len(files) > full:
        batches.append(files[full:])
    return batches


def manifest_document(files):
    """The manifest object: a JSON list of the files' bucket and key."""
    return json.dumps([{"bucket": f["bucket"], "key": f["file_key"]} for f in files])


class ManifestBuilder:
    """The plan's builder class (its snippets call `self.table`, `self._start_step_function`)."""

    def __init__(self):
        self.table = dynamodb.Table(TABLE_NAME)

    # -- tracking ------------------------------------------------------------------------------

    def track_file(self, bucket, file_key, size, date_prefix):
        item = {
            "date_prefix": date_prefix,
            "file_key": file_key,
            "record_type": "FILE",
            "bucket": bucket,
            "file_size": size,
            "status": "pending",
            "created_at": now(),
        }
        if not IDEMPOTENT_TRACKING:
            # The plan's original line (its line 566): a redelivered notification puts the item
            # again, and a file already `manifested` becomes `pending` once more.
            self.table.put_item(Item=item)
            return
        # Item 1, as the plan writes it.
        try:
            self.table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(file_key)"
            )
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                logger.info(f"File {file_key} already tracked, skipping (SQS retry)")
                return  # Already tracked, this is a retry
            raise

    def get_pending_files(self, date_prefix=None):
        """Pending files (of one date, or of every date), in key order. The index is eventually
        consistent on AWS: a file tracked a moment ago may only be seen by the next invocation."""
        condition = Key("status").eq("pending")
        if date_prefix is not None:
            condition = condition & Key("date_prefix").eq(date_prefix)
        kwargs = {"IndexName": STATUS_INDEX, "KeyConditionExpression": condition}
        files = []
        while True:
            page = self.table.query(**kwargs)
            files.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(files, key=lambda f: (f["date_prefix"], f["file_key"]))

    # -- manifests -----------------------------------------------------------------------------

    def build_manifests(self, date_prefix, flush=False):
        """A manifest for each full batch of the date's pending files (and the rest with `flush`),
        under the date's lock (when DISTRIBUTED_LOCK): a builder that finds it held builds nothing."""
        if DISTRIBUTED_LOCK and not self._acquire_lock(date_prefix):
            logger.info(f"Lock for {date_prefix} held by another builder, skipping")
            return []
        try:
            pending = self.get_pending_files(date_prefix)
            return [self.create_and_submit_manifest(batch, date_prefix)
                    for batch in manifest_batches(pending, BATCH_SIZE, flush)]
        finally:
            if DISTRIBUTED_LOCK:
                self.table.delete_item(Key={"date_prefix": date_prefix, "file_key": LOCK_KEY})

    def _acquire_lock(self, date_prefix):
        """The date's lock: put when absent or expired. A builder that outlives LOCK_SECONDS
        loses it without knowing (the race item 13 is named after)."""
        stamp = datetime.now(timezone.utc).timestamp()
        try:
            self.table.put_item(
                Item={"date_prefix": date_prefix, "file_key": LOCK_KEY, "record_type": "LOCK",
                      "expires_at": int(stamp) + LOCK_SECONDS},
                ConditionExpression="attribute_not_exists(file_key) OR expires_at < :now",
                ExpressionAttributeValues={":now": int(stamp)},
            )
            return True
        except botocore.exceptions.ClientError as e:
            if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def create_and_submit_manifest(self, files, date_prefix):
        if MANIFEST_ORDER == "plan":
            return self._create_and_submit_plan_order(files, date_prefix)
        return self._create_and_submit_original_order(files, date_prefix)

    def _create_and_submit_original_order(self, files, date_prefix):
        """The plan's "CURRENT ORDER (WRONG)" (its lines 1017-1041): MANIFEST record, file
        statuses, then Step Functions."""
        manifest_id = str(uuid.uuid4())
        self._create_manifest_record(manifest_id=manifest_id, execution_arn=None,
                                     file_count=len(files), date_prefix=date_prefix)
        assigned = self._update_file_statuses(files, manifest_id, "manifested")
        if not assigned:
            # Only with conditional claims: another builder claimed every file first. The plan is
            # silent; the plain thing is to start nothing (the MANIFEST record stays behind).
            logger.warning(f"Manifest {manifest_id}: no file left to assign, not started")
            return manifest_id
        self._start_step_function(manifest_id=manifest_id, files=assigned, date_prefix=date_prefix)
        return manifest_id

    def _create_and_submit_plan_order(self, files, date_prefix):
        """Item 2's create_and_submit_manifest, line for line."""
        manifest_id = str(uuid.uuid4())

        # Step 1: Start Step Functions FIRST
        try:
            execution_arn = self._start_step_function(
                manifest_id=manifest_id,
                files=files,
                date_prefix=date_prefix
            )
        except Exception as e:
            logger.error(f"Failed to start Step Functions: {e}")
            raise  # Don't create MANIFEST record if SF fails

        # Step 2: Create MANIFEST record (with execution ARN)
        try:
            self._create_manifest_record(
                manifest_id=manifest_id,
                execution_arn=execution_arn,
                file_count=len(files),
                date_prefix=date_prefix  # the plan's call omits it; the record's key needs it
            )
        except Exception:
            # SF is running, MANIFEST failed - log but don't fail
            logger.error(f"MANIFEST creation failed but SF started: {execution_arn}")
            # Could trigger alarm here

        # Step 3: Update file statuses (with CONDITIONAL_CLAIMS the claims that lose are only
        # logged: the workflow already has every file, as the plan's code has it)
        self._update_file_statuses(files, manifest_id, "manifested")
        return manifest_id

    def _manifest_key(self, manifest_id, date_prefix):
        return f"manifests/{date_prefix}/{manifest_id}.json"

    def _start_step_function(self, manifest_id, files, date_prefix):
        """Write the manifest object, then start the workflow that converts it. The plan shows
        neither; the plain thing: the object under manifests/<date>/, the execution named by the
        manifest id (a fresh uuid each time, so the name deduplicates nothing)."""
        manifest_key = self._manifest_key(manifest_id, date_prefix)
        s3.put_object(Bucket=MANIFEST_BUCKET, Key=manifest_key, Body=manifest_document(files).encode(),
                      ContentType="application/json")
        response = stepfunctions.start_execution(
            stateMachineArn=STATE_MACHINE_ARN,
            name=manifest_id,
            input=json.dumps({
                "manifest_id": manifest_id,
                "date_prefix": date_prefix,
                "manifest_bucket": MANIFEST_BUCKET,
                "manifest_key": manifest_key,
                "file_count": len(files),
            }),
        )
        logger.info(f"Started {response['executionArn']} for manifest {manifest_id} ({len(files)} files)")
        return response["executionArn"]

    def _create_manifest_record(self, manifest_id, execution_arn, file_count, date_prefix):
        """The plan names the record, not its shape: it shares the files' table, keyed by its date
        and `MANIFEST#<id>`; `processing` until the workflow marks it `complete`."""
        item = {
            "date_prefix": date_prefix,
            "file_key": MANIFEST_KEY_PREFIX + manifest_id,
            "record_type": "MANIFEST",
            "manifest_id": manifest_id,
            "manifest_key": self._manifest_key(manifest_id, date_prefix),
            "file_count": file_count,
            "status": "processing",
            "created_at": now(),
        }
        if execution_arn:
            item["execution_arn"] = execution_arn
        self.table.put_item(Item=item)

    def _update_file_statuses(self, files, manifest_id, status):
        """Set each file's status and manifest id; returns the files this manifest got."""
        if CONDITIONAL_CLAIMS:
            return self.assign_files_to_manifest(files, manifest_id)
        for file_info in files:
            self.table.update_item(
                Key={"date_prefix": file_info["date_prefix"], "file_key": file_info["file_key"]},
                UpdateExpression="SET #status = :status, manifest_id = :mid",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":status": status, ":mid": manifest_id},
            )
        return list(files)

    def assign_files_to_manifest(self, files, manifest_id):
        """Use conditional updates instead of distributed lock (item 13, as the plan writes it)"""
        successfully_assigned = []

        for file_info in files:
            try:
                # Atomic update with condition
                self.table.update_item(
                    Key={
                        "date_prefix": file_info["date_prefix"],
                        "file_key": file_info["file_key"]
                    },
                    UpdateExpression="SET #status = :manifested, manifest_id = :mid",
                    ConditionExpression="#status = :pending",
                    ExpressionAttributeNames={"#status": "status"},
                    ExpressionAttributeValues={
                        ":manifested": "manifested",
                        ":pending": "pending",
                        ":mid": manifest_id
                    },
                    ReturnValues="ALL_NEW"
                )
                successfully_assigned.append(file_info)

            except botocore.exceptions.ClientError as e:
                if e.response["Error"]["Code"] == "ConditionalCheckFailedException":
                    # File already assigned to another manifest
                    logger.warning(f"File {file_info['file_key']} already manifested")
                else:
                    raise

        return successfully_assigned

    # -- entry points ----------------------------------------------------------------------------

    def process_sqs_event(self, event):
        objects = s3_objects_from_sqs_event(event)
        dates = []
        for bucket, key, size, date_prefix in objects:
            self.track_file(bucket, key, size, date_prefix)
            if date_prefix not in dates:
                dates.append(date_prefix)
        manifests = []
        for date_prefix in sorted(dates):
            manifests.extend(self.build_manifests(date_prefix))
        logger.info(f"Tracked {len(objects)} files; started {len(manifests)} manifests")
        return {"tracked": len(objects), "manifests": manifests}

    def flush(self):
        """Every date's pending files into manifests now, the last one of each date smaller. The
        plan is silent on partial batches; this is the event a team sends at the end of a day."""
        dates = sorted({f["date_prefix"] for f in self.get_pending_files()})
        manifests = []
        for date_prefix in dates:
            manifests.extend(self.build_manifests(date_prefix, flush=True))
        logger.info(f"Flush: {len(manifests)} manifests for {len(dates)} dates")
        return {"flushed_dates": dates, "manifests": manifests}


def lambda_handler(event, context):
    if REDACT_EVENT_LOG:
        # Item 4's replacement line.
        logger.debug(f"Event received: {len(event.get('Records', []))} records")
    else:
        # The plan's original line (its line 275): the whole event, at DEBUG.
        logger.debug(f"Event received: {json.dumps(event)}")
    builder = ManifestBuilder()
    if event.get("action") == "flush":
        return builder.flush()
    return builder.process_sqs_event(event)
