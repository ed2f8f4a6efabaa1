"""Mutation fuzzer: valid NDJSON broken the way real files break, through `convert`.

Hypothesis draws a file of valid records and breaks it: lines cut short, bits flipped, invalid UTF-8,
lone surrogate escapes in names and values, vast exponents and digit runs, deep nesting, NUL bytes,
CR without LF, byte order marks (at the start, where they are allowed, and elsewhere), blank lines
of all kinds, lines split in two; sometimes gzipped, read in chunks of several sizes. Then:
- `convert` never raises;
- every non-blank line of the broken file (read by this test's own reading of the README's line
  definition) ends as exactly one row or one quarantine entry (by the lineage columns);
- a line becomes a row exactly when it is one JSON object within the documented limits (judged by
  the standard library's parser, not the converter's code), and a quarantine reason is always a
  documented one, never "the converter failed", which would be an unforeseen failure;
- `sim validate`'s record pass counts the same lines and finds every row holding its line's values.

`SIM_FUZZ_EXAMPLES` sets the number of examples (default 200, about 10 s on a 2-core machine; run
more by hand, e.g. SIM_FUZZ_EXAMPLES=20000).
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections import Counter
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.pipeline.converter import Source, convert
from tests.unit.localvalidation import lines_in, record_pass

BOM = b"\xef\xbb\xbf"
LIMIT_DEPTH = 256  # the README's nesting limit: objects and arrays, the record itself the first level

KEYS = st.sampled_from(["a", "b", "id", "user", "é", "", "tags", "n"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
                      max_leaves=8)
RECORDS = st.dictionaries(KEYS, VALUES, max_size=5)

# Whole members a line can gain (inserted after its opening brace): strange but often valid JSON.
MEMBERS = [
    b'"\\udfaa": 0',  # a lone surrogate escape as a top-level name: quarantined (a Parquet name is UTF-8)
    b'"x": {"\\ud800": [1]}',  # ... as a nested name: the field is JSON text
    b'"s": "\\ud800x"', b'"s": "\\udc00"',  # in values: JSON text
    b'"s": "a\\u0000b"',  # an escaped NUL: a valid string
    b'"n": 1e999', b'"n": -1e-400', b'"n": 1e999999999999999999', b'"n": 1e1000000000000000000',
    b'"n": 1e' + b"9" * 1000, b'"n": 1E-' + b"7" * 25,
    b'"n": ' + b"9" * 30, b'"n": -' + b"1" * 5000, b'"n": 0.' + b"3" * 400, b'"n": 1' + b"0" * 100000,
    b'"n": NaN', b'"n": -Infinity',
]
BAD_UTF8 = [b"\x80", b"\xc3", b"\xff", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"]
BLANKS = [b"", b" ", b"\t", b"\r", b" \t\r", b"\x0c", b"\x0b", b"\x00"]


def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"d":' * depth + b"1" + b"}" * depth


def _at(line: bytes, pos: int) -> int:
    return pos % (len(line) + 1)


def _with_member(line: bytes, member: bytes) -> bytes:
    body = line.lstrip()
    if not body.startswith(b"{"):
        return b"{" + member + b"}"
    rest = body[1:]
    return b"{" + member + (b"," if rest.lstrip(b" \t\r") and not rest.lstrip(b" \t\r").startswith(b"}") else b"") + rest


def _flip(line: bytes, pos: int) -> bytes:
    if not line:
        return line
    at = pos % len(line)
    return line[:at] + bytes([line[at] ^ (1 << (pos % 8))]) + line[at + 1:]


# Each way a line breaks: (name, f(lines, i, pos) -> lines). One kind per entry, so every one is
# drawn as often as any other.
MUTATIONS = [
    ("cut", lambda ls, i, p: ls[:i] + [ls[i][:_at(ls[i], p)]] + ls[i + 1:]),
    ("bit flip", lambda ls, i, p: ls[:i] + [_flip(ls[i], p)] + ls[i + 1:]),
    ("NUL byte", lambda ls, i, p: ls[:i] + [ls[i][:_at(ls[i], p)] + b"\x00" + ls[i][_at(ls[i], p):]] + ls[i + 1:]),
    ("control byte", lambda ls, i, p: ls[:i] + [ls[i][:_at(ls[i], p)] + bytes([1 + p % 31]) + ls[i][_at(ls[i], p):]] + ls[i + 1:]),
    ("CR without LF between lines", lambda ls, i, p: ls[:i] + [ls[i] + b"\r" + (ls[i + 1] if i + 1 < len(ls) else b"")] + ls[i + 2:]),
    ("CR inside a line", lambda ls, i, p: ls[:i] + [ls[i][:_at(ls[i], p)] + b"\r" + ls[i][_at(ls[i], p):]] + ls[i + 1:]),
    ("BOM opening a line", lambda ls, i, p: ls[:i] + [BOM + ls[i]] + ls[i + 1:]),
    ("BOM inside a line", lambda ls, i, p: ls[:i] + [ls[i][:_at(ls[i], p)] + BOM + ls[i][_at(ls[i], p):]] + ls[i + 1:]),
    ("LF inside a line", lambda ls, i, p: ls[:i] + [ls[i][:_at(ls[i], p)], ls[i][_at(ls[i], p):]] + ls[i + 1:]),
]
MUTATIONS += [(f"invalid UTF-8 {b!r}", lambda ls, i, p, b=b: ls[:i] + [ls[i][:_at(ls[i], p)] + b + ls[i][_at(ls[i], p):]] + ls[i + 1:])
              for b in BAD_UTF8]
MUTATIONS += [(f"member {m[:24]!r}", lambda ls, i, p, m=m: ls[:i] + [_with_member(ls[i], m)] + ls[i + 1:]) for m in MEMBERS]
MUTATIONS += [(f"nested {d} {k}", lambda ls, i, p, d=d, k=k: ls[:i] + [_with_member(ls[i], b'"deep": ' + nested(d, k))] + ls[i + 1:])
              for d in (47, 48, 254, 255, 256, 1200) for k in ("list", "obj")]
MUTATIONS += [(f"blank line {b!r}", lambda ls, i, p, b=b: ls[:i] + [b] + ls[i:]) for b in BLANKS]
# Lines holding no object: a top-level null above all (pyarrow's reader crashes on one that opens a
# block of its input, apache/arrow#47409), other JSON values, and an object followed by a value.
MUTATIONS += [(f"a line of {v!r}", lambda ls, i, p, v=v: ls[:i] + [v] + ls[i:])
              for v in (b"null", b" null\r", b"[]", b'"s"', b"1", b"true", b'{"a": 1} null', b'{"a": 1} {}')]


def apply(lines: list[bytes], mutations) -> list[bytes]:
    for where, kind, pos in mutations:
        if lines:
            lines = MUTATIONS[kind][1](list(lines), where % len(lines), pos)
    return lines


def expected_lines(data: bytes) -> dict[int, bytes]:
    """The non-blank lines of a file by number, read as the README defines a line (written here
    apart from sim/pipeline/lines.py): a BOM at the very start is skipped; only LF ends a line; a
    CR before it is not part of it; a line of spaces, tabs and CRs is blank."""
    if data.startswith(BOM):
        data = data[len(BOM):]
    parts = data.split(b"\n")
    if data.endswith(b"\n"):
        parts.pop()
    out = {}
    for number, part in enumerate(parts, 1):
        if part.endswith(b"\r"):
            part = part[:-1]
        if part.strip(b" \t\r"):
            out[number] = part
    return out


def _levels(value) -> int:
    """How deep objects and arrays nest (a scalar adds no level), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, (dict, list)):
            deepest = max(deepest, d)
            stack.extend((item, d + 1) for item in (v.values() if isinstance(v, dict) else v))
    return deepest


def _no_constant(name):
    raise ValueError(name)


def is_record(line: bytes) -> bool:
    """One JSON object within the README's limits, judged with the standard library alone."""
    try:
        value = json.loads(line.decode("utf-8"), parse_float=Decimal, parse_int=Decimal, parse_constant=_no_constant)
    except (ValueError, RecursionError, ArithmeticError):  # not UTF-8, not JSON, too deep to parse, vast exponent
        return False
    if not isinstance(value, dict) or _levels(value) > LIMIT_DEPTH:
        return False
    try:
        "".join(value).encode("utf-8")  # top-level names must be Unicode text
    except UnicodeEncodeError:
        return False
    return True


def check(tmp_path, records, ascii_only, crlf, final_newline, mutations, gz, bom_start, chunk_bytes):
    """Break the records' lines, convert the file, and check the properties in the docstring."""
    lines = apply([json.dumps(r, ensure_ascii=ascii_only).encode("utf-8") for r in records], mutations)
    data = (b"\r\n" if crlf else b"\n").join(lines) + (b"\n" if final_newline else b"")
    if bom_start:
        data = BOM + data
    key = "in/2026-11-25/fuzz.ndjson" + (".gz" if gz else "")
    body = gzip.compress(data) if gz else data
    out = str(tmp_path / "o.parquet")
    result = convert([Source(key, lambda: io.BytesIO(body))], "m", out, chunk_bytes=chunk_bytes)  # must not raise

    expected = expected_lines(data)
    table = pq.read_table(out, columns=["_line"])
    rows = table.column("_line").to_pylist()
    quarantined = [q.line for q in result.quarantined]
    assert None not in quarantined, [q.reason for q in result.quarantined if q.line is None]
    ended = Counter(rows + quarantined)
    assert set(ended) == set(expected), (sorted(ended), sorted(expected))
    assert all(n == 1 for n in ended.values()), [n for n, c in ended.items() if c > 1]
    for q in result.quarantined:
        assert not q.reason.startswith("the converter failed"), q.reason  # an unforeseen failure: find out why
        assert q.raw == expected[q.line][:len(q.raw)]
    made_rows = set(rows)
    for number, line in expected.items():
        assert (number in made_rows) == is_record(line), (number, line[:200], [q.reason for q in result.quarantined
                                                                               if q.line == number])
    checked = record_pass({key: body}, out, "m")
    assert lines_in(checked) == [(key, n) for n in sorted(expected)]
    assert (checked.compared, checked.altered) == (len(rows), 0), checked.altered_examples


@settings(max_examples=int(os.environ.get("SIM_FUZZ_EXAMPLES", "200")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records=st.lists(RECORDS, min_size=1, max_size=10), ascii_only=st.booleans(), crlf=st.booleans(),
       final_newline=st.booleans(),
       mutations=st.lists(st.tuples(st.integers(0, 100), st.integers(0, len(MUTATIONS) - 1), st.integers(0, 10**6)),
                          min_size=1, max_size=8),
       gz=st.booleans(), bom_start=st.booleans(), chunk_bytes=st.sampled_from([7, 64, 4096, 16 * 1024 * 1024]))
def test_no_broken_line_can_fail_a_manifest_and_every_line_ends_once(tmp_path, records, ascii_only, crlf, final_newline,
                                                                     mutations, gz, bom_start, chunk_bytes):
    check(tmp_path, records, ascii_only, crlf, final_newline, mutations, gz, bom_start, chunk_bytes)


# Every kind of break on every run, whatever Hypothesis draws: each one alone, in the middle of a
# small file, read whole and in tiny chunks, plain and gzipped.
PLAIN = [{"id": 1, "user": {"name": "Zoë", "tags": ["a"]}}, {"id": 2, "n": 0.5, "s": "x"}, {"id": 3}, {}]


@pytest.mark.parametrize("kind", range(len(MUTATIONS)), ids=[name for name, _ in MUTATIONS])
@pytest.mark.parametrize("chunk_bytes,gz", [(16 * 1024 * 1024, False), (7, True)])
def test_each_kind_of_break_alone(tmp_path, kind, chunk_bytes, gz):
    for pos in (0, 5, 10**6 + 3):
        check(tmp_path, PLAIN, False, False, True, [(1, kind, pos)], gz, False, chunk_bytes)
