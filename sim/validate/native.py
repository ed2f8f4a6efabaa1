"""The canonical texts of common landed lines in native code (canon.c), built on first use.

A landed line's canonical text was most of the record pass's time: orjson's parse and sorted
write, a scan of every line for numbers that need an exact reading, and the careful reading of
lines with a null or an integral decimal. canon.c does the common line in one pass over its bytes
and leaves every other line to canonical.py, which stays the reference (the native texts are
compared with it in tests/unit/test_canon_native.py on drawn and mutated lines).

The library is compiled once per source and machine with the C compiler (`$CC`, else `cc`) into
sim's cache folder ($XDG_CACHE_HOME/sim, else ~/.cache/sim), and loaded with ctypes: no Python
headers are needed. Where no compiler works, or SIM_NATIVE=0, every line is read in Python as
before (same texts, slower); `unavailable()` says why.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import subprocess
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

SOURCE = Path(__file__).with_name("canon.c")
_lib = None
_chunk = None
_join = None
_doubles = None
_why: str | None = None
_loaded = False


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sim"


def _load():
    global _lib, _chunk, _join, _doubles, _why, _loaded
    _loaded = True
    if os.environ.get("SIM_NATIVE", "1") == "0":
        _why = "SIM_NATIVE=0"
        return
    try:
        source = SOURCE.read_bytes()
    except OSError as exc:
        _why = f"{SOURCE.name} not found: {exc}"
        return
    key = hashlib.sha256(source + platform.machine().encode() + platform.system().encode()).hexdigest()[:16]
    target = _cache_dir() / f"canon-{key}.so"
    if not target.exists():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix="building-canon-", suffix=".so", dir=target.parent)
            os.close(fd)
            compiler = os.environ.get("CC") or "cc"
            done = subprocess.run([compiler, "-O2", "-shared", "-fPIC", "-o", tmp, str(SOURCE), "-lm"],
                                  capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                os.unlink(tmp)
                _why = f"{compiler} failed: {(done.stderr or done.stdout).strip()[:300]}"
                return
            os.replace(tmp, target)  # worker processes may build at once: the last whole file stands
            for older in target.parent.glob("canon-*.so"):  # builds of earlier sources
                if older != target:
                    older.unlink(missing_ok=True)
        except (OSError, subprocess.SubprocessError) as exc:
            _why = f"could not build {SOURCE.name}: {exc}"
            return
    try:
        lib = ctypes.CDLL(str(target))
    except OSError as exc:
        _why = f"could not load {target}: {exc}"
        return
    fn = lib.canon_lines
    fn.restype = ctypes.c_int64
    fn.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64,
                   ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    join = lib.join_rows
    join.restype = ctypes.c_int64
    join.argtypes = [ctypes.c_int64, ctypes.c_int64] + [ctypes.c_void_p] * 6 + [ctypes.c_int, ctypes.c_void_p,
                                                                                 ctypes.c_int64, ctypes.c_void_p]
    chunk = lib.canon_chunk
    chunk.restype = ctypes.c_int64
    chunk.argtypes = [ctypes.c_char_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64] + \
        [ctypes.c_void_p] * 6
    doubles_fn = lib.double_texts
    doubles_fn.restype = ctypes.c_int64
    doubles_fn.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64] + [ctypes.c_void_p] * 4
    _lib = fn
    _chunk = chunk
    _join = join
    _doubles = doubles_fn


def unavailable() -> str | None:
    """Why the native texts are not used (None: they are)."""
    if not _loaded:
        _load()
    return _why


def texts(lines: list[bytes]) -> list[bytes | None] | None:
    """The canonical text of each line canon.c can write, None for the others (canonical.py's to
    decide); None instead of a list when the native code is unavailable."""
    found = texts_and_long_integers(lines)
    return None if found is None else found[0]


def texts_and_long_integers(lines: list[bytes]) -> tuple[list[bytes | None], list[int]] | None:
    """texts(), and the indices of the lines written that hold a long number (an integer of 16
    digits or more, a decimal of 16 characters or more). No line may hold a newline: they are
    passed to canon.c joined by newlines."""
    if not _loaded:
        _load()
    if _lib is None:
        return None
    n = len(lines)
    if not n:
        return [], []
    data = b"\n".join(lines)
    out = bytearray(len(data) + 1)
    offsets = bytearray(8 * (n + 1))
    valid = bytearray((n + 7) // 8)
    long_integers = bytearray((n + 7) // 8)
    pointer = ctypes.c_char.from_buffer
    written = _lib(data, len(data), n, ctypes.addressof(pointer(out)), len(out), ctypes.addressof(pointer(offsets)),
                   ctypes.addressof(pointer(valid)), ctypes.addressof(pointer(long_integers)))
    if written < 0:
        raise MemoryError("canon.c ran out of memory")
    if written == 0:
        return [None] * n, []
    array = pa.Array.from_buffers(pa.large_binary(), n, [pa.py_buffer(valid), pa.py_buffer(offsets), pa.py_buffer(out)])
    return array.to_pylist(), _set_bits(long_integers, n)


class Lines:
    """A chunk's kept lines as a sequence of bytes, each cut from the chunk when asked for (the
    comparison asks for few: those read again exactly or compared value by value)."""

    __slots__ = ("data", "starts", "ends")

    def __init__(self, data: bytes, starts: list[int], ends: list[int]):
        self.data, self.starts, self.ends = data, starts, ends

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self.data[a:b] for a, b in zip(self.starts[i], self.ends[i])]
        return self.data[self.starts[i]:self.ends[i]]

    def __iter__(self):
        data = self.data
        return (data[a:b] for a, b in zip(self.starts, self.ends))


def chunk_texts(data: bytes, first_line: int, line_count: int):
    """A chunk's non-blank lines as sim/pipeline/lines.py's split_lines keeps them, with the
    canonical texts canon.c writes: (their numbers, the lines (Lines), their texts (None: left to
    the Python reading), the indices of the written lines holding a long number); None when the
    native code is unavailable. Saves splitting the chunk into lines in Python and joining them
    back for canon_lines."""
    if not _loaded:
        _load()
    if _chunk is None:
        return None
    room = line_count + 2
    out = bytearray(len(data) + 1)
    indices, starts, ends, offsets = (bytearray(8 * room) for _ in range(4))
    valid, long_numbers = bytearray(room // 8 + 1), bytearray(room // 8 + 1)
    pointer = ctypes.c_char.from_buffer
    kept = _chunk(data, len(data), room - 1, ctypes.addressof(pointer(out)), len(out),
                  *(ctypes.addressof(pointer(b)) for b in (indices, starts, ends, offsets, valid, long_numbers)))
    if kept == -1:
        raise MemoryError("canon.c ran out of memory")
    if kept < 0:
        return None
    as_ints = lambda b: pa.Array.from_buffers(pa.int64(), kept, [None, pa.py_buffer(b)]).to_pylist()  # noqa: E731
    numbers = [first_line + i for i in as_ints(indices)]
    texts = pa.Array.from_buffers(pa.large_binary(), kept, [pa.py_buffer(valid), pa.py_buffer(offsets),
                                                            pa.py_buffer(out)]).to_pylist()
    return numbers, Lines(data, as_ints(starts), as_ints(ends)), texts, _set_bits(long_numbers, kept)


_WIDTH = {pa.binary(): 4, pa.large_binary(): 8}


def join(pieces: list, n: int, strip_comma: bool = False) -> pa.Array | None:
    """Row i: the i-th values of the pieces put together (bytes: the same for every row; a binary
    Arrow array: its value, nothing where null); with strip_comma, a row that begins "{," loses
    that comma. A binary array; None when the native code is unavailable or a piece is of another
    type (the caller joins in Arrow then)."""
    if not _loaded:
        _load()
    if _join is None or any(not isinstance(p, bytes) and p.type not in _WIDTH for p in pieces):
        return None
    k = len(pieces)
    widths = (ctypes.c_int8 * k)()
    datas, offsets, validity = (ctypes.c_void_p * k)(), (ctypes.c_void_p * k)(), (ctypes.c_void_p * k)()
    starts, lens = (ctypes.c_int64 * k)(), (ctypes.c_int64 * k)()
    size = 0
    for j, piece in enumerate(pieces):
        if isinstance(piece, bytes):
            datas[j] = ctypes.cast(ctypes.c_char_p(piece), ctypes.c_void_p)
            lens[j] = len(piece)
            size += len(piece) * n
            continue
        valid, offs, data = piece.buffers()
        widths[j] = _WIDTH[piece.type]
        offsets[j] = offs.address
        datas[j] = data.address if data is not None else None
        validity[j] = valid.address if valid is not None and piece.null_count else None
        starts[j] = piece.offset
        size += data.size if data is not None else 0
    out = bytearray(size + 1)
    out_offsets = bytearray(4 * (n + 1))
    pointer = ctypes.c_char.from_buffer
    written = _join(n, k, widths, datas, offsets, validity, starts, lens, int(strip_comma),
                    ctypes.addressof(pointer(out)), len(out), ctypes.addressof(pointer(out_offsets)))
    if written < 0:
        return None
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(out_offsets), pa.py_buffer(out)])


def doubles(array: pa.Array) -> tuple[pa.Array, list[int]] | None:
    """The texts of a float64 array as canonical.double writes them (null where the value is
    null), and the indices of the values left to the caller (NaN, infinities, integral values of
    2^53 and more, values written with an exponent, powers of two of 16 digits or more: nothing
    written for them); None when the native code is unavailable."""
    if not _loaded:
        _load()
    if _doubles is None:
        return None
    n = len(array)
    valid, data = array.buffers()[:2]
    out = bytearray(40 * n + 1)
    out_offsets = bytearray(4 * (n + 1))
    out_valid = bytearray((n + 7) // 8 + 1)
    rest = bytearray((n + 7) // 8 + 1)
    pointer = ctypes.c_char.from_buffer
    left = _doubles(n, data.address if data is not None else None,
                    valid.address if valid is not None and array.null_count else None, array.offset,
                    ctypes.addressof(pointer(out)), ctypes.addressof(pointer(out_offsets)),
                    ctypes.addressof(pointer(out_valid)), ctypes.addressof(pointer(rest)))
    texts = pa.Array.from_buffers(pa.binary(), n, [pa.py_buffer(out_valid), pa.py_buffer(out_offsets),
                                                   pa.py_buffer(out)])
    return texts, _set_bits(rest, n) if left else []


def _set_bits(bitmap: bytearray, n: int) -> list[int]:
    """The indices of the bits set among the first n of an Arrow bitmap canon.c filled."""
    if not any(bitmap):
        return []
    return pc.indices_nonzero(pa.Array.from_buffers(pa.bool_(), n, [None, pa.py_buffer(bitmap)])).to_pylist()
