"""Turn SQS messages carrying S3 notifications into landed-file references.

S3 delivers at least once, URL-encodes keys (`+` for spaces), and sends an `s3:TestEvent` when a
notification is configured. A body that is not an S3 notification at all is a failure of that
message (it is retried, then redriven to the DLQ), never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus

LANDING_SUFFIXES = (".ndjson", ".jsonl", ".json")
_DATE_SEGMENT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class NotAnS3Event(ValueError):
    """The message body is not an S3 event notification."""


@dataclass(frozen=True)
class LandedFile:
    bucket: str
    key: str
    size: int
    etag: str
    event_time: str
    sequencer: str
    version_id: str = ""  # only from a versioned bucket

    @property
    def date_prefix(self) -> str:
        return date_prefix_for(self.key, self.event_time)

    @property
    def dated(self) -> bool:
        """The key names its date; otherwise the event's date is only a first guess (see
        State.date_for_undated: the same content keeps the date it was first tracked under)."""
        return date_segment(self.key) is not None


def is_landing_key(key: str) -> bool:
    """Landing keys end in .ndjson, .jsonl or .json, optionally followed by .gz."""
    name = key.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    return name.endswith(LANDING_SUFFIXES) and not key.endswith("/")


def date_segment(key: str) -> str | None:
    """The first YYYY-MM-DD path segment of a key that is a real date, if any."""
    for segment in key.split("/")[:-1]:
        if _DATE_SEGMENT.match(segment):
            try:
                dt.date.fromisoformat(segment)
            except ValueError:
                continue
            return segment
    return None


def date_prefix_for(key: str, event_time: str) -> str:
    """The first YYYY-MM-DD path segment that is a real date, else the event's UTC date."""
    return date_segment(key) or _utc_date(event_time)


def _utc_date(event_time: str) -> str:
    if event_time:
        try:
            stamp = dt.datetime.fromisoformat(event_time.replace("Z", "+00:00"))
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=dt.timezone.utc)
            return stamp.astimezone(dt.timezone.utc).date().isoformat()
        except ValueError:
            pass
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


def parse_body(body: str) -> list[LandedFile] | None:
    """Parse one SQS message body. None for an `s3:TestEvent`; raises NotAnS3Event otherwise."""
    try:
        doc = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise NotAnS3Event("body is not JSON") from exc
    if not isinstance(doc, dict):
        raise NotAnS3Event("body is not a JSON object")
    if doc.get("Event") == "s3:TestEvent":
        return None
    if "Records" not in doc and isinstance(doc.get("Message"), str):
        # An S3 notification fanned out through SNS arrives wrapped once more.
        return parse_body(doc["Message"])
    records = doc.get("Records")
    if not isinstance(records, list):
        raise NotAnS3Event("body has no Records list")
    files = []
    for rec in records:
        try:
            if not str(rec.get("eventName", "")).startswith("ObjectCreated"):
                continue
            s3 = rec["s3"]
            obj = s3["object"]
            files.append(
                LandedFile(
                    bucket=s3["bucket"]["name"],
                    key=unquote_plus(obj["key"]),
                    size=int(obj.get("size", 0) or 0),
                    etag=str(obj.get("eTag", "") or ""),
                    event_time=str(rec.get("eventTime", "") or ""),
                    sequencer=str(obj.get("sequencer", "") or ""),
                    version_id=str(obj.get("versionId", "") or ""),
                )
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise NotAnS3Event(f"S3 record is missing {exc}") from exc
    return files
