"""What "the record came out as it went in" means, as code: the landed line parsed on its own, the
Parquet row read back, both brought to plain JSON values, then compared.

Under the documented JSON -> Parquet mapping:
- an absent member and a null member are the same (a struct column cannot tell them apart);
- numbers compare by value (1, 1.0 and 1e0 are one number). A landed number with more digits than
  a double holds, or an extreme exponent, is parsed exactly (Decimal) and a double matches it only
  when the double is that number (it holds it exactly, or prints back as it);
- a column the converter kept as JSON text is parsed back before comparing, and a record field
  stored under another name (one named like a lineage column) is named back;
- NaN and Infinity are not JSON: a landed line holding them is not a record.
This is written apart from the converter on purpose: it shares no parsing code with it (lines are
parsed by orjson, or by the standard library where a number must keep every digit; the converter
parses with pyarrow).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

import orjson
import pyarrow as pa
import pyarrow.compute as pc

# Number tokens a double (or orjson, which reads integers beyond 64 bits as doubles) may not hold
# unchanged: 16+ digits or a 3-digit exponent. A number token in JSON text starts the text or follows
# `:`, `,` or `[` (and white space), so hex inside a string ("...1019e342...") does not count; a
# string that holds such a pattern costs an exact parse, never a wrong verdict.
RISKY_NUMBER = r"(?:^|[:,\[])[ \t\r\n]*-?(?:[0-9][0-9.]{15}|[0-9][0-9.]*[eE][-+]?[0-9]{3})"
_RISKY = re.compile(RISKY_NUMBER)  # for the few short JSON texts of a text column (pyarrow compiles per call)
LINEAGE = ("_source_key", "_line", "_manifest_id")


class NotJson(ValueError):
    pass


def _no_constants(name: str):
    raise NotJson(name)


def _without_nulls(pairs):
    """An object without its null members; a name repeated keeps its last value first (null or
    not), as the converter reads it: dropping nulls first would bring back an earlier value."""
    return {k: v for k, v in dict(pairs).items() if v is not None}


def _int(text: str):
    return int(text) if len(text) < 4000 else Decimal(text)


def risky_lines(lines: list[bytes]) -> list[bool]:
    """Which lines hold a number token that must be compared exactly (one vectorised scan)."""
    if not lines:
        return []
    counts = pc.count_substring_regex(pa.array(lines, pa.binary()), RISKY_NUMBER)
    return [bool(n) for n in counts.to_pylist()]


def needs_exact(line: bytes) -> bool:
    """Does one line hold a number token that must be compared exactly (risky_lines for one)?"""
    return _RISKY_BYTES.search(line) is not None


_RISKY_BYTES = re.compile(RISKY_NUMBER.encode())
_NULL_MEMBER = re.compile(rb"[:,\[][ \t\r\n]*null")  # null as a value (a string may match too: a strip for nothing)


def parse(text, exact: bool):
    """A JSON value with null members dropped; exact keeps every digit of every number.

    Not exact: orjson (several times the standard library's speed); what orjson refuses (a lone
    surrogate escape, say) is given to the standard library, which decides."""
    try:
        if exact:
            _no_bom(text)
            try:  # the C scanner, Decimal for every fraction; nulls stripped after, where there are any
                value = json.loads(text, parse_float=Decimal, parse_constant=_no_constants)
            except NotJson:
                raise
            except ValueError:  # an integer of thousands of digits (or no JSON): the slow way decides
                return json.loads(text, parse_float=Decimal, parse_int=_int, parse_constant=_no_constants,
                                  object_pairs_hook=_without_nulls)
            return strip_nulls(value) if ("null" in text if isinstance(text, str) else b"null" in text) else value
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            _no_bom(text)
            return json.loads(text, parse_constant=_no_constants, object_pairs_hook=_without_nulls)
        if (b"null" in text and _NULL_MEMBER.search(text)) if isinstance(text, bytes) else "null" in text:
            return strip_nulls(value)
        return value
    except (ValueError, RecursionError, ArithmeticError):  # ArithmeticError: an exponent past Decimal's range
        raise NotJson("not JSON") from None


def _no_bom(text) -> None:
    """The standard library reads bytes that open with a byte order mark as UTF-8 text; a landed
    line never does (only a file's start may hold one, and it is not part of the line)."""
    if isinstance(text, bytes) and text.startswith(b"\xef\xbb\xbf"):
        raise NotJson("a byte order mark inside the file")


def strip_nulls(value):
    if type(value) is dict:
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if type(value) is list:
        return [strip_nulls(v) for v in value]
    return value


def may_hold_nulls_inside(column) -> bool:
    """Does a struct or list column hold a null below its top level (so rows need a deep strip)?"""
    t = column.type
    if not (pa.types.is_struct(t) or pa.types.is_list(t) or pa.types.is_large_list(t)):
        return False
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        if pa.types.is_struct(t):
            children = [chunk.field(i) for i in range(t.num_fields)]
        else:
            children = [chunk.flatten()]
        for child in children:
            if child.null_count or may_hold_nulls_inside(child):
                return True
    return False


class RowReader:
    """Turns Parquet rows of one output file back into the records they stand for."""

    def __init__(self, schema: pa.Schema):
        meta = schema.metadata or {}
        renamed = json.loads(meta.get(b"sim.renamed_fields", b"{}") or b"{}")
        self.text = {f.name for f in schema if f.metadata and f.metadata.get(b"sim.json_text")}
        self.own = [f.name for f in schema if f.name not in LINEAGE]
        self.names = {n: renamed.get(n, n) for n in self.own}

    def nested_nulls(self, rows: pa.Table, known: set[str] | None = None) -> set[str]:
        """The columns of `rows` that may hold a null below their top level, added to `known`
        (columns already known to need the deep strip are not looked at again)."""
        found = set(known or ())
        for name in self.own:
            if name not in found and name not in self.text and may_hold_nulls_inside(rows.column(name)):
                found.add(name)
        return found

    def records(self, rows: pa.Table, nested_nulls: set[str] | None = None) -> list[dict]:
        """Each row as the record it stands for (JSON text parsed exactly where it holds a number
        a double could not). Column by column, then zipped: a loop per row and field is the
        slowest part of validation. `nested_nulls`: the columns to strip of nulls below their top
        level (a superset is fine; looked up from `rows` when not given)."""
        if nested_nulls is None:
            nested_nulls = self.nested_nulls(rows)
        table = rows.select(self.own)
        if not self.own:  # records that were `{}`: lineage columns only
            return [{} for _ in range(table.num_rows)]
        columns = []
        for name in self.own:
            values = table.column(name).to_pylist()
            if name in self.text:
                values = [None if v is None else parse(v, _RISKY.search(v) is not None) for v in values]
            elif name in nested_nulls:
                values = [None if v is None else strip_nulls(v) for v in values]
            columns.append(values)
        names = [self.names[n] for n in self.own]
        return [{k: v for k, v in zip(names, row) if v is not None} for row in zip(*columns)]


def equal(record: dict, row: dict, exact: bool) -> bool:
    """The landed record against its row. Python's == is the fast test, but it takes True for 1;
    JSON text of both (C speed) tells a boolean from a number, and `same` settles the rest (1
    against 1.0, exact numbers)."""
    if record == row:
        if not exact:
            text = _text(record)
            if text is not None and text == _text(row):
                return True
        return same(record, row)
    return same(record, row) if exact or _has_decimal_text(row) else False


def _text(value) -> bytes | None:
    """Sorted-key JSON of a value; None where orjson cannot write it (a Decimal, an integer beyond
    64 bits), which then never matches, so `same` decides."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def _has_decimal_text(value) -> bool:
    if isinstance(value, Decimal):
        return True
    if isinstance(value, dict):
        return any(_has_decimal_text(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_decimal_text(v) for v in value)
    return False


_PLAIN = (str, bool, type(None))
_NUMBERS = (int, float, Decimal)
_LEAVES = frozenset((str, bool, int, float))  # equal under == and of one type: the same value


def same(a, b) -> bool:
    """Equality under the mapping, exact for numbers (used for lines parsed exactly)."""
    ta, tb = type(a), type(b)
    if ta in _PLAIN or tb in _PLAIN:  # strings, booleans and null equal only their own kind
        return ta is tb and a == b
    if ta is dict:
        if tb is not dict or a.keys() != b.keys():
            return False
        for k, x in a.items():
            y = b[k]
            if not (type(x) is type(y) and type(x) in _LEAVES and x == y) and not same(x, y):
                return False
        return True
    if ta is list:
        if tb is not list or len(a) != len(b):
            return False
        for x, y in zip(a, b):
            if not (type(x) is type(y) and type(x) in _LEAVES and x == y) and not same(x, y):
                return False
        return True
    if ta in _NUMBERS and tb in _NUMBERS:
        return a == b if ta is tb and ta is not Decimal else _same_number(a, b)
    return False


def _same_number(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        f, other = (a, b) if isinstance(a, float) else (b, a)
        if isinstance(other, float):
            return f == other
        try:
            d = Decimal(other)
            return Decimal(f) == d or Decimal(repr(f)) == d
        except (InvalidOperation, ValueError, OverflowError):
            return False
    return Decimal(a) == Decimal(b)


def first_difference(a, b, path: str = "") -> str:
    """The JSON Pointer of the first place two values differ (never the values themselves)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in a or k not in b:
                return path + "/" + _escape(k)
            if not same(a[k], b[k]):
                return first_difference(a[k], b[k], path + "/" + _escape(k))
        return path
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if not same(x, y):
                return first_difference(x, y, f"{path}/{i}")
        return f"{path}/{min(len(a), len(b))}"
    return path


def _escape(name: str) -> str:
    return str(name).replace("~", "~0").replace("/", "~1")
