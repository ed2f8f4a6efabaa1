"""The converter's two writes (quarantine, then the Parquet output) and a run killed between them."""

import io

import pyarrow.parquet as pq
import pytest

from sim.pipeline import convert_manifest, manifests
from sim.pipeline.state import State


class Killed(BaseException):
    """The run dies here (not an Exception: nothing in the converter may catch it)."""


class DiesOnWrite:
    """The engine's own S3 client, except that the run dies at its n-th write to the output."""

    def __init__(self, s3, n: int):
        self._s3, self._n = s3, n

    def __getattr__(self, name):
        call = getattr(self._s3, name)
        if name not in ("put_object", "upload_file", "delete_object"):
            return call

        def write(*args, **kwargs):
            self._n -= 1
            if self._n == 0:
                raise Killed(name)
            return call(*args, **kwargs)

        return write


def test_a_run_killed_between_quarantine_and_output_leaves_no_output_and_the_next_repairs_it(project, pipeline):
    t, s3 = project.target, project.target.client("s3")
    bucket, out = project.names.artifacts_bucket, project.names.output_bucket
    day, mid, key = "2026-03-06", "2026-03-06-killed", "2026-03-06/half.ndjson"
    etag = s3.put_object(Bucket=bucket, Key=key, Body=b'{"a": 1}\n{"a": \n')["ETag"].strip('"')
    mkey = manifests.manifest_key(day, mid)
    s3.put_object(Bucket=out, Key=mkey, Body=manifests.manifest_document(
        mid, day, [{"bucket": bucket, "file_key": key, "size": 16, "etag": etag}]))
    ddb = t.session.resource("dynamodb", endpoint_url=t.endpoint)
    State(ddb.Table(project.names.table)).open_manifest(day, mid, mkey)
    out_key, q_key = manifests.output_key(day, mid), manifests.quarantine_key(day, mid)

    with pytest.raises(Killed):
        convert_manifest.run(out, mkey, out, project.names.table, s3=DiesOnWrite(s3, 2), dynamodb=ddb)
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=out, Prefix=f"parquet/date={day}/").get("Contents", [])}
    assert out_key not in listed  # no output without the quarantine it goes with
    assert "record_count" not in State(ddb.Table(project.names.table)).manifest(day, mid)

    summary = convert_manifest.run(out, mkey, out, project.names.table, s3=s3, dynamodb=ddb)
    assert (summary["records"], summary["quarantined"]) == (1, 1)
    rows = pq.read_table(io.BytesIO(s3.get_object(Bucket=out, Key=out_key)["Body"].read())).to_pylist()
    assert [r["a"] for r in rows] == [1]
    quarantine = s3.get_object(Bucket=out, Key=q_key)["Body"].read().decode().splitlines()
    assert len(quarantine) == 1 and '"line": 2' in quarantine[0]


def test_a_late_run_never_replaces_the_output_of_a_manifest_that_succeeded(project, pipeline):
    """A run that starts after its manifest succeeded (an orphan of a start that seemed to fail, a
    replayed execution) writes nothing, even when the source has changed since."""
    t, s3 = project.target, project.target.client("s3")
    bucket, out = project.names.artifacts_bucket, project.names.output_bucket
    day, mid, key = "2026-03-07", "2026-03-07-late", "2026-03-07/done.ndjson"
    etag = s3.put_object(Bucket=bucket, Key=key, Body=b'{"a": 1}\n{"a": 2}\n')["ETag"].strip('"')
    mkey = manifests.manifest_key(day, mid)
    s3.put_object(Bucket=out, Key=mkey, Body=manifests.manifest_document(
        mid, day, [{"bucket": bucket, "file_key": key, "size": 18, "etag": etag}]))
    ddb = t.session.resource("dynamodb", endpoint_url=t.endpoint)
    state = State(ddb.Table(project.names.table))
    state.open_manifest(day, mid, mkey)
    assert convert_manifest.run(out, mkey, out, project.names.table, s3=s3, dynamodb=ddb)["records"] == 2
    state.table.update_item(Key={"date_prefix": day, "file_key": "MANIFEST#" + mid},
                            UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                            ExpressionAttributeValues={":s": "succeeded"})
    s3.delete_object(Bucket=bucket, Key=key)  # the source is gone since

    late = convert_manifest.run(out, mkey, out, project.names.table, s3=s3, dynamodb=ddb)
    assert late["records"] is None and late["skipped"]
    out_key = manifests.output_key(day, mid)
    rows = pq.read_table(io.BytesIO(s3.get_object(Bucket=out, Key=out_key)["Body"].read())).to_pylist()
    assert [r["a"] for r in rows] == [1, 2]
    item = state.manifest(day, mid)
    assert (int(item["record_count"]), int(item["quarantined_files"])) == (2, 0)
