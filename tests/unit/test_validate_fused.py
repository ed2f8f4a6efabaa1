"""The record pass feeds the multiset check: its digests are the ones the multiset check's own
hashing makes, every row and line once; and its fast test (canonical texts equal) never settles a
line that needs an exact reading."""

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.validate import content, hashing, records
from sim.validate.rowtext import RowTexts
from tests.unit.localvalidation import record_pass
from tests.unit.test_validate_parts import FILES, output, run  # noqa: F401 (the fixture)


def _tuples(tables, columns):
    return sorted(x for t in tables for x in zip(*(t.column(c).to_pylist() for c in columns)))


# Rows are read, and given their texts, READ_ROWS at a time: small values make runs of one key
# span several reads, and parts skip rows whose texts are already made.
@pytest.mark.parametrize("read_rows", [7, 100, records.READ_ROWS])
def test_the_record_pass_digests_are_the_multiset_checks_own(output, read_rows, monkeypatch):  # noqa: F811
    monkeypatch.setattr(records, "READ_ROWS", read_rows)
    units = records.plan_units({k: len(b) for k, b in FILES.items()}, {"m1": "out.parquet"},
                               {"m1": {"files": [{"key": k} for k in FILES]}}, set(), workers=2)
    assert len(units) > 1
    hashed = [h for r in run(units, output) for h in r.hashed]
    landed = [h.table for h in hashed if hashing.is_landed(h)]
    rows = [h.table for h in hashed if not hashing.is_landed(h)]
    assert sorted(h.name for h in hashed if hashing.is_landed(h)) == sorted(FILES)

    own = hashing.Result(hashing.LANDED.empty_table())
    expected_landed = [hashing.landed_records(k, io.BytesIO(b), own) for k, b in FILES.items()]
    table = pq.read_table(output)
    texts = RowTexts(table.schema, content.LINEAGE).texts(table)
    expected_rows = pa.table({"h": hashing.digest.digests(texts), "file": hashing.repeated("out.parquet", len(table)),
                              "row": pa.array(range(len(table)), pa.int64())}, schema=hashing.ROWS)
    got_landed = _tuples(landed, ("h", "key", "line"))
    want_landed = _tuples(expected_landed, ("h", "key", "line"))
    assert got_landed == want_landed and len(got_landed) == sum(b.count(b"\n") for b in FILES.values())
    got_rows = _tuples(rows, ("h", "file", "row"))
    want_rows = _tuples([expected_rows], ("h", "file", "row"))
    assert got_rows == want_rows  # every row once, over all parts
    assert sum(h.lines for h in hashed if hashing.is_landed(h)) == len(got_landed)


def test_a_line_read_exactly_is_compared_value_by_value_even_when_its_text_matches(tmp_path):
    # The landed decimal is the exact binary expansion of the double 0.1; the row's JSON text holds
    # 0.10000000000000000, another exact decimal. Both canonical texts are `0.1` (the multiset's
    # documented exception), but the two exact numbers differ: the row is altered.
    key = "exact/2026-11-25/a.ndjson"
    body = b'{"d":0.1000000000000000055511151231257827021181583404541015625,"s":"a"}\n{"d":2.5,"s":"b"}\n'
    schema = pa.schema([pa.field("d", pa.string(), metadata={b"sim.json_text": b"1"}), ("s", pa.string()),
                        ("_source_key", pa.string()), ("_line", pa.int64()), ("_manifest_id", pa.string())])
    path = str(tmp_path / "out.parquet")
    pq.write_table(pa.table({"d": ["0.10000000000000000", "2.5"], "s": ["a", "b"], "_source_key": [key, key],
                             "_line": [1, 2], "_manifest_id": ["m1", "m1"]}, schema=schema), path)
    result = record_pass({key: body}, path, "m1")
    assert (result.compared, result.altered) == (2, 1)
    assert result.altered_examples == [{"key": key, "line": 1, "path": "/d"}]


def test_a_decimal_column_is_compared_value_by_value_too(tmp_path):
    # The same two exact decimals, the row's in a decimal column: no text can tell them apart.
    from decimal import Decimal

    key = "exact/2026-11-25/b.ndjson"
    body = b'{"d":0.1000000000000000055511151231257827021181583404541015625}\n{"d":2.5}\n'
    schema = pa.schema([("d", pa.decimal128(20, 17)), ("_source_key", pa.string()), ("_line", pa.int64()),
                        ("_manifest_id", pa.string())])
    path = str(tmp_path / "out.parquet")
    pq.write_table(pa.table({"d": [Decimal("0.1"), Decimal("2.5")], "_source_key": [key, key], "_line": [1, 2],
                             "_manifest_id": ["m1", "m1"]}, schema=schema), path)
    result = record_pass({key: body}, path, "m1")
    assert (result.compared, result.altered) == (2, 1)
    assert result.altered_examples == [{"key": key, "line": 1, "path": "/d"}]


def test_an_altered_row_among_consecutive_equal_ones_is_found(tmp_path):
    key = "plain/2026-11-25/c.ndjson"
    body = b"".join(b'{"i":%d,"s":"v%d"}\n' % (i, i) for i in range(1, 101))
    path = str(tmp_path / "out.parquet")
    s = [f"v{i}" for i in range(1, 101)]
    s[56] = "changed"  # line 57
    pq.write_table(pa.table({"i": list(range(1, 101)), "s": s, "_source_key": [key] * 100,
                             "_line": list(range(1, 101)), "_manifest_id": ["m1"] * 100}), path)
    result = record_pass({key: body}, path, "m1")
    assert (result.compared, result.altered) == (100, 1)
    assert result.altered_examples == [{"key": key, "line": 57, "path": "/s"}]
