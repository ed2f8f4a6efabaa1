"""Outputs checked as they land (sim/validate/early.py), on the engine: every manifest's output is
checked while the run drains; the final verdict reuses those checks and finds the same counts as a
validation from scratch; an output changed after its check is checked again, and its altered row
found."""

import io

import pyarrow as pa
import pyarrow.parquet as pq

from sim.validate.early import EarlyCheck
from sim.validate.run import validate
from sim.workload.upload import upload_generated

from .conftest import BATCH, dumps as show

FILES = 4 * BATCH
COUNTS = ("records_in", "records_out", "records_compared", "altered", "duplicates", "missing", "files_landed",
          "manifests", "quarantined")


def test_outputs_checked_while_draining_stand_until_they_change(project, pipeline, watcher):
    early = EarlyCheck(project.target, project.names, poll_s=0.5).start()
    try:
        upload_generated(project.target.client("s3", max_pool=8), project.names.landing_bucket, FILES, 16 * 1024,
                         seed=3, date_prefix="2026-12-07")
        watcher.wait(FILES, stall_timeout_s=120)
        checked = early.stop()
    finally:
        early.close()
    assert len(checked.checked) == FILES // BATCH and checked.failed == 0, (checked.failed, early.errors)

    reused = validate(project.target, project.names, project.cache_dir(), early=checked)
    scratch = validate(project.target, project.names, project.cache_dir())
    assert reused["pass"] and reused["checks_agree"] and scratch["pass"], show(reused)
    assert reused["early"]["outputs_reused"] == FILES // BATCH and reused["early"]["outputs_checked_at_end"] == 0
    assert {k: reused[k] for k in COUNTS} == {k: scratch[k] for k in COUNTS}
    assert reused["multiset"]["records_in"] == scratch["multiset"]["records_in"] == scratch["records_in"]

    # One value of one row changed after its output was checked: that output is read again.
    s3, out = project.target.client("s3"), project.names.output_bucket
    key = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=out, Prefix="parquet/")["Contents"])[1]
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=out, Key=key)["Body"].read()))
    column = table.schema.get_field_index("amount")
    amounts = table.column(column).to_pylist()
    amounts[3] = (amounts[3] or 0) + 1
    table = table.set_column(column, table.schema.field(column), pa.array(amounts, table.schema.field(column).type))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    s3.put_object(Bucket=out, Key=key, Body=sink.getvalue())

    found = validate(project.target, project.names, project.cache_dir(), early=checked)
    assert not found["pass"] and found["altered"] == 1, show(found)
    assert found["early"]["outputs_reused"] == FILES // BATCH - 1 and found["early"]["outputs_checked_at_end"] == 1
    assert found["examples"]["altered"][0]["path"] == "/amount"
    assert found["checks_agree"], show(found)
