"""The record pass of `sim validate`: every landed line read once, every Parquet row compared.

Work is split into units: parts of a Parquet output (the rows of a slice of the files its
manifest lists compared with those files, whose lines are counted as records in) plus units that
only count the lines of landed files no output's manifest lists. An output is cut into parts only
when there are too few outputs to keep every worker busy (one manifest of 200 files would
otherwise be one process's work). Units run in worker processes; each streams landed objects from
S3 (nothing is mirrored to disk) and keeps one Parquet file at a time in a temporary folder (kept
while the next unit is a part of the same output), whose peak size over the run is reported. A
part reads only the row groups that hold its files' rows.

The same pass feeds the multiset check (multiset.py): each line is brought to its canonical text
once (canonical.py), each row too, in Arrow (rowtext.py). A row whose text is its line's holds the
line's values under the mapping; any other row, and the row of every line holding a number that
needs an exact reading, is compared value by value (content.py). The texts' digests, with their
lineage-free names (key and line, output and row), are what the multiset check counts, so each
landed object is read and parsed once for both checks.
"""

from __future__ import annotations

import atexit
import bisect
import gc
import io
import itertools
import math
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.pipeline.gz import GunzipReader
from sim.pipeline.lines import LongLine, read_chunks
from sim.validate import canonical, content, digest, pools
from sim.validate.hashing import Result as Hashed
from sim.validate.rowtext import RowTexts
from sim.validate.named import as_names, concat, repeated
from sim.validate.tally import LANDED, NAMED_LINES, ROWS

EXAMPLES = 5
BATCH_ROWS = 4096  # rows compared at a time
# Rows read from the output at a time, and given their canonical texts together: Arrow's kernels
# cost per call as well as per row, and a landed file's few thousand rows made the calls' own cost
# about a third of the texts' time.
READ_ROWS = 32 * 1024
KEYS_PER_COUNT_UNIT = 64
# Parts per worker to aim for when there are no more outputs than workers: an even share (one
# output on 2 workers is 8 parts, whose last ones even out the end).
PARTS_PER_WORKER = 4
PREFETCH = 4  # landed objects fetched ahead of the comparison, in threads
PREFETCH_MAX_BYTES = 32 * 1024 * 1024  # larger objects are streamed when their turn comes, not held


@dataclass
class Unit:
    output_key: str | None  # the Parquet object, or None: only count the lines of `own`
    file_mid: str | None  # the manifest id the output's name says it holds
    own: list[str]  # landed keys whose lines this unit counts as records in
    skip: frozenset = frozenset()  # landed keys set aside (overwritten after their manifest)
    size: int = 0  # bytes to read, for scheduling the biggest first
    part: int = 0  # which part of the output this is (part 0 also reports the output's lineage)
    listed: frozenset | None = None  # when the output is cut into parts: every key its manifest lists

    def compares(self, key: str) -> bool:
        """Does this unit compare the output's rows of `key`? A part compares its own files;
        part 0 also the rows of keys the manifest does not list (rows in the wrong output)."""
        if self.listed is None:
            return True
        return key in self.own_set or (self.part == 0 and key not in self.listed)

    @property
    def own_set(self) -> frozenset:
        cached = self.__dict__.get("_own_set")
        if cached is None:
            cached = self.__dict__["_own_set"] = frozenset(self.own)
        return cached


@dataclass
class UnitResult:
    rin: pa.Table  # key, line: every non-blank line of the owned landed files
    rout: pa.Table  # key, line, mid, file_mid: every row of the output
    compared: int = 0
    altered: int = 0
    altered_examples: list[dict] = field(default_factory=list)
    landed_bytes: int = 0
    parquet_bytes: int = 0
    disk: tuple[float, float, int] | None = None  # when the Parquet file was on disk, and its size
    # For the multiset check: one per landed key read as owned (its line digests) and one per
    # output part (its row digests), in hashing.Result's shape.
    hashed: list[Hashed] = field(default_factory=list)
    # What was read, by ETag: the output's, and every landed key's (None: it was not there). A
    # result checked before the run ended stands while these are what the buckets still hold.
    output_etag: str | None = None
    read_etags: dict[str, str | None] = field(default_factory=dict)


# What the accounting reads; a unit's tables hold the same columns with their names
# dictionary-encoded (named.repeated), as the accounting takes them too.
RIN_SCHEMA = pa.schema([("key", pa.string()), ("line", pa.int64())])
ROUT_SCHEMA = pa.schema([("key", pa.string()), ("line", pa.int64()), ("mid", pa.string()), ("file_mid", pa.string())])


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def plan_units(landed: dict, outputs: dict[str, str], manifest_docs: dict[str, dict], skip: set[str],
               workers: int = 1, taken: set[str] = frozenset()) -> list[Unit]:
    """`landed`: key -> size; `outputs`: manifest id -> Parquet key; `manifest_docs`: id -> document.
    Outputs are cut into parts (slices of their manifest's files, in the order the converter wrote
    them) to keep every worker busy to the end: with no more outputs than workers, each into
    PARTS_PER_WORKER x `workers` / outputs parts; with more, only the `workers` smallest, into
    `workers` parts each, which fill the gaps the whole ones leave (each part reads its output
    again, so the fewer cut, the less is read twice). `taken`: landed keys another unit already
    counts (an output checked earlier, sim/validate/early.py)."""
    owned: set[str] = set(skip) | set(taken)
    own_of: dict[str, list[str]] = {}
    for mid in sorted(outputs):
        keys = [f["key"] for f in manifest_docs.get(mid, {}).get("files", [])]
        own_of[mid] = [k for k in dict.fromkeys(keys) if k in landed and k not in owned]
        owned.update(own_of[mid])
    weight = {mid: sum(landed[k] for k in own) for mid, own in own_of.items()}
    if workers <= 1:
        parts, cut = 1, set()
    elif len(outputs) <= workers:
        parts, cut = max(1, math.ceil(PARTS_PER_WORKER * workers / max(1, len(outputs)))), set(outputs)
    else:
        parts, cut = workers, set(sorted(outputs, key=lambda m: (weight[m], m))[:workers])
    units = []
    for mid, out_key in sorted(outputs.items()):
        own = own_of[mid]
        n = min(parts if mid in cut else 1, max(1, len(own)))
        if n == 1:
            units.append(Unit(out_key, mid, own, frozenset(skip), sum(landed[k] for k in own)))
            continue
        listed = frozenset(own)
        step = math.ceil(len(own) / n)
        for i in range(n):
            piece = own[i * step:(i + 1) * step]
            units.append(Unit(out_key, mid, piece, frozenset(skip), sum(landed[k] for k in piece), i, listed))
    rest = sorted(k for k in landed if k not in owned)
    for i in range(0, len(rest), KEYS_PER_COUNT_UNIT):
        keys = rest[i:i + KEYS_PER_COUNT_UNIT]
        units.append(Unit(None, None, keys, frozenset(skip), sum(landed[k] for k in keys)))
    # Biggest outputs first; the parts of one output next to each other, so a worker that takes
    # the next part usually holds its Parquet file already.
    size_of: dict[str | None, int] = {}
    for u in units:
        if u.output_key is not None:
            size_of[u.output_key] = size_of.get(u.output_key, 0) + u.size
    return sorted(units, key=lambda u: (-size_of.get(u.output_key, u.size), u.output_key or "", u.part))


def run_units(units: list[Unit], target_spec: tuple, landing_bucket: str, output_bucket: str,
              workers: int, on_done: Callable[[int, int], None] | None = None) -> list[UnitResult]:
    """Run the units in `workers` processes (in this process when 1), biggest first."""
    results = []
    if workers <= 1 or len(units) <= 1:
        worker = _Worker(target_spec, landing_bucket, output_bucket)
        try:
            for i, unit in enumerate(units, 1):
                results.append(worker.run(unit))
                if on_done:
                    on_done(i, len(units))
        finally:
            worker.close()
        return results
    with pools.running(workers, _init, (target_spec, landing_bucket, output_bucket)) as pool:
        futures = [pool.submit(_run, unit) for unit in units]
        for i, future in enumerate(as_completed(futures), 1):
            results.append(future.result())
            if on_done:
                on_done(i, len(units))
    return results


_worker: "_Worker | None" = None


def _init(target_spec, landing_bucket, output_bucket):
    global _worker
    _worker = _Worker(target_spec, landing_bucket, output_bucket)
    atexit.register(_worker.close)  # the pool's workers end normally when it shuts down
    gc.freeze()  # what the imports made stays: collections look only at the records of the comparison


def _run(unit: Unit) -> UnitResult:
    return _worker.run(unit)


class _Worker:
    lineage: tuple | None = None  # (output key, its lineage columns, its runs of keys) while held
    held_etag: str | None = None  # the ETag of the output held

    def __init__(self, target_spec: tuple, landing_bucket: str, output_bucket: str):
        from sim.engine.target import Target

        name, endpoint, region = target_spec
        self.s3 = Target(name, endpoint, region).client("s3", max_pool=4)
        self.landing = landing_bucket
        self.output = output_bucket
        self.tmp = tempfile.mkdtemp(prefix="sim-validate-")
        self.held: str | None = None  # the output whose Parquet file is in self.tmp

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.held = self.lineage = None

    def run(self, unit: Unit) -> UnitResult:
        if unit.output_key is None:
            result = UnitResult(RIN_SCHEMA.empty_table(), ROUT_SCHEMA.empty_table())
            with _Prefetch(self.s3, self.landing, unit.own) as fetched:
                result.rin = concat([self._read(fetched, key, True, None, result) for key in unit.own], RIN_SCHEMA)
            result.read_etags = fetched.etags
            return result
        path = os.path.join(self.tmp, "out.parquet")
        t0 = time.time()
        downloaded = self.held != unit.output_key
        if downloaded:
            self.held = self.lineage = None
            self.held_etag = self._download(unit.output_key, path)
            self.held = unit.output_key
        size = os.path.getsize(path)
        result = self._compare(unit, path)
        result.output_etag = self.held_etag
        result.parquet_bytes = size if downloaded else 0
        result.disk = (t0, time.time(), size)
        return result

    def _download(self, key: str, path: str) -> str:
        """The output to `path` in one GET; the ETag of what was read."""
        obj = self.s3.get_object(Bucket=self.output, Key=key)
        body = obj["Body"]
        try:
            with open(path, "wb") as fh:
                shutil.copyfileobj(body, fh, 8 * 1024 * 1024)
        finally:
            body.close()
        return obj["ETag"].strip('"')

    def _lineage(self, unit: Unit, pf: pq.ParquetFile, path: str):
        """The output's lineage and its runs of rows per landed key, read once while the file is
        held; names dictionary-encoded as stored (an output's rows come from a few hundred files:
        whole strings for each row cost a third of a second per output, read and sent)."""
        if self.lineage is None or self.lineage[0] != unit.output_key:
            schema = pf.schema_arrow
            names = [n for n in content.LINEAGE if n in schema.names and pa.types.is_string(schema.field(n).type)]
            table = pq.read_table(path, columns=list(content.LINEAGE), read_dictionary=names)
            self.lineage = (unit.output_key, table, _runs(table.column("_source_key")))
        return self.lineage[1], self.lineage[2]

    def _compare(self, unit: Unit, path: str) -> UnitResult:
        pf = pq.ParquetFile(path)
        lineage, runs = self._lineage(unit, pf, path)
        keys, lines = lineage.column("_source_key"), lineage.column("_line")
        result = UnitResult(RIN_SCHEMA.empty_table(), ROUT_SCHEMA.empty_table())
        if unit.part == 0:  # one part reports the output's rows
            # names dictionary-encoded (an output's rows come from a few hundred files): the
            # result crosses to the main process, and whole strings made that crossing slow
            result.rout = pa.table({"key": as_names(keys), "line": lines,
                                    "mid": as_names(lineage.column("_manifest_id")),
                                    "file_mid": repeated(unit.file_mid, lineage.num_rows)})
        rins = []
        seen: set[str] = set()
        rows = _Rows(pf, content.RowReader(pf.schema_arrow), RowTexts(pf.schema_arrow, content.LINEAGE),
                     unit.output_key)
        hashed = Hashed(ROWS.empty_table(), name=unit.output_key)
        result.hashed.append(hashed)
        compared = [key for key, _, _ in runs if key not in unit.skip and unit.compares(key)]
        listed_first = set(compared)
        order = compared + [k for k in unit.own if k not in listed_first]
        with _Prefetch(self.s3, self.landing, order) as fetched:
            for key, start, end in runs:
                if key in unit.skip or not unit.compares(key):
                    if key in unit.skip and unit.compares(key):
                        hashed.set_aside_rows += end - start
                    rows.skip_to(end)
                    continue
                own = key in unit.own_set and key not in seen
                seen.add(key)
                rins.append(self._read(fetched, key, own, rows.take(start, end, lines), result))
            for key in unit.own:  # listed but without rows: their lines are records in all the same
                if key not in seen:
                    rins.append(self._read(fetched, key, True, None, result))
        result.read_etags = fetched.etags
        result.rin = concat(rins, RIN_SCHEMA)
        hashed.table = concat(rows.hashed, ROWS)
        return result

    def _read(self, fetched: "_Prefetch", key: str, own: bool, rows, result: UnitResult) -> pa.Table:
        """Read one landed file: its line numbers and line digests (when owned), and each given
        row compared with its line. `rows` (a _RowCursor) yields rows in line order."""
        body = fetched.get(key)
        if body is None:  # gone from the landing bucket
            if own:
                result.hashed.append(Hashed(LANDED.empty_table(), gone=[key], name=key))
            return RIN_SCHEMA.empty_table()
        stream = GunzipReader(body) if key.lower().endswith(".gz") else body
        numbers_in: list[int] = []
        cut: list[tuple[int, bytes]] = []  # a last line a broken gzip stream cut short: a record in
        hashed = Hashed(LANDED.empty_table(), name=key)
        records: list[bytes] = []  # canonical texts of the lines that are JSON objects, and their numbers
        numbers_of_records: list[int] = []
        bad: list[int] = []  # numbers of lines that are no JSON object
        unread: list[int] = []  # lines too long to hold, or cut short
        try:
            for piece in read_chunks(stream, cut_tail=cut):
                if isinstance(piece, LongLine):
                    numbers_in.append(piece.number)
                    unread.append(piece.number)
                    continue
                result.landed_bytes += len(piece.data)
                hashed.bytes += len(piece.data)
                compare = rows is not None and not rows.done
                if not own and not compare:
                    continue
                numbers, texts, canon, careful = canonical.chunk_texts(piece)
                if own:
                    numbers_in.extend(numbers)
                    canonical.add_records(numbers, canon, bad, numbers_of_records, records)
                if compare:
                    _compare_chunk(result, key, numbers, texts, canon, careful, rows)
        finally:
            if hasattr(stream, "close"):
                stream.close()
        cut_lines = [number for number, raw in cut if raw.strip()]
        numbers_in.extend(cut_lines)
        if not own:
            return RIN_SCHEMA.empty_table()
        unread += cut_lines
        hashed.lines = len(numbers_in)
        for numbers_of, found in ((bad, hashed.not_records), (unread, hashed.unread)):
            if numbers_of:
                found.append(pa.table({"key": repeated(key, len(numbers_of)),
                                       "line": pa.array(numbers_of, pa.int64())}, schema=NAMED_LINES))
        hashed.table = pa.table({"h": digest.digests(records), "key": repeated(key, len(records)),
                                 "line": pa.array(numbers_of_records, pa.int64())}, schema=LANDED)
        result.hashed.append(hashed)
        return pa.table({"key": repeated(key, len(numbers_in)),
                         "line": pa.array(numbers_in, pa.int64())})


def _compare_chunk(result: UnitResult, key: str, numbers: list[int], lines: list[bytes], canon: list,
                   careful: list[bool], rows: "_RowCursor") -> None:
    """Compare the rows of the lines of one chunk (rows come in line order; those past the chunk
    are left for the next one). A row whose canonical text is its line's holds the line's values;
    the rest are compared value by value. So is every line holding a number that needs an exact
    reading (`careful` is a superset of those lines), unless the row holds no value read exactly
    (no decimal column, no JSON text holding a long decimal): only two exact decimals can share a
    text and differ (canonical.py). A row for a line that is not there (blank, or beyond the
    file) is not compared: the lineage accounting reports it."""
    if not numbers or not rows.ready():
        return
    first, last = numbers[0], numbers[-1]
    at = {n: i for i, n in enumerate(numbers)} if last - first + 1 != len(numbers) else None
    plain = rows.plain
    compared = 0
    while rows.ready():
        nums, texts, j, exact_rows = rows.numbers, rows.texts, rows.at, rows.exact_rows
        end = len(nums)
        slow = []  # (line number, index in the chunk, index in the batch, read exactly)
        if at is None and nums[j] >= first:  # a run of rows for consecutive lines, all equal: settled at once
            k = min(end - j, last - nums[j] + 1)
            i = nums[j] - first
            if (k > 1 and nums[j + k - 1] - nums[j] == k - 1 and canon[i:i + k] == texts[j:j + k]
                    and (not any(careful[i:i + k]) or (plain and not (exact_rows and any(exact_rows[j:j + k]))))):
                compared += k
                j += k
        while j < end:
            n = nums[j]
            if n > last:
                break
            i = (n - first if n >= first else None) if at is None else at.get(n)
            if i is not None:
                exact = careful[i] and content.needs_exact(lines[i])
                if canon[i] is not None and canon[i] == texts[j] and (
                        not exact or (plain and not (exact_rows and exact_rows[j]))):
                    compared += 1
                else:
                    slow.append((n, i, j, exact))
            j += 1
        if slow:
            records = rows.records([c[2] for c in slow])
            for (n, i, _, exact), record in zip(slow, records):
                _compare_one(result, key, n, lines[i], exact, record)
        rows.at = j
        if j < end:
            break
    result.compared += compared


class _RowCursor:
    """The rows of one landed file in line order, a batch at a time: their line numbers and
    canonical texts, and the records they stand for on demand (for the value-by-value comparison)."""

    def __init__(self, batches, plain: bool):
        self.batches = batches
        self.plain = plain  # the rows hold no value read exactly (no JSON text, no decimal)
        self.numbers: list[int] = []
        self.texts: list[bytes] = []
        self.exact_rows: list[bool] | None = None  # rows with a JSON text value holding a long decimal
        self.records = lambda _indices: []
        self.at = 0
        self.done = False

    def ready(self) -> bool:
        """Is there a row at `at` (reading the next batch when this one is used up)?"""
        while self.at >= len(self.numbers):
            batch = next(self.batches, None)
            if batch is None:
                self.done = True
                return False
            self.numbers, self.texts, self.exact_rows, self.records = batch
            self.at = 0
        return True


def _compare_one(result: UnitResult, key: str, number: int, text: bytes, exact: bool, row: dict) -> None:
    result.compared += 1
    try:
        record = content.parse(text, exact)
        path = None if content.equal(record, row, exact) else content.first_difference(record, row) or "/"
    except content.NotJson:
        path = ""  # a row for a line that is no JSON object
    if path is not None:
        result.altered += 1
        if len(result.altered_examples) < EXAMPLES:
            result.altered_examples.append({"key": key, "line": number, "path": path})


class _Prefetch:
    """Landed objects fetched a few ahead of their turn, in threads: the engine's answer time
    overlaps the comparison instead of adding to it. An object up to PREFETCH_MAX_BYTES is read
    whole; a larger one is handed over as its open stream. Fetched once each, in `order`."""

    def __init__(self, s3, bucket: str, order: list[str]):
        self.s3, self.bucket = s3, bucket
        self.order = list(dict.fromkeys(order))
        self.next = 0
        self.pending: dict = {}
        self.pool = ThreadPoolExecutor(max_workers=PREFETCH, thread_name_prefix="validate-fetch")
        self.etags: dict[str, str | None] = {}  # key -> the ETag of what was read (None: not there)
        self._fill()

    def __enter__(self) -> "_Prefetch":
        return self

    def __exit__(self, *exc) -> None:
        for future in self.pending.values():
            future.cancel()
        self.pool.shutdown(wait=True)
        for future in self.pending.values():
            if future.done() and not future.cancelled() and future.exception() is None:
                body = future.result()
                if body is not None and hasattr(body, "close"):
                    body.close()

    def _fill(self) -> None:
        while len(self.pending) < PREFETCH and self.next < len(self.order):
            key = self.order[self.next]
            self.next += 1
            self.pending[key] = self.pool.submit(self._fetch, key)

    def _fetch(self, key: str):
        try:
            obj = self.s3.get_object(Bucket=self.bucket, Key=key)
        except self.s3.exceptions.NoSuchKey:
            self.etags[key] = None
            return None
        self.etags[key] = obj["ETag"].strip('"')
        body = obj["Body"]
        if (obj.get("ContentLength") or 0) > PREFETCH_MAX_BYTES:
            return body
        try:
            return io.BytesIO(body.read())
        finally:
            body.close()

    def get(self, key: str):
        """The object's body (a file-like object), or None when it is not there."""
        future = self.pending.pop(key, None)
        body = future.result() if future is not None else self._fetch(key)
        self._fill()
        return body


class _Rows:
    """The output's rows in file order, read in batches, handed out by row range; whole row groups
    that hold only skipped rows are never read."""

    def __init__(self, pf: pq.ParquetFile, reader: content.RowReader, texts: RowTexts, name: str):
        self.pf = pf
        self.reader = reader
        self.row_texts = texts
        self.name = name  # the output's key, naming its rows for the multiset check
        self.hashed: list[pa.Table] = []  # (digest, output, row) of every row taken
        # No decimal (nor any type JSON has no value of) in any column: JSON text columns aside
        # (looked at row by row), no value is read exactly
        self.plain = all(n in reader.text or _plain(pf.schema_arrow.field(n).type) for n in reader.own)
        # the lineage columns are read once per output (_Worker._lineage); a file of nothing else is read whole
        self.columns = list(reader.own) or None
        sizes = [pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)]
        self.bounds = list(itertools.accumulate(sizes, initial=0))  # first row of each group, then the total
        self.batches = None  # batches from row group `self.group` on, opened when first needed
        self.group = 0
        self.read_to = 0  # global index after the last row read
        self.buffer: pa.Table | None = None  # rows read and not yet handed out; it ends at read_to
        self.start = 0  # global index of the buffer's first row (read_to when there is no buffer)
        self.texts: pa.Array | None = None  # the canonical texts of the buffer's rows, once asked for

    def _fill_to(self, end: int) -> None:
        while self.buffer is None or self.start + self.buffer.num_rows < end:
            if self.batches is None:
                self.batches = self.pf.iter_batches(batch_size=READ_ROWS, columns=self.columns,
                                                    row_groups=range(self.group, len(self.bounds) - 1))
            table = pa.Table.from_batches([next(self.batches)])
            self.read_to += table.num_rows
            if self.buffer is not None and self.texts is not None:  # texts of the rows held stay
                self.texts = pa.concat_arrays([self.texts, self.row_texts.texts(table)])
            else:
                self.texts = None
            self.buffer = table if self.buffer is None else pa.concat_tables([self.buffer, table])

    def _drop(self, end: int) -> None:
        """Forget the buffer's rows before global index `end` (within the buffer)."""
        self.buffer = self.buffer.slice(end - self.start)
        if self.texts is not None:
            self.texts = self.texts.slice(end - self.start)
        self.start = end

    def skip_to(self, end: int) -> None:
        if self.buffer is not None and self.start + self.buffer.num_rows > end:
            self._drop(end)
            return
        group = bisect.bisect_right(self.bounds, end) - 1  # the row group that holds row `end`
        if self.bounds[group] > self.read_to:  # whole row groups in between: read again from `group`
            self.batches, self.group, self.read_to = None, group, self.bounds[group]
        self.buffer, self.texts, self.start = None, None, self.read_to

    def take(self, start: int, end: int, lines: pa.ChunkedArray):
        """Rows [start, end) in line order, with their canonical texts (whose digests are kept
        for the multiset check); records are made only for the rows that need them. The texts
        are made for every row held from `start` on at once (the next runs usually follow)."""
        self._fill_to(end)
        if self.texts is None:
            self.texts = self.row_texts.texts(self.buffer.slice(start - self.start))
            self.buffer = self.buffer.slice(start - self.start)
            self.start = start
        rows = self.buffer.slice(start - self.start, end - start)
        texts = self.texts.slice(start - self.start, end - start).to_pylist()
        self._drop(end)
        self.hashed.append(pa.table({"h": digest.digests(texts), "file": repeated(self.name, end - start),
                                     "row": pa.array(range(start, end), pa.int64())}, schema=ROWS))
        numbers = lines.slice(start, end - start).combine_chunks()
        values = numbers.to_pylist()
        if not _ascending(values):
            order = pc.sort_indices(numbers)
            rows, values = rows.take(order), numbers.take(order).to_pylist()
            texts = [texts[k] for k in order.to_pylist()]
        return _RowCursor(_batches(rows, values, texts, self.reader), self.plain)


def _batches(rows: pa.Table, numbers: list[int], texts: list[bytes], reader: content.RowReader):
    for at in range(0, rows.num_rows, BATCH_ROWS):
        batch = rows.slice(at, BATCH_ROWS)
        yield (numbers[at:at + BATCH_ROWS], texts[at:at + BATCH_ROWS], _exact_rows(batch, reader),
               lambda indices, b=batch: reader.records(b.take(pa.array(indices, pa.int64()))))


_DECIMAL_MARK = r"[.eE]"


def _exact_rows(rows: pa.Table, reader: content.RowReader) -> list[bool] | None:
    """Which rows hold a JSON text value with a number read exactly that may be a decimal (a
    superset: a long number and a fraction or exponent mark anywhere in the text); None when the
    rows have no JSON text column."""
    found = None
    for name in reader.text:
        column = rows.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_binary(column.type)):
            return [True] * rows.num_rows  # not looked into: every row is compared value by value
        hit = pc.and_(pc.match_substring_regex(column, content.RISKY_NUMBER),
                      pc.match_substring_regex(column, _DECIMAL_MARK))
        found = hit if found is None else pc.or_(found, hit)
    return None if found is None else pc.fill_null(found, False).to_pylist()


_PLAIN_LEAVES = (pa.types.is_null, pa.types.is_boolean, pa.types.is_integer, pa.types.is_floating,
                 pa.types.is_string, pa.types.is_large_string)


def _plain(kind: pa.DataType) -> bool:
    """Does a column type hold only JSON's own kinds of value (no decimal, no timestamp)?"""
    if pa.types.is_dictionary(kind):
        return _plain(kind.value_type)
    if pa.types.is_struct(kind):
        return all(_plain(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _plain(kind.value_type)
    return any(test(kind) for test in _PLAIN_LEAVES)


def _ascending(values: list[int]) -> bool:
    return all(a <= b for a, b in zip(values, itertools.islice(values, 1, None)))


def _runs(keys: pa.ChunkedArray) -> list[tuple[str, int, int]]:
    """(key, start, end) for each run of equal consecutive keys (found by Arrow: an output holds
    hundreds of thousands of rows and only a few hundred runs)."""
    n = len(keys)
    if n == 0:
        return []
    if isinstance(keys, pa.ChunkedArray):
        keys = keys.unify_dictionaries() if pa.types.is_dictionary(keys.type) else keys
        keys = keys.combine_chunks()
    values = keys
    compared = keys.indices if pa.types.is_dictionary(keys.type) else keys  # one dictionary: equal names, equal indices
    changes = pc.indices_nonzero(pc.not_equal(compared.slice(1), compared.slice(0, n - 1))).to_pylist()
    starts = [0] + [i + 1 for i in changes]
    names = values.take(pa.array(starts, pa.int64())).to_pylist()
    return list(zip(names, starts, starts[1:] + [n]))


def peak_disk(results: list[UnitResult]) -> int:
    """The most bytes of Parquet on disk at once, from when each worker held its file."""
    events = []
    for r in results:
        if r.disk:
            start, end, size = r.disk
            events += [(start, size), (end, -size)]
    peak = current = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
        current += delta
        peak = max(peak, current)
    return peak
