import json

import pytest

from sim.pipeline.events import NotAnS3Event, date_prefix_for, is_landing_key, parse_body


def s3_body(key: str, event="ObjectCreated:Put", time="2026-11-25T23:59:59.000Z", bucket="landing"):
    return json.dumps({"Records": [{
        "eventName": event, "eventTime": time,
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 12, "eTag": "abc", "sequencer": "01"}},
    }]})


def test_test_event_is_skipped():
    assert parse_body(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "landing"})) is None


def test_keys_are_decoded_with_unquote_plus():
    (f,) = parse_body(s3_body("in/2026-11-25/my+file%2Bv2+%C3%A9.ndjson"))
    assert f.key == "in/2026-11-25/my file+v2 é.ndjson"
    assert f.bucket == "landing" and f.size == 12 and f.etag == "abc"


def test_date_prefix_from_first_date_segment_else_event_utc_date():
    assert date_prefix_for("a/2026-01-31/b/2026-02-01/x.ndjson", "2026-11-25T00:00:00Z") == "2026-01-31"
    assert date_prefix_for("a/2026-13-45/x.ndjson", "2026-11-25T23:30:00.000Z") == "2026-11-25"
    assert date_prefix_for("2026-01-31.ndjson", "2026-11-25T01:00:00+02:00") == "2026-11-24"


def test_non_create_events_are_ignored():
    assert parse_body(s3_body("x.ndjson", event="ObjectRemoved:Delete")) == []


@pytest.mark.parametrize("body", ["not json", "[1, 2]", json.dumps({"hello": 1}),
                                  json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]})])
def test_bodies_that_are_not_s3_events_raise(body):
    with pytest.raises(NotAnS3Event):
        parse_body(body)


def test_sns_wrapped_notification_is_unwrapped():
    (f,) = parse_body(json.dumps({"Type": "Notification", "Message": s3_body("a.jsonl")}))
    assert f.key == "a.jsonl"


@pytest.mark.parametrize("key,ok", [("a.ndjson", True), ("a.jsonl", True), ("a.json", True), ("A.NDJSON.GZ", True),
                                    ("a.json.gz", True), ("a.csv", False), ("a.gz", False), ("dir.ndjson/", False),
                                    ("a.ndjson.tmp", False)])
def test_landing_keys(key, ok):
    assert is_landing_key(key) is ok
