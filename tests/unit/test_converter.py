import gzip
import io
import json

import pyarrow.parquet as pq
import pytest

from sim.pipeline.converter import Source, convert
from sim.pipeline.lines import read_chunks, split_lines


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


def test_a_gzip_cut_short_keeps_its_whole_lines_and_quarantines_the_cut_one(tmp_path):
    records = [{"i": i, "pad": "x" * 50} for i in range(3000)]
    packed = gzip.compress(ndjson(*records))
    cut = packed[: len(packed) // 2]
    out = tmp_path / "o.parquet"
    result = convert([src("cut.ndjson.gz", cut), src("fine.ndjson", ndjson({"i": -1}))], "m", str(out))
    got = [r["i"] for r in rows(out) if r["_source_key"] == "cut.ndjson.gz"]
    assert 0 < len(got) < 3000 and got == list(range(len(got)))  # every whole line before the cut, in order
    tail, whole = result.quarantined
    assert tail.line == len(got) + 1 and tail.reason.startswith("the line is cut short") and tail.raw
    assert whole.line is None and f"inside line {tail.line}" in whole.reason
    assert result.records == len(got) + 1


def test_a_gz_key_holding_plain_text_is_quarantined_whole_not_fatal(tmp_path):
    out = tmp_path / "o.parquet"
    result = convert([src("plain.ndjson.gz", ndjson({"a": 1})), src("b.ndjson", ndjson({"a": 2}))], "m", str(out))
    assert [r["a"] for r in rows(out)] == [2]
    (q,) = result.quarantined
    assert q.key == "plain.ndjson.gz" and q.line is None and q.reason.startswith("not gzip data")


def test_a_gzip_cut_at_a_line_end_still_says_the_file_is_incomplete(tmp_path):
    import zlib

    z = zlib.compressobj(wbits=31)
    head = z.compress(ndjson({"a": 1}, {"a": 2})) + z.flush(zlib.Z_SYNC_FLUSH)  # a clean cut after line 2
    out = tmp_path / "o.parquet"
    result = convert([src("c.ndjson.gz", head)], "m", str(out))
    assert [r["a"] for r in rows(out)] == [1, 2]
    (q,) = result.quarantined
    assert q.line is None and "after line 2" in q.reason


def test_concatenated_gzip_members_are_one_file(tmp_path):
    out = tmp_path / "o.parquet"
    body = gzip.compress(ndjson({"a": 1})) + gzip.compress(ndjson({"a": 2}))
    result = convert([src("two.ndjson.gz", body)], "m", str(out))
    assert [(r["a"], r["_line"]) for r in rows(out)] == [(1, 1), (2, 2)] and not result.quarantined


def test_a_record_field_named_like_lineage_is_kept_beside_it(tmp_path):
    out = tmp_path / "o.parquet"
    convert([src("a.ndjson", ndjson({"_line": "mine", "x": 1}))], "m", str(out))
    (row,) = rows(out)
    assert row["_line"] == 1 and row["_line_record"] == "mine"


def test_bad_lines_are_quarantined_and_the_good_ones_converted(tmp_path):
    secret = "SIMCANARY-secret"
    data = (b'{"a": 1}\n{"a": "' + secret.encode() + b'"\n[1, 2]\n{"a": "\xff\xfe"}\n"text"\n{"a": 4}\n')
    out = tmp_path / "o.parquet"
    result = convert([src("in/bad.ndjson", data)], "m", str(out))
    assert [r["_line"] for r in rows(out)] == [1, 6] and result.records == 2
    got = {(q.line, q.reason) for q in result.quarantined}
    assert got == {(2, "invalid JSON"), (3, "a JSON array, not an object"), (4, "invalid UTF-8"),
                   (5, "a JSON string, not an object")}
    assert all(secret not in q.reason for q in result.quarantined)
    record = next(q for q in result.quarantined if q.line == 4).as_record("m")
    assert "raw_base64" in record and record["source_key"] == "in/bad.ndjson" and record["manifest_id"] == "m"


def test_a_line_longer_than_the_reader_block_is_converted_not_quarantined(tmp_path):
    long_value = "x" * (5 * 1024 * 1024)
    data = ndjson({"a": 1}, {"big": long_value}, {"a": 3})
    out = tmp_path / "o.parquet"
    result = convert([src("k", data)], "m", str(out))
    assert result.records == 3 and not result.quarantined
    assert len(rows(out)[1]["big"]) == len(long_value)


def test_a_source_gone_before_conversion_is_quarantined_whole(tmp_path):
    from sim.pipeline.converter import SourceGone

    def gone():
        raise SourceGone("object deleted before conversion")

    out = tmp_path / "o.parquet"
    result = convert([Source("gone.ndjson", gone), src("here.ndjson", ndjson({"a": 1}))], "m", str(out))
    assert result.records == 1 and result.files == 2
    (q,) = result.quarantined
    assert q.key == "gone.ndjson" and q.line is None


def test_empty_and_blank_files_give_no_rows_and_no_quarantine(tmp_path):
    out = tmp_path / "o.parquet"
    result = convert([src("empty.ndjson", b""), src("blank.ndjson", b"\n \n\n")], "m", str(out))
    assert result.records == 0 and not result.quarantined and rows(out) == []


def test_deep_and_wide_records_are_kept(tmp_path):
    deep: dict = {}
    cur = deep
    for _ in range(100):
        cur["n"] = {}
        cur = cur["n"]
    cur["v"] = 1
    wide = {f"f{i}": i for i in range(5000)}
    out = tmp_path / "o.parquet"
    result = convert([src("deep.ndjson", ndjson(deep)), src("wide.ndjson", ndjson(wide))], "m", str(out))
    assert result.records == 2 and not result.quarantined
    got = rows(out)
    assert got[1]["f4999"] == 4999


def test_rerun_overwrites_the_same_output(tmp_path):
    out = tmp_path / "o.parquet"
    convert([src("a", ndjson({"a": 1}))], "m", str(out))
    convert([src("a", ndjson({"a": 1}, {"a": 2}))], "m", str(out))
    assert len(rows(out)) == 2


def test_read_chunks_handle_missing_final_newline():
    chunks = list(read_chunks(io.BytesIO(b'{"a":1}\n\n{"a":2}'), chunk_bytes=4))
    numbers = [n for c in chunks for n in split_lines(c)[0]]
    assert numbers == [1, 3]


def test_a_too_deep_field_is_json_text_everywhere_and_exact(tmp_path):
    deep: dict = {"v": 1}
    for _ in range(60):
        deep = {"n": deep}
    out = tmp_path / "o.parquet"
    result = convert([src("a.ndjson", ndjson({"x": deep})), src("b.ndjson", ndjson({"x": {"n": 2}}, {"x": "s"}))],
                     "m", str(out))
    assert result.json_text_fields == ["x"] and result.records == 3
    values = [r["x"] for r in rows(out)]
    assert json.loads(values[0]) == deep and json.loads(values[1]) == {"n": 2} and json.loads(values[2]) == "s"


def test_a_failed_conversion_names_the_error_kind_never_its_message(caplog):
    from sim.pipeline.convert_manifest import ConversionFailed, values_withheld

    with pytest.raises(ConversionFailed) as failed:
        with values_withheld("m-1"):
            raise ValueError("Integer value 42424242424242424242 not in range")  # as pyarrow words it
    assert "42424242" not in str(failed.value) and "ValueError" in str(failed.value) and "m-1" in str(failed.value)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__
    assert "42424242" not in caplog.text and "convert_failed" in caplog.text


def test_every_column_but_the_line_number_is_dictionary_encoded(tmp_path):
    out = tmp_path / "o.parquet"
    records = [{"s": f"v{i % 3}", "n": {"t": "x", "l": [{"k": "a"}]}, "tags": ["p", "q"]} for i in range(50)]
    convert([src("in/a.ndjson", ndjson(*records))], "m1", str(out))
    meta = pq.ParquetFile(out).metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert "RLE_DICTIONARY" not in encodings["_line"]  # every value differs: a dictionary is waste
    dictionary = {p for p, e in encodings.items() if "RLE_DICTIONARY" in e}
    assert dictionary == set(encodings) - {"_line"}, encodings  # nested leaves included
    assert rows(out)[7]["n"] == {"t": "x", "l": [{"k": "a"}]}
