"""Convert the NDJSON files of one manifest into one Parquet file, in bounded memory.

Each source is read in chunks of whole lines (`lines`), each chunk parsed under the JSON -> Parquet
mapping (`records`), and its columns fitted to the manifest's plan (`plan`) and written into one
zstd ParquetWriter, with the lineage columns `_source_key`, `_line` and `_manifest_id`. Reading and
parsing run in a thread beside the writing (pyarrow releases the GIL for both), and the next
source is fetched while the current one is parsed.

While the schema stays the same nothing is written twice. When a chunk widens it (a new field, a
field that becomes JSON text), the file so far is closed as a part and a new part begins; at the
end the parts are rewritten into one file under the final schema. Memory is a few chunks plus one
row group, whatever the manifest's size.

A bad line costs that line only: it is quarantined with its key, line number and reason, whatever
fails on it (a refusal under the mapping, or any exception while it is parsed, typed or written).
Parsing isolates its own failures to lines (`records`). Fitting rows to the file's schema and
writing them run unchecked, at full speed; when either fails for a reason that may lie in the
rows, the file written so far cannot be trusted (pyarrow closes a writer that failed midway), so
the conversion runs again with every table tried in memory before it is written: the rows that
fail alone are found (`isolate`), quarantined, and the rest written. Failures that are not about
the data (out of memory, the disk, S3) fail the conversion.

A source that cannot be read at all (deleted before conversion) is quarantined as a whole file. A `.gz`
source that is not gzip, is corrupt, is cut short or decompresses past its limit keeps the whole
lines that decompressed; a partial last line is quarantined with its number, and a whole-file
record (line None) says where and why reading stopped.
"""

from __future__ import annotations

import contextlib
import io
import os
import queue
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from . import isolate
from .gz import MAX_DECOMPRESSED_BYTES, GunzipReader
from .isolate import about_the_data
from .lines import CHUNK_BYTES, MAX_LINE_BYTES, Chunk, LongLine, read_chunks
from .plan import LINEAGE, Plan, conform, merge, plan_of, storage_schema, stored_names
from .records import Parsed, Pins, Quarantined, parse_chunk

ROW_GROUP_ROWS = 128 * 1024
ROW_GROUP_BYTES = 32 * 1024 * 1024
PREFETCH_BYTES = 64 * 1024 * 1024  # how much of the next source is fetched ahead

__all__ = ["Source", "SourceGone", "Quarantined", "ConversionResult", "convert"]


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
    json_text_reasons: dict[str, str] = field(default_factory=dict)
    renamed_fields: dict[str, str] = field(default_factory=dict)  # column name -> record field name
    repeated_names: int = 0  # records with an object that repeats a name (its last value kept)
    parts: int = 0  # files written before the final one (0 or 1: nothing written twice)
    schema: pa.Schema | None = None
    quarantined: list[Quarantined] = field(default_factory=list)
    checked_writes: bool = False  # a write failed on rows: converted again, each table tried first


class _RowsFailed(Exception):
    """Fitting or writing rows failed unchecked: the file so far cannot be trusted."""


def convert(
    sources: Iterable[Source],
    manifest_id: str,
    out_path: str,
    tmp_dir: str | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    on_file: Callable[[str, int], None] | None = None,
    max_line_bytes: int = MAX_LINE_BYTES,
    max_gz_bytes: int = MAX_DECOMPRESSED_BYTES,
) -> ConversionResult:
    """Convert the sources into one zstd Parquet file at `out_path` (overwritten)."""
    sources = list(sources)
    args = (manifest_id, out_path, tmp_dir, chunk_bytes, on_file, max_line_bytes, max_gz_bytes)
    try:
        return _convert(sources, *args, checked=False)
    except _RowsFailed:
        return _convert(sources, *args, checked=True)


def _convert(sources: list[Source], manifest_id: str, out_path: str, tmp_dir: str | None, chunk_bytes: int,
             on_file: Callable[[str, int], None] | None, max_line_bytes: int, max_gz_bytes: int,
             checked: bool) -> ConversionResult:
    result = ConversionResult(checked_writes=checked)
    reader = _Reader(result, chunk_bytes, max_line_bytes, max_gz_bytes, keep_lines=checked)
    with tempfile.TemporaryDirectory(prefix="convert-", dir=tmp_dir) as work:
        parts = _Parts(out_path, work, manifest_id, result.quarantined, checked)
        try:
            for item in _in_background(reader.items(sources)):
                if isinstance(item, tuple):  # a source is done: (key, rows)
                    result.files += 1
                    if on_file:
                        on_file(*item)
                else:
                    result.records += parts.add(item)
            parts.finish()
        except BaseException:
            parts.abandon()
            raise
        result.records -= parts.dropped_at_finish
        result.parts = len(parts.parts) - 1 if len(parts.parts) > 1 else 0
    # Lines are quarantined by the reader and by the writer, in two threads: source order, then line.
    order = {source.key: i for i, source in enumerate(sources)}
    result.quarantined.sort(key=lambda q: (order.get(q.key, len(order)), q.line is None, q.line or 0))
    final = parts.plan
    names = stored_names(final)
    result.json_text_reasons = {n: fp.text_reason() for n, fp in final.items() if fp.text_reason()}
    result.json_text_fields = sorted(result.json_text_reasons)
    result.renamed_fields = {names[n]: n for n in final if names[n] != n}
    result.schema = parts.schema
    return result


class _Reader:
    """The producer: sources -> chunks -> parsed tables (plus a marker when a source ends)."""

    def __init__(self, result: ConversionResult, chunk_bytes: int, max_line_bytes: int, max_gz_bytes: int,
                 keep_lines: bool = False):
        self.result = result
        self.chunk_bytes = chunk_bytes
        self.max_line_bytes = max_line_bytes
        self.max_gz_bytes = max_gz_bytes
        self.keep_lines = keep_lines  # hand each chunk's lines on, for quarantining rows that fail to write
        self.pins = Pins()

    def items(self, sources: Iterable[Source]) -> Iterator:
        for source, stream in _prefetched(sources):
            if isinstance(stream, SourceGone):
                self.result.quarantined.append(Quarantined(source.key, None, str(stream)))
                yield (source.key, 0)
                continue
            if source.key.lower().endswith(".gz"):
                stream = GunzipReader(stream, self.max_gz_bytes)
            rows = 0
            with contextlib.closing(stream):
                for parsed in self._parse(source.key, stream):
                    rows += len(parsed.numbers)
                    yield parsed
            yield (source.key, rows)

    def _parse(self, key: str, stream) -> Iterator[Parsed]:
        cut_tail: list[tuple[int, bytes]] = []
        last_line = 0
        for piece in read_chunks(stream, self.chunk_bytes, self.max_line_bytes, cut_tail):
            if isinstance(piece, LongLine):
                self.result.quarantined.append(Quarantined(
                    key, piece.number, f"a line of {piece.size} bytes, longer than the limit of "
                                       f"{self.max_line_bytes}", piece.head, raw_truncated=True))
                last_line = piece.number
                continue
            self.result.bytes_in += len(piece.data)
            last_line = piece.first_line + piece.line_count - 1
            parsed = parse_chunk(key, piece, self.pins)
            if self.keep_lines:
                parsed.chunk = piece
            self.result.quarantined.extend(parsed.bad)
            self.result.repeated_names += parsed.repeated_names
            if parsed.numbers:
                yield parsed
        problem = getattr(stream, "problem", "")
        if problem:
            where = f"after line {last_line}" if last_line else "before its first line"
            for number, raw in cut_tail:
                if raw.strip():
                    where = f"inside line {number}"
                    self.result.quarantined.append(
                        Quarantined(key, number, "the line is cut short: " + problem, raw))
            self.result.quarantined.append(Quarantined(key, None, f"{problem}; reading stopped {where}"))


class _Joined(io.RawIOBase):
    """The bytes fetched ahead, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO | None):
        self._head = memoryview(head)
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head:
            n = len(self._head) if size < 0 else min(size, len(self._head))
            data, self._head = bytes(self._head[:n]), self._head[n:]
            return data
        return self._rest.read(size) if self._rest is not None else b""

    def close(self) -> None:
        if self._rest is not None and hasattr(self._rest, "close"):
            self._rest.close()
        super().close()


def _fetch(source: Source):
    try:
        stream = source.open()
    except SourceGone as exc:
        return exc
    head = stream.read(PREFETCH_BYTES)
    if len(head) < PREFETCH_BYTES:
        if hasattr(stream, "close"):
            stream.close()
        return _Joined(head, None)
    return _Joined(head, stream)


def _prefetched(sources: Iterable[Source]) -> Iterator[tuple[Source, object]]:
    """Open each source and read its start in a thread, one source ahead of the parser."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch") as pool:
        iterator = iter(sources)
        current = next(iterator, None)
        pending = pool.submit(_fetch, current) if current is not None else None
        while current is not None:
            following = next(iterator, None)
            stream = pending.result()
            pending = pool.submit(_fetch, following) if following is not None else None
            yield current, stream
            current = following


_DONE = object()


def _in_background(items: Iterator, depth: int = 4) -> Iterator:
    """Run a producer in a thread, `depth` items ahead; its exceptions surface here."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run():
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            q.put(exc)

    thread = threading.Thread(target=run, name="convert-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                q.get(timeout=0.2)
            except queue.Empty:
                pass
        thread.join()


@dataclass
class _Part:
    path: str
    schema: pa.Schema
    plan: Plan


class _Parts:
    """Parquet parts, one per schema: usually exactly one, renamed into place at the end.

    Unchecked, a failure to fit or write rows raises _RowsFailed. Checked, each table is first
    written into memory; when that fails, the rows that fail alone are quarantined and the rest
    written."""

    def __init__(self, out_path: str, work: str, manifest_id: str, quarantined: list[Quarantined],
                 checked: bool = False):
        self.out_path = out_path
        self.work = work
        self.manifest_id = manifest_id
        self.quarantined = quarantined
        self.checked = checked
        self.plan: Plan = {}
        self.parts: list[_Part] = []
        self.schema: pa.Schema | None = None
        self.writer: pq.ParquetWriter | None = None
        self.buffer: list[pa.Table] = []
        self.buffered = (0, 0)  # rows, bytes
        self.dropped_at_finish = 0  # rows quarantined while the parts were joined (checked only)

    def add(self, parsed: Parsed) -> int:
        try:
            plan, schema, table = self._fit(parsed)
            if self.checked:
                _trial(table, schema)
        except Exception as exc:
            if not about_the_data(exc):
                raise
            if not self.checked:
                raise _RowsFailed() from exc
            parsed = self._without_failing(parsed)
            if not parsed.numbers:
                return 0
            plan, schema, table = self._fit(parsed)  # rows that fail only together: not about a line, raised
            _trial(table, schema)
        if self.schema is None or not schema.equals(self.schema, check_metadata=True):
            self._new_part(plan, schema)
        self.plan = self.parts[-1].plan = plan
        self._write(table)
        return len(parsed.numbers)

    def _fit(self, parsed: Parsed) -> tuple[Plan, pa.Schema, pa.Table]:
        """The plan and schema with these rows, and the rows in that schema (nothing changed yet)."""
        rows = len(parsed.numbers)
        plan = merge(self.plan, plan_of(parsed.table, parsed.text))
        schema = storage_schema(plan)
        columns = conform(parsed.table, rows, set(parsed.text), plan)
        columns += _lineage(parsed, self.manifest_id)
        return plan, schema, pa.Table.from_arrays(columns, schema=schema)

    def _without_failing(self, parsed: Parsed) -> Parsed:
        """The rows that fit and write alone; the others quarantined with their lines."""
        def attempt(rows):
            _, schema, table = self._fit(parsed.subset(rows))
            _trial(table, schema)

        culprits = isolate.failing(len(parsed.numbers), attempt)
        raw = parsed.raw_lines()
        for i, exc in sorted(culprits.items()):
            number = parsed.numbers[i]
            self.quarantined.append(Quarantined(parsed.key, number, isolate.reason(exc, "storing"), raw.get(number, b"")))
        return parsed.subset([i for i in range(len(parsed.numbers)) if i not in culprits])

    def _write(self, table: pa.Table) -> None:
        self.buffer.append(table)
        rows, size = self.buffered
        self.buffered = rows + table.num_rows, size + table.nbytes
        if self.buffered[0] >= ROW_GROUP_ROWS or self.buffered[1] >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if self.buffer:
            self._guarded(lambda: self.writer.write_table(pa.concat_tables(self.buffer), row_group_size=ROW_GROUP_ROWS))
        self.buffer, self.buffered = [], (0, 0)

    def _guarded(self, step: Callable[[], object]) -> None:
        """A step of the writer; unchecked, a failure that may lie in the rows is _RowsFailed.
        Checked, every table was written in memory first: a failure here is not one line's."""
        try:
            step()
        except Exception as exc:
            if about_the_data(exc) and not self.checked:
                raise _RowsFailed() from exc
            raise

    def _new_part(self, plan: Plan, schema: pa.Schema) -> None:
        if self.writer is not None:
            self._flush()
            self._guarded(self.writer.close)
        path = self.out_path + ".partial" if not self.parts else os.path.join(self.work, f"part-{len(self.parts)}.parquet")
        self.parts.append(_Part(path, schema, plan))
        self.schema = schema
        self.writer = _writer(path, schema)

    def abandon(self) -> None:
        """After a failure: close the writer whatever its state, and leave no partial file."""
        if self.writer is not None:
            with contextlib.suppress(Exception):
                self.writer.close()
            self.writer = None
        with contextlib.suppress(OSError):
            os.unlink(self.out_path + ".partial")

    def finish(self) -> None:
        if self.writer is None:  # nothing to convert: a file with the lineage columns only
            self._new_part({}, storage_schema({}))
        self._flush()
        self._guarded(self.writer.close)
        self.writer = None
        if len(self.parts) == 1:
            os.replace(self.parts[0].path, self.out_path)
            return
        tmp = self.out_path + ".rewrite"
        with _writer(tmp, self.schema) as writer:
            for part in self.parts:
                back = {stored: name for name, stored in stored_names(part.plan).items()}
                text = {name for name, fp in part.plan.items() if fp.text_reason()}
                for batch in pq.ParquetFile(part.path).iter_batches(batch_size=ROW_GROUP_ROWS):
                    table = pa.Table.from_batches([batch])
                    self._rewrite(writer, table, back, text)
                os.unlink(part.path)
        os.replace(tmp, self.out_path)

    def _rewrite(self, writer: pq.ParquetWriter, table: pa.Table, back: dict, text: set) -> None:
        """Rows of an earlier part, in the final schema, into the final file."""
        def fitted(rows: pa.Table) -> pa.Table:
            own = rows.select([n for n in rows.column_names if n in back])
            own = own.rename_columns([back[n] for n in own.column_names])
            columns = conform(own, rows.num_rows, text, self.plan)
            columns += [rows.column(n) for n in LINEAGE]
            return pa.Table.from_arrays(columns, schema=self.schema)

        if self.checked:
            try:
                out = fitted(table)
                _trial(out, self.schema)
            except Exception as exc:
                if not about_the_data(exc):
                    raise
                culprits = isolate.failing(table.num_rows, lambda rows: _trial(
                    fitted(table.take(pa.array(rows, pa.int64()))), self.schema))
                keys, lines = table.column("_source_key").to_pylist(), table.column("_line").to_pylist()
                for i, e in sorted(culprits.items()):
                    self.quarantined.append(Quarantined(keys[i], lines[i], isolate.reason(e, "storing")))
                self.dropped_at_finish += len(culprits)
                keep = [i for i in range(table.num_rows) if i not in culprits]
                out = fitted(table.take(pa.array(keep, pa.int64())))
            writer.write_table(out, row_group_size=ROW_GROUP_ROWS)
        else:
            self._guarded(lambda: writer.write_table(fitted(table), row_group_size=ROW_GROUP_ROWS))


def _trial(table: pa.Table, schema: pa.Schema) -> None:
    """Write the table into memory as the real writer would: does any of it fail to write?"""
    with _writer(pa.BufferOutputStream(), schema) as writer:
        writer.write_table(table, row_group_size=ROW_GROUP_ROWS)


def _writer(path, schema: pa.Schema) -> pq.ParquetWriter:
    """zstd, dictionary encoding for every column but `_line`: line numbers never repeat, so a
    dictionary for them is built only to be thrown away (measured: a third of the writing time
    and a larger file)."""
    return pq.ParquetWriter(path, schema, compression="zstd",
                            use_dictionary=[p for p in _leaf_paths(schema) if p != "_line"])


def _leaf_paths(schema: pa.Schema) -> list[str]:
    """Parquet's dotted path of every leaf column (lists as `name.list.element`)."""
    out: list[str] = []

    def walk(t: pa.DataType, path: str) -> None:
        if pa.types.is_struct(t):
            for i in range(t.num_fields):
                walk(t.field(i).type, f"{path}.{t.field(i).name}")
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            walk(t.value_type, path + ".list.element")
        else:
            out.append(path)

    for f in schema:
        walk(f.type, f.name)
    return out


def _lineage(parsed: Parsed, manifest_id: str) -> list[pa.Array]:
    rows = len(parsed.numbers)
    return [pa.repeat(pa.scalar(parsed.key, pa.string()), rows), pa.array(parsed.numbers, pa.int64()),
            pa.repeat(pa.scalar(manifest_id, pa.string()), rows)]
