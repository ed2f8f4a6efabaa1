"""Columns of names (landed keys, output files, manifest ids) as validation passes them around:
dictionary-encoded, since millions of records name a few hundred files (a record costs 4 bytes of
name instead of its whole key), and tables of them put together."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

NAME = pa.dictionary(pa.int32(), pa.string())


def repeated(name: str, n: int) -> pa.DictionaryArray:
    """`name` n times, as one dictionary entry."""
    return pa.DictionaryArray.from_arrays(pa.repeat(pa.scalar(0, pa.int32()), n), pa.array([name], pa.string()))


def as_names(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column of names (text, or dictionary-encoded with any index type) as NAME."""
    if column.type == NAME:
        return column
    if pa.types.is_dictionary(column.type):
        return column.cast(NAME)
    return pc.dictionary_encode(column.cast(pa.string()))


def concat(tables: list[pa.Table], schema: pa.Schema, names: bool = False) -> pa.Table:
    """The tables (empty ones dropped) as one of `schema`; with `names`, its text columns as NAME
    (the record pass's results arrive both ways)."""
    if names:
        schema = pa.schema([f.with_type(NAME) if f.type == pa.string() else f for f in schema])
        tables = [t.cast(schema) for t in tables if t.num_rows]
    else:
        tables = [t for t in tables if t.num_rows]
    return pa.concat_tables(tables) if tables else schema.empty_table()
