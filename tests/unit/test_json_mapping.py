"""The JSON -> Parquet mapping, case by case: what each kind of value is stored as, and that it reads
back as the same value (compared the way `sim validate` compares)."""

import io
import json

import pyarrow.parquet as pq
import pytest

from sim.pipeline.converter import Source, convert
from sim.validate import content


def run(tmp_path, *files, **kwargs):
    """Convert files (each a list of lines) and return (result, schema, [(line, record) ...])."""
    sources = [Source(f"in/f{i}.ndjson", (lambda d=b"".join(l + b"\n" for l in lines): io.BytesIO(d)))
               for i, lines in enumerate(files)]
    out = tmp_path / "o.parquet"
    result = convert(sources, "m", str(out), **kwargs)
    table = pq.read_table(out)
    records = content.RowReader(table.schema).records(table)
    return result, table.schema, records


def assert_round_trip(files, records):
    landed = [line for lines in files for line in lines]
    assert len(records) == len(landed)
    for line, record in zip(landed, records):
        assert content.same(content.parse(line, exact=True), record), line


@pytest.mark.parametrize("lines, field, stored", [
    ([b'{"id":1,"meta":{}}'], "meta", "string"),  # an object with no members anywhere: JSON text
    ([b'{"v":9007199254740993}', b'{"v":1.5}'], "v", "string"),  # a big integer beside a decimal
    ([b'{"v":12345678901234567890}'], "v", "string"),  # beyond int64
    ([b'{"v":9223372036854775807}', b'{"v":-9223372036854775808}'], "v", "int64"),  # int64's ends
    ([b'{"v":0.10000000000000001}'], "v", "string"),  # more digits than a double keeps
    ([b'{"v":1e400}'], "v", "string"), ([b'{"v":1e-400}'], "v", "string"),  # beyond a double's range
    ([b'{"v":2.5e-3}', b'{"v":3}'], "v", "double"),  # exact as doubles: typed
    ([b'{"v":1152921504606846976.0}'], "v", "double"),  # 2**60 written as a decimal: a double holds it
    ([b'{"t":"2024-01-01T12:00:00+02:00"}', b'{"t":"2024-01-01"}'], "t", "string"),  # dates stay text
    ([b'{"t":"2024-01-01T12:00:00Z"}'], "t", "string"),
    ([b'{"v":1}', b'{"v":"one"}'], "v", "string"),  # different JSON types
    ([b'{"v":[1,"x"]}'], "v", "string"),
    ([b'{"v":true}', b'{"v":1}'], "v", "string"),
    ([b'{"s":"x\\ud800y"}'], "s", "string"),  # a lone surrogate escape: valid JSON, not Unicode text
    ([b'{"l":[]}', b'{"l":[[]]}'], "l", "list<element: list<element: null>>"),
    ([b'{"a":{"b":{}}}', b'{"a":{"b":{"c":1}}}'], "a", "struct<b: struct<c: int64>>"),
    ([b'{"n":null}', b'{}'], "n", "null"),
])
def test_each_kind_of_value_is_stored_as_the_mapping_says_and_reads_back_unchanged(tmp_path, lines, field, stored):
    result, schema, records = run(tmp_path, lines)
    assert not result.quarantined
    assert str(schema.field(field).type) == stored
    assert (field in result.json_text_fields) == (stored == "string" and field != "t")
    assert_round_trip([lines], records)


def test_a_type_change_across_files_makes_the_field_text_in_every_row(tmp_path):
    files = ([b'{"v":1,"w":{"x":1}}'], [b'{"v":"a","w":{"x":2.5}}'], [b'{"v":{"deep":[1,2]}}'])
    result, schema, records = run(tmp_path, *files)
    assert result.json_text_fields == ["v"] and str(schema.field("w").type) == "struct<x: double>"
    assert_round_trip(files, records)


def test_integers_beyond_2_53_never_widen_to_double_across_files(tmp_path):
    files = ([b'{"v":9007199254740993}'], [b'{"v":0.5}'])
    result, schema, records = run(tmp_path, *files)
    assert result.json_text_fields == ["v"]
    assert_round_trip(files, records)


def test_nan_and_infinity_are_quarantined_with_a_reason(tmp_path):
    lines = [b'{"v":NaN}', b'{"v":Infinity}', b'{"v":-Infinity}', b'{"v":-Inf}', b'{"v":1.5}']
    result, _, records = run(tmp_path, lines)
    assert [q.line for q in result.quarantined] == [1, 2, 3, 4] and len(records) == 1
    assert ["not a JSON number" in q.reason for q in result.quarantined] == [True, True, True, False]
    assert result.quarantined[3].reason == "invalid JSON"  # pyarrow reads -Inf; JSON has no such token


def test_a_repeated_name_keeps_the_last_value_and_is_counted(tmp_path):
    result, _, records = run(tmp_path, [b'{"a":1,"a":2,"b":{"c":1,"c":"x"}}'])
    assert records == [{"a": 2, "b": {"c": "x"}}] and result.repeated_names == 1


def test_fields_named_like_lineage_are_renamed_and_named_back(tmp_path):
    lines = [b'{"_line":"mine","_line_record":6,"_source_key":1,"_manifest_id":null}']
    result, schema, records = run(tmp_path, lines)
    assert result.renamed_fields == {"_line_record_record": "_line", "_source_key_record": "_source_key",
                                     "_manifest_id_record": "_manifest_id"}
    assert schema.field("_line").type == "int64"
    assert_round_trip([lines], records)


def test_keys_that_differ_only_in_case_and_the_empty_key_are_kept(tmp_path):
    lines = [b'{"a":1,"A":2,"":3,"n":{"k":1,"K":"x","":null}}']
    _, schema, records = run(tmp_path, lines)
    assert {"a", "A", ""} <= set(schema.names)
    assert_round_trip([lines], records)


def test_a_field_switching_type_on_every_line_costs_no_spill_per_line(tmp_path):
    lines = [json.dumps({"v": [1, "x", {"k": i}, [i], True, None][i % 6], "i": i}).encode() for i in range(3000)]
    result, _, records = run(tmp_path, lines, chunk_bytes=4096)
    assert result.json_text_fields == ["v"] and result.parts <= 1 and not result.quarantined
    assert_round_trip([lines], records)


def test_invalid_json_of_every_strange_kind_costs_its_line_only(tmp_path):
    bad = [b'{"a":1,}', b'{"a":01}', b"{'a':1}", b'{"a":1.}', b'{"a":.5}', b'{"a":0x10}', b'{"a":1}//c',
           b'{"a":+1}', b'{"a":"tab\there"}', b'{"a":1} {"b":2}', b'{"a":nul}', b'[1]', b'"s"', b'3', b'null',
           b'{"a":"\xff"}', b'{"a":1', b'}']
    good = [b'{"a":1}', b'{"a":2}']
    result, _, records = run(tmp_path, good[:1] + bad + good[1:])
    assert len(records) == 2 and len(result.quarantined) == len(bad)
    assert sorted(q.line for q in result.quarantined) == list(range(2, 2 + len(bad)))


def test_lines_nested_deeper_than_the_limit_are_quarantined_and_shallower_ones_kept(tmp_path):
    from sim.pipeline.jsonvalues import MAX_DEPTH

    def nested(depth):
        return ("[" * (depth - 1) + "1" + "]" * (depth - 1)).encode()

    lines = [b'{"a":' + nested(MAX_DEPTH - 1) + b"}", b'{"a":' + nested(MAX_DEPTH + 5) + b"}", b'{"b":1}']
    result, _, records = run(tmp_path, lines)
    assert [q.line for q in result.quarantined] == [2] and "nested deeper" in result.quarantined[0].reason
    assert len(records) == 2


def test_a_line_longer_than_the_limit_is_quarantined_without_holding_it(tmp_path):
    lines = [b'{"a":1}', b'{"big":"' + b"x" * 5000 + b'"}', b'{"a":3}']
    result, _, records = run(tmp_path, lines, max_line_bytes=1000, chunk_bytes=256)
    (q,) = result.quarantined
    assert q.line == 2 and q.raw_truncated and "longer than the limit" in q.reason and len(q.raw) <= 5012
    assert [r["a"] for r in records] == [1, 3]


def test_a_gzip_bomb_is_cut_at_the_limit_and_said_so(tmp_path):
    import gzip

    body = gzip.compress(b'{"a":1}\n' * 200_000)  # 1.6 MB of lines from a few KB
    out = tmp_path / "o.parquet"
    result = convert([Source("bomb.ndjson.gz", lambda: io.BytesIO(body))], "m", str(out), max_gz_bytes=80_000)
    whole = [q for q in result.quarantined if q.line is None]
    assert len(whole) == 1 and "passed the limit of 80000 bytes" in whole[0].reason
    assert result.records == 10_000  # every whole line before the cut


def test_a_huge_line_is_read_in_linear_time(tmp_path):
    from sim.pipeline.lines import read_chunks

    class Counting(io.BytesIO):
        reads = 0

        def read(self, n=-1):
            Counting.reads += 1
            return super().read(n)

    data = b'{"big":"' + b"y" * (8 * 1024 * 1024) + b'"}\n{"a":1}\n'
    pieces = list(read_chunks(Counting(data), chunk_bytes=64 * 1024))
    assert [len(p.data) for p in pieces] == [len(data)]  # one chunk holding both lines, built once
    assert Counting.reads == len(data) // (64 * 1024) + 2


def test_messages_never_carry_values(tmp_path):
    secret = b"SIMCANARY-4242424242424242424242"
    lines = [b'{"v":' + secret[10:] + b'}', b'{"v":"' + secret + b'"', b'{"v":NaN,"s":"' + secret + b'"}']
    result, _, _ = run(tmp_path, lines)
    text = json.dumps([q.reason for q in result.quarantined] + list(result.json_text_reasons.values()))
    assert b"4242" not in text.encode() and b"SIMCANARY" not in text.encode()
