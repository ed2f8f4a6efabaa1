"""Validation without lineage: the landed records and the output rows compared as multisets.

For any pipeline, whatever its converter writes beside a record's own fields: every landed record
(each non-blank line of every landing object that is a JSON object) must be in the output exactly
as many times as it was landed, with its values. Both sides are brought to one canonical text per
record (canonical.py for landed lines, rowtext.py for Parquet rows: parsed, keys sorted, absent and
null one, numbers by value, ignored columns dropped, JSON text columns parsed back, renamed fields
named back), hashed to 128 bits (digest.py) and counted with DuckDB (tally.py). What is left
unmatched on both sides is read again and paired where the pairing is sound (pairing.py): those
are altered records, with the JSON Pointer of the first difference. Reports name the landed key
and line, or the output object and row, never a value.

Work runs in worker processes, by units: landed objects (streamed, `.gz` decompressed as the
pipeline does, lines framed by sim.pipeline.lines) and row groups of Parquet outputs (ranged reads,
nothing on disk).
"""

from __future__ import annotations

import io
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.core.errors import SimError
from sim.pipeline.events import is_landing_key
from sim.pipeline.gz import GunzipReader
from sim.pipeline.lines import LongLine, read_chunks, split_lines
from sim.validate import canonical, content, digest, pairing, quarantine
from sim.validate.rowtext import RowTexts
from sim.validate.s3file import S3File
from sim.validate.tally import LANDED, NAMED_LINES, ROWS, first_lines, repeated, tally

EXAMPLES = 5
PAIR_LIMIT = 20_000  # unmatched records of each side read again for pairing
UNIT_BYTES = 48 * 1024 * 1024  # landed objects grouped up to this size per unit
BATCH_ROWS = 32 * 1024
PREFETCH = 3
HOLD_BYTES = 32 * 1024 * 1024  # landed objects up to this size are fetched whole, ahead of their turn
IN_PROCESS_BYTES = 24 * 1024 * 1024  # landed and Parquet bytes below which no worker process is started


@dataclass
class Options:
    """What the check needs to know about a pipeline (a description file supplies it)."""

    landing_bucket: str
    output_bucket: str
    output_prefix: str = ""
    ignore_columns: tuple[str, ...] = ()
    json_text_columns: tuple[str, ...] = ()
    quarantine_prefix: str | None = None  # in the output bucket
    workers: int = 2
    renamed_by_metadata: bool = True  # read `sim.renamed_fields` from each output's metadata
    # Landed keys left out, with the rows whose `set_aside_column` holds one of them (sim's own
    # pipeline: keys overwritten after conversion, whose converted content is gone).
    set_aside_keys: frozenset = frozenset()
    set_aside_column: str | None = None

    def __post_init__(self):
        self.ignore_columns = tuple(self.ignore_columns)
        self.json_text_columns = tuple(self.json_text_columns)
        if not isinstance(self.workers, int) or self.workers < 1:
            raise SimError(f"multiset check: workers must be a whole number of at least 1, not {self.workers!r}")
        for name in ("landing_bucket", "output_bucket"):
            if not getattr(self, name):
                raise SimError(f"multiset check: {name} is required")
        if self.quarantine_prefix == "":
            self.quarantine_prefix = None


@dataclass
class _LandedUnit:
    keys: list[tuple[str, int]]  # (key, size)


@dataclass
class _RowsUnit:
    key: str
    size: int
    row_groups: list[int] | None  # None: all of them
    first_row: int
    groups_in_file: int = 1


@dataclass
class _Result:
    table: pa.Table
    not_records: list[pa.Table] = field(default_factory=list)  # (key, line) of lines that are no JSON object
    unread: list[pa.Table] = field(default_factory=list)  # lines too long to hold, or cut by a broken gzip
    lines: int = 0
    bytes: int = 0
    set_aside_rows: int = 0
    gone: list[str] = field(default_factory=list)
    seconds: float = 0.0  # the worker's time on the unit


def check(target, options: Options, on_step: Callable[[str], None] | None = None) -> dict:
    """The multiset check of what `target` holds now; a dict in the validation's --json shape."""
    started = time.monotonic()
    step = on_step or (lambda _m: None)
    s3 = target.client("s3", max_pool=8)
    landed = {o["Key"]: o["Size"] for o in _list(s3, options.landing_bucket, "")
              if is_landing_key(o["Key"]) and o["Key"] not in options.set_aside_keys and not _pipelines_own(options, o["Key"])}
    outputs = {o["Key"]: o["Size"] for o in _list(s3, options.output_bucket, options.output_prefix)
               if o["Key"].endswith(".parquet")}
    q_keys = quarantine.list_objects(s3, options.output_bucket, options.quarantine_prefix) \
        if options.quarantine_prefix else []
    units = _plan(s3, options, landed, outputs)
    step(f"hashing {len(landed)} landed files and {len(outputs)} Parquet files")
    t0 = time.monotonic()
    results = _run(units, (target.name, target.endpoint, target.region), options)
    hashing_s = time.monotonic() - t0
    quarantined = quarantine.read_lines(s3, options.output_bucket, q_keys) if q_keys else \
        pa.table({"key": pa.array([], pa.string()), "line": pa.array([], pa.int64())})
    step("counting records with DuckDB")
    t0 = time.monotonic()
    landed_t = _concat([r.table for r in results if _is_landed(r)], LANDED)
    rows_t = _concat([r.table for r in results if not _is_landed(r)], ROWS)
    counted = tally(landed_t, rows_t, quarantined, limit=PAIR_LIMIT)
    count_s = time.monotonic() - t0
    t0 = time.monotonic()
    altered_examples, pairs = [], []
    if counted.unmatched_in.num_rows and counted.unmatched_out.num_rows:
        step("pairing unmatched records")
        pairs, altered_examples = _pair(s3, options, counted)
    pairing_s = time.monotonic() - t0
    doc = _report(options, results, counted, quarantined, pairs, altered_examples, len(landed), len(outputs),
                  len(q_keys))
    doc["seconds"] = {"total": round(time.monotonic() - started, 3), "hashing": round(hashing_s, 3),
                      "counting": round(count_s, 3), "pairing": round(pairing_s, 3),
                      # summed over the workers: where the hashing time goes
                      "landed_units": round(sum(r.seconds for r in results if _is_landed(r)), 3),
                      "output_units": round(sum(r.seconds for r in results if not _is_landed(r)), 3)}
    return doc


def _report(options, results, counted, quarantined, pairs, altered_examples, n_landed, n_outputs, n_q) -> dict:
    not_records = _concat([t for r in results for t in r.not_records], NAMED_LINES)
    unread = _concat([t for r in results for t in r.unread], NAMED_LINES)
    lines = sum(r.lines for r in results)
    altered = len(pairs)
    paired_in = {i for i, _ in pairs}
    paired_out = {j for _, j in pairs}
    missing = counted.unmatched_in_total - altered
    unexpected = counted.unmatched_out_total - altered
    ui, uo = counted.unmatched_in, counted.unmatched_out
    in_keys, in_lines = ui.column("key").to_pylist(), ui.column("line").to_pylist()
    out_keys, out_rows = uo.column("file").to_pylist(), uo.column("row").to_pylist()
    examples: dict = {}
    if missing:
        examples["missing"] = [{"key": in_keys[i], "line": in_lines[i]} for i in range(len(in_keys))
                               if i not in paired_in][:EXAMPLES]
    if counted.duplicated:
        examples["duplicated"] = counted.duplicated_examples
    if unexpected:
        examples["unexpected"] = [{"output": out_keys[j], "row": out_rows[j]} for j in range(len(out_keys))
                                  if j not in paired_out][:EXAMPLES]
    if altered:
        examples["altered"] = altered_examples[:EXAMPLES]
    if not_records.num_rows:
        examples["not_records"] = first_lines(not_records)[1]
    unaccounted = 0
    if options.quarantine_prefix and (not_records.num_rows or unread.num_rows):
        unaccounted, first = first_lines(_concat([not_records, unread], NAMED_LINES), quarantined)
        if unaccounted:
            examples["not_quarantined"] = first
    problems = []
    for label, n in (("missing", missing), ("duplicated", counted.duplicated), ("altered", altered),
                     ("unexpected", unexpected)):
        if n:
            problems.append(f"{label} records: {n}")
    if unaccounted:
        problems.append(f"landed lines that are no record and are not quarantined: {unaccounted}")
    counted_q = pc.and_(pc.is_valid(quarantined.column("line")),
                        pc.invert(pc.is_in(quarantined.column("key"),
                                           value_set=pa.array(sorted(options.set_aside_keys), pa.string()))))
    quarantined_lines = pc.sum(counted_q.cast(pa.int64())).as_py() or 0
    return {
        "pass": not problems,
        "records_in": lines,
        "records_out": counted.records_out,
        "quarantined": quarantined_lines,
        "missing": missing,
        "duplicated": counted.duplicated,
        "altered": altered,
        "unexpected": unexpected,
        "not_records": not_records.num_rows,
        "lines_unread": unread.num_rows,
        "records_compared": counted.records_in,
        "records_quarantined": counted.quarantined_records,
        "problems": problems,
        "examples": examples,
        "pairing": {"rule": "an identifying leaf shared only by the two, and at least half the leaves of the larger",
                    "examined_in": ui.num_rows, "examined_out": uo.num_rows, "limit": PAIR_LIMIT,
                    "complete": ui.num_rows == counted.unmatched_in_total
                    and uo.num_rows == counted.unmatched_out_total},
        "files_landed": n_landed,
        "outputs": n_outputs,
        "quarantine_objects": n_q,
        "set_aside_files": len(options.set_aside_keys),
        "set_aside_rows": sum(r.set_aside_rows for r in results),
        "landed_gone": sum(len(r.gone) for r in results),
        "bytes_landed_read": sum(r.bytes for r in results if _is_landed(r)),
        "workers": options.workers,
        "parameters": {"landing_bucket": options.landing_bucket, "output_bucket": options.output_bucket,
                       "output_prefix": options.output_prefix, "ignore_columns": list(options.ignore_columns),
                       "json_text_columns": list(options.json_text_columns),
                       "quarantine_prefix": options.quarantine_prefix},
    }


def _pipelines_own(options: Options, key: str) -> bool:
    """A key the pipeline wrote itself, when it writes into the landing bucket (a quarantine
    object ends in `.jsonl` like a landed file)."""
    if options.landing_bucket != options.output_bucket:
        return False
    return any(p and key.startswith(p) for p in (options.output_prefix, options.quarantine_prefix))


def _is_landed(result: _Result) -> bool:
    return result.table.schema.names == LANDED.names


def _list(s3, bucket: str, prefix: str) -> list[dict]:
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        out.extend(page.get("Contents", []))
    return out


def _plan(s3, options: Options, landed: dict[str, int], outputs: dict[str, int]) -> list:
    """Units, biggest first: groups of landed objects, and row-group ranges of outputs (an output
    is cut into enough parts to keep every worker busy when outputs are few)."""
    units: list = []
    group: list[tuple[str, int]] = []
    size = 0
    for key, n in sorted(landed.items(), key=lambda kv: -kv[1]):
        group.append((key, n))
        size += n
        if size >= UNIT_BYTES:
            units.append(_LandedUnit(group))
            group, size = [], 0
    if group:
        units.append(_LandedUnit(group))
    few = len(outputs) < 2 * options.workers
    for key, n in sorted(outputs.items()):
        if not few:  # one unit per output: its row groups are read when it runs
            units.append(_RowsUnit(key, n, None, 0))
            continue
        meta = pq.ParquetFile(S3File(s3, options.output_bucket, key, n, block=256 * 1024)).metadata
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        per = -(-len(sizes) // min(len(sizes), 2 * options.workers)) if sizes else 1
        first = 0
        for i in range(0, max(1, len(sizes)), per):
            groups = list(range(i, min(len(sizes), i + per)))
            units.append(_RowsUnit(key, n, groups, first, len(sizes)))
            first += sum(sizes[g] for g in groups)
    return sorted(units, key=lambda u: -_weight(u))


def _weight(unit) -> float:
    if isinstance(unit, _LandedUnit):
        return sum(n for _, n in unit.keys)
    if unit.row_groups is None:
        return unit.size
    return unit.size * len(unit.row_groups) / max(1, unit.groups_in_file)


def _run(units: list, target_spec: tuple, options: Options) -> list[_Result]:
    """In worker processes; in this one when there is little to read (starting a worker costs
    about a second, and scenarios validate small data many times)."""
    small = sum(_weight(u) for u in units) < IN_PROCESS_BYTES
    if options.workers <= 1 or len(units) <= 1 or small:
        worker = _Worker(target_spec, options)
        return [worker.run(u) for u in units]
    results = []
    with ProcessPoolExecutor(max_workers=options.workers, mp_context=get_context("spawn"), initializer=_init,
                             initargs=(target_spec, options)) as pool:
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

    def run(self, unit) -> _Result:
        t0 = time.monotonic()
        result = self._landed(unit) if isinstance(unit, _LandedUnit) else self._rows(unit)
        result.seconds = time.monotonic() - t0
        return result

    def _landed(self, unit: _LandedUnit) -> _Result:
        result = _Result(LANDED.empty_table())
        tables = []
        bucket = self.options.landing_bucket
        with ThreadPoolExecutor(max_workers=PREFETCH) as pool:
            # Objects small enough to hold are fetched ahead (a unit holds at most UNIT_BYTES of
            # them); a larger one is opened when its turn comes and streamed.
            fetches = [pool.submit(_fetch, self.s3, bucket, key) if size <= HOLD_BYTES else None
                       for key, size in unit.keys]
            for (key, _), fetched in zip(unit.keys, fetches):
                body = fetched.result() if fetched is not None else _fetch(self.s3, bucket, key)
                if body is None:
                    result.gone.append(key)
                    continue
                tables.append(_landed_records(key, body, result))
        result.table = _concat(tables, LANDED)
        return result

    def _rows(self, unit: _RowsUnit) -> _Result:
        o = self.options
        source = S3File(self.s3, o.output_bucket, unit.key, unit.size)
        pf = pq.ParquetFile(source, pre_buffer=True)
        texts = RowTexts(pf.schema_arrow, o.ignore_columns, o.json_text_columns, o.renamed_by_metadata)
        aside = o.set_aside_column if o.set_aside_keys and o.set_aside_column in pf.schema_arrow.names else None
        columns = list(texts.columns) + ([aside] if aside and aside not in texts.columns else [])
        aside_keys = pa.array(sorted(o.set_aside_keys), pa.string())
        result = _Result(ROWS.empty_table())
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
        result.table = _concat(tables, ROWS)
        result.bytes = source.bytes_read
        return result


def _fetch(s3, bucket: str, key: str):
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


def _landed_records(key: str, body, result: _Result) -> pa.Table:
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
            chunk_numbers, lines = split_lines(piece)
            result.lines += len(lines)
            careful = canonical.careful_lines(lines)
            line_text = canonical.line_text
            for number, line, slow in zip(chunk_numbers, lines, careful):
                text = line_text(line, slow)
                if text is None:
                    bad.append(number)
                else:
                    texts.append(text)
                    numbers.append(number)
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


def _concat(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    tables = [t for t in tables if t.num_rows]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _pair(s3, options: Options, counted) -> tuple[list[tuple[int, int]], list[dict]]:
    """Read the unmatched records again, pair them, and name each pair's first difference."""
    ui, uo = counted.unmatched_in, counted.unmatched_out
    wanted_in: dict[str, dict[int, int]] = {}
    for i, (key, line) in enumerate(zip(ui.column("key").to_pylist(), ui.column("line").to_pylist())):
        wanted_in.setdefault(key, {})[line] = i
    values_in: dict[int, dict] = {}
    for key, lines in wanted_in.items():
        body = _fetch(s3, options.landing_bucket, key)
        if body is None:
            continue
        stream = GunzipReader(body) if key.lower().endswith(".gz") else body
        for piece in read_chunks(stream):
            if isinstance(piece, LongLine):
                continue
            for number, line in zip(*split_lines(piece)):
                if number in lines:
                    values_in[lines[number]] = content.parse(line, exact=True)
    wanted_out: dict[str, dict[int, int]] = {}
    for j, (key, row) in enumerate(zip(uo.column("file").to_pylist(), uo.column("row").to_pylist())):
        wanted_out.setdefault(key, {})[row] = j
    values_out: dict[int, dict] = {}
    for key, rows in wanted_out.items():
        pf = pq.ParquetFile(S3File(s3, options.output_bucket, key), pre_buffer=True)
        texts = RowTexts(pf.schema_arrow, options.ignore_columns, options.json_text_columns,
                         options.renamed_by_metadata)
        start = 0
        for g in range(pf.metadata.num_row_groups):
            n = pf.metadata.row_group(g).num_rows
            inside = [r for r in rows if start <= r < start + n]
            if inside:
                table = pf.read_row_group(g, columns=texts.columns)
                picked = table.take(pa.array([r - start for r in sorted(inside)], pa.int64()))
                try:
                    values = texts.values(picked)
                except (ValueError, TypeError):  # a value Python cannot read (a string column of invalid UTF-8)
                    values = None  # those rows stay unexpected
                for r, value in zip(sorted(inside), values or []):
                    values_out[rows[r]] = value
            start += n
    hin = ui.column("h").to_pylist()
    hout = uo.column("h").to_pylist()
    items_in = [(hin[i], values_in[i]) for i in sorted(values_in)]
    index_in = sorted(values_in)
    items_out = [(hout[j], values_out[j]) for j in sorted(values_out)]
    index_out = sorted(values_out)
    pairs = [(index_in[a], index_out[b]) for a, b in pairing.pair(items_in, items_out)]
    in_keys, in_lines = ui.column("key").to_pylist(), ui.column("line").to_pylist()
    out_keys, out_rows = uo.column("file").to_pylist(), uo.column("row").to_pylist()
    examples = []
    for i, j in sorted(pairs, key=lambda p: (in_keys[p[0]], in_lines[p[0]]))[:EXAMPLES]:
        examples.append({"key": in_keys[i], "line": in_lines[i], "output": out_keys[j], "row": out_rows[j],
                         "path": content.first_difference(values_in[i], values_out[j]) or "/"})
    return pairs, examples
