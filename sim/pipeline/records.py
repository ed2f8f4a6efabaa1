"""Parse one chunk of NDJSON lines into an Arrow table under the JSON -> Parquet mapping.

The fast path is pyarrow's JSON reader over the whole chunk. It is trusted only where it cannot
change a value, and each way it could is checked cheaply:
- it reads ISO-8601-looking strings as timestamps: such fields are pinned to string and read again
  (the pins are kept for the rest of the conversion, so this costs one chunk once);
- it rounds numbers into doubles: a number can change only if its token has 16 or more digits, or
  a three-digit exponent; one scan of the chunk (RE2, outside the GIL) finds such lines, and only
  they are parsed exactly and compared; a field any of them would change becomes JSON text;
- it accepts NaN and Infinity, which are not JSON: the same scan finds them and the line is
  quarantined.
Whatever the fast reader refuses (a malformed line, invalid UTF-8, a field whose type changes
within the chunk, a repeated name, a lone surrogate) sends the chunk to the careful path: every
line parsed exactly (`jsonvalues`), bad lines quarantined one by one, and each field typed by the
mapping's rules or kept as JSON text. Its cost is linear in the chunk whatever the input. A chunk
with a line that opens with anything but an object goes there before the fast reader sees it (the
reader takes a top-level null for a row of nulls, and crashes on one that opens a block of its
input), and so does a chunk on which the fast path raises anything at all.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from . import isolate
from .isolate import about_the_data
from .jsonvalues import (EXACT_INT, INT64_MAX, INT64_MIN, MAX_DEPTH, NAME_NOT_TEXT, Conflict, NotARecord, Shape, as_floats,
                         check_depth, dumps_exact, exact_double, is_text, loads_record)
from .lines import Chunk, split_lines

BLOCK_BYTES = 1024 * 1024  # pyarrow parses blocks in parallel: small enough that one file uses every core
# What a double could change, found in the text (integers beyond 2**53 are found by value instead):
# NaN and Infinity (not JSON, yet pyarrow reads them), three-digit exponents (beyond a double's
# range or below its precision), and decimals of 16 or more digits (with a point or an exponent). Strings can match too: that
# costs a closer look, never a wrong value.
_NOT_JSON_OR_EXPONENT = r"[:,\[]\s*-?(?:NaN|Inf|[0-9.]*[0-9][eE][-+]?[0-9]{3}|[0-9]{16,}[eE])"
_LONG_DECIMAL = "|".join(rf"[0-9]{{{k}}}\.[0-9]{{{16 - k}}}" for k in range(17))
_HOT = _NOT_JSON_OR_EXPONENT + "|" + _LONG_DECIMAL
# How the lines of a chunk open. The JSON reader must never see a line that opens with anything but
# an object: it reads a top-level `null` as a row of nulls, and one that opens a block of its input
# dereferences an empty builder stack and crashes the process (apache/arrow#47409).
_LINE_NOT_OPENING_AN_OBJECT_AT_ONCE = r"\n[^{]"  # RE2 finds each LF by memchr: well under a millisecond per 16 MB
_LINE_NOT_AN_OBJECT = r"(?m)^[ \t\r]*[^ \t\r\n{]"  # a non-blank line opening with no object (the slower check)
_TEMPORAL = (pa.types.is_timestamp, pa.types.is_date, pa.types.is_time)
RAW_LIMIT = 1024 * 1024  # the most of a bad line a quarantine record keeps
# The UTF-8 check and the scan for risky tokens run beside pyarrow's parse (both release the GIL).
_BESIDE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="json-scan")


@dataclass
class Quarantined:
    """A line (or, with line None, a whole file) the converter could not turn into a row."""

    key: str
    line: int | None
    reason: str
    raw: bytes = b""
    raw_truncated: bool = False

    def as_record(self, manifest_id: str) -> dict:
        rec = {"source_key": self.key, "line": self.line, "reason": self.reason, "manifest_id": manifest_id}
        raw = self.raw[:RAW_LIMIT]
        try:
            rec["raw"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            rec["raw_base64"] = base64.b64encode(raw).decode()
        if self.raw_truncated or len(self.raw) > RAW_LIMIT:
            rec["raw_truncated"] = True
        return rec


@dataclass
class Parsed:
    key: str  # the source the lines come from
    table: pa.Table  # the records' own fields
    numbers: Sequence[int]  # the line number of each row
    text: dict[str, str] = field(default_factory=dict)  # fields held as JSON text here, and why
    bad: list[Quarantined] = field(default_factory=list)
    repeated_names: int = 0  # records with an object that repeats a name (its last value kept)
    chunk: Chunk | None = None  # the lines themselves, kept only while writes are checked (for the quarantine)

    def subset(self, rows: Sequence[int]) -> "Parsed":
        """These rows only (indices into `numbers`), with the fields' JSON text reasons."""
        rows = list(rows)
        if self.table.num_columns:
            table = self.table.take(pa.array(rows, pa.int64()))
        else:  # records that were `{}`: a table of no columns keeps its row count only when built so
            table = pa.table({"": pa.nulls(len(rows))}).drop_columns([""])
        return Parsed(self.key, table, [self.numbers[i] for i in rows], self.text, chunk=self.chunk)

    def raw_lines(self) -> dict[int, bytes]:
        """Line number -> bytes of this chunk's lines (empty when the chunk was not kept)."""
        return dict(zip(*split_lines(self.chunk))) if self.chunk is not None else {}


class Pins:
    """Paths pyarrow would read as timestamps, pinned to string for every later chunk."""

    def __init__(self):
        self.paths: set[tuple] = set()
        self._options: pajson.ParseOptions | None = None

    def add(self, paths: set[tuple]) -> None:
        self.paths |= paths
        self._options = None

    def options(self) -> pajson.ParseOptions | None:
        if not self.paths:
            return None
        if self._options is None:
            self._options = pajson.ParseOptions(explicit_schema=pa.schema(_pinned_fields(self.paths)),
                                                unexpected_field_behavior="infer")
        return self._options


def _pinned_fields(paths: set[tuple]) -> list[pa.Field]:
    """Explicit-schema fields holding only the pinned paths (pyarrow infers everything else)."""
    heads: dict[str, set[tuple]] = {}
    for path in paths:
        heads.setdefault(path[0], set()).add(path[1:])
    return [pa.field(name, _pinned_type(rests)) for name, rests in heads.items()]


def _pinned_type(rests: set[tuple]) -> pa.DataType:
    if () in rests:
        return pa.string()
    if all(r[0] is None for r in rests):  # list elements
        return pa.list_(_pinned_type({r[1:] for r in rests}))
    return pa.struct(_pinned_fields({r for r in rests if r[0] is not None}))


def temporal_paths(schema: pa.Schema) -> set[tuple]:
    found: set[tuple] = set()

    def walk(t: pa.DataType, path: tuple) -> None:
        if any(test(t) for test in _TEMPORAL):
            found.add(path)
        elif pa.types.is_struct(t):
            for i in range(t.num_fields):
                walk(t.field(i).type, path + (t.field(i).name,))
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            walk(t.value_type, path + (None,))

    for f in schema:
        walk(f.type, (f.name,))
    return found


def _has_double(t: pa.DataType) -> bool:
    if pa.types.is_floating(t):
        return True
    if pa.types.is_struct(t):
        return any(_has_double(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _has_double(t.value_type)
    return False


def _depth(t: pa.DataType) -> int:
    if pa.types.is_struct(t):
        return 1 + max((_depth(t.field(i).type) for i in range(t.num_fields)), default=0)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return 1 + _depth(t.value_type)
    return 0


def parse_chunk(key: str, chunk: Chunk, pins: Pins) -> Parsed:
    """Parse a chunk of whole lines; see the module docstring for the paths it takes. Whatever
    the fast path raises sends the chunk to the careful path, which isolates it to its lines."""
    try:
        return _parse_fast(key, chunk, pins)
    except Exception as exc:
        if not about_the_data(exc):
            raise
        return careful(key, *split_lines(chunk))


def _parse_fast(key: str, chunk: Chunk, pins: Pins) -> Parsed:
    opening = line_openings(chunk.data)
    if opening == "odd":  # a line that is no object (a BOM past a file's start included): see above
        return careful(key, *split_lines(chunk))
    scan = _BESIDE.submit(_scan, chunk.data)
    table = _fast_read(chunk.data, pins)
    utf8, hot, split = scan.result()
    if table is None or not utf8:  # the JSON reader lets invalid UTF-8 through inside strings
        return careful(key, *split_lines(chunk))
    if table.num_rows == chunk.line_count and opening == "plain":
        numbers: Sequence[int] = range(chunk.first_line, chunk.first_line + table.num_rows)
        row_of = None
    else:  # maybe blank lines (the reader skips them), or two values on one line (the reader reads both)
        numbers, lines = split_lines(chunk)
        if len(numbers) != table.num_rows:
            return careful(key, numbers, lines)
        row_of = {n - chunk.first_line: row for row, n in enumerate(numbers)}
    if any(_depth(f.type) + 1 > MAX_DEPTH for f in table.schema):  # such lines are quarantined
        return careful(key, *split_lines(chunk))
    doubles = [f.name for f in table.schema if _has_double(f.type)]
    if not doubles:
        return Parsed(key, table, numbers)
    # Rows to parse exactly, with the fields to compare: every double field where the text holds a
    # risky token, the one field where a value is beyond the exact integers.
    fields: dict[int, set[str]] = {}
    for row, name in _rows_beyond_exact_ints(table, doubles):
        fields.setdefault(row, set()).add(name)
    for i in hot:
        if row_of is None or i in row_of:
            fields[row_of[i] if row_of else i] = set(doubles)
    if not fields:
        return Parsed(key, table, numbers)
    line_index = {row: i for i, row in row_of.items()} if row_of else {row: row for row in fields}
    wanted = sorted(line_index[row] for row in fields)
    texts = dict(zip(wanted, split.take(pa.array(wanted, pa.int64())).to_pylist()))
    return _check_hot(key, table, numbers, {row: texts[line_index[row]] for row in fields}, fields)


def line_openings(data: bytes) -> str:
    """How the lines of a chunk open: "plain" when each opens an object at once (so none is blank),
    "spaced" when some are blank or open with white space but every other one opens an object,
    "odd" when a line opens with anything else (no object: it must not reach the JSON reader)."""
    blob = _as_array(data)
    if data[:1] == b"{" and not pc.match_substring_regex(blob, _LINE_NOT_OPENING_AN_OBJECT_AT_ONCE)[0].as_py():
        return "plain"
    return "odd" if pc.match_substring_regex(blob, _LINE_NOT_AN_OBJECT)[0].as_py() else "spaced"


def _scan(data: bytes) -> tuple[bool, set[int], pa.Array | None]:
    """Beside the parse: is the chunk UTF-8, and which of its lines (0-based, blank ones counted)
    hold a token a double could change? RE2 first marks the lines with any match (a yes or no per
    line, its fastest mode); only those lines have their matches found, and a decimal of 16+
    digits that the nearest double prints back as unchanged (what Python, JavaScript and Java
    write) is cleared on the spot, so only doubtful lines are parsed again. Also returns the chunk
    split into lines (an Arrow array), where the lines to parse again are taken from."""
    blob = _as_array(data)
    try:
        blob.cast(pa.string())
    except pa.ArrowInvalid:
        return False, set(), None
    lines = pc.split_pattern(blob, "\n").flatten()
    marked = pc.indices_nonzero(pc.match_substring_regex(lines, _HOT))
    if not len(marked):
        return True, set(), lines
    few = lines.take(marked)
    hot: set[int] = set()
    for line, text, matches in zip(marked.to_pylist(), few.to_pylist(),
                                   pc.replace_substring_regex(few, _HOT, "\x00\\0\x01").to_pylist()):
        if _doubtful(text, matches):
            hot.add(line)
    return True, hot, lines


def _doubtful(text: bytes, marked: bytes) -> bool:
    """Does one line hold a match (each shown in `marked` as NUL, the match, 0x01) that a double
    could change: NaN, Infinity, a three-digit exponent, or a long decimal that does not print back?"""
    pos, k, last_end = marked.find(b"\x00"), 0, -1
    while pos >= 0:
        end = marked.index(b"\x01", pos)
        at = pos - 2 * k  # where the match starts in `text`
        k += 1
        if at >= last_end:
            match = marked[pos + 1:end]
            if match[:1] in (b":", b",", b"["):  # NaN, Infinity or a three-digit exponent
                return True
            left, right = _token(text, at, at + len(match))  # a long decimal: judge the whole token
            last_end = right
            if not _prints_back(text[left:right]):
                return True
        pos = marked.find(b"\x00", end)
    return False


_TOKEN_BYTES = frozenset(b"0123456789.eE+-")


def _token(data: bytes, start: int, end: int) -> tuple[int, int]:
    while start > 0 and data[start - 1] in _TOKEN_BYTES:
        start -= 1
    while end < len(data) and data[end] in _TOKEN_BYTES:
        end += 1
    return start, end


def _prints_back(token: bytes) -> bool:
    """A decimal the nearest double holds unchanged (see jsonvalues.exact_double)."""
    try:
        text = token.decode("ascii")
        if repr(float(text)) == text:
            return True
        return exact_double(Decimal(text))
    except (ValueError, ArithmeticError):
        return False  # not a number at all (inside a string, say): look closer


def _as_array(data: bytes) -> pa.Array:
    """The chunk as a one-element binary array, without copying it."""
    offsets = pa.array([0, len(data)], pa.int32()).buffers()[1]
    return pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(data)])


def _rows_beyond_exact_ints(table: pa.Table, doubles: list[str]) -> set[tuple[int, str]]:
    """(row, field) where a double is 2**53 or more in magnitude: an integer token may have changed."""
    rows: set[tuple[int, str]] = set()
    for name in doubles:
        for leaf, parent in _double_leaves(table.column(name).combine_chunks(), table.schema.field(name).type):
            if not len(leaf):
                continue
            big = pc.greater_equal(pc.abs(leaf), float(EXACT_INT))
            if pc.any(big).as_py():
                hits = pc.indices_nonzero(pc.fill_null(big, False))
                rows |= {(row, name) for row in (hits if parent is None else parent.take(hits)).to_pylist()}
    return rows


def _double_leaves(array: pa.Array, t: pa.DataType, parent: pa.Array | None = None):
    """(double leaf values, the row of each value or None when it is the array's own row)."""
    if pa.types.is_floating(t):
        yield array, parent
    elif pa.types.is_struct(t):
        for i in range(t.num_fields):
            if _has_double(t.field(i).type):
                yield from _double_leaves(array.field(i), t.field(i).type, parent)
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        own = pc.list_parent_indices(array)
        rows = own if parent is None else parent.take(own)
        yield from _double_leaves(pc.list_flatten(array), t.value_type, rows)


def _fast_read(data: bytes, pins: Pins) -> pa.Table | None:
    block = BLOCK_BYTES
    for _ in range(4):
        options = pajson.ReadOptions(use_threads=True, block_size=block)
        try:
            table = pajson.read_json(pa.py_buffer(data), read_options=options, parse_options=pins.options())
        except pa.ArrowInvalid as exc:
            if "straddl" in str(exc) and block <= len(data):
                block = len(data) + 1  # a line longer than the block: read it whole
                continue
            return None
        try:
            table.validate()  # pyarrow 26 drops nulls that open a list (its child array comes up short)
        except pa.ArrowInvalid:
            return None
        temporal = temporal_paths(table.schema)
        if not temporal:
            return table
        if temporal <= pins.paths:
            return None  # pinned and still not a string: let the careful path decide
        pins.add(temporal)
    return None


def _check_hot(key: str, table: pa.Table, numbers: Sequence[int], lines: dict[int, bytes],
               fields: dict[int, set[str]]) -> Parsed:
    """Parse the given rows' lines exactly; drop the ones that are not JSON, and turn into JSON text
    every field that one of them would change. Only fields holding doubles can have been changed
    (integers and strings come through pyarrow exactly), so only they are compared."""
    rows = sorted(lines)
    doubles = sorted(set().union(*fields.values()))
    types = {name: table.schema.field(name).type for name in doubles}
    stored = table.select(doubles).take(pa.array(rows, pa.int64())).to_pylist()
    exact: dict[int, dict] = {}
    bad: list[Quarantined] = []
    altered: dict[str, str] = {}
    for i, stored_row in zip(rows, stored):
        try:
            record, _ = loads_record(lines[i], count_repeated=False)  # the fast reader took it: no name repeats
        except NotARecord as exc:
            raw = lines[i][:-1] if lines[i].endswith(b"\r") else lines[i]  # a CR before the LF is not the line's
            bad.append(Quarantined(key, numbers[i], str(exc), raw))
            continue
        exact[i] = record
        for name in fields[i]:
            if name not in altered:
                why = _misfit(record.get(name), stored_row[name], types[name])
                if why:
                    altered[name] = why
    if bad:
        gone = {i for i in rows if i not in exact}
        keep = [i for i in range(table.num_rows) if i not in gone]
        moved = {old: new for new, old in enumerate(keep)}
        table = table.take(pa.array(keep, pa.int64()))
        numbers = [numbers[i] for i in keep]
        exact = {moved[i]: r for i, r in exact.items()}
    for name, why in altered.items():
        values = table.column(name).to_pylist()
        text = [None if v is None else dumps_exact(v) for v in values]
        for i, record in exact.items():
            v = record.get(name)
            text[i] = None if v is None else dumps_exact(v)
        table = table.set_column(table.schema.get_field_index(name), name, pa.array(text, pa.string()))
    return Parsed(key, table, numbers, altered, bad)


def _misfit(value, stored, t: pa.DataType) -> str:
    """Why the stored value is not the exact value (empty when it is)."""
    if value is None:
        return "" if stored is None else "a value where the source has null"
    if pa.types.is_floating(t):
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            return "values of different JSON types"
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            return "an integer beyond int64"
        if isinstance(value, int) and abs(value) > EXACT_INT:
            return "integers beyond 2**53 beside decimals"
        if not exact_double(value) or stored != float(value):
            return "a number a double would change"
        return ""
    if pa.types.is_struct(t):
        if not isinstance(value, dict) or not isinstance(stored, dict):
            return "values of different JSON types"
        for i in range(t.num_fields):
            f = t.field(i)
            why = _misfit(value.get(f.name), stored.get(f.name), f.type)
            if why:
                return why
        return ""
    if pa.types.is_list(t):
        if not isinstance(value, list) or not isinstance(stored, list) or len(value) != len(stored):
            return "values of different JSON types"
        for v, s in zip(value, stored):
            why = _misfit(v, s, t.value_type)
            if why:
                return why
        return ""
    if isinstance(value, Decimal) or type(value) is not type(stored) or value != stored:
        return "a value the reader would change"
    return ""


def careful(key: str, numbers: Sequence[int], lines: list[bytes]) -> Parsed:
    """Every line parsed exactly; each field typed by the mapping or kept as JSON text.

    Whatever fails costs only the line it fails on: a line that raises anything while it is
    parsed is quarantined with the reason, and when building the columns fails, the lines that
    fail alone are found (`isolate.failing`), quarantined, and the columns built from the rest."""
    records: list[dict] = []
    kept: list[int] = []
    raws: list[bytes] = []
    bad: list[Quarantined] = []
    repeated = 0
    for n, line in zip(numbers, lines):
        try:
            record, rep = loads_record(line)
            if line.count(b"[") + line.count(b"{") > MAX_DEPTH:
                check_depth(record)
            if b"\\u" in line and not all(is_text(name) for name in record):
                raise NotARecord(NAME_NOT_TEXT)
        except NotARecord as exc:
            bad.append(Quarantined(key, n, str(exc), line))
            continue
        except Exception as exc:
            if not about_the_data(exc):
                raise
            bad.append(Quarantined(key, n, isolate.reason(exc, "parsing"), line))
            continue
        records.append(record)
        kept.append(n)
        raws.append(line)
        repeated += bool(rep)
    try:
        table, text = _columns(records)
    except Exception as exc:
        if not about_the_data(exc):
            raise
        culprits = isolate.failing(len(records), lambda idx: _columns([records[i] for i in idx]))
        bad.extend(Quarantined(key, kept[i], isolate.reason(e, "typing"), raws[i]) for i, e in culprits.items())
        bad.sort(key=lambda q: q.line)
        keep = [i for i in range(len(records)) if i not in culprits]
        records, kept = [records[i] for i in keep], [kept[i] for i in keep]
        table, text = _columns(records)  # a failure only of lines together is not about a line: it is raised
    return Parsed(key, table, kept, text, bad, repeated)


def line_problem(line: bytes) -> str:
    """Why the converter quarantines this one line on its own ("" when it becomes a row)."""
    bad = careful("", [1], [line]).bad
    return bad[0].reason if bad else ""


def _columns(records: list[dict]) -> tuple[pa.Table, dict[str, str]]:
    """The records as typed columns, each field that no typed column holds unchanged as JSON text."""
    names: dict[str, None] = {}
    for record in records:
        for name in record:
            names.setdefault(name, None)
    columns, text = {}, {}
    for name in names:
        values = [r.get(name) for r in records]
        shape = Shape()
        try:
            for v in values:
                shape.add(v)
            columns[name] = pa.array([as_floats(v) for v in values] if shape.needs_floats() else values,
                                     shape.arrow_type())
        except Conflict as exc:
            text[name] = str(exc)
            columns[name] = pa.array([None if v is None else dumps_exact(v) for v in values], pa.string())
    return pa.table(columns) if columns else pa.table({"": pa.nulls(len(records))}).drop_columns([""]), text
