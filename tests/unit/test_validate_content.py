"""What `sim validate` calls equal, and how it names a difference (never by value)."""

from decimal import Decimal

import pyarrow as pa
import pytest

from sim.validate import canonical, content


@pytest.mark.parametrize("landed, row, exact, expected", [
    ({"a": True}, {"a": True}, False, True),
    ({"a": True}, {"a": 1}, False, False),  # Python's == takes True for 1; validation must not
    ({"a": 0}, {"a": False}, False, False),
    ({"a": 1}, {"a": 1.0}, False, True),  # numbers compare by value
    ({"a": [1, {"b": 2}]}, {"a": [1.0, {"b": 2.0}]}, False, True),
    ({"a": 9007199254740993}, {"a": 9007199254740992.0}, False, False),
    ({"a": Decimal("0.1")}, {"a": 0.1}, True, True),  # prints back as the same number
    ({"a": Decimal("0.5000000000000000000")}, {"a": 0.5}, True, True),  # the double holds it exactly
    ({"a": Decimal("0.10000000000000001")}, {"a": 0.1}, True, False),
    ({"a": 12345678901234567890}, {"a": Decimal("12345678901234567890")}, True, True),
    ({"a": "1"}, {"a": 1}, False, False),
    ({"a": [1, 2]}, {"a": [2, 1]}, False, False),
    ({"a": {}}, {"a": {}}, False, True),
    ({}, {"a": 1}, False, False),
    ({"a": 2**70}, {"a": 2**70}, False, True),  # beyond what orjson writes: compared value by value
    ({"a": True, "b": 2**70}, {"a": 1, "b": 2**70}, False, False),
])
def test_equal_under_the_mapping(landed, row, exact, expected):
    assert content.equal(landed, row, exact) is expected


@pytest.mark.parametrize("landed, row", [
    ({"a": [True, 1]}, {"a": [1, 1]}),  # a boolean inside a list, beside equal leaves
    ({"a": {"b": 1, "c": "x"}}, {"a": {"b": True, "c": "x"}}),
    ({"a": {"b": "1"}}, {"a": {"b": 1}}),
    ({"a": [{"b": 1}, {"b": 2}]}, {"a": [{"b": 1}, {"b": 3}]}),
])
def test_exact_comparison_looks_inside_equal_looking_containers(landed, row):
    assert content.equal(landed, row, exact=True) is False
    assert content.equal(landed, landed, exact=True) is True


@pytest.mark.parametrize("text, row, fast", [
    (b'{"a": 1, "b": null, "c": {"d": null, "e": [null, "x"]}}', {"a": 1, "c": {"e": [None, "x"]}}, True),
    (b'{"b": 2, "a": "\\u00e9"}', {"a": "\u00e9", "b": 2}, True),  # member order does not matter
    (b'{"a": true}', {"a": 1}, False),  # == takes True for 1; the texts differ
    (b'{"a": 1}', {"a": True}, False),
    (b'{"a": 1}', {"a": 1.0}, True),  # one number by value
    (b'{"a": NaN}', {"a": 1.0}, False),  # not JSON: no text
    (b'{"a": "\\ud800"}', {"a": "\ud800"}, True),  # a lone surrogate, written in ASCII escapes on both sides
    (b'{"a": 0.5}', {"a": Decimal("0.5")}, True),  # a JSON text column parsed exactly
])
def test_the_fast_test_says_equal_only_when_it_is(text, row, fast):
    # The record pass's fast test: the line's canonical text is the row's
    line = canonical.line_text(text, canonical.careful_lines([text])[0])
    assert (line is not None and line == canonical.text(row)) is fast
    if fast:
        assert content.equal(content.parse(text, False), row, False)
    if fast:
        assert content.equal(content.parse(text, exact=False), row, exact=False)


def test_exact_parse_strips_nulls_and_keeps_every_digit_even_of_huge_integers():
    parsed = content.parse(b'{"a": null, "b": [null, {"c": null, "d": 0.1}]}', exact=True)
    assert parsed == {"b": [None, {"d": Decimal("0.1")}]}
    huge = b"9" * 5000  # beyond what Python's int() reads from text by default
    assert content.parse(b'{"n": ' + huge + b', "z": null}', exact=True) == {"n": Decimal(huge.decode())}
    with pytest.raises(content.NotJson):
        content.parse(b'{"n": 1', exact=True)


def test_nulls_and_absent_members_are_the_same_at_every_object_level_not_in_arrays():
    landed = content.parse(b'{"a": null, "b": {"c": null, "d": 1}, "l": [null, 1]}', exact=False)
    assert landed == {"b": {"d": 1}, "l": [None, 1]}
    assert content.parse(b'{"a": 1e400}', exact=True) == {"a": Decimal("1e400")}
    with pytest.raises(content.NotJson):
        content.parse(b'{"a": NaN}', exact=False)
    # Valid JSON that orjson refuses (a lone surrogate escape) is read by the standard library.
    assert content.parse(b'{"a": "\\ud800", "b": null}', exact=False) == {"a": "\ud800"}


def test_first_difference_is_a_json_pointer_without_values():
    a = {"x": {"y/z": [1, 2, {"w~": 3}]}, "k": "secret-a"}
    b = {"x": {"y/z": [1, 2, {"w~": 4}]}, "k": "secret-a"}
    assert content.first_difference(a, b) == "/x/y~1z/2/w~0"
    assert content.first_difference({"k": "secret-a"}, {"k": "secret-b"}) == "/k"
    assert content.first_difference({"a": 1}, {"a": 1, "b": 2}) == "/b"


def test_rows_are_read_back_as_records_text_parsed_names_restored_nulls_dropped():
    schema = pa.schema([pa.field("_line_record", pa.int64()), pa.field("t", pa.string(), metadata={b"sim.json_text": b"x"}),
                        pa.field("s", pa.struct([("a", pa.int64()), ("b", pa.string())])),
                        pa.field("_source_key", pa.string()), pa.field("_line", pa.int64()),
                        pa.field("_manifest_id", pa.string())],
                       metadata={b"sim.renamed_fields": b'{"_line_record": "_line"}'})
    table = pa.table({"_line_record": [7, None], "t": ['{"n": 12345678901234567890, "z": null}', None],
                      "s": [{"a": 1, "b": None}, None], "_source_key": ["k", "k"], "_line": [1, 2],
                      "_manifest_id": ["m", "m"]}, schema=schema)
    records = content.RowReader(schema).records(table)
    assert records == [{"_line": 7, "t": {"n": 12345678901234567890}, "s": {"a": 1}}, {}]
    lineage_only = table.select(["_source_key", "_line", "_manifest_id"])  # every record was `{}`
    assert content.RowReader(lineage_only.schema).records(lineage_only) == [{}, {}]


def test_risky_lines_are_the_ones_a_double_could_change():
    lines = [b'{"a": 1.5}', b'{"a": 0.10000000000000001}', b'{"a": 1e-400}', b'{"a": 12345678901234567890}',
             b'{"a": "no"}']
    assert content.risky_lines(lines) == [False, True, True, True, False]
    # Only number tokens count: hex in a string is not an exponent; a JSON text that is one big
    # number (a text column's value) is.
    assert content.risky_lines([b'{"id": "9ef7-1019e342-aa"}', b'{"id": "a", "n": [1,\t-12345678901234567]}',
                                b'18446744073709551616', b'{"a":  1E+308}', b'{"a": "x:1e308"}']) == [
        False, True, True, True, True]


def test_a_repeated_name_whose_last_value_is_null_reads_as_absent_on_every_path():
    # The converter keeps the last value of a repeated name; dropping nulls before that brought
    # back the earlier value on the standard library's paths (found by the line fuzzer).
    for text in (b'{"n": 1, "n": null}', b'{"n": "\\ud800", "n": null}'):
        for exact in (False, True):
            assert content.parse(text, exact) == {}, (text[:20], exact)
    assert content.parse(b'{"n": ' + b"1" * 5000 + b', "n": null}', exact=True) == {}  # risky_lines sends it here
