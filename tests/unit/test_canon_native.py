"""The native canonical texts (sim/validate/canon.c) against the Python reading, which stays the
reference: every line the native code writes has the reference's text, byte for byte, over lines
drawn to hold what a stranger's file can (escapes, surrogate pairs, control characters, repeated
names, nulls at every depth, numbers of every spelling) and over the same lines mutated byte by
byte; what it leaves alone goes to the Python reading."""

import json
import random

import pytest

from sim.validate import canonical, native
from sim.workload.generator import generate_file

pytestmark = pytest.mark.skipif(native.unavailable() is not None, reason=f"native texts unavailable: {native.unavailable()}")


def reference(line: bytes) -> bytes | None:
    return canonical.line_text(line, canonical.careful_lines([line])[0])


class Lines:
    """Random JSON lines, written in every way JSON allows."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)

    def text(self) -> str:
        rng, chars = self.rng, []
        for _ in range(rng.randint(0, 6)):
            k = rng.random()
            if k < 0.4:
                chars.append(rng.choice("abcxyzAZ09 _-/"))
            elif k < 0.5:
                chars.append(chr(rng.randint(0, 0x1F)))
            elif k < 0.6:
                chars.append(rng.choice('"\\'))
            elif k < 0.7:
                chars.append(chr(rng.randint(0x80, 0x7FF)))
            elif k < 0.8:
                chars.append(chr(rng.randint(0x800, 0xFFFF)))  # lone surrogates among them
            elif k < 0.9:
                chars.append(chr(rng.randint(0x10000, 0x10FFFF)))
            else:
                chars.append(chr(rng.choice([0x7F, 0x2028, 0xFEFF, 0xFFFE])))
        return "".join(chars)

    def string(self, s: str) -> str:
        rng, out = self.rng, ['"']
        for ch in s:
            o = ord(ch)
            r = rng.random()
            if 0xD800 <= o <= 0xDFFF:
                out.append("\\u%04x" % o)
            elif ch in '"\\' or o < 0x20 or r < 0.15:
                if o > 0xFFFF:
                    o -= 0x10000
                    out.append("\\u%04X\\u%04x" % (0xD800 + (o >> 10), 0xDC00 + (o & 0x3FF)))
                elif ch == "/" and r < 0.5:
                    out.append("\\/")
                elif ch in '\b\f\n\r\t"\\' and r < 0.5:
                    out.append(json.dumps(ch)[1:-1])
                else:
                    out.append(("\\u%04x" if rng.random() < 0.5 else "\\u%04X") % o)
            else:
                out.append(ch)
        return "".join(out) + '"'

    def number(self) -> str:
        rng, k = self.rng, self.rng.random()
        if k < 0.3:
            return str(rng.randint(-10 ** rng.randint(1, 20), 10 ** rng.randint(1, 20)))
        if k < 0.35:
            return rng.choice(["0", "-0", "-0.0", "0.0", "0.000", "1.0", "100.00", "-5.10", "99999999999999.9"])
        if k < 0.7:
            whole = str(rng.randint(0, 10 ** rng.randint(0, 12)))
            return rng.choice(["", "-"]) + whole + "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 8)))
        if k < 0.8:
            return "0." + "0" * rng.randint(0, 8) + str(rng.randint(1, 999))
        if k < 0.85:
            return str(rng.randint(0, 999)) + rng.choice(["e", "E", ".5e"]) + rng.choice(["", "+", "-"]) + str(rng.randint(0, 400))
        if k < 0.9:  # long decimals: a double's shortest digits (17 or so), with zeros after, or any digits
            whole = str(rng.randint(0, 10 ** rng.randint(0, 15)))
            drawn = repr(rng.uniform(-1, 1) * 10 ** rng.randint(-5, 15))
            digits = whole + "." + "".join(rng.choice("0123456789") for _ in range(rng.randint(10, 25)))
            return rng.choice([drawn, drawn + "0" * rng.randint(1, 3), digits, "-" + digits])
        return rng.choice(["01", "1.", ".5", "-", "+1", "1e", "NaN", "Infinity", "0x10", "1_0"])

    def ws(self) -> str:
        return self.rng.choice(["", "", "", " ", "\t", "  ", "\r"])

    def value(self, depth: int) -> str:
        rng, k = self.rng, self.rng.random()
        if depth > 4 or k < 0.5:
            return rng.choice([self.number, lambda: self.string(self.text()), lambda: "true", lambda: "false",
                               lambda: "null"])()
        if k < 0.75:
            items = (self.value(depth + 1) for _ in range(rng.randint(0, 3)))
            return "[" + self.ws() + ("," + self.ws()).join(items) + self.ws() + "]"
        return self.object(depth + 1)

    def object(self, depth: int = 0) -> str:
        names = [self.text() for _ in range(self.rng.randint(0, 5))]
        if names and self.rng.random() < 0.2:
            names.append(self.rng.choice(names))  # a repeated name: the last one stands
        members = (self.string(n) + self.ws() + ":" + self.ws() + self.value(depth) for n in names)
        return "{" + self.ws() + ("," + self.ws()).join(members) + self.ws() + "}"

    def line(self) -> bytes:
        return (self.ws() + self.object() + self.ws()).encode("utf-8", "surrogatepass")

    def mutated(self, line: bytes) -> bytes:
        rng, b = self.rng, bytearray(line)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(b)) if b else 0
            r = rng.random()
            if r < 0.33 and b:
                del b[i]
            elif r < 0.66:
                b.insert(i, rng.randrange(256))
            elif b:
                b[i] = rng.choice(b'{}[]",:0123456789.eE-\\un ')
        return bytes(b).replace(b"\n", b" ")


def _corpus(seed: int, count: int) -> list[bytes]:
    lines = Lines(seed)
    drawn = [lines.line() for _ in range(count)]
    generated = [x for x in generate_file(seed, 1, 200_000).body.split(b"\n") if x]
    return drawn + [lines.mutated(x) for x in drawn] + generated + [lines.mutated(x) for x in generated]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_native_text_is_the_python_readings_text(seed):
    corpus = _corpus(seed, 4000)
    texts = native.texts(corpus)
    written = [(line, text) for line, text in zip(corpus, texts) if text is not None]
    assert len(written) > len(corpus) // 5  # drawn, mutated and generated lines among them
    wrong = [(line, text, reference(line)) for line, text in written if text != reference(line)]
    assert not wrong, wrong[:3]


def test_the_common_lines_of_the_generator_are_written_natively():
    lines = [x for x in generate_file(7, 2, 500_000).body.split(b"\n") if x]
    texts = native.texts(lines)
    plain = [i for i, line in enumerate(lines) if not canonical.careful_lines([line])[0]]
    assert plain and all(texts[i] is not None for i in plain)


@pytest.mark.parametrize("line, text", [
    (b'{"b":1,"a":2,"b":null}', b'{"a":2}'),  # the last of a repeated name stands, then nulls go
    (b' {"a":[null,{"x":null,"y":[]}],"z":{}}\r', b'{"a":[null,{"y":[]}],"z":{}}'),
    (b'{"n":-0,"m":-0.0,"k":100.00,"j":12.50,"i":0.0001}', b'{"i":0.0001,"j":12.5,"k":100,"m":0,"n":0}'),
    (b'{"s":"\\u00e9\\/\\b\\u001F\\ud83d\\ude00\x7f"}', b'{"s":"\xc3\xa9/\\b\\u001f\xf0\x9f\x98\x80\x7f"}'),
    (b'{"\xc3\xa9":1,"z":2,"Z":3}', b'{"Z":3,"z":2,"\xc3\xa9":1}'),  # names by code point
    # a long decimal that is a double's shortest digits (trailing zeros aside): as that double
    (b'{"r":0.30000000000000004,"s":-1234567890.12345670,"t":0.123456789012345}',
     b'{"r":0.30000000000000004,"s":-1234567890.1234567,"t":0.123456789012345}'),
])
def test_written_natively(line, text):
    assert native.texts([line]) == [text] and reference(line) == text


@pytest.mark.parametrize("line", [
    b'{"a":1e5}', b'{"a":123456789012345678901234567890}', b'{"a":0.00001}',
    b'{"a":0.12345678901234567890}',  # more digits than the double nearest it: read exactly
    b'{"a":0.1000000000000000055511151231257827021181583404541015625}',  # 0.1's exact value
    b'{"a":0.0000123456789012345}', b'{"a":1234567890123456.5}',  # orjson may write an exponent
    b'{"a":"\\ud800"}', b'{"a":"\xff"}', b'{"a":"\x01"}', b'\xef\xbb\xbf{"a":1}', b'[1]', b'{"a":1} x',
    b'{"a":NaN}', b'{"a":01}', b'{"a":1,}', b'{' * 70 + b'}' * 70,
])
def test_left_to_the_python_reading(line):
    assert native.texts([line]) == [None]


def test_texts_and_careful_agree_with_the_python_reading_alone(monkeypatch):
    corpus = _corpus(4, 1500)
    with_native = canonical.texts_and_careful(corpus)
    monkeypatch.setattr(native, "texts_and_long_integers", lambda lines: None)
    careful = canonical.careful_lines(corpus)
    assert with_native[0] == canonical.lines_texts(corpus, careful)
    # a line written natively holds no number that needs an exact reading; the others keep the scan's flag
    assert all(not flag or scanned for flag, scanned in zip(with_native[1], careful))
    assert canonical.texts_and_careful(corpus) == (with_native[0], careful)


def _varied_table():
    import pyarrow as pa

    n = 300
    rng = random.Random(5)
    return pa.table({
        "s": pa.array([None if i % 7 == 0 else rng.choice(["x", 'q"uote', "back\\slash", "\x01ctl", "é", ""])
                       for i in range(n)]),
        "i": pa.array([None if i % 5 == 0 else rng.randint(-10**12, 10**12) for i in range(n)], pa.int64()),
        "d": pa.array([None if i % 3 == 0 else rng.choice([0.5, -2.25, 1e300, 3.0, 1e-7]) for i in range(n)]),
        "st": pa.array([None if i % 4 == 0 else {"a": None if i % 6 == 0 else i, "b": "t"} for i in range(n)],
                       pa.struct([("a", pa.int64()), ("b", pa.string())])),
        "l": pa.array([None if i % 9 == 0 else [rng.choice([None, 1, 2])] * (i % 3) for i in range(n)],
                      pa.list_(pa.int64())),
        "ls": pa.array([[{"k": None if i % 2 else "v"}] for i in range(n)], pa.list_(pa.struct([("k", pa.string())]))),
    })


@pytest.mark.parametrize("start, length", [(0, 300), (17, 150), (299, 1), (5, 0)])
def test_row_texts_joined_natively_are_the_arrow_joins(monkeypatch, start, length):
    from sim.validate import rowtext

    table = _varied_table().slice(start, length)  # slices: values start at an offset into their buffers
    texts = rowtext.RowTexts(table.schema)
    natively = texts.texts(table).to_pylist()
    monkeypatch.setattr(native, "join", lambda pieces, n, strip_comma=False: None)
    assert natively == texts.texts(table).to_pylist()
    whole = [canonical.text(v) for v in texts.values(table)]
    assert natively == whole  # and both are the reference's texts of the records the rows stand for


@pytest.mark.parametrize("line, text", [
    (b'{"id":18446744073709551617,"n":1}', b'{"id":18446744073709551617,"n":1}'),
    (b'{"id":-12345678901234567890123456789}', b'{"id":-12345678901234567890123456789}'),
])
def test_a_long_integer_is_written_natively_and_its_line_still_read_exactly_where_it_matters(line, text):
    texts, careful = canonical.texts_and_careful([line, b'{"n":12345}'])
    assert texts == [text, b'{"n":12345}'] and reference(line) == text
    assert careful == [True, False]  # the comparison reads it exactly when the row may hold a decimal


@pytest.mark.parametrize("seed", [1, 2])
def test_doubles_written_natively_are_canonical_doubles(seed):
    import math
    import struct

    import pyarrow as pa

    from sim.validate import rowtext

    rng = random.Random(seed)
    anything = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(60000)]
    values = [v for v in anything if 1e-4 <= abs(v) < 1e15][:20000]  # of 17 digits, most: written natively
    values += anything[:300]  # mostly beyond them: an exponent, left to orjson
    values += [round(rng.uniform(-1e6, 1e6) * 10 ** rng.randint(-8, 8), rng.randint(0, 17)) for _ in range(20000)]
    values += [s * 2.0 ** e for e in range(-20, 60) for s in (1, -1)]  # powers of two: lopsided intervals
    values += [math.nextafter(2.0 ** e, d) for e in range(-20, 60) for d in (0, math.inf)]
    values += [None, float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 2.0 ** 53, 2.0 ** 53 + 2, 1e15, 1e-4]
    rng.shuffle(values)
    array = pa.array(values, pa.float64())
    for part in (array, array.slice(7, 30000)):
        texts, left = native.doubles(part)
        expected = [None if v is None else canonical.text(v) for v in part.to_pylist()]
        got = texts.to_pylist()
        assert all(got[i] == expected[i] for i in range(len(part)) if i not in set(left))
        assert len(left) < len(part) // 50  # NaN, infinities, large integral values, exponents, powers of two
        assert rowtext.value_texts(part).to_pylist() == expected  # with what is left written by orjson


@pytest.mark.parametrize("seed", [1, 2])
def test_a_chunk_split_and_written_natively_is_split_lines_and_its_texts(seed, monkeypatch):
    from sim.pipeline.lines import Chunk, split_lines

    rng = random.Random(seed)
    lines = Lines(seed)
    corpus = _corpus(seed, 300)
    ends = [b"\n", b"\r\n", b"\n \t\n", b"\n\r\n", b"\n   \r\n"]
    chunks = []
    for _ in range(40):
        picked = [rng.choice(corpus) for _ in range(rng.randint(0, 30))]
        data = b"".join(line + rng.choice(ends) for line in picked)
        data = rng.choice([b"", b"\n", b" \r\n"]) + data + rng.choice([b"", lines.line(), b"\r", b"  "])
        chunks.append(Chunk(rng.randint(1, 10**6), data, data.count(b"\n") + 1))
    chunks.append(Chunk(1, b"", 1))
    chunks.append(Chunk(5, b"\n\n\r\n", 4))
    natively = [canonical.chunk_texts(c) for c in chunks]
    monkeypatch.setattr(native, "chunk_texts", lambda *a: None)
    for chunk, (numbers, split, texts, careful) in zip(chunks, natively):
        expected_numbers, expected_lines = split_lines(chunk)
        assert numbers == expected_numbers and list(split) == expected_lines
        assert [split[i] for i in range(len(split))] == expected_lines and split[1:3] == expected_lines[1:3]
        assert (numbers, expected_lines, texts, careful) == tuple(
            x if i != 1 else list(x) for i, x in enumerate(canonical.chunk_texts(chunk)))


@pytest.mark.parametrize("seed", [1, 2])
def test_json_text_values_written_natively_are_the_python_readings(seed, monkeypatch):
    import pyarrow as pa

    from sim.validate import rowtext

    lines = Lines(seed)
    values = [lines.value(0).encode("utf-8", "surrogatepass") for _ in range(3000)]
    values += [b"null", b" 12345678901234567890123 ", b"0.30000000000000004", b"1e400", b"{}", b'{"a":null}',
               b"[null,1.50]", b"not json", b"", b'"\\ud800"', None, b"\xef\xbb\xbf1", b'{\n "b": 2,\n "a": 1\n}', b"\n"]
    array = pa.array(values, pa.binary())
    strings = pa.array([None if v is None else v.decode("utf-8", "replace") for v in values])  # a string column
    natively = rowtext.json_text_values(array).to_pylist()
    natively_from_strings = rowtext.json_text_values(strings).to_pylist()
    assert sum(t is not False for t in rowtext._native_json_texts(array)) > len(values) // 2
    monkeypatch.setattr(native, "texts", lambda _lines: None)
    assert rowtext._native_json_texts(array) is None
    assert natively == rowtext.json_text_values(array).to_pylist()
    assert natively_from_strings == rowtext.json_text_values(strings).to_pylist()
