"""Every value out as it came in, through the real wiring: property-drawn records land, convert on
the engine (the deployed converter), and validate value by value; a hand-altered row fails."""

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.validate.run import validate

from ..unit.test_json_property import RECORDS, dumps
from .conftest import dumps as show


@settings(max_examples=2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(files=st.lists(st.lists(RECORDS, min_size=20, max_size=40), min_size=3, max_size=5))
def test_property_drawn_records_validate_value_by_value_through_the_wiring(project, pipeline, watcher, files):
    from sim.infra import reset

    reset.wipe(project.target, project.names, pipeline.wiring.state_machine_arn())
    pipeline.apply()
    s3 = project.target.client("s3")
    lines = 0
    for i, records in enumerate(files):
        body = b"".join(dumps(r, ascii_only=bool(i % 2)).encode() + b"\n" for r in records)
        lines += len(records)
        s3.put_object(Bucket=project.names.landing_bucket, Key=f"prop/2026-11-20/f{i}.ndjson", Body=body)
    watcher.wait(len(files), stall_timeout_s=120)
    verdict = validate(project.target, project.names, project.cache_dir())
    assert verdict["pass"], show(verdict)
    assert verdict["records_in"] == verdict["records_out"] == verdict["records_compared"] == lines
    assert verdict["altered"] == 0 and verdict["quarantined"] == 0


def test_a_row_changed_by_hand_fails_validation_naming_key_line_and_path(project, pipeline, watcher):
    s3 = project.target.client("s3")
    body = b"".join(json.dumps({"id": i, "amount": i * 1.5, "nested": {"n": i, "s": "x" * i}}).encode() + b"\n"
                    for i in range(30))
    s3.put_object(Bucket=project.names.landing_bucket, Key="alter/2026-11-21/a.ndjson", Body=body)
    watcher.wait(1, stall_timeout_s=90)
    assert validate(project.target, project.names, project.cache_dir())["pass"]

    out = project.names.output_bucket
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=out, Prefix="parquet/")["Contents"]]
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=out, Key=key)["Body"].read()))
    nested = table.column("nested").to_pylist()
    nested[7]["n"] += 1  # one value of one row, nothing else
    table = table.set_column(table.schema.get_field_index("nested"), table.schema.field("nested"),
                             pa.array(nested, table.schema.field("nested").type))
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    s3.put_object(Bucket=out, Key=key, Body=sink.getvalue())

    verdict = validate(project.target, project.names, project.cache_dir())
    assert not verdict["pass"] and verdict["altered"] == 1, show(verdict)
    assert verdict["records_in"] == verdict["records_out"] == 30 and verdict["duplicates"] == verdict["missing"] == 0
    line = table.column("_line").to_pylist()[7]
    assert verdict["examples"]["altered"] == [{"key": "alter/2026-11-21/a.ndjson", "line": line, "path": "/nested/n"}]
    assert "altered records" in " ".join(verdict["problems"])
