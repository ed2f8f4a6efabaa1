"""The hashing pass of the multiset check: every landed record and every output row to its
128-bit digest, in worker processes, by units -- groups of landed objects (streamed, `.gz`
decompressed as the pipeline does, lines framed by sim.pipeline.lines) and row-group ranges of
Parquet outputs (ranged reads, nothing on disk). Lines that are no JSON object, and lines too
long to hold or cut short by a broken gzip stream, are listed instead of hashed.
"""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.pipeline.gz import GunzipReader
from sim.pipeline.lines import LongLine, read_chunks
from sim.validate import canonical, digest, pools
from sim.validate.rowtext import RowTexts
from sim.validate.s3file import S3File
from sim.validate.named import repeated
from sim.validate.tally import LANDED, NAMED_LINES, ROWS

if TYPE_CHECKING:
    from sim.validate.multiset_options import Options

UNIT_BYTES = 48 * 1024 * 1024  # landed objects grouped up to this size per unit
BATCH_ROWS = 32 * 1024
PREFETCH = 3
HOLD_BYTES = 32 * 1024 * 1024  # landed objects up to this size are fetched whole, ahead of their turn
IN_PROCESS_BYTES = 24 * 1024 * 1024  # landed and Parquet bytes below which no worker process is started


@dataclass
class LandedUnit:
    keys: list[tuple[str, int]]  # (key, size)


@dataclass
class RowsUnit:
    key: str
    size: int
    row_groups: list[int] | None  # None: all of them
    first_row: int
    groups_in_file: int = 1


@dataclass
class Result:
    table: pa.Table
    not_records: list[pa.Table] = field(default_factory=list)  # (key, line) of lines that are no JSON object
    unread: list[pa.Table] = field(default_factory=list)  # lines too long to hold, or cut by a broken gzip
    lines: int = 0
    bytes: int = 0
    set_aside_rows: int = 0
    gone: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # outputs that cannot be read as Parquet, and why
    seconds: float = 0.0  # the worker's time on the unit
    name: str | None = None  # the one landed key or output it covers, when made by the lineage pass


def is_landed(result: Result) -> bool:
    return result.table.schema.names == LANDED.names


def plan(s3, options: Options, landed: dict[str, int], outputs: dict[str, int]) -> list:
    """Units, biggest first: groups of landed objects, and row-group ranges of outputs (an output
    is cut into enough parts to keep every worker busy when outputs are few)."""
    units: list = []
    group: list[tuple[str, int]] = []
    size = 0
    for key, n in sorted(landed.items(), key=lambda kv: -kv[1]):
        group.append((key, n))
        size += n
        if size >= UNIT_BYTES:
            units.append(LandedUnit(group))
            group, size = [], 0
    if group:
        units.append(LandedUnit(group))
    few = len(outputs) < 2 * options.workers
    for key, n in sorted(outputs.items()):
        if not few:  # one unit per output: its row groups are read when it runs
            units.append(RowsUnit(key, n, None, 0))
            continue
        try:
            meta = pq.ParquetFile(S3File(s3, options.output_bucket, key, n, block=256 * 1024)).metadata
        except pa.ArrowException:  # its worker says why
            units.append(RowsUnit(key, n, None, 0))
            continue
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        per = -(-len(sizes) // min(len(sizes), 2 * options.workers)) if sizes else 1
        first = 0
        for i in range(0, max(1, len(sizes)), per):
            groups = list(range(i, min(len(sizes), i + per)))
            units.append(RowsUnit(key, n, groups, first, len(sizes)))
            first += sum(sizes[g] for g in groups)
    return sorted(units, key=lambda u: -_weight(u))


def _weight(unit) -> float:
    if isinstance(unit, LandedUnit):
        return sum(n for _, n in unit.keys)
    if unit.row_groups is None:
        return unit.size
    return unit.size * len(unit.row_groups) / max(1, unit.groups_in_file)


def run(units: list, target_spec: tuple, options: Options) -> list[Result]:
    """In worker processes; in this one when there is little to read (starting a worker costs
    about a second, and scenarios validate small data many times)."""
    small = sum(_weight(u) for u in units) < IN_PROCESS_BYTES
    if options.workers <= 1 or len(units) <= 1 or small:
        worker = _Worker(target_spec, options)
        return [worker.run(u) for u in units]
    results = []
    with pools.running(options.workers, _init, (target_spec, options)) as pool:
        for future in as_completed([pool.submit(_run_one, u) for u in units]):
            results.append(future.result())
    return results


_worker: "_Worker | None" = None


def _init(target_spec, options):
    import gc

    global _worker
    _worker = _Worker(target_spec, options)
    gc.freeze()  # what the imports made stays out of the collections the parsing triggers


def _run_one(unit):
    return _worker.run(unit)


class _Worker:
    def __init__(self, target_spec: tuple, options: Options):
        from sim.engine.target import Target

        name, endpoint, region = target_spec
        self.s3 = Target(name, endpoint, region).client("s3", max_pool=PREFETCH + 2)
        self.options = options

    def run(self, unit) -> Result:
        t0 = time.monotonic()
        if isinstance(unit, LandedUnit):
            result = self._landed(unit)
        else:
            try:
                result = self._rows(unit)
            except pa.ArrowException as exc:  # not Parquet, or a file cut short: said, not a traceback
                # (the reader's message is left out: it may quote the file's bytes)
                result = Result(ROWS.empty_table(), unreadable=[f"{unit.key}: {type(exc).__name__}"])
        result.seconds = time.monotonic() - t0
        return result

    def _landed(self, unit: LandedUnit) -> Result:
        result = Result(LANDED.empty_table())
        tables = []
        bucket = self.options.landing_bucket
        with ThreadPoolExecutor(max_workers=PREFETCH) as pool:
            # Objects small enough to hold are fetched ahead (a unit holds at most UNIT_BYTES of
            # them); a larger one is opened when its turn comes and streamed.
            fetches = [pool.submit(fetch, self.s3, bucket, key) if size <= HOLD_BYTES else None
                       for key, size in unit.keys]
            for (key, _), fetched in zip(unit.keys, fetches):
                body = fetched.result() if fetched is not None else fetch(self.s3, bucket, key)
                if body is None:
                    result.gone.append(key)
                    continue
                tables.append(landed_records(key, body, result))
        result.table = concat(tables, LANDED)
        return result

    def _rows(self, unit: RowsUnit) -> Result:
        o = self.options
        source = S3File(self.s3, o.output_bucket, unit.key, unit.size)
        pf = pq.ParquetFile(source, pre_buffer=True)
        texts = RowTexts(pf.schema_arrow, o.ignore_columns, o.json_text_columns, o.renamed_by_metadata)
        aside = o.set_aside_column if o.set_aside_keys and o.set_aside_column in pf.schema_arrow.names else None
        columns = list(texts.columns) + ([aside] if aside and aside not in texts.columns else [])
        aside_keys = pa.array(sorted(o.set_aside_keys), pa.string())
        result = Result(ROWS.empty_table())
        tables, at = [], unit.first_row
        row_groups = list(range(pf.num_row_groups)) if unit.row_groups is None else unit.row_groups
        if row_groups:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, row_groups=row_groups, columns=columns):
                rows = pa.array(range(at, at + batch.num_rows), pa.int64())
                at += batch.num_rows
                if aside:
                    keep = pc.fill_null(pc.invert(pc.is_in(batch.column(aside), value_set=aside_keys)), True)
                    result.set_aside_rows += batch.num_rows - pc.sum(keep.cast(pa.int64())).as_py()
                    batch, rows = batch.filter(keep), rows.filter(keep)
                h = digest.digests(texts.texts(batch))
                tables.append(pa.table({"h": h, "file": repeated(unit.key, len(rows)),
                                        "row": rows}, schema=ROWS))
        result.table = concat(tables, ROWS)
        result.bytes = source.bytes_read
        return result


def fetch(s3, bucket: str, key: str):
    """The object as a stream (None when it is gone): read whole up to HOLD_BYTES, so fetching
    ahead overlaps the engine's answer with the parsing; a larger one is its open stream, read a
    chunk at a time when its turn comes."""
    try:
        obj = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return None
    body = obj["Body"]
    if (obj.get("ContentLength") or 0) > HOLD_BYTES:
        return body
    try:
        return io.BytesIO(body.read())
    finally:
        body.close()


def landed_records(key: str, body, result: Result) -> pa.Table:
    """Digests of the records of one landed object; lines that are no JSON object, too long to
    hold, or cut short by a broken gzip stream are listed instead."""
    stream = GunzipReader(body) if key.lower().endswith(".gz") else body
    texts: list[bytes] = []
    numbers: list[int] = []
    bad: list[int] = []  # line numbers of lines that are no JSON object
    unread: list[int] = []
    cut: list[tuple[int, bytes]] = []
    try:
        for piece in read_chunks(stream, cut_tail=cut):
            if isinstance(piece, LongLine):
                unread.append(piece.number)
                result.lines += 1
                continue
            result.bytes += len(piece.data)
            chunk_numbers, lines, found, _careful = canonical.chunk_texts(piece)
            result.lines += len(lines)
            canonical.add_records(chunk_numbers, found, bad, numbers, texts)
    finally:
        if hasattr(stream, "close"):
            stream.close()
    for number, raw in cut:
        if raw.strip():
            unread.append(number)
            result.lines += 1
    for numbers_of, found in ((bad, result.not_records), (unread, result.unread)):
        if numbers_of:
            found.append(pa.table({"key": repeated(key, len(numbers_of)), "line": pa.array(numbers_of, pa.int64())},
                                  schema=NAMED_LINES))
    return pa.table({"h": digest.digests(texts), "key": repeated(key, len(texts)),
                     "line": pa.array(numbers, pa.int64())}, schema=LANDED)


def concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    tables = [t for t in tables if t.num_rows]
    return pa.concat_tables(tables) if tables else schema.empty_table()
