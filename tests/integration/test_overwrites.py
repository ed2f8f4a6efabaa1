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
    """The same content keeps the date it was first tracked under; new content is a file of its
    own, each item naming its content's ETag, which its manifest pins (converted once each: see
    test_an_undated_key_rewritten_while_pending_converts_each_content_once)."""
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


def _put(s3, bucket: str, key: str, lines: list[dict]) -> str:
    import json

    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return s3.put_object(Bucket=bucket, Key=key, Body=body)["ETag"].strip('"')


def _rows_and_quarantine(project, item: dict) -> tuple[list[dict], list[dict]]:
    import io
    import json

    import pyarrow.parquet as pq

    s3, out = project.target.client("s3"), project.names.output_bucket
    rows = pq.read_table(io.BytesIO(s3.get_object(Bucket=out, Key=item["output_key"])["Body"].read())).to_pylist()
    q_key = item["output_key"].replace("parquet/", "quarantine/", 1).replace(".parquet", ".jsonl")
    try:
        body = s3.get_object(Bucket=out, Key=q_key)["Body"].read().decode()
    except s3.exceptions.NoSuchKey:
        body = ""
    return rows, [json.loads(line) for line in body.splitlines() if line]


def test_an_undated_key_rewritten_while_pending_converts_each_content_once(project, pipeline):
    """v1 of an undated key waits in a partial batch; v2 lands after midnight and is tracked as a
    file of its own. Each manifest pins its content's ETag: v2's rows come out once (in v2's
    manifest), and v1, which S3 no longer holds, is quarantined whole with the reason, not read
    as v2."""
    from .test_builder_recovery import _item, _wait_closed, builder_for

    b = builder_for(project, pipeline)
    s3 = project.target.client("s3")
    bucket, key = project.names.artifacts_bucket, "undated/rewritten.ndjson"  # no notification there

    def event(etag: str, when: str, sequencer: str) -> dict:
        e = _event(key, etag, when, sequencer)
        e["body"] = e["body"].replace('"name": "landing"', f'"name": "{bucket}"')
        return e

    v1 = _put(s3, bucket, key, [{"v": 1, "n": n} for n in range(2)])
    b.handle_sqs([event(v1, "2026-03-01T23:59:58.000Z", "00B1")])
    v2 = _put(s3, bucket, key, [{"v": 2, "n": n} for n in range(3)])
    b.handle_sqs([event(v2, "2026-03-02T10:00:00.000Z", "00B2")])
    manifests = b.flush(max_wait_s=0)["manifests"]
    assert len(manifests) == 2
    done = {}
    for mid in manifests:
        day = mid[:10]
        assert _wait_closed(project, _item(b.state, day, mid)["execution_arn"]) == "SUCCEEDED"
        done[day] = _item(b.state, day, mid)
    rows = {day: _rows_and_quarantine(project, item) for day, item in done.items()}
    v2_rows = [r for day in rows for r in rows[day][0] if r.get("_source_key") == key]
    assert sorted((r["v"], r["n"]) for r in v2_rows) == [(2, 0), (2, 1), (2, 2)]  # once, not twice
    assert [r["_manifest_id"] for r in v2_rows] == [done["2026-03-02"]["manifest_id"]] * 3
    old_rows, old_quarantine = rows["2026-03-01"]
    assert old_rows == [] and int(done["2026-03-01"]["quarantined_files"]) == 1
    assert [(q["source_key"], q["line"]) for q in old_quarantine] == [(key, None)]
    assert "content changed before conversion" in old_quarantine[0]["reason"]


def test_a_dated_key_overwritten_while_pending_converts_the_new_content_once(project, pipeline):
    from .test_builder_recovery import _item, _wait_closed, builder_for

    b = builder_for(project, pipeline)
    s3 = project.target.client("s3")
    bucket, key = project.names.artifacts_bucket, "2026-03-04/corrected.ndjson"

    def event(etag: str, sequencer: str) -> dict:
        e = _event(key, etag, "2026-03-04T08:00:00.000Z", sequencer)
        e["body"] = e["body"].replace('"name": "landing"', f'"name": "{bucket}"')
        return e

    b.handle_sqs([event(_put(s3, bucket, key, [{"v": 1}]), "00C1")])
    b.handle_sqs([event(_put(s3, bucket, key, [{"v": 2}, {"v": 2}]), "00C2")])  # refreshed while pending
    (mid,) = b.flush(max_wait_s=0)["manifests"]
    assert _wait_closed(project, _item(b.state, "2026-03-04", mid)["execution_arn"]) == "SUCCEEDED"
    rows, quarantine = _rows_and_quarantine(project, _item(b.state, "2026-03-04", mid))
    assert [r["v"] for r in rows] == [2, 2] and quarantine == []


def test_content_overwritten_between_manifest_and_read_is_quarantined_not_converted(project, pipeline):
    """A dated key overwritten after its manifest was written (before the converter read it): the
    manifest pins the first content, which is gone, so the file is quarantined with the reason;
    the newer content is not converted under the older one's manifest."""
    import json

    from sim.pipeline import convert_manifest, manifests

    t, s3 = project.target, project.target.client("s3")
    bucket, key, day, mid = project.names.artifacts_bucket, "2026-03-05/late.ndjson", "2026-03-05", "2026-03-05-pinned"
    etag = _put(s3, bucket, key, [{"v": 1}])
    s3.put_object(Bucket=project.names.output_bucket, Key=manifests.manifest_key(day, mid),
                  Body=manifests.manifest_document(mid, day, [{"bucket": bucket, "file_key": key, "size": 9,
                                                                "etag": etag}]))
    assert json.loads(manifests.manifest_document(mid, day, [{"bucket": bucket, "file_key": key,
                                                               "etag": etag}]))["files"][0]["etag"] == etag
    state_of(project, pipeline).open_manifest(day, mid, manifests.manifest_key(day, mid))
    _put(s3, bucket, key, [{"v": 2}, {"v": 2}])  # the overwrite
    summary = convert_manifest.run(project.names.output_bucket, manifests.manifest_key(day, mid),
                                   project.names.output_bucket, project.names.table, s3=s3,
                                   dynamodb=t.session.resource("dynamodb", endpoint_url=t.endpoint))
    assert (summary["records"], summary["quarantined_files"]) == (0, 1)
    item = state_of(project, pipeline).manifest(day, mid)
    rows, quarantine = _rows_and_quarantine(project, item)
    assert rows == [] and "content changed before conversion" in quarantine[0]["reason"]
