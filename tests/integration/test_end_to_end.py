"""Files land, flow through the real wiring, and come out in Parquet exactly once."""

import gzip
import io
import json
import re

import pyarrow.parquet as pq

from sim.engine import ministack
from sim.validate.run import validate
from sim.workload.generator import CANARY_MARK
from sim.workload.upload import upload_generated

from .conftest import BATCH, dumps, manifest_items


def test_a_few_hundred_generated_files_end_to_end(project, pipeline, watcher):
    n = 8 * BATCH + 7  # eight full manifests and a tail the flush must pick up
    s3 = project.target.client("s3")
    up = upload_generated(s3, project.names.landing_bucket, n, 12 * 1024, seed=11, date_prefix="2026-11-25")
    snap = watcher.wait(n, stall_timeout_s=120)
    assert snap.tracked == n and snap.pending == 0 and snap.dlq_visible == 0

    verdict = validate(project.target, project.names, project.cache_dir())
    assert verdict["pass"], dumps(verdict)
    assert verdict["records_in"] == verdict["records_out"] == up.records > 0
    assert verdict["duplicates"] == verdict["missing"] == verdict["orphans"] == 0
    assert verdict["files_in_manifests"] == verdict["files_landed"] == n

    counts = sorted(int(i["file_count"]["N"]) for i in manifest_items(project))
    assert counts == [7] + [BATCH] * 8, counts  # full manifests, one flushed tail

    # The pipeline ran at LOG_LEVEL=DEBUG: its lines carry keys and ids, never record content.
    log = (project.workdir / ministack.LOG_FILE).read_text(errors="replace")
    assert "manifest_builder" in log and "manifest_started" in log
    assert CANARY_MARK not in log and CANARY_MARK.lower() not in log


def test_hand_written_files_within_the_contract_come_out_once_with_lineage(project, pipeline, watcher):
    s3 = project.target.client("s3")
    bucket = project.names.landing_bucket
    files = {
        "hand/2026-02-03/with space+plus é.ndjson": b'{"id": 1, "nested": {"a": [1, 2]}}\n\n{"id": 2, "new": "x"}\n',
        "no-date/data.jsonl": b'{"k": "v", "n": null}\n{"k": "w", "n": 3.5}',
        "deep/a/2026-02-04/b/c.json": b'{"only": true}\n',
        "gz/2026-02-03/z.ndjson.gz": gzip.compress(b'{"z": 1}\n{"z": 2}\n{"z": 3}\n'),
        "2026-02-03/conflict.ndjson": b'{"id": "text-id"}\n',
    }
    for key, body in files.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    s3.put_object(Bucket=bucket, Key="hand/notes.csv", Body=b"a,b\n")  # not a landing key
    watcher.wait(len(files), stall_timeout_s=90)

    verdict = validate(project.target, project.names, project.cache_dir())
    assert verdict["pass"], dumps(verdict)
    assert verdict["records_in"] == verdict["records_out"] == 9
    assert verdict["not_landing_keys"] == 1

    out = project.target.client("s3")
    rows = []
    for obj in out.list_objects_v2(Bucket=project.names.output_bucket, Prefix="parquet/")["Contents"]:
        data = out.get_object(Bucket=project.names.output_bucket, Key=obj["Key"])["Body"].read()
        rows += pq.read_table(io.BytesIO(data)).to_pylist()
        assert re.fullmatch(r"parquet/date=\d{4}-\d{2}-\d{2}/manifest=[A-Za-z0-9_-]+\.parquet", obj["Key"])
    lineage = sorted((r["_source_key"], r["_line"]) for r in rows)
    assert lineage == sorted([
        ("hand/2026-02-03/with space+plus é.ndjson", 1), ("hand/2026-02-03/with space+plus é.ndjson", 3),
        ("no-date/data.jsonl", 1), ("no-date/data.jsonl", 2), ("deep/a/2026-02-04/b/c.json", 1),
        ("gz/2026-02-03/z.ndjson.gz", 1), ("gz/2026-02-03/z.ndjson.gz", 2), ("gz/2026-02-03/z.ndjson.gz", 3),
        ("2026-02-03/conflict.ndjson", 1)])
    by_key = {(r["_source_key"], r["_line"]): r for r in rows}
    assert by_key[("hand/2026-02-03/with space+plus é.ndjson", 1)]["nested"] == {"a": [1, 2]}
    assert by_key[("deep/a/2026-02-04/b/c.json", 1)]["only"] is True
    dates = {m["date_prefix"]["S"] for m in manifest_items(project)}
    assert {"2026-02-03", "2026-02-04"} <= dates


def test_redelivered_notification_is_tracked_once(project, pipeline, watcher):
    s3, sqs = project.target.client("s3"), project.target.client("sqs")
    key = "dup/2026-11-25/once.ndjson"
    s3.put_object(Bucket=project.names.landing_bucket, Key=key, Body=b'{"a": 1}\n')
    watcher.wait(1, stall_timeout_s=60)
    body = json.dumps({"Records": [{"eventName": "ObjectCreated:Put", "eventTime": "2026-11-25T10:00:00Z",
                                    "s3": {"bucket": {"name": project.names.landing_bucket},
                                           "object": {"key": "dup/2026-11-25/once.ndjson", "size": 9}}}]})
    url = sqs.get_queue_url(QueueName=project.names.queue)["QueueUrl"]
    log = project.workdir / ministack.LOG_FILE
    mark = log.stat().st_size
    for _ in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    from .conftest import wait_until

    # The re-sent messages were processed (each skipped as a redelivery) before the verdict is read.
    def skipped():
        with open(log, "rb") as fh:
            fh.seek(mark)
            return fh.read().decode("utf-8", "replace").count(f"already_tracked_skipped key={key} ") >= 3

    wait_until(skipped, timeout=60)
    watcher.wait(1, stall_timeout_s=60)
    verdict = validate(project.target, project.names, project.cache_dir())
    assert verdict["pass"], dumps(verdict)
    assert verdict["files_tracked"] == 1 and verdict["records_out"] == 1 and verdict["manifests"] == 1


def test_a_message_that_is_not_an_s3_event_goes_to_the_dlq(project, pipeline, watcher):
    sqs = project.target.client("sqs")
    url = sqs.get_queue_url(QueueName=project.names.queue)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    try:
        sqs.send_message(QueueUrl=url, MessageBody="this is not an S3 event")
        from .conftest import wait_until

        wait_until(lambda: watcher.snapshot().dlq_visible == 1, timeout=60)
    finally:
        pipeline.apply()  # restores the visibility timeout
    assert watcher.snapshot().tracked == 0
