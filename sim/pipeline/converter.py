"""Convert the NDJSON files of one manifest into one Parquet file, in bounded memory.

Pass 1 reads each source in chunks of whole lines, parses each chunk with pyarrow's JSON reader,
adds the lineage columns (`_source_key`, `_line`, `_manifest_id`) and spills it to a temporary
Parquet file. Pass 2 unifies the spilled schemas (a field missing somewhere becomes null, nested
objects stay nested and their fields are merged, int widens to float) and streams every spill
into one ParquetWriter. Memory is one chunk plus one row group, whatever the manifest's size.

A top-level field whose types cannot be merged (a number in one file, text in another) is written
as JSON text in every row, so no record is lost. A line that is not a JSON object (malformed JSON,
invalid UTF-8, an array or a scalar) is quarantined with its key, line number and reason, and the
file's other lines are converted: a bad line costs that line only. A source that cannot be read
at all (deleted before conversion) is quarantined as a whole file. A `.gz` source that is not gzip,
is corrupt, or is cut short keeps the whole lines that decompressed; a partial last line is
quarantined with its number, and a whole-file record (line null) says where and why it stopped.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as _dt
import decimal
import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.json as pajson
import pyarrow.parquet as pq

from .gz import GunzipReader

LINEAGE = ("_source_key", "_line", "_manifest_id")
CHUNK_BYTES = 16 * 1024 * 1024
# Parquet readers refuse schemas nested deeper than 100 levels (pyarrow's default limit); a field
# nested deeper than this is written as JSON text so the file stays readable and the record kept.
MAX_NESTING = 48
ROW_GROUP_ROWS = 128 * 1024
_READ_OPTIONS = pajson.ReadOptions(use_threads=True, block_size=4 * 1024 * 1024)


@dataclass
class Quarantined:
    """A line (or, with line None, a whole file) the converter could not turn into a row."""

    key: str
    line: int | None
    reason: str
    raw: bytes = b""

    def as_record(self, manifest_id: str) -> dict:
        rec = {"source_key": self.key, "line": self.line, "reason": self.reason, "manifest_id": manifest_id}
        try:
            rec["raw"] = self.raw.decode("utf-8")
        except UnicodeDecodeError:
            rec["raw_base64"] = base64.b64encode(self.raw).decode()
        return rec


class SourceGone(Exception):
    """A listed source that no longer exists (deleted between landing and conversion)."""


@dataclass
class Source:
    """One NDJSON file: its key (for lineage) and how to open it as bytes."""

    key: str
    open: Callable[[], BinaryIO]


@dataclass
class ConversionResult:
    records: int = 0
    files: int = 0
    bytes_in: int = 0
    json_text_fields: list[str] = field(default_factory=list)
    schema: pa.Schema | None = None
    quarantined: list[Quarantined] = field(default_factory=list)


def _open_decoded(source: Source) -> BinaryIO:
    raw = source.open()
    if source.key.lower().endswith(".gz"):
        return GunzipReader(raw)  # type: ignore[return-value]
    return raw


def line_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES,
                cut_tail: list | None = None) -> Iterator[tuple[list[int], list[bytes], int]]:
    """Yield (line numbers, non-blank lines, raw bytes) for chunks of whole lines.

    Line numbers are 1-based positions in the file, blank lines included, so `_line` points at
    the line a person sees in an editor. When the stream stopped on a `problem` (a broken gzip
    stream), its unterminated last line is not yielded but put in `cut_tail` as (number, bytes).
    """
    next_line = 1
    rest = b""
    while True:
        block = stream.read(chunk_bytes)
        if not block:
            break
        data = rest + block
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        rest = data[cut + 1 :]
        numbers, lines = _split(data[: cut + 1], next_line)
        next_line += data.count(b"\n", 0, cut + 1)
        yield numbers, lines, cut + 1
    if rest:
        if cut_tail is not None and getattr(stream, "problem", ""):
            cut_tail.append((next_line, rest))
            return
        numbers, lines = _split(rest, next_line)
        yield numbers, lines, len(rest)


def _split(data: bytes, first: int) -> tuple[list[int], list[bytes]]:
    numbers, lines = [], []
    for i, line in enumerate(data.split(b"\n")):
        if line.strip():
            numbers.append(first + i)
            lines.append(line.rstrip(b"\r"))
    return numbers, lines


def parse_lines(key: str, numbers: list[int], lines: list[bytes],
                bad: list[Quarantined] | None = None) -> list[tuple[pa.Table, list[int]]]:
    """Parse lines into (table, line numbers) pieces. Lines whose types clash are split apart;
    a line that is no JSON object goes to `bad` (or raises ValueError when `bad` is None)."""
    collect = [] if bad is None else bad
    numbers, lines = _drop_invalid_utf8(key, numbers, lines, collect)
    pieces = [(_shallow(table, piece_lines), piece_numbers)
              for table, piece_numbers, piece_lines in _parse(key, numbers, lines, collect)]
    if bad is None and collect:
        q = collect[0]
        raise ValueError(f"{key}: line {q.line}: {q.reason}")
    return pieces


def _parse(key, numbers, lines, bad) -> list[tuple[pa.Table, list[int], list[bytes]]]:
    if not lines:
        return []
    try:
        return [(_read(lines), numbers, lines)]
    except pa.ArrowInvalid:
        if len(lines) > 1:
            mid = len(lines) // 2
            return _parse(key, numbers[:mid], lines[:mid], bad) + _parse(key, numbers[mid:], lines[mid:], bad)
    line = lines[0]
    try:  # one long line needs a block that holds it whole
        return [(_read(lines, block_size=len(line) + 1), numbers, lines)]
    except pa.ArrowInvalid:
        pass
    bad.append(Quarantined(key, numbers[0], _reason(line), line))
    return []


def _drop_invalid_utf8(key, numbers, lines, bad):
    """The JSON reader lets invalid UTF-8 through inside strings: find such lines first."""
    try:
        b"\n".join(lines).decode("utf-8")
        return numbers, lines
    except UnicodeDecodeError:
        pass
    keep_n, keep_l = [], []
    for n, line in zip(numbers, lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(Quarantined(key, n, "invalid UTF-8", line))
            continue
        keep_n.append(n)
        keep_l.append(line)
    return keep_n, keep_l


def _shallow(table: pa.Table, lines: list[bytes]) -> pa.Table:
    """Fields nested deeper than MAX_NESTING become JSON text, taken from the source lines."""
    deep = [f.name for f in table.schema if _depth(f.type) > MAX_NESTING]
    if not deep:
        return table
    docs = [json.loads(line) for line in lines]
    for name in deep:
        text = [json.dumps(d[name], ensure_ascii=False) if name in d and d[name] is not None else None for d in docs]
        column = pa.field(name, pa.string(), metadata=_JSON_TEXT)
        table = table.set_column(table.schema.get_field_index(name), column, pa.array(text, pa.string()))
    return table


_JSON_TEXT = {b"sim.json_text": b"1"}


def _is_json_text(f: pa.Field) -> bool:
    return bool(f.metadata) and f.metadata.get(b"sim.json_text") == b"1"


def _read(lines: list[bytes], block_size: int | None = None) -> pa.Table:
    options = _READ_OPTIONS
    if block_size and block_size > options.block_size:
        options = pajson.ReadOptions(use_threads=True, block_size=block_size)
    table = pajson.read_json(pa.py_buffer(b"\n".join(lines)), read_options=options)
    if table.num_rows != len(lines):
        raise pa.ArrowInvalid("row count differs from line count")
    return table


def _reason(line: bytes) -> str:
    """Why a line is not a record: said in words, never by quoting it."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return "invalid UTF-8"
    try:
        value = json.loads(text)
    except ValueError:
        return "invalid JSON"
    if not isinstance(value, dict):
        return f"a JSON {type(value).__name__}, not an object"
    return "a JSON object the Parquet writer cannot hold"


def _with_lineage(user: pa.Table, numbers: list[int], key: str, manifest_id: str) -> pa.Table:
    n = user.num_rows
    for name in LINEAGE:
        if name in user.column_names:  # a record's own field would shadow lineage: keep both
            user = user.rename_columns([f"{c}_record" if c == name else c for c in user.column_names])
    user = user.append_column("_source_key", pa.array([key] * n, pa.string()))
    user = user.append_column("_line", pa.array(numbers, pa.int64()))
    return user.append_column("_manifest_id", pa.array([manifest_id] * n, pa.string()))


def _depth(t: pa.DataType) -> int:
    if pa.types.is_struct(t):
        return 1 + max((_depth(t.field(i).type) for i in range(t.num_fields)), default=0)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return 1 + _depth(t.value_type)
    return 0


def unify(schemas: list[pa.Schema]) -> tuple[pa.Schema, set[str]]:
    """Merge schemas; fields that cannot merge, or nest too deep, become JSON text (by name)."""
    try:
        merged = pa.unify_schemas(schemas, promote_options="permissive")
        too_deep = {f.name for f in merged if _depth(f.type) > MAX_NESTING}
        if not too_deep:
            return merged, set()
        return pa.schema([pa.field(f.name, pa.string()) if f.name in too_deep else f for f in merged]), too_deep
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    by_name: dict[str, list[pa.Field]] = {}
    order: list[str] = []
    for schema in schemas:
        for f in schema:
            if f.name not in by_name:
                by_name[f.name] = []
                order.append(f.name)
            by_name[f.name].append(f)
    fields, as_text = [], set()
    for name in order:
        try:
            merged_field = pa.unify_schemas([pa.schema([f]) for f in by_name[name]], promote_options="permissive")[0]
            if _depth(merged_field.type) > MAX_NESTING:
                raise pa.ArrowInvalid("too deep")
            fields.append(merged_field)
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            fields.append(pa.field(name, pa.string()))
            as_text.add(name)
    return pa.schema(fields), as_text


def _json_default(value):
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(type(value).__name__)


def _as_json_text(column: pa.ChunkedArray) -> pa.Array:
    return pa.array(
        [None if v is None else json.dumps(v, ensure_ascii=False, default=_json_default) for v in column.to_pylist()],
        pa.string(),
    )


def conform(table: pa.Table, schema: pa.Schema, as_text: set[str]) -> pa.Table:
    """Give one spilled table the unified schema: add missing columns as nulls, widen, retype."""
    columns = []
    index = {name: i for i, name in enumerate(table.column_names)}  # wide records: no list scans
    for f in schema:
        i = index.get(f.name)
        if i is None:
            columns.append(pa.nulls(table.num_rows, f.type))
        elif f.name in as_text and _is_json_text(table.schema.field(i)):
            columns.append(table.column(i))  # already JSON text (a field nested too deep)
        elif f.name in as_text:
            columns.append(_as_json_text(table.column(i)))
        else:
            columns.append(table.column(i).cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema)


def _final_schema(schema: pa.Schema) -> pa.Schema:
    """Record fields first, lineage columns last, in a fixed order."""
    own = [f for f in schema if f.name not in LINEAGE]
    lineage = [pa.field("_source_key", pa.string(), False), pa.field("_line", pa.int64(), False),
               pa.field("_manifest_id", pa.string(), False)]
    return pa.schema(own + lineage)


def convert(
    sources: Iterable[Source],
    manifest_id: str,
    out_path: str,
    tmp_dir: str | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    on_file: Callable[[str, int], None] | None = None,
) -> ConversionResult:
    """Convert the sources into one zstd Parquet file at `out_path` (overwritten)."""
    result = ConversionResult()
    with tempfile.TemporaryDirectory(prefix="convert-", dir=tmp_dir) as spill_dir:
        spills: list[tuple[str, pa.Schema]] = []
        for source in sources:
            rows_before = result.records
            try:
                stream = _open_decoded(source)
            except SourceGone as exc:
                result.quarantined.append(Quarantined(source.key, None, str(exc)))
                result.files += 1
                continue
            cut_tail: list[tuple[int, bytes]] = []
            last_line = 0
            with contextlib.closing(stream):
                for numbers, lines, nbytes in line_chunks(stream, chunk_bytes, cut_tail):
                    last_line = numbers[-1] if numbers else last_line
                    result.bytes_in += nbytes
                    for table, piece_numbers in parse_lines(source.key, numbers, lines, result.quarantined):
                        table = _with_lineage(table, piece_numbers, source.key, manifest_id)
                        # Arrow IPC spills: fast, and no nesting limit on the way back in.
                        path = os.path.join(spill_dir, f"{len(spills):07d}.arrow")
                        feather.write_feather(table, path, compression="lz4")
                        spills.append((path, table.schema))
                        result.records += table.num_rows
            problem = getattr(stream, "problem", "")
            if problem:
                where = f"after line {last_line}" if last_line else "before its first line"
                for number, raw in cut_tail:
                    if raw.strip():
                        where = f"inside line {number}"
                        result.quarantined.append(Quarantined(source.key, number, "the line is cut short: " + problem, raw))
                result.quarantined.append(Quarantined(source.key, None, f"{problem}; reading stopped {where}"))
            result.files += 1
            if on_file:
                on_file(source.key, result.records - rows_before)

        if spills:
            merged, as_text = unify([s for _, s in spills])
        else:
            merged, as_text = pa.schema([]), set()
        schema = _final_schema(merged)
        result.schema = schema
        result.json_text_fields = sorted(as_text)

        tmp_out = out_path + ".partial"
        with pq.ParquetWriter(tmp_out, schema, compression="zstd") as writer:
            buffered: list[pa.Table] = []
            rows = 0
            for path, _ in spills:
                table = conform(feather.read_table(path), schema, as_text)
                buffered.append(table)
                rows += table.num_rows
                if rows >= ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(buffered), row_group_size=ROW_GROUP_ROWS)
                    buffered, rows = [], 0
            if buffered:
                writer.write_table(pa.concat_tables(buffered), row_group_size=ROW_GROUP_ROWS)
        os.replace(tmp_out, out_path)
    return result
