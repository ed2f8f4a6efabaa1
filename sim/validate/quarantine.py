"""The quarantined lines a pipeline names: JSON lines objects with `source_key` and `line` (`line`
null for a whole file), read from every object under a prefix, streamed."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.json as pajson

from sim.pipeline.lines import Chunk, read_chunks

COLUMNS = pa.schema([("source_key", pa.string()), ("line", pa.int64())])
LINES = pa.schema([("key", pa.string()), ("line", pa.int64())])


def list_objects(s3, bucket: str, prefix: str) -> list[str]:
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [o["Key"] for o in page.get("Contents", []) if not o["Key"].endswith("/")]
    return sorted(keys)


def read_lines(s3, bucket: str, keys) -> pa.Table:
    """(key, line) of every quarantine record in the objects `keys`."""
    out_keys: list = []
    out_lines: list = []
    options = pajson.ParseOptions(explicit_schema=COLUMNS, unexpected_field_behavior="ignore")
    for key in sorted(keys):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        for piece in read_chunks(body):
            if isinstance(piece, Chunk) and piece.data.strip():
                table = pajson.read_json(pa.py_buffer(piece.data), parse_options=options,
                                         read_options=pajson.ReadOptions(block_size=max(1 << 20, len(piece.data) + 1)))
                out_keys.extend(table.column("source_key").to_pylist())
                out_lines.extend(table.column("line").to_pylist())
    return pa.table({"key": pa.array(out_keys, pa.string()), "line": pa.array(out_lines, pa.int64())})
