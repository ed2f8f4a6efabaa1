"""One text per record value, so that records equal under the JSON -> Parquet mapping have equal
texts and can be counted by a hash of that text (the lineage-free check, `multiset.py`).

The text is orjson's sorted-key JSON of the value with null members dropped (absent and null are
one; null elements of arrays are kept), with every number written by its value:
- an integer (a JSON integer token, an integer column) is its exact digits;
- a decimal (a JSON number with a fraction or an exponent, a double, a decimal column) that is a
  double `g` -- `g` holds it, or it prints back as `g` (content.same's rule) -- is written as `g`
  is: its digits when `g` is integral (so `1`, `1.0` and `1e0` are one text), else orjson's
  shortest form of `g` (`0.1`);
- any other decimal is written exactly: its digits when integral, else `<digits>e<exponent>`;
- integral values of 10^30 or more are `<digits>e<exponent>` too, so a text stays short.
Texts are valid JSON denoting their value, so two different values never share a text, with one
exception kept on purpose: a decimal that is the exact binary expansion of a double
(`0.1000000000000000055511151231257827021181583404541015625`) and that double's shortest form
(`0.1`) are both written `0.1`. A double equals both (the mapping), so no single text can keep
them apart; only two exact decimals (a landed line against a JSON text column) meet that case.
A second deliberate difference from content.same: an integer token beyond 2^53 is never a double
(the mapping keeps such integers exact), so a double column holding it prints differently unless
its shortest form is that integer.

Strings are orjson's (raw UTF-8, `"`, `\\` and control characters escaped); a string holding a lone
surrogate (valid JSON, not Unicode text) is written with ASCII escapes, which no other string's
text can be. Values that JSON has no form for (NaN, a timestamp column) become `!`-tagged texts that
no landed record can have.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Sequence

import orjson

from sim.pipeline.lines import split_lines
from sim.validate import content, native

_SORTED = orjson.OPT_SORT_KEYS
_EXACT_SMALL = 2**53  # doubles below this that are integral are exactly their integer
_DIGITS_UP_TO = 10**30  # integral values below this are written as digits

# Number tokens whose text orjson cannot be trusted to write as the canonical text (beside the
# tokens content.RISKY_NUMBER flags, which need an exact parse): an exponent, or a fraction of zeros
# only -- a decimal that may be integral, which must come out as digits. A string holding such a
# pattern costs the careful path, never a wrong text.
CAREFUL_NUMBER = (content.RISKY_NUMBER[:-1]
                  + r"|[0-9]+(?:\.[0-9]*)?[eE]|[0-9]+\.0+(?:[^0-9]|$))")


Fragment = orjson.Fragment  # raw text orjson puts in place (a number or string written by the rules above)


def _integral_text(sign: int, digits: str, exponent: int) -> bytes:
    """An integral value (digits without trailing zeros, times 10^exponent, exponent >= 0)."""
    minus = "-" if sign and digits != "0" else ""
    if len(digits) + exponent <= 30:
        return (minus + digits + "0" * exponent).encode()
    return f"{minus}{digits}e{exponent}".encode()


def _decimal_parts(value: Decimal) -> tuple[int, str, int]:
    """(sign, digits without leading or trailing zeros, exponent) of a finite Decimal."""
    sign, digits, exponent = value.as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return 0, "0", 0
    stripped = text.rstrip("0")
    return sign, stripped, exponent + (len(text) - len(stripped))


def integer(value: int):
    """An integer's text (an int where orjson writes it so)."""
    if -_DIGITS_UP_TO < value < _DIGITS_UP_TO:
        return value if -(2**63) <= value < 2**64 else Fragment(str(value).encode())
    return Fragment(_integral_text(*_decimal_parts(Decimal(value))))


def double(value: float):
    """A double's text: its integer when integral (exactly below 2^53, else its shortest form's)."""
    if not math.isfinite(value):
        return Fragment(b'"!double ' + repr(value).encode() + b'"!')
    if value.is_integer():
        if -_EXACT_SMALL < value < _EXACT_SMALL:
            return int(value)
        return Fragment(_integral_text(*_decimal_parts(Decimal(repr(value)))))
    return value


def decimal(value: Decimal):
    """An exact decimal's text: as the double it is or prints back as, else exactly."""
    if not value.is_finite():
        return Fragment(b'"!decimal ' + str(value).encode() + b'"!')
    as_double = float(value)
    if math.isfinite(as_double) and (Decimal(repr(as_double)) == value or Decimal(as_double) == value):
        return double(as_double)
    sign, digits, exponent = _decimal_parts(value)
    if exponent >= 0:
        return Fragment(_integral_text(sign, digits, exponent))
    return Fragment(f"{'-' if sign else ''}{digits}e{exponent}".encode())


def string(value: str):
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:  # a lone surrogate: ASCII escapes, as no valid string is written
        return Fragment(json.dumps(value).encode())


def normal(value):
    """The value with null members dropped and each number and odd string as its Fragment: what
    orjson writes as the canonical text."""
    kind = type(value)
    if kind is dict:
        out = {k: normal(v) for k, v in value.items() if v is not None}
        if not all(type(k) is str and _encodable(k) for k in out):
            return Fragment(_object_text(out))
        return out
    if kind is list:
        return [normal(v) for v in value]
    if kind is str:
        return string(value)
    if kind is bool or value is None or kind is Fragment:
        return value
    if kind is int:
        return integer(value)
    if kind is float:
        return double(value)
    if kind is Decimal:
        return decimal(value)
    return foreign(value)


def foreign(value) -> Fragment:
    """A value no JSON text has (a timestamp, bytes, ...): a tagged text no landed record can share."""
    return Fragment(orjson.dumps(f"!{type(value).__name__} {value!r}") + b"!")


def _encodable(key: str) -> bool:
    try:
        key.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _object_text(members: dict) -> bytes:
    """An object whose names orjson cannot write (lone surrogates), written member by member in
    the order orjson sorts names (by code point)."""
    parts = []
    for key in sorted(members):
        name = orjson.dumps(string(key)) if _encodable(key) else json.dumps(key).encode()
        parts.append(name + b":" + _sorted_dumps(members[key]))
    return b"{" + b",".join(parts) + b"}"


def text(value) -> bytes:
    """The canonical text of any parsed JSON value (or of a value read from a Parquet row)."""
    return _sorted_dumps(normal(value))


def _sorted_dumps(value) -> bytes:
    """orjson's sorted text of a normal() value, also when nested deeper than orjson writes."""
    try:
        return orjson.dumps(value, option=_SORTED)
    except TypeError:  # nested deeper than orjson writes (255 levels)
        return _deep_text(value)


def _text_or_none(value) -> bytes | None:
    """text(), or None for a value nested deeper than Python's recursion allows (a line the
    standard library reads as no JSON either)."""
    try:
        return text(value)
    except RecursionError:
        return None


def _deep_text(value) -> bytes:
    """orjson's sorted text of a normal() value, written level by level (no depth limit)."""
    kind = type(value)
    if kind is dict:
        return b"{" + b",".join(orjson.dumps(k) + b":" + _deep_text(value[k]) for k in sorted(value)) + b"}"
    if kind is list:
        return b"[" + b",".join(_deep_text(v) for v in value) + b"]"
    return orjson.dumps(value)


def _members(pairs):
    """An object as JSON reads it (the last of repeated names wins), null members dropped."""
    out = dict(pairs)
    if None in out.values():
        return {k: v for k, v in out.items() if v is not None}
    return out


def _integer_token(token: str):
    if len(token) < 19:  # within 64 bits: orjson writes it as it is
        return int(token)
    return integer(int(token)) if len(token) < 4000 else Fragment(_integral_text(*_decimal_parts(Decimal(token))))


def _decimal_token(token: str):
    """A decimal token's text. Up to 16 characters and no exponent, it has at most 15 digits, so
    the nearest double prints back as it: no Decimal is needed."""
    if len(token) <= 16 and "e" not in token and "E" not in token:
        return double(float(token))
    return decimal(Decimal(token))


def _no_constants(name: str):
    raise content.NotJson(name)


_DECODERS = {  # made once: json.loads with options makes a decoder per call
    (nulls, long): json.JSONDecoder(parse_float=_decimal_token, parse_int=_integer_token if long else None,
                                    parse_constant=_no_constants, object_pairs_hook=_members if nulls else None)
    for nulls in (False, True) for long in (False, True)}
LONG_DIGITS = r"[0-9]{19}"  # integers with fewer digits are below 2^63: orjson writes them as they are


def exact_text(line, long_digits: bool = True) -> bytes | None:
    """The canonical text of a line read exactly: every number token written by the rules above
    as the standard library's scanner meets it (no second walk over the value). `long_digits`:
    the line may hold an integer of 19 digits or more (a superset is fine)."""
    # null members to drop, integers orjson may not write: else the scanner builds plain dicts and ints
    decoder = _DECODERS[b"null" in line, long_digits]
    try:
        value = decoder.decode(line.decode("utf-8") if isinstance(line, bytes) else line)
    except (ValueError, RecursionError, ArithmeticError):  # NotJson and invalid UTF-8 are ValueErrors;
        # ArithmeticError: an exponent past Decimal's range (content.parse says the same)
        return None
    if type(value) is not dict:
        return None
    try:
        return orjson.dumps(value, option=_SORTED)
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate in a string or a name
        return _text_or_none(value)


def line_text(line: bytes, careful: bool) -> bytes | None:
    """The canonical text of one landed line, or None when it is not a JSON object. `careful`:
    the line holds a number token orjson's reading would not write canonically (from the
    vectorised scan of `careful_lines`; a superset is fine)."""
    if careful:
        return exact_text(line)
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:  # what orjson refuses (a lone surrogate, say): the standard library decides
        try:
            value = content.parse(line, exact=False)
        except content.NotJson:
            return None
    if type(value) is not dict:
        return None
    if b"null" in line:  # null members go; most are at the top, and counting says when all were
        top = sum(1 for v in value.values() if v is None)
        if top:
            value = {k: v for k, v in value.items() if v is not None}
        if top != line.count(b"null"):
            try:
                value = content.strip_nulls(value)
            except RecursionError:  # nested deeper than Python's recursion allows
                return None
    try:
        return orjson.dumps(value, option=_SORTED)
    except (orjson.JSONEncodeError, TypeError):  # a lone surrogate the standard library read
        return _text_or_none(value)


def add_records(numbers: list[int], texts: list[bytes | None], bad: list[int], record_numbers: list[int],
                records: list[bytes]) -> None:
    """Append the lines of a chunk (their numbers and `lines_texts`) to a reader's lists: the
    numbers of lines that are no record (no text) to `bad`, the others' numbers and texts to
    `record_numbers` and `records`."""
    if None in texts:
        bad += [n for n, t in zip(numbers, texts) if t is None]
        record_numbers += [n for n, t in zip(numbers, texts) if t is not None]
        records += [t for t in texts if t is not None]
    else:
        record_numbers += numbers
        records += texts


def lines_texts(lines: list[bytes], careful: list[bool]) -> list[bytes | None]:
    """line_text of each line. The common line (no careful number, no null, a JSON object) is read
    and written in one expression, without a call per line; any other goes through line_text, and
    a line orjson refuses makes the whole list go through it."""
    loads, dumps = orjson.loads, orjson.dumps
    try:
        out = [dumps(value, option=_SORTED) if not slow and b"null" not in line and type(value := loads(line)) is dict
               else None if slow else line_text(line, False) for line, slow in zip(lines, careful)]
    except (orjson.JSONDecodeError, orjson.JSONEncodeError, TypeError):
        out = [None if slow else line_text(line, False) for line, slow in zip(lines, careful)]
    exact = [i for i, slow in enumerate(careful) if slow]
    if exact:
        import pyarrow as pa
        import pyarrow.compute as pc

        chosen = [lines[i] for i in exact]
        long = pc.match_substring_regex(pa.array(chosen, pa.binary()), LONG_DIGITS).to_pylist()
        for i, line, has_long in zip(exact, chosen, long):
            out[i] = exact_text(line, has_long)
    return out


def texts_and_careful(lines: list[bytes]) -> tuple[list[bytes | None], list[bool]]:
    """Each line's canonical text (None: not a JSON object) and whether it may hold a number that
    needs an exact reading (a superset, as careful_lines). The common lines are written by native
    code (native.py), which takes no line holding such a number but a long integer (its digits are
    its text; the line is flagged all the same); the rest as lines_texts does."""
    found = native.texts_and_long_integers(lines)
    if found is None:
        careful = careful_lines(lines)
        return lines_texts(lines, careful), careful
    return _rest_in_python(lines, *found)


def chunk_texts(chunk) -> tuple[list[int], Sequence[bytes], list[bytes | None], list[bool]]:
    """A chunk's non-blank lines (sim/pipeline/lines.py's split_lines), numbered, with
    texts_and_careful of them; split and written by native code where it is built."""
    found = native.chunk_texts(chunk.data, chunk.first_line, chunk.line_count)
    if found is None:
        numbers, lines = split_lines(chunk)
        return (numbers, lines, *texts_and_careful(lines))
    numbers, lines, fast, long_numbers = found
    return (numbers, lines, *_rest_in_python(lines, fast, long_numbers))


def _rest_in_python(lines: Sequence[bytes], fast: list[bytes | None], long_integers: list[int]):
    """The native texts, and the lines native code left written by the Python reading."""
    careful = [False] * len(lines)
    for i in long_integers:  # written natively, and still compared exactly where a row may hold a decimal
        careful[i] = True
    rest = [i for i, t in enumerate(fast) if t is None]
    if rest:
        left = [lines[i] for i in rest]
        left_careful = careful_lines(left)
        for i, flag, found in zip(rest, left_careful, lines_texts(left, left_careful)):
            careful[i] = flag
            fast[i] = found
    return fast, careful


def careful_lines(lines: list[bytes]) -> list[bool]:
    """Which lines need the careful path (one vectorised RE2 scan over all of them)."""
    if not lines:
        return []
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.match_substring_regex(pa.array(lines, pa.binary()), CAREFUL_NUMBER).to_pylist()
