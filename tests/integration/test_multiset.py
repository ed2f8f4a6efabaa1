"""Validation without lineage on the engine: the deployed converter's output judged as a multiset
of records, agreeing with the lineage check on a clean run and finding a hand-altered, a deleted
and a duplicated row from record values alone (the output copied without its lineage columns)."""

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from sim.core import contract
from sim.validate import multiset
from sim.validate.run import validate

from .conftest import dumps as show

KEY = "multiset/2026-11-22/a.ndjson"


def _rewrite(s3, bucket: str, key: str, table: pa.Table) -> None:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    s3.put_object(Bucket=bucket, Key=key, Body=sink.getvalue())


def test_altered_deleted_and_duplicated_rows_are_found_without_lineage(project, pipeline, watcher):
    s3 = project.target.client("s3")
    lines = [json.dumps({"id": i, "amount": i * 1.5, "nested": {"n": i, "s": "x" * i},
                         "tags": ["a"] * (i % 3), "big": 2**64 + i if i % 7 == 0 else None}) for i in range(40)]
    lines.insert(10, "this line is no JSON")  # line 11: quarantined by the converter
    s3.put_object(Bucket=project.names.landing_bucket, Key=KEY, Body="\n".join(lines).encode() + b"\n")
    watcher.wait(1, stall_timeout_s=90)

    clean = validate(project.target, project.names, project.cache_dir())
    ms = clean["multiset"]
    assert clean["pass"] and clean["checks_agree"] and ms["pass"], show(clean)
    assert (ms["records_in"], ms["records_out"], ms["quarantined"], ms["not_records"]) == (41, 40, 1, 1)
    assert ms["seconds"]["total"] > 0 and clean["seconds"]["multiset"] == ms["seconds"]["total"]
    assert contract.problems(clean, contract.Validation) == [] and contract.problems(ms, contract.Multiset) == []

    out = project.names.output_bucket
    (key,) = [o["Key"] for o in s3.list_objects_v2(Bucket=out, Prefix="parquet/")["Contents"]]
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=out, Key=key)["Body"].read()))
    line_of = table.column("_line").to_pylist()
    nested = table.column("nested").to_pylist()
    nested[7]["n"] += 1  # one value of one row
    table = table.set_column(table.schema.get_field_index("nested"), table.schema.field("nested"),
                             pa.array(nested, table.schema.field("nested").type))
    keep = [i for i in range(table.num_rows) if i != 12] + [20]  # row 12 deleted, row 20 twice
    table = table.take(pa.array(keep))

    # The lineage columns dropped, the file's own metadata (JSON text columns) kept.
    bare = table.drop_columns(["_source_key", "_line", "_manifest_id"])
    _rewrite(s3, out, "bare/output.parquet", bare)
    found = multiset.check(project.target, multiset.Options(
        landing_bucket=project.names.landing_bucket, output_bucket=out, output_prefix="bare/",
        quarantine_prefix="quarantine/", workers=2))
    assert not found["pass"], show(found)
    assert (found["altered"], found["missing"], found["duplicated"], found["unexpected"]) == (1, 1, 1, 0), show(found)
    examples = found["examples"]
    assert examples["altered"] == [{"key": KEY, "line": line_of[7], "output": "bare/output.parquet", "row": 7,
                                    "path": "/nested/n"}]
    assert examples["missing"] == [{"key": KEY, "line": line_of[12]}]
    assert examples["duplicated"] == [{"key": KEY, "line": line_of[20], "copies_in": 1, "copies_out": 2}]
    assert "x" * 5 not in json.dumps(found)  # names and places, never values

    s3.put_object(Bucket=out, Key="bare/broken.parquet", Body=b"not parquet at all")
    broken = multiset.check(project.target, multiset.Options(
        landing_bucket=project.names.landing_bucket, output_bucket=out, output_prefix="bare/",
        quarantine_prefix="quarantine/", workers=2))
    assert broken["outputs_unreadable"] == 1 and (broken["altered"], broken["missing"]) == (1, 1), show(broken)
    assert any("bare/broken.parquet" in p for p in broken["problems"])
    for name in ("bare/output.parquet", "bare/broken.parquet"):
        s3.delete_object(Bucket=out, Key=name)

    # Through sim validate, both checks see the same three faults and agree.
    _rewrite(s3, out, key, table)
    verdict = validate(project.target, project.names, project.cache_dir())
    assert not verdict["pass"] and verdict["checks_agree"], show(verdict)
    assert (verdict["altered"], verdict["missing"], verdict["duplicates"]) == (1, 1, 1)
    ms = verdict["multiset"]
    assert (ms["altered"], ms["missing"], ms["duplicated"], ms["unexpected"]) == (1, 1, 1, 0), show(ms)
