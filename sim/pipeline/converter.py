"""Convert the NDJSON files of one manifest into one Parquet file, in bounded memory.

Pass 1 reads each source in chunks of whole lines, parses each chunk with pyarrow's JSON reader,
adds the lineage columns (`_source_key`, `_line`, `_manifest_id`) and spills it to a temporary
Parquet file. Pass 2 unifies the spilled schemas (a field missing somewhere becomes null, nested
objects stay nested and their fields are merged, int widens to float) and streams every spill
into one ParquetWriter. Memory is one chunk plus one row group, whatever the manifest's size.

A top-level field whose types cannot be merged (a number in one file, text in another) is written
as JSON text in every row, so no record is lost. A line that is not a JSON object fails the
conversion with its key and line number (never its content).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import decimal
import gzip
import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

LINEAGE = ("_source_key", "_line", "_manifest_id")
CHUNK_BYTES = 16 * 1024 * 1024
ROW_GROUP_ROWS = 128 * 1024
_READ_OPTIONS = pajson.ReadOptions(use_threads=True, block_size=4 * 1024 * 1024)


class BadRecord(ValueError):
    """A line that is not a JSON object. Carries where it is, never what it says."""

    def __init__(self, key: str, line: int, reason: str):
        super().__init__(f"{key}: line {line} is not a JSON object ({reason})")
        self.key = key
        self.line = line


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


def _open_decoded(source: Source) -> BinaryIO:
    raw = source.open()
    if source.key.lower().endswith(".gz"):
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


def line_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterator[tuple[list[int], list[bytes], int]]:
    """Yield (line numbers, non-blank lines, raw bytes) for chunks of whole lines.

    Line numbers are 1-based positions in the file, blank lines included, so `_line` points at
    the line a person sees in an editor.
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
        numbers, lines = _split(rest, next_line)
        yield numbers, lines, len(rest)


def _split(data: bytes, first: int) -> tuple[list[int], list[bytes]]:
    numbers, lines = [], []
    for i, line in enumerate(data.split(b"\n")):
        if line.strip():
            numbers.append(first + i)
            lines.append(line.rstrip(b"\r"))
    return numbers, lines


def parse_lines(key: str, numbers: list[int], lines: list[bytes]) -> list[tuple[pa.Table, list[int]]]:
    """Parse lines into (table, line numbers) pieces; lines whose types clash are split apart."""
    if not lines:
        return []
    try:
        table = pajson.read_json(pa.py_buffer(b"\n".join(lines)), read_options=_READ_OPTIONS)
        if table.num_rows != len(lines):
            raise pa.ArrowInvalid("row count differs from line count")
        return [(table, numbers)]
    except pa.ArrowInvalid as exc:
        if len(lines) == 1:
            raise BadRecord(key, numbers[0], _reason(exc)) from None
        mid = len(lines) // 2
        return parse_lines(key, numbers[:mid], lines[:mid]) + parse_lines(key, numbers[mid:], lines[mid:])


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "changed from object" in text or "not an object" in text.lower():
        return "not an object"
    return "invalid JSON"


def _with_lineage(user: pa.Table, numbers: list[int], key: str, manifest_id: str) -> pa.Table:
    n = user.num_rows
    for name in LINEAGE:
        if name in user.column_names:  # a record's own field would shadow lineage: keep both
            user = user.rename_columns([f"{c}_record" if c == name else c for c in user.column_names])
    user = user.append_column("_source_key", pa.array([key] * n, pa.string()))
    user = user.append_column("_line", pa.array(numbers, pa.int64()))
    return user.append_column("_manifest_id", pa.array([manifest_id] * n, pa.string()))


def unify(schemas: list[pa.Schema]) -> tuple[pa.Schema, set[str]]:
    """Merge schemas; fields that cannot merge become JSON text (returned by name)."""
    try:
        return pa.unify_schemas(schemas, promote_options="permissive"), set()
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
            fields.append(pa.unify_schemas([pa.schema([f]) for f in by_name[name]], promote_options="permissive")[0])
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
    for f in schema:
        if f.name not in table.column_names:
            columns.append(pa.nulls(table.num_rows, f.type))
        elif f.name in as_text:
            columns.append(_as_json_text(table.column(f.name)))
        else:
            columns.append(table.column(f.name).cast(f.type))
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
            with contextlib.closing(_open_decoded(source)) as stream:
                for numbers, lines, nbytes in line_chunks(stream, chunk_bytes):
                    result.bytes_in += nbytes
                    for table, piece_numbers in parse_lines(source.key, numbers, lines):
                        table = _with_lineage(table, piece_numbers, source.key, manifest_id)
                        path = os.path.join(spill_dir, f"{len(spills):07d}.parquet")
                        pq.write_table(table, path, compression="lz4")
                        spills.append((path, table.schema))
                        result.records += table.num_rows
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
                table = conform(pq.read_table(path), schema, as_text)
                buffered.append(table)
                rows += table.num_rows
                if rows >= ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(buffered), row_group_size=ROW_GROUP_ROWS)
                    buffered, rows = [], 0
            if buffered:
                writer.write_table(pa.concat_tables(buffered), row_group_size=ROW_GROUP_ROWS)
        os.replace(tmp_out, out_path)
    return result
