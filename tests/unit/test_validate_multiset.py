"""Validation without lineage: one canonical text per record, landed lines against Parquet rows
(canonical.py, rowtext.py), and the counting of the two multisets (tally.py, pairing.py)."""

import io
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.validate import canonical, content, digest, pairing, rowtext
from sim.validate.named import repeated
from sim.validate.tally import LANDED, LINES, ROWS, tally


def landed(line: str | bytes) -> bytes | None:
    """A landed line's canonical text, as the check computes it (scan first, then the text)."""
    raw = line.encode() if isinstance(line, str) else line
    return canonical.line_text(raw, canonical.careful_lines([raw])[0])


def rows(table: pa.Table, **options) -> list[bytes]:
    return rowtext.RowTexts(table.schema, **options).texts(table).to_pylist()


def one_row(**columns) -> pa.Table:
    return pa.table({k: (v if isinstance(v, pa.Array) else pa.array([v])) for k, v in columns.items()})


# --- canonical form: landed lines against each other ---------------------------------------------

@pytest.mark.parametrize("a, b", [
    ('{"n": 1}', '{"n": 1.0}'),
    ('{"n": 1}', '{"n": 1e0}'),
    ('{"n": 100}', '{"n": 1.00e2}'),
    ('{"n": 0.5}', '{"n": 5e-1}'),
    ('{"a": 1, "b": 2}', '{"b": 2, "a": 1}'),  # key order is irrelevant
    ('{"a": 1}', '{"a": 1, "b": null}'),  # absent and null are one
    ('{"o": {"x": 1}}', '{"o": {"x": 1, "y": null}}'),  # at every level of an object
    ('{"l": [{"x": 1}]}', '{"l": [{"y": null, "x": 1}]}'),  # inside arrays too
    ('{"n": 123456789012345678901234567890}', '{"n": 1.23456789012345678901234567890e29}'),
    ('{"n": 0.30000000000000004}', '{"n": 3.0000000000000004e-1}'),
    ('{"a": 1, "a": 2}', '{"a": 2}'),  # a repeated name keeps its last value
    ('{"a": 1, "a": null}', '{}'),
    ('{"s": "\\u00e9"}', '{"s": "é"}'),
    ('{"n": -0.0}', '{"n": 0}'),
])
def test_equal_records_have_one_text(a, b):
    assert landed(a) == landed(b) is not None


@pytest.mark.parametrize("a, b", [
    ('{"n": true}', '{"n": 1}'),  # a boolean is not a number
    ('{"n": false}', '{"n": 0}'),
    ('{"n": "1"}', '{"n": 1}'),
    ('{"n": 18446744073709551617}', '{"n": 18446744073709551616}'),  # beyond 64 bits, every digit counts
    ('{"n": 1180591620717411303424}', '{"n": 1180591620717411303425}'),
    ('{"n": 0.10000000000000001}', '{"n": 0.1}'),  # 17 digits a double cannot keep
    ('{"n": 1e400}', '{"n": 1e401}'),
    ('{"l": [1, null]}', '{"l": [null, 1]}'),  # arrays keep order and null elements
    ('{"l": [null]}', '{"l": []}'),
    ('{"o": {}}', '{}'),
    ('{"s": "a"}', '{"s": "a "}'),
])
def test_different_records_have_different_texts(a, b):
    assert landed(a) != landed(b)


@pytest.mark.parametrize("line", ['[1, 2]', '"x"', '3', 'null', '{"a": NaN}', '{"a": 1', '{"a": Infinity}',
                                  b'{"a": "\xff"}'])
def test_lines_that_are_not_json_objects_have_no_text(line):
    assert landed(line) is None


def test_a_lone_surrogate_string_is_a_record_of_its_own():
    text = landed('{"s": "x\\ud800"}')
    assert text is not None and text != landed('{"s": "x"}') and text != landed('{"s": "x\\\\ud800"}')
    assert landed('{"\\ud800": 1, "a": 2}') == landed('{"a": 2, "\\ud800": 1}')


def test_the_careful_scan_flags_numbers_orjson_would_write_otherwise():
    flags = canonical.careful_lines([b'{"a": 1.5}', b'{"a": 1.0}', b'{"a": 2e3}', b'{"a": 12345678901234567}',
                                     b'{"a": "12:00:00.5"}', b'{"a": [1, 2.50]}'])
    assert flags == [False, True, True, True, False, False]


@pytest.mark.parametrize("careful, plain", [
    ('{"n": 1.0, "x": null, "o": {"y": null, "z": [null, 2.0]}}', '{"n": 1, "o": {"z": [null, 2]}}'),
    ('{"big": 123456789012345678901, "x": null}', '{"big": 123456789012345678901}'),
    ('{"a": 1.0, "a": 2.0}', '{"a": 2}'),  # the last of a repeated name, read exactly too
    ('{"a": 1.0, "a": null}', '{}'),
    ('{"s": "x\\ud800", "n": 1e2}', '{"n": 100, "s": "x\\ud800"}'),
])
def test_the_careful_path_agrees_with_the_plain_one(careful, plain):
    assert canonical.careful_lines([careful.encode()]) == [True]
    assert landed(careful) == landed(plain) is not None
    both = [careful.encode(), plain.encode()]
    assert canonical.lines_texts(both, canonical.careful_lines(both)) == [landed(plain)] * 2


def test_the_text_is_json_that_denotes_the_record():
    text = landed('{"b": [1, 2.5, null, {"z": null, "y": 1e20}], "a": 12345678901234567890123}')
    assert json.loads(text) == {"a": 12345678901234567890123, "b": [1, 2.5, None, {"y": 10**20}]}


# --- landed lines against Parquet rows ------------------------------------------------------------

def test_an_integer_landed_equals_a_double_column_holding_it():
    assert rows(one_row(n=pa.array([1.0]))) == [landed('{"n": 1}')] == [landed('{"n": 1e0}')]
    assert rows(one_row(n=pa.array([1]))) == [landed('{"n": 1.0}')]


def test_a_17_digit_decimal_equals_its_double_only_when_it_prints_back_as_it():
    double = one_row(n=pa.array([0.30000000000000004]))
    assert rows(double) == [landed('{"n": 0.30000000000000004}')]
    assert rows(one_row(n=pa.array([0.1]))) != [landed('{"n": 0.10000000000000001}')]
    assert rows(one_row(n=pa.array([0.5]))) == [landed('{"n": 0.5000000000000000000000}')]  # it holds it


def test_integers_beyond_64_bits_compare_exactly_through_a_json_text_column():
    table = pa.table({"n": pa.array(["18446744073709551617"])},
                     schema=pa.schema([pa.field("n", pa.string(), metadata={b"sim.json_text": b"big"})]))
    assert rows(table) == [landed('{"n": 18446744073709551617}')]
    assert rows(table) != [landed('{"n": 18446744073709551616}')]


def test_json_text_columns_by_metadata_and_by_name():
    plain = pa.table({"meta": pa.array(['{"b": 1, "a": [1.0, null]}', None, "null"])})
    by_name = rows(plain, json_text=["meta"])
    assert by_name == [landed('{"meta": {"a": [1, null], "b": 1}}'), b"{}", b"{}"]
    tagged = plain.cast(pa.schema([pa.field("meta", pa.string(), metadata={b"sim.json_text": b"why"})]))
    assert rows(tagged) == by_name
    assert rows(plain) != by_name  # not declared: the string itself is the value


def test_renamed_fields_are_named_back_and_ignored_columns_dropped():
    schema = pa.schema([("_line_record", pa.int64()), ("x", pa.int64()), ("_line", pa.int64())],
                       metadata={b"sim.renamed_fields": b'{"_line_record": "_line"}'})
    table = pa.table([pa.array([7]), pa.array([1]), pa.array([3])], schema=schema)
    assert rows(table, ignore=["_line"]) == [landed('{"x": 1, "_line": 7}')]
    assert rows(table, ignore=["_line"], renamed_by_metadata=False) != [landed('{"x": 1, "_line": 7}')]


def test_nested_nulls_lists_and_structs_through_arrow():
    kind = pa.struct([("b", pa.int64()), ("a", pa.list_(pa.int64())), ("c", pa.struct([("d", pa.string())]))])
    column = pa.array([
        {"b": 1, "a": [1, None, 2], "c": {"d": "x"}},
        {"b": None, "a": [], "c": None},
        None,
        {"b": None, "a": None, "c": {"d": None}},
    ], kind)
    got = rows(pa.table({"o": column, "k": pa.array(["q", None, "r", None])}))
    assert got == [landed('{"o": {"a": [1, null, 2], "b": 1, "c": {"d": "x"}}, "k": "q"}'),
                   landed('{"o": {"a": []}}'),
                   landed('{"k": "r"}'),
                   landed('{"o": {"c": {}}}')]


def test_rows_whose_members_are_all_null_keep_their_place():
    # pyarrow 26's join with null_handling="skip" drops such rows; the texts must not
    table = pa.table({"a": pa.array([None, 1, None]), "b": pa.array([None, None, "x"])})
    assert rows(table) == [b"{}", landed('{"a": 1}'), landed('{"b": "x"}')]


def test_strings_needing_escapes_and_odd_doubles():
    strings = ['plain', 'a "quote"', "back\\slash", "tab\there", "nul\x00", "é🚀"]
    assert rows(pa.table({"s": pa.array(strings)})) == [landed(json.dumps({"s": s})) for s in strings]
    doubles = [0.1, -0.0, 2.0**53, 2.0**60, 1e20, 1.5e-7, 123456.789]
    assert rows(pa.table({"d": pa.array(doubles)})) == [landed(json.dumps({"d": d})) for d in doubles]
    odd = rows(pa.table({"d": pa.array([float("nan"), float("inf")])}))
    assert all(t not in (landed('{"d": null}'), landed('{}')) for t in odd) and odd[0] != odd[1]


def test_other_arrow_types_are_read_by_value():
    table = pa.table({"dec": pa.array([Decimal("1.50"), Decimal("0.1")], pa.decimal128(10, 2)),
                      "cat": pa.array(["a", "b"]).dictionary_encode(),
                      "big": pa.array(["x", "y"], pa.large_string()),
                      "f": pa.array([0.5, 1.0], pa.float32())})
    assert rows(table) == [landed('{"dec": 1.5, "cat": "a", "big": "x", "f": 0.5}'),
                           landed('{"dec": 0.10, "cat": "b", "big": "y", "f": 1}')]
    stamp = pa.table({"t": pa.array([0], pa.timestamp("s"))})
    assert rows(stamp) != [landed('{"t": "1970-01-01T00:00:00"}')]  # a timestamp is no JSON value


def test_a_mostly_absent_json_text_column_is_read_value_by_value_where_it_has_values():
    values = [None] * 7 + ['{"z": 1.50, "a": 12345678901234567890123}', None, "null", None, "[1e2, true]", None]
    schema = pa.schema([pa.field("j", pa.string(), metadata={b"sim.json_text": b"why"})])
    table = pa.table({"j": pa.array(values)}, schema=schema)
    texts = rows(table)
    expected = [b"{}" if v in (None, "null") else landed(f'{{"j": {v}}}') for v in values]
    assert texts == expected and texts[7] == b'{"j":{"a":12345678901234567890123,"z":1.5}}'
    sliced = rowtext.RowTexts(schema).texts(table.slice(6, 6)).to_pylist()  # an offset into the column's buffers
    assert sliced == expected[6:12]


def test_arrow_texts_equal_the_reference_on_sliced_batches():
    table = pa.table({"l": pa.array([[1, 2], None, [], [None], [3]]), "s": pa.array([{"x": 1}, None, {"x": None},
                                                                                   {"x": 2}, {"x": 3}])})
    whole = rows(table)
    part = rowtext.RowTexts(table.schema).texts(table.slice(1, 3)).to_pylist()
    assert part == whole[1:4]
    reference = [canonical.text(v) for v in rowtext.RowTexts(table.schema).values(table)]
    assert whole == reference


def test_property_drawn_records_through_the_converter_are_one_multiset(tmp_path):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from .test_json_property import RECORDS, dumps, through_converter

    @settings(max_examples=40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(groups=st.lists(st.lists(RECORDS, min_size=1, max_size=6), min_size=1, max_size=3),
           ascii_only=st.booleans())
    def check(groups, ascii_only):
        files = [b"".join(dumps(r, ascii_only).encode("utf-8") + b"\n" for r in g) for g in groups]
        result, table, _ = through_converter(tmp_path, files, 1 << 20)
        assert not result.quarantined
        lines = [line for body in files for line in body.split(b"\n") if line.strip()]
        assert sorted(landed(x) for x in lines) == sorted(rows(table, ignore=content.LINEAGE))

    check()


# --- counting: tally and pairing on Arrow tables ---------------------------------------------------

RECORDS_IN = [{"id": f"e{i}", "n": i, "o": {"x": i * 1.5, "s": "é" * (i % 3)}, "tags": ["a", "b"][: i % 3]}
              for i in range(12)]


def _landed_table(records: list[dict], key: str = "in/a.ndjson") -> tuple[pa.Table, list[bytes]]:
    lines = [json.dumps(r).encode() for r in records]
    texts = [landed(x) for x in lines]
    return pa.table({"h": digest.digests(texts), "key": repeated(key, len(texts)),
                     "line": pa.array(range(1, len(texts) + 1), pa.int64())}, schema=LANDED), lines


def _rows_table(records: list[dict], name: str = "out/a.parquet") -> tuple[pa.Table, pa.Table]:
    table = pa.Table.from_pylist(records)
    texts = rowtext.RowTexts(table.schema).texts(table)
    return pa.table({"h": digest.digests(texts), "file": repeated(name, table.num_rows),
                     "row": pa.array(range(table.num_rows), pa.int64())}, schema=ROWS), table


def _count(records_out: list[dict], quarantined=()):
    lt, lines = _landed_table(RECORDS_IN)
    rt, table = _rows_table(records_out)
    q = pa.table({"key": ["in/a.ndjson"] * len(quarantined), "line": pa.array(list(quarantined), pa.int64())},
                 schema=LINES)
    t = tally(lt, rt, q)
    values_in = [content.parse(lines[n - 1], exact=True) for n in t.unmatched_in.column("line").to_pylist()]
    values_out = rowtext.RowTexts(table.schema).values(table.take(t.unmatched_out.column("row")))
    pairs = pairing.pair(list(zip(t.unmatched_in.column("h").to_pylist(), values_in)),
                         list(zip(t.unmatched_out.column("h").to_pylist(), values_out)))
    return t, pairs, values_in, values_out


def test_a_clean_output_leaves_nothing_unmatched():
    t, pairs, _, _ = _count(list(reversed(RECORDS_IN)))  # row order does not matter
    assert (t.records_in, t.records_out, t.duplicated, t.unmatched_in_total, t.unmatched_out_total) == (12, 12, 0, 0, 0)
    assert pairs == []


def test_a_deleted_row_is_missing_and_names_its_landed_line():
    t, pairs, _, _ = _count(RECORDS_IN[:4] + RECORDS_IN[5:])
    assert t.unmatched_in_total == 1 and t.unmatched_out_total == 0 and pairs == []
    assert t.unmatched_in.select(["key", "line"]).to_pylist() == [{"key": "in/a.ndjson", "line": 5}]


def test_a_duplicated_row_is_counted_with_its_landed_line():
    t, pairs, _, _ = _count(RECORDS_IN + [RECORDS_IN[3], RECORDS_IN[3]])
    assert t.duplicated == 2 and t.unmatched_in_total == t.unmatched_out_total == 0
    assert t.duplicated_examples == [{"key": "in/a.ndjson", "line": 4, "copies_in": 1, "copies_out": 3}]


def test_a_quarantined_line_is_not_missing():
    t, _, _, _ = _count(RECORDS_IN[:4] + RECORDS_IN[5:], quarantined=[5])
    assert t.quarantined_records == 1 and t.records_in == 11 and t.unmatched_in_total == 0


def test_an_altered_row_is_paired_with_its_record_and_the_difference_named():
    changed = json.loads(json.dumps(RECORDS_IN))
    changed[6]["o"]["x"] = 99.25
    t, pairs, values_in, values_out = _count(changed)
    assert t.unmatched_in_total == t.unmatched_out_total == 1 and len(pairs) == 1
    (i, j), = pairs
    assert content.first_difference(values_in[i], values_out[j]) == "/o/x"


def test_an_unrelated_row_is_not_paired_with_a_missing_record():
    out = RECORDS_IN[:4] + RECORDS_IN[5:] + [{"id": "zz", "n": -1, "o": {"x": 0.25, "s": "q"}, "tags": ["c"]}]
    t, pairs, _, _ = _count(out)
    assert t.unmatched_in_total == t.unmatched_out_total == 1 and pairs == []


def test_pairing_refuses_a_record_two_rows_could_be():
    base = {"id": "x1", "a": 1, "b": 2, "c": 3}
    rows_out = [{"id": "x1", "a": 1, "b": 2, "c": 4}, {"id": "x1", "a": 1, "b": 5, "c": 3}]
    items_in = [(b"h0", base)]
    items_out = [(b"o0", rows_out[0]), (b"o1", rows_out[1])]
    assert pairing.pair(items_in, items_out) == []  # "x1" identifies nothing: two rows hold it
    assert pairing.pair(items_in, items_out[:1]) == [(0, 0)]


def test_copies_of_one_altered_record_pair_copy_for_copy():
    record = {"id": "d1", "a": 1, "b": [1, 2]}
    altered = {"id": "d1", "a": 2, "b": [1, 2]}
    pairs = pairing.pair([(b"h", record), (b"h", record)], [(b"g", altered), (b"g", altered), (b"g", altered)])
    assert sorted(pairs) == [(0, 0), (1, 1)]


def test_through_a_parquet_file_on_disk(tmp_path):
    """Texts of rows read back from a Parquet file equal those of the table written."""
    table = pa.Table.from_pylist(RECORDS_IN)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    back = pq.read_table(io.BytesIO(sink.getvalue()))
    assert rows(back) == rows(table) == [landed(json.dumps(r)) for r in RECORDS_IN]


# --- reading a landed object ------------------------------------------------------------------------

def test_a_landed_object_is_read_as_the_pipeline_frames_it():
    import gzip

    from sim.validate import hashing

    body = b'{"a": 1}\r\n\n  \n[1]\n{"b": 2.0}\nnot json\n{"a": 1}'
    for key, data in (("in/x.ndjson", body), ("in/x.ndjson.gz", gzip.compress(body))):
        result = hashing.Result(LANDED.empty_table())
        table = hashing.landed_records(key, io.BytesIO(data), result)
        assert table.column("line").to_pylist() == [1, 5, 7]  # line numbers count blank lines
        assert table.column("h").to_pylist()[0] == table.column("h").to_pylist()[2]
        assert [t.to_pylist() for t in result.not_records] == [[{"key": key, "line": 4}, {"key": key, "line": 6}]]
        assert result.lines == 5 and result.unread == []
    cut = gzip.compress(body)[:-12]  # a gzip stream cut short: its partial last line is unread
    result = hashing.Result(LANDED.empty_table())
    hashing.landed_records("in/c.ndjson.gz", io.BytesIO(cut), result)
    assert result.unread and result.unread[0].column("key").to_pylist() == ["in/c.ndjson.gz"]


def test_bad_options_are_one_clear_error():
    from sim.core.errors import SimError
    from sim.validate import multiset

    with pytest.raises(SimError, match="workers"):
        multiset.Options("landing", "output", workers=0)
    with pytest.raises(SimError, match="landing_bucket"):
        multiset.Options("", "output")


def test_digests_are_128_bits_equal_for_equal_texts_only():
    d = digest.digests([b'{"a":1}', b'{"a":1}', b'{"a":2}', b"{}"]).to_pylist()
    assert all(len(x) == 16 for x in d) and d[0] == d[1] and len(set(d)) == 3
    assert digest.digests(pa.array([b'{"a":1}'], pa.binary())).to_pylist() == d[:1]


def test_lines_that_are_no_record_are_counted_against_the_quarantine():
    from sim.validate.tally import NAMED_LINES, first_lines

    lines = pa.table({"key": repeated("k", 3), "line": pa.array([4, 2, 9], pa.int64())}, schema=NAMED_LINES)
    q = pa.table({"key": ["k", "k"], "line": pa.array([2, None], pa.int64())}, schema=LINES)
    assert first_lines(lines) == (3, [{"key": "k", "line": 2}, {"key": "k", "line": 4}, {"key": "k", "line": 9}])
    assert first_lines(lines, q) == (2, [{"key": "k", "line": 4}, {"key": "k", "line": 9}])
