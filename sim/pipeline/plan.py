"""Column plans: the type each top-level field is stored as in one manifest's Parquet file, and how
a table parsed from one chunk is made to fit it.

A plan is merged chunk by chunk, so one manifest has one schema whatever order its lines come in:
- types merge as pyarrow's permissive unification does (a missing field is null, nested objects
  merge their members, int64 widens to double), except where that would change a value: integers
  beyond 2**53 never widen to double, values of different JSON types never share a typed column.
  Such a field is JSON text in every row.
- A field whose merged type still holds an object with no members (every such object was empty),
  or nests deeper than MAX_NESTING (Parquet readers refuse deep schemas), is stored as JSON text.
- A record field named like a lineage column is stored under `<name>_record` (or with `_record`
  repeated until the name is free); the file's metadata maps it back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from .jsonvalues import EXACT_INT, dumps_exact

LINEAGE = ("_source_key", "_line", "_manifest_id")
# Parquet readers refuse schemas nested deeper than 100 levels (pyarrow's default limit); a field
# nested deeper than this is stored as JSON text so the file stays readable and the record kept.
MAX_NESTING = 48
JSON_TEXT = b"sim.json_text"
EMPTY_OBJECTS = "objects without members wherever they occur"
DIFFERENT_TYPES = "values of different JSON types"
BIG_INTS = "integers beyond 2**53 beside decimals"


@dataclass(frozen=True)
class FieldPlan:
    type: pa.DataType  # the merged value type (pa.string() once the field is text by `reason`)
    reason: str = ""  # why the field is JSON text whatever its type; "" while typed
    big_ints: frozenset = frozenset()  # paths of int64 leaves holding values beyond 2**53

    def text_reason(self) -> str:
        """Why the field is stored as JSON text; empty when it is stored typed."""
        if self.reason:
            return self.reason
        if _has_empty_struct(self.type):
            return EMPTY_OBJECTS
        if depth(self.type) > MAX_NESTING:
            return f"nested deeper than {MAX_NESTING} levels"
        return ""

    def stored_type(self) -> pa.DataType:
        return pa.string() if self.text_reason() else self.type


Plan = dict  # field name -> FieldPlan, in first-seen order


def depth(t: pa.DataType) -> int:
    if pa.types.is_struct(t):
        return 1 + max((depth(t.field(i).type) for i in range(t.num_fields)), default=0)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return 1 + depth(t.value_type)
    return 0


def _has_empty_struct(t: pa.DataType) -> bool:
    if pa.types.is_struct(t):
        return t.num_fields == 0 or any(_has_empty_struct(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _has_empty_struct(t.value_type)
    return False


def _type_at(t: pa.DataType, path: tuple) -> pa.DataType | None:
    for step in path:
        if step is None and (pa.types.is_list(t) or pa.types.is_large_list(t)):
            t = t.value_type
        elif step is not None and pa.types.is_struct(t) and t.get_field_index(step) >= 0:
            t = t.field(step).type
        else:
            return None
    return t


def big_int_paths(column, t: pa.DataType, path: tuple = ()) -> set[tuple]:
    """Paths of int64 leaves with a value beyond 2**53 (they cannot widen to double unchanged)."""
    if pa.types.is_integer(t):
        bounds = pc.min_max(column)
        lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
        return {path} if lo is not None and (lo < -EXACT_INT or hi > EXACT_INT) else set()
    found: set[tuple] = set()
    if pa.types.is_struct(t):
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        for i in range(t.num_fields):
            child = pa.chunked_array([c.field(i) for c in chunks], t.field(i).type)
            found |= big_int_paths(child, t.field(i).type, path + (t.field(i).name,))
    elif pa.types.is_list(t) or pa.types.is_large_list(t):
        chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
        values = pa.chunked_array([c.flatten() for c in chunks], t.value_type)
        found |= big_int_paths(values, t.value_type, path + (None,))
    return found


def _has_int(t: pa.DataType) -> bool:
    if pa.types.is_integer(t):
        return True
    if pa.types.is_struct(t):
        return any(_has_int(t.field(i).type) for i in range(t.num_fields))
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _has_int(t.value_type)
    return False


def plan_of(table: pa.Table, text: dict[str, str]) -> Plan:
    """The plan of one parsed chunk: its own types, its JSON text fields, its big integers."""
    plan: Plan = {}
    for f, column in zip(table.schema, table.columns):
        if f.name in text:
            plan[f.name] = FieldPlan(pa.string(), text[f.name])
        else:
            big = big_int_paths(column, f.type) if _has_int(f.type) else set()
            plan[f.name] = FieldPlan(f.type, "", frozenset(big))
    return plan


def merge(a: Plan, b: Plan) -> Plan:
    out = dict(a)
    for name, fb in b.items():
        fa = out.get(name)
        out[name] = fb if fa is None else merge_field(fa, fb)
    return out


def merge_field(a: FieldPlan, b: FieldPlan) -> FieldPlan:
    if a.reason:
        return a
    if b.reason:
        return FieldPlan(pa.string(), b.reason)
    if a.type == b.type:
        return a if a.big_ints >= b.big_ints else FieldPlan(a.type, "", a.big_ints | b.big_ints)
    try:
        merged = pa.unify_schemas([pa.schema([pa.field("f", a.type)]), pa.schema([pa.field("f", b.type)])],
                                  promote_options="permissive").field("f").type
    except (pa.ArrowTypeError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return FieldPlan(pa.string(), DIFFERENT_TYPES)
    if not _value_preserving(a.type, merged) or not _value_preserving(b.type, merged):
        return FieldPlan(pa.string(), DIFFERENT_TYPES)
    for path in a.big_ints | b.big_ints:
        if not pa.types.is_integer(_type_at(merged, path) or pa.null()):
            return FieldPlan(pa.string(), BIG_INTS)
    return FieldPlan(merged, "", a.big_ints | b.big_ints)


def _value_preserving(src: pa.DataType, dst: pa.DataType) -> bool:
    """The only widenings allowed: null to anything, int64 to double, and the same inside
    structs and lists (members may be added)."""
    if src == dst or pa.types.is_null(src):
        return True
    if pa.types.is_integer(src) and pa.types.is_floating(dst):
        return True
    if pa.types.is_struct(src) and pa.types.is_struct(dst):
        return all(dst.get_field_index(src.field(i).name) >= 0
                   and _value_preserving(src.field(i).type, dst.field(src.field(i).name).type)
                   for i in range(src.num_fields))
    if pa.types.is_list(src) and pa.types.is_list(dst):
        return _value_preserving(src.value_type, dst.value_type)
    return False


def stored_names(plan: Plan) -> dict[str, str]:
    """Record field name -> column name: lineage names stay the lineage's."""
    names = {}
    taken = set(plan) | set(LINEAGE)
    for name in plan:
        if name in LINEAGE:
            new = name + "_record"
            while new in taken:
                new += "_record"
            taken.add(new)
            names[name] = new
        else:
            names[name] = name
    return names


def storage_schema(plan: Plan) -> pa.Schema:
    """The Parquet schema a plan is written with: record fields, then the lineage columns."""
    names = stored_names(plan)
    fields, text_fields = [], {}
    for name, fp in plan.items():
        reason = fp.text_reason()
        if reason:
            text_fields[names[name]] = reason
            fields.append(pa.field(names[name], pa.string(), metadata={JSON_TEXT: reason.encode()}))
        else:
            fields.append(pa.field(names[name], fp.type))
    fields += [pa.field("_source_key", pa.string(), False), pa.field("_line", pa.int64(), False),
               pa.field("_manifest_id", pa.string(), False)]
    renamed = {stored: name for name, stored in names.items() if stored != name}
    return pa.schema(fields, metadata={"sim.json_text_fields": json.dumps(text_fields, sort_keys=True),
                                       "sim.renamed_fields": json.dumps(renamed, sort_keys=True)})


def json_text(column) -> pa.Array:
    """Exact JSON text of typed Arrow values (null stays null)."""
    return pa.array([None if v is None else dumps_exact(v) for v in column.to_pylist()], pa.string())


def _typed_from_text(column, t: pa.DataType) -> pa.Array:
    """Values this simulator wrote as JSON text, read back into a type that now holds them."""
    return pa.array([None if v is None else json.loads(v) for v in column.to_pylist()], t)


def conform(table: pa.Table, rows: int, source_text: set[str], target: Plan) -> list:
    """Columns of `table` (record fields by their own names) in the target plan's stored form.

    `source_text` names the columns held as JSON text in `table`: a chunk's text fields, or, for
    a part read back from disk, every field its plan stored as text."""
    columns = []
    index = {name: i for i, name in enumerate(table.column_names)}
    for name, fp in target.items():
        i = index.get(name)
        if i is None:
            columns.append(pa.nulls(rows, fp.stored_type()))
            continue
        column = table.column(i)
        as_text = bool(fp.text_reason())
        if name in source_text:
            columns.append(column if as_text else _typed_from_text(column, fp.type))
        elif as_text:
            columns.append(json_text(column))
        elif column.type != fp.type:
            columns.append(cast(column, fp.type))
        else:
            columns.append(column)
    return columns


def cast(array, target: pa.DataType):
    """`array.cast(target)`, with structs and lists rebuilt child by child: pyarrow 26's cast of a
    struct that gains a field leaves a list<null> child shorter than its offsets (an invalid array
    the Parquet writer refuses)."""
    if isinstance(array, pa.ChunkedArray):
        return pa.chunked_array([cast(chunk, target) for chunk in array.chunks], type=target)
    if array.type == target:
        return array
    mask = array.is_null() if array.null_count else None
    if pa.types.is_struct(target) and pa.types.is_struct(array.type) and target.num_fields:
        have = {array.type.field(i).name: i for i in range(array.type.num_fields)}
        flat = array.flatten()  # children with the struct's offset and nulls applied
        children = [cast(flat[have[f.name]], f.type) if f.name in have else pa.nulls(len(array), f.type)
                    for f in target]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    if pa.types.is_list(target) and pa.types.is_list(array.type):
        return pa.ListArray.from_arrays(array.offsets, cast(array.values, target.value_type), type=target, mask=mask)
    return array.cast(target)
