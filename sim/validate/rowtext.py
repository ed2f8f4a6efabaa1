"""The canonical text (canonical.py) of every row of a Parquet batch, built column by column in
Arrow: a Python loop per row was most of validation's time, and a row's text is only the texts of
its columns joined.

What Arrow writes natively: null, booleans, integers, strings (escaped where they hold `"`, `\\` or
a control character only: those few values are written by orjson), structs (members sorted by name,
null members dropped), lists (null elements kept). Doubles are written by orjson in one call per
column (its shortest form), integral ones as integers. JSON text columns (Arrow field metadata
`sim.json_text`, or named by the caller) are parsed back value by value, and so is any other type
(decimals, timestamps, maps: see canonical.foreign), so every row gets a text whatever a
converter wrote. Record fields stored under another name (file metadata `sim.renamed_fields`)
are named back before sorting.
"""

from __future__ import annotations

import json
from typing import Iterable

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from sim.validate import canonical, content, native

_ESCAPE = r'[\x00-\x1f"\\]'
_OPEN, _CLOSE = pa.scalar(b"{"), pa.scalar(b"}")


def _bin(values: list) -> pa.Array:
    return pa.array(values, pa.binary())


class RowTexts:
    """Canonical texts of the rows of tables with one schema (one Parquet file)."""

    def __init__(self, schema: pa.Schema, ignore: Iterable[str] = (), json_text: Iterable[str] = (),
                 renamed_by_metadata: bool = True):
        renamed = _renamed(schema) if renamed_by_metadata else {}
        ignored = set(ignore)
        self.text_columns = {f.name for f in schema if f.metadata and f.metadata.get(b"sim.json_text")}
        self.text_columns |= set(json_text)
        own = [f.name for f in schema if f.name not in ignored]
        self.names = {n: renamed.get(n, n) for n in own}
        self.columns = sorted(own, key=lambda n: self.names[n])  # orjson's order: by code point

    def texts(self, table: pa.Table | pa.RecordBatch) -> pa.Array:
        """One canonical text per row (binary)."""
        members = []
        for name in self.columns:
            column = table.column(name)
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            if name in self.text_columns and _is_text(column.type):
                members.append((self.names[name], column, json_text_values(column)))
            else:
                members.append((self.names[name], column, None))
        return _object(members, table.num_rows, None)

    def values(self, table: pa.Table) -> list[dict]:
        """The rows as the records they stand for (to pair them and name a difference; slow)."""
        columns = []
        for name in self.columns:
            column = table.column(name)
            values = column.to_pylist()
            if name in self.text_columns and _is_text(column.type):
                values = [None if v is None else _parsed(v) for v in values]
            else:
                values = [None if v is None else content.strip_nulls(v) for v in values]
            columns.append(values)
        if not columns:
            return [{} for _ in range(table.num_rows)]
        names = [self.names[n] for n in self.columns]
        return [{k: v for k, v in zip(names, row) if v is not None} for row in zip(*columns)]


def _renamed(schema: pa.Schema) -> dict[str, str]:
    """Column name -> record field name from the file metadata `sim.renamed_fields` (sim's
    converter); metadata that is not such a map renames nothing."""
    raw = (schema.metadata or {}).get(b"sim.renamed_fields")
    try:
        names = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(names, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in names.items()):
        return {}
    return names


def _parsed(text):
    try:
        return content.parse(text, True)
    except content.NotJson:
        return canonical.foreign(text)


def orjson_name(name: str) -> bytes:
    """`"name":` as canonical.text writes a member's name."""
    return canonical.text(name) + b":"


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) \
        or pa.types.is_large_binary(kind)


def _object(members: list[tuple[str, pa.Array, pa.Array | None]], n: int, valid: pa.Array | None) -> pa.Array:
    """`{"name":value,...}` from (name, array, its texts when already made) in name order, null
    members left out, written by one join of pieces (see _pieces)."""
    pieces, first_always = _object_pieces(members)
    if first_always or not members:
        out = _join(pieces, n)
    else:  # the first member present loses its comma
        out = _join(pieces, n, strip_comma=True)
    if out is None:  # (only Arrow to join with) drop the first comma of what is inside
        body = _join(pieces[1:-1], n)
        # (the first comma is at the start, when there is one; pyarrow 26's binary_slice fails on
        # an empty string)
        out = pc.binary_join_element_wise(_OPEN, pc.replace_substring(body, b",", b"", max_replacements=1), _CLOSE,
                                          b"")
    if valid is not None:
        out = pc.if_else(valid, out, pa.scalar(None, pa.binary()))
    return out


def _join(pieces: list, n: int, strip_comma: bool = False) -> pa.Array | None:
    """Concatenate pieces (bytes, or arrays whose nulls count as nothing) row by row, in native
    code where it is available (a third of a row's text was Arrow's element-wise join). With
    strip_comma, a row beginning "{," loses that comma, or None when only Arrow is there."""
    merged: list = []
    for piece in pieces:  # adjacent constant pieces become one
        if isinstance(piece, bytes) and merged and isinstance(merged[-1], bytes):
            merged[-1] += piece
        else:
            merged.append(piece)
    if not any(isinstance(p, pa.Array) for p in merged):
        whole = b"".join(merged)
        if strip_comma and whole.startswith(b"{,"):
            whole = b"{" + whole[2:]
        return pa.array([whole] * n, pa.binary())
    joined = native.join(merged, n, strip_comma)
    if joined is not None or strip_comma:
        return joined
    args = [pa.scalar(p, pa.binary()) if isinstance(p, bytes) else p for p in merged]
    return pc.binary_join_element_wise(*args, b"", null_handling="replace", null_replacement=b"")


def _object_pieces(members) -> tuple[list, bool]:
    """The pieces of an object, and whether its first member is always there. Each member's
    pieces carry its separator (`,"name":value`), null where the value is null, so a join that
    writes nulls as nothing writes the object; only the first member present must lose its comma.
    When the first member is never null it is written without one (else see _object)."""
    first = members[0] if members else None
    first_always = first is not None and first[1].null_count == 0 and (first[2] is None or first[2].null_count == 0)
    pieces: list = [b"{"]
    for i, (name, array, texts) in enumerate(members):
        pieces += _member_pieces((b"" if i == 0 and first_always else b",") + orjson_name(name), array, texts)
    pieces.append(b"}")
    return pieces, first_always


def _when(valid: pa.Array, constant: bytes) -> pa.Array:
    return pc.if_else(valid, pa.scalar(constant, pa.binary()), pa.scalar(None, pa.binary()))


def _member_pieces(prefix: bytes, array: pa.Array, texts: pa.Array | None) -> list:
    """`prefix` and the value's text as join pieces; nothing where the value is null (absent).
    A struct that is never null is written inline (its members' pieces in this same join), and a
    string that needs no escape as the array itself between quotes: no intermediate copies."""
    kind = array.type
    if texts is None and pa.types.is_struct(kind) and array.null_count == 0 and kind.num_fields:
        children = array.flatten()
        order = sorted(range(kind.num_fields), key=lambda i: kind.field(i).name)
        inner, first_always = _object_pieces([(kind.field(i).name, children[i], None) for i in order])
        if first_always:
            return [prefix] + inner
    if texts is None and pa.types.is_string(kind) and not _may_need_escapes(array):
        data = array.view(pa.binary())
        if array.null_count == 0:
            return [prefix + b'"', data, b'"']
        valid = array.is_valid()
        return [_when(valid, prefix + b'"'), data, _when(valid, b'"')]
    if texts is None:
        texts = value_texts(array)
    if texts.null_count == 0:
        return [prefix, texts]
    return [_when(texts.is_valid(), prefix), texts]


def _may_need_escapes(array: pa.Array) -> bool:
    """Does a string array hold `"`, `\\` or a control character anywhere in its data (a superset:
    the whole buffer is looked at, a slice's neighbours included)?"""
    data = array.buffers()[2]
    if data is None or data.size == 0:
        return False
    if pc.min(pa.Array.from_buffers(pa.uint8(), data.size, [None, data])).as_py() < 0x20:
        return True
    raw = data.to_pybytes()
    return b'"' in raw or b"\\" in raw


def value_texts(array: pa.Array) -> pa.Array:
    """The canonical text of each value of an array (null where the value is null)."""
    kind = array.type
    n = len(array)
    if pa.types.is_null(kind):
        return pa.nulls(n, pa.binary())
    if pa.types.is_dictionary(kind):
        return value_texts(array.dictionary_decode())
    if pa.types.is_boolean(kind):
        return pc.if_else(array, pa.scalar(b"true"), pa.scalar(b"false"))
    if pa.types.is_integer(kind):
        return pc.cast(array, pa.string()).view(pa.binary())
    if pa.types.is_floating(kind):
        return _doubles(array if kind == pa.float64() else pc.cast(array, pa.float64()))
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _strings(pc.cast(array, pa.string()) if pa.types.is_large_string(kind) else array)
    if pa.types.is_struct(kind):
        children = array.flatten()
        order = sorted(range(kind.num_fields), key=lambda i: kind.field(i).name)
        return _object([(kind.field(i).name, children[i], None) for i in order], n,
                       array.is_valid() if array.null_count else None)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        elements = pc.fill_null(value_texts(array.values), pa.scalar(b"null"))
        cls = pa.LargeListArray if pa.types.is_large_list(kind) else pa.ListArray
        lists = cls.from_arrays(array.offsets, elements, mask=array.is_null() if array.null_count else None)
        joined = pc.binary_join(lists, b",")
        return pc.binary_join_element_wise(pa.scalar(b"["), joined, pa.scalar(b"]"), b"")
    return _bin([None if v is None else orjson.dumps(canonical.normal(v), option=orjson.OPT_SORT_KEYS)
                 for v in array.to_pylist()])


def _strings(array: pa.Array) -> pa.Array:
    quoted = pc.binary_join_element_wise(pa.scalar(b'"'), array.view(pa.binary()), pa.scalar(b'"'), b"")
    if not _may_need_escapes(array):
        return quoted
    needs = pc.match_substring_regex(array, _ESCAPE)
    if not pc.any(needs).as_py():
        return quoted
    where = pc.indices_nonzero(needs)
    fixed = _bin([orjson.dumps(v) for v in array.take(where).to_pylist()])
    return _scatter(quoted, where, fixed)


def _doubles(array: pa.Array) -> pa.Array:
    """Doubles as canonical.double writes them: by native code (native.doubles) where it is
    built, the values it leaves one by one; else orjson's shortest form in one call for the
    column, integral ones below 2^53 as integers, the rest (large integral, NaN, infinities) one by
    one."""
    found = native.doubles(array)
    if found is not None:
        texts, where = found
        if not where:
            return texts
        at = pa.array(where, pa.int64())
        fixed = _bin([orjson.dumps(canonical.double(v)) for v in array.take(at).to_pylist()])
        return _scatter(texts, at, fixed)
    values = array.to_pylist()
    dumped = orjson.dumps(values)[1:-1]
    texts = pa.array(dumped.split(b",") if values else [], pa.binary())
    texts = pc.if_else(array.is_null(), pa.scalar(None, pa.binary()), texts)
    finite = pc.is_finite(array)
    integral = pc.and_(finite, pc.equal(pc.floor(array), array))
    small = pc.less(pc.abs(array), 2.0**53)
    as_int = pc.and_(integral, small)
    if pc.any(as_int).as_py():
        ints = pc.cast(pc.cast(array, pa.int64(), safe=False), pa.string()).view(pa.binary())
        texts = pc.if_else(as_int, ints, texts)
    written = pc.or_(pc.and_(finite, pc.invert(integral)), as_int)  # by orjson or as an integer
    odd = pc.fill_null(pc.invert(written), False)  # large integral values, NaN, infinities
    if pc.any(odd).as_py():
        where = pc.indices_nonzero(odd)
        fixed = _bin([orjson.dumps(canonical.double(values[i])) for i in where.to_pylist()])
        texts = _scatter(texts, where, fixed)
    return texts


def json_text_values(array: pa.Array) -> pa.Array:
    """A JSON text column parsed back (exactly where a number needs it); JSON `null` is absent."""
    if pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type):
        array = pc.cast(array, pa.binary())
    if array.null_count > len(array) // 2:  # mostly absent (a field few records hold): only the values
        valid = array.is_valid()
        values = json_text_values(array.filter(valid))
        return pc.replace_with_mask(pa.nulls(len(array), pa.binary()), valid, values)
    out = _native_json_texts(array)
    if out is None:
        out = [False if valid else None for valid in array.is_valid().to_pylist()]
    left = [i for i, text in enumerate(out) if text is False]  # what the Python reading decides
    if left:
        at = pa.array(left, pa.int64())
        rest = array.take(at)
        careful = pc.match_substring_regex(rest, content.RISKY_NUMBER).to_pylist()
        for i, value, exact in zip(left, rest.to_pylist(), careful):
            try:
                parsed = content.parse(value, bool(exact))
            except content.NotJson:
                out[i] = orjson.dumps(canonical.foreign(value))
                continue
            out[i] = None if parsed is None else canonical.text(parsed)
    return _bin(out)


_MEMBER = b'{"v":'


def _native_json_texts(array: pa.Array) -> list | None:
    """The canonical text of each JSON text value native code can write (as the only member of an
    object: `{"v":VALUE}` is written `{"v":` + VALUE's text + `}`, or `{}` when VALUE is null,
    which is absent here), False where it cannot (the Python reading decides), None when the
    native code is unavailable."""
    values = pc.cast(array, pa.binary()).to_pylist() if not pa.types.is_binary(array.type) else array.to_pylist()
    taken = [v is not None and b"\n" not in v for v in values]  # native.texts takes one line each
    found = native.texts([_MEMBER + v + b"}" for v, ok in zip(values, taken) if ok])
    if found is None:
        return None
    texts = iter(found)
    out: list = []
    for v, ok in zip(values, taken):
        if v is None:
            out.append(None)
            continue
        if not ok:
            out.append(False)
            continue
        text = next(texts)
        if text is None:
            out.append(False)
        elif text == b"{}":
            out.append(None)
        else:
            out.append(text[len(_MEMBER):-1])
    return out


def _scatter(base: pa.Array, where: pa.Array, values: pa.Array) -> pa.Array:
    """`base` with the values at positions `where` replaced."""
    mask = pc.is_in(pa.array(range(len(base)), pa.int64()), value_set=where.cast(pa.int64()))
    return pc.replace_with_mask(base, mask, values)
