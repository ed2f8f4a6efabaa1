import gzip
import io
import json

import pyarrow.parquet as pq
import pytest

from sim.pipeline.converter import BadRecord, Source, convert, line_chunks


def src(key: str, data: bytes) -> Source:
    return Source(key, lambda: io.BytesIO(data))


def ndjson(*records, blank_after=()) -> bytes:
    lines = []
    for i, r in enumerate(records, 1):
        lines.append(json.dumps(r, ensure_ascii=False))
        if i in blank_after:
            lines.append("   ")
    return ("\n".join(lines) + "\n").encode()


def rows(path):
    return pq.read_table(path).to_pylist()


def test_lineage_columns_and_line_numbers_count_blank_lines(tmp_path):
    out = tmp_path / "o.parquet"
    data = ndjson({"a": 1}, {"a": 2}, {"a": 3}, blank_after=(1,))
    result = convert([src("in/x.ndjson", data)], "m-1", str(out))
    got = rows(out)
    assert result.records == 3
    assert [(r["_source_key"], r["_line"], r["_manifest_id"]) for r in got] == [
        ("in/x.ndjson", 1, "m-1"), ("in/x.ndjson", 3, "m-1"), ("in/x.ndjson", 4, "m-1")]
    assert [r["a"] for r in got] == [1, 2, 3]


def test_schemas_unify_missing_fields_become_null_nested_stays_nested(tmp_path):
    out = tmp_path / "o.parquet"
    a = ndjson({"id": 1, "user": {"name": "Zoë"}, "tags": ["x"]})
    b = ndjson({"id": 2.5, "user": {"age": 40}, "extra": True})
    convert([src("a.ndjson", a), src("b.jsonl", b)], "m", str(out))
    schema = pq.read_schema(out)
    assert str(schema.field("user").type) == "struct<name: string, age: int64>"
    assert str(schema.field("id").type) == "double"
    got = rows(out)
    assert got[0]["user"] == {"name": "Zoë", "age": None} and got[0]["extra"] is None
    assert got[1]["user"] == {"name": None, "age": 40} and got[1]["tags"] is None and got[1]["extra"] is True


def test_conflicting_types_become_json_text_without_losing_records(tmp_path):
    out = tmp_path / "o.parquet"
    result = convert([src("a.ndjson", ndjson({"v": 1}, {"v": "one"}))], "m", str(out))
    assert result.json_text_fields == ["v"]
    assert [r["v"] for r in rows(out)] == ["1", '"one"']


def test_small_chunks_give_the_same_rows_as_one_chunk(tmp_path):
    data = ndjson(*({"i": i, "s": "é" * (i % 7)} for i in range(200)), blank_after=(5, 50))
    big, small = tmp_path / "big.parquet", tmp_path / "small.parquet"
    convert([src("k", data)], "m", str(big))
    convert([src("k", data)], "m", str(small), chunk_bytes=97)
    assert rows(big) == rows(small)


def test_gzip_sources_are_decompressed(tmp_path):
    out = tmp_path / "o.parquet"
    convert([src("a.ndjson.gz", gzip.compress(ndjson({"a": 1}, {"a": 2})))], "m", str(out))
    assert [r["a"] for r in rows(out)] == [1, 2]


def test_a_record_field_named_like_lineage_is_kept_beside_it(tmp_path):
    out = tmp_path / "o.parquet"
    convert([src("a.ndjson", ndjson({"_line": "mine", "x": 1}))], "m", str(out))
    (row,) = rows(out)
    assert row["_line"] == 1 and row["_line_record"] == "mine"


def test_bad_line_names_key_and_line_but_not_content(tmp_path):
    secret = "SIMCANARY-secret"
    data = b'{"a": 1}\n{"a": "' + secret.encode() + b'"\n'
    with pytest.raises(BadRecord) as info:
        convert([src("in/bad.ndjson", data)], "m", str(tmp_path / "o.parquet"))
    assert info.value.key == "in/bad.ndjson" and info.value.line == 2
    assert secret not in str(info.value)


def test_rerun_overwrites_the_same_output(tmp_path):
    out = tmp_path / "o.parquet"
    convert([src("a", ndjson({"a": 1}))], "m", str(out))
    convert([src("a", ndjson({"a": 1}, {"a": 2}))], "m", str(out))
    assert len(rows(out)) == 2


def test_line_chunks_handle_missing_final_newline():
    chunks = list(line_chunks(io.BytesIO(b'{"a":1}\n\n{"a":2}'), chunk_bytes=4))
    numbers = [n for c in chunks for n in c[0]]
    assert numbers == [1, 3]
