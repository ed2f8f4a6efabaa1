"""The JSON side of the JSON -> Parquet mapping: an exact parse, the Arrow type a set of values can
be stored as without change, and exact JSON text for values that cannot.

Parsing here is the reference: numbers keep every digit (integers as int, decimals as Decimal),
NaN and Infinity are refused (RFC 8259 has neither), a repeated name in one object keeps its last
value (as JavaScript and Python read it), and nesting is limited to MAX_DEPTH levels. A number
whose exponent is beyond what an exact decimal holds (about +-10**18) is refused too: RFC 8259 lets a
parser limit the range of numbers, and no double or decimal column could hold it. The converter
takes this path for the few lines its fast reader cannot vouch for.

A set of values has a typed column only when every value survives it unchanged:
- strings -> string (a string that looks like a date stays a string), booleans -> bool;
- a member name that is not Unicode text (a lone surrogate escape) below the top level makes its
  top-level field JSON text (a Parquet name is UTF-8); at the top level the line is refused;
- integers (no fraction, no exponent) within int64 -> int64;
- decimals (a fraction or an exponent) that are all exact as doubles (the double holds the number,
  or prints back as the same number), beside integers up to 2**53 in magnitude -> double;
- objects -> struct (their members merged by name, each member by these rules);
- arrays -> list of the merged element type; only nulls -> null.
Anything else (integers beyond int64, numbers a double would change, values of different JSON
types, strings that are not Unicode text) makes the whole top-level field JSON text.
"""

from __future__ import annotations

import json
from decimal import MAX_EMAX, Decimal, InvalidOperation

import pyarrow as pa

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EXACT_INT = 2**53  # the largest magnitude up to which every integer is a double
# RFC 8259 lets a parser limit nesting depth; deeper lines are quarantined with this reason.
MAX_DEPTH = 256
TOO_DEEP = f"nested deeper than {MAX_DEPTH} levels"
EXPONENT_TOO_BIG = f"a number whose exponent is beyond +-{MAX_EMAX} (more than an exact decimal holds)"
NAME_NOT_TEXT = "a field name that is not Unicode text (a lone surrogate escape; Parquet names are UTF-8)"
_BIG_DIGITS = 4000  # Python's int() refuses longer digit strings; Decimal reads them in linear time


class NotARecord(ValueError):
    """A line that is not a JSON object; the message is the reason, never the line's content."""


def _reject_constant(name: str):
    raise NotARecord(f"{name} is not a JSON number (RFC 8259 has no NaN or Infinity)")


def _int(text: str):
    return int(text) if len(text) < _BIG_DIGITS else Decimal(text)


class _Objects:
    """object_pairs_hook that counts names repeated within one object (the last value is kept)."""

    def __init__(self):
        self.repeated = 0

    def __call__(self, pairs):
        obj = dict(pairs)
        if len(obj) != len(pairs):
            self.repeated += 1
        return obj


def loads_record(line: bytes, count_repeated: bool = True) -> tuple[dict, int]:
    """Parse one line exactly; return the object and how many of its objects repeat a name
    (0 without `count_repeated`, which parses several times faster: no Python call per object)."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        raise NotARecord("invalid UTF-8") from None
    if not count_repeated:
        try:
            value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
            if isinstance(value, dict):
                return value, 0
        except (ValueError, RecursionError, ArithmeticError):
            pass  # not JSON, too deep, an integer of thousands of digits, a vast exponent: the full parse says which
    objects = _Objects()
    try:
        value = json.loads(text, parse_float=Decimal, parse_int=_int, parse_constant=_reject_constant,
                           object_pairs_hook=objects)
    except NotARecord:
        raise
    except RecursionError:
        raise NotARecord(TOO_DEEP) from None
    except ArithmeticError:  # decimal.InvalidOperation: an exponent past Decimal's range
        raise NotARecord(EXPONENT_TOO_BIG) from None
    except ValueError as exc:
        raise NotARecord(_why_not_json(text, exc)) from None
    if not isinstance(value, dict):
        kind = "array" if isinstance(value, list) else "string" if isinstance(value, str) else \
            "null" if value is None else "boolean" if isinstance(value, bool) else "number"
        raise NotARecord(f"a JSON {kind}, not an object")
    return value, objects.repeated


_VALUE_STARTS = frozenset('{["-0123456789tfn')


def _why_not_json(text: str, exc: ValueError) -> str:
    """The reason a line is not JSON, from the parser's error kind (never its message's text)."""
    if text.lstrip(" \t\r").startswith("\ufeff"):
        return "invalid JSON: a byte order mark inside the file (only the file's start may hold one)"
    if getattr(exc, "msg", "") == "Extra data":
        if text[exc.pos:exc.pos + 1] not in _VALUE_STARTS:
            return "invalid JSON: text after the end of the object"
        cr = " (a CR without LF does not end a line)" if "\r" in text.strip(" \t\r") else ""
        return "invalid JSON: more than one value on the line" + cr
    return "invalid JSON"


def exact_double(value) -> bool:
    """True when the nearest double is the same number: it holds the value exactly (2**60, 0.5),
    or it prints back as the same decimal (0.1 -> 0.1). 0.10000000000000001 and 1e400 are not."""
    if isinstance(value, bool):
        return False
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    d = Decimal(value)
    try:
        f = float(d)
    except (OverflowError, InvalidOperation):
        return False
    if f != f or f in (float("inf"), float("-inf")):
        return False
    return Decimal(f) == d or Decimal(repr(f)) == d


def check_depth(value) -> None:
    """Raise NotARecord when objects and arrays nest deeper than MAX_DEPTH levels, the value itself
    being the first (walked without recursion). Scalars add no level: the fast path judges depth
    from Arrow types, which count containers, and both paths must draw the line in one place."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > MAX_DEPTH:
            raise NotARecord(TOO_DEEP)
        items = v.values() if isinstance(v, dict) else v
        stack.extend((item, d + 1) for item in items if isinstance(item, (dict, list)))


def is_text(s: str) -> bool:
    """Strings with lone surrogates (legal as JSON escapes) are not Unicode text Parquet can hold."""
    try:
        s.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


class Conflict(Exception):
    """The values cannot share one typed column; the message says why, never what they are."""


class Shape:
    """The merged shape of a field's values: what column type stores them all unchanged."""

    __slots__ = ("kind", "int_max", "has_decimal", "fields", "element", "depth")

    def __init__(self, kind: str = "null"):
        self.kind = kind  # null, bool, int, float, str, obj, list
        self.int_max = 0  # largest integer magnitude seen (decides int64 and int-with-double)
        self.has_decimal = False  # values need Decimal -> float before they go to Arrow
        self.fields: dict[str, Shape] = {}
        self.element: Shape | None = None
        self.depth = 0

    def add(self, value, depth: int = 1) -> None:
        if depth > MAX_DEPTH:
            raise NotARecord(TOO_DEEP)
        if value is None:
            return
        if isinstance(value, bool):
            self._become("bool")
        elif isinstance(value, (int, Decimal)):
            self._number(value)
        elif isinstance(value, str):
            if not is_text(value):
                raise Conflict("a string that is not Unicode text (a lone surrogate escape)")
            self._become("str")
        elif isinstance(value, dict):
            self._become("obj")
            for name, member in value.items():
                shape = self.fields.get(name)
                if shape is None:
                    if not is_text(name):
                        raise Conflict("a member name that is not Unicode text (a lone surrogate escape)")
                    shape = self.fields[name] = Shape()
                shape.add(member, depth + 1)
                self.depth = max(self.depth, shape.depth + 1)
        elif isinstance(value, list):
            self._become("list")
            if self.element is None:
                self.element = Shape()
            for item in value:
                self.element.add(item, depth + 1)
            self.depth = max(self.depth, self.element.depth + 1)
        else:  # a float from an Arrow value: finite, exact by construction
            self._number(value)

    def _become(self, kind: str) -> None:
        if self.kind == "null":
            self.kind = kind
        elif self.kind != kind:
            raise Conflict("values of different JSON types")

    def _number(self, value) -> None:
        if isinstance(value, int):  # an integer token: no fraction, no exponent
            if not INT64_MIN <= value <= INT64_MAX:
                raise Conflict("an integer beyond int64")
            self.int_max = max(self.int_max, abs(value))
            if self.kind == "float":
                if abs(value) > EXACT_INT:
                    raise Conflict("integers beyond 2**53 beside decimals")
                return
            self._become("int")
            return
        if not exact_double(value):
            raise Conflict("a number a double would change")
        if self.kind == "int":
            if self.int_max > EXACT_INT:
                raise Conflict("integers beyond 2**53 beside decimals")
            self.kind = "float"
        self._become("float")
        self.has_decimal = self.has_decimal or isinstance(value, Decimal)

    def arrow_type(self) -> pa.DataType:
        if self.kind == "bool":
            return pa.bool_()
        if self.kind == "int":
            return pa.int64()
        if self.kind == "float":
            return pa.float64()
        if self.kind == "str":
            return pa.string()
        if self.kind == "obj":
            return pa.struct([pa.field(n, s.arrow_type()) for n, s in self.fields.items()])
        if self.kind == "list":
            return pa.list_(self.element.arrow_type() if self.element else pa.null())
        return pa.null()

    def needs_floats(self) -> bool:
        if self.kind == "float":
            return self.has_decimal
        if self.kind == "obj":
            return any(s.needs_floats() for s in self.fields.values())
        if self.kind == "list":
            return bool(self.element and self.element.needs_floats())
        return False


def as_floats(value):
    """Decimal -> float throughout a value (only called for shapes that are exact as doubles)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_floats(v) for v in value]
    return value


def dumps_exact(value) -> str:
    """JSON text that parses back to the same value: every digit kept, key order kept."""
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else "null"
    if isinstance(value, dict):
        return "{" + ",".join(_string(str(k)) + ":" + dumps_exact(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps_exact(v) for v in value) + "]"
    if isinstance(value, bytes):
        return _string(value.decode("utf-8", "surrogateescape"))
    raise TypeError(f"no JSON form for {type(value).__name__}")


def _string(s: str) -> str:
    return json.dumps(s, ensure_ascii=not is_text(s))
