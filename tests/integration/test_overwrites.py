"""The semantics of a key notified again (State.seen_again) against the engine's DynamoDB."""

from sim.pipeline.state import State


def state_of(project, pipeline) -> State:
    t = project.target
    return State(t.session.resource("dynamodb", endpoint_url=t.endpoint).Table(project.names.table))


def item(state: State, key: str) -> dict:
    return state.table.get_item(Key={"date_prefix": "2026-02-01", "file_key": key}, ConsistentRead=True)["Item"]


def test_redelivery_stale_refresh_and_overwrites_in_any_order(project, pipeline):
    s, day, bucket = state_of(project, pipeline), "2026-02-01", project.names.landing_bucket
    assert s.track_file(day, "k.ndjson", bucket, 10, "v2", "0000A2")
    assert not s.track_file(day, "k.ndjson", bucket, 10, "v2", "0000A2")
    assert s.seen_again(day, "k.ndjson", 10, "v2", "0000A2") == "duplicate"
    assert s.seen_again(day, "k.ndjson", 9, "v1", "0000A1") == "stale"  # v1's event arrived after v2's
    assert s.seen_again(day, "k.ndjson", 11, "v3", "0000A3") == "refreshed"  # still pending
    assert (item(s, "k.ndjson")["etag"], int(item(s, "k.ndjson")["size"])) == ("v3", 11)

    s.open_manifest(day, "m1", "manifests/m1.json")
    assert s.claim(day, "k.ndjson", "m1")
    assert s.seen_again(day, "k.ndjson", 12, "v5", "0000A5") == "overwritten"
    assert s.seen_again(day, "k.ndjson", 12, "v5", "0000A5") == "duplicate"  # the overwrite redelivered
    assert s.seen_again(day, "k.ndjson", 13, "v4", "0000A4") == "stale"  # older than the recorded overwrite
    assert s.seen_again(day, "k.ndjson", 14, "v6", "0000A6") == "overwritten"
    it = item(s, "k.ndjson")
    assert (it["etag"], it["status"], it["overwritten_etag"], int(it["overwrites"])) == ("v3", "manifested", "v6", 2)


def test_an_event_without_an_etag_is_a_redelivery(project, pipeline):
    s = state_of(project, pipeline)
    assert s.track_file("2026-02-01", "e.ndjson", project.names.landing_bucket, 1, "v1", "01")
    assert s.seen_again("2026-02-01", "e.ndjson", 1, "", "") == "duplicate"
    assert "overwritten_etag" not in item(s, "e.ndjson")


def test_an_item_tracked_without_an_etag_takes_the_first_real_one_as_its_content(project, pipeline):
    s, day = state_of(project, pipeline), "2026-02-01"
    assert s.track_file(day, "resent-first.ndjson", project.names.landing_bucket, 1, "", "0")
    assert s.seen_again(day, "resent-first.ndjson", 1, "v1", "0000B1") == "duplicate"  # S3's own event, later
    assert item(s, "resent-first.ndjson")["etag"] == "v1"
    s.open_manifest(day, "m1", "manifests/m1.json")
    assert s.claim(day, "resent-first.ndjson", "m1")
    assert s.seen_again(day, "resent-first.ndjson", 1, "v1", "0000B1") == "duplicate"
    assert s.seen_again(day, "resent-first.ndjson", 2, "v2", "0000B2") == "overwritten"


def _event(key: str, etag: str, when: str, sequencer: str) -> dict:
    import json

    body = {"Records": [{"eventName": "ObjectCreated:Put", "eventTime": when,
                         "s3": {"bucket": {"name": "landing"},
                                "object": {"key": key, "size": 5, "eTag": etag, "sequencer": sequencer}}}]}
    return {"messageId": f"{etag}-{when}", "body": json.dumps(body)}


def test_an_undated_key_keeps_one_identity_across_midnight_for_the_same_content(project, pipeline):
    from sim.pipeline.builder import Builder, BuilderSettings

    env = pipeline.wiring.builder_environment()
    t = project.target
    b = Builder(BuilderSettings(table=env["TABLE_NAME"], manifest_bucket=env["MANIFEST_BUCKET"],
                                state_machine_arn=env["STATE_MACHINE_ARN"], batch_size=25),
                dynamodb=t.session.resource("dynamodb", endpoint_url=t.endpoint), s3=t.client("s3"),
                sfn=t.client("stepfunctions"))
    key = "undated/feed.ndjson"

    def items():
        scan = b.state.table.scan()["Items"]
        return sorted((i["date_prefix"], i["etag"]) for i in scan if i.get("record_type") == "FILE")

    b.handle_sqs([_event(key, "v1", "2026-03-01T23:59:58.000Z", "00A1")])
    b.handle_sqs([_event(key, "v1", "2026-03-02T00:00:03.000Z", "00A1")])  # redelivered after midnight
    b.handle_sqs([_event(key, "v1", "2026-03-02T00:00:09.000Z", "")])  # re-sent by hand, no sequencer
    assert items() == [("2026-03-01", "v1")]
    b.handle_sqs([_event(key, "v2", "2026-03-02T10:00:00.000Z", "00A2")])  # a real re-upload, new content
    assert items() == [("2026-03-01", "v1"), ("2026-03-02", "v2")]
    b.handle_sqs([_event(key, "v1", "2026-03-02T11:00:00.000Z", "00A1")])  # v1's event again, late: stale
    b.handle_sqs([_event(key, "v2", "2026-03-03T00:00:01.000Z", "00A2")])  # v2 redelivered the day after
    assert items() == [("2026-03-01", "v1"), ("2026-03-02", "v2")]
