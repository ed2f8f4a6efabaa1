"""The records the tally left unmatched, read again (at most `limit` of each side): landed lines
parsed exactly, rows read back as the records they stand for; then paired (pairing.py) and each
pair's first difference named by its JSON Pointer, never by value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from sim.pipeline.gz import GunzipReader
from sim.pipeline.lines import LongLine, read_chunks, split_lines
from sim.validate import content, pairing
from sim.validate.hashing import fetch
from sim.validate.rowtext import RowTexts
from sim.validate.s3file import S3File

if TYPE_CHECKING:
    from sim.validate.multiset_options import Options

EXAMPLES = 5


def pair_unmatched(s3, options: Options, counted) -> tuple[list[tuple[int, int]], list[dict]]:
    """Read the unmatched records again, pair them, and name each pair's first difference."""
    ui, uo = counted.unmatched_in, counted.unmatched_out
    wanted_in: dict[str, dict[int, int]] = {}
    for i, (key, line) in enumerate(zip(ui.column("key").to_pylist(), ui.column("line").to_pylist())):
        wanted_in.setdefault(key, {})[line] = i
    values_in: dict[int, dict] = {}
    for key, lines in wanted_in.items():
        body = fetch(s3, options.landing_bucket, key)
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
        try:
            pf = pq.ParquetFile(S3File(s3, options.output_bucket, key), pre_buffer=True)
        except pa.ArrowException:
            continue
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
