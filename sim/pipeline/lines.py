"""What a line of a landed file is, and the framing of a byte stream into chunks of whole lines.

This is the one definition of a line: the converter, `sim validate` and `sim land`'s pre-check all
read files through it, so they agree on which lines there are and which are blank.
- Only LF ends a line; a CR just before it is not part of the line (CRLF files read as LF files).
  A CR anywhere else is a byte of its line (a CR without LF does not end one).
- A line is blank when it holds nothing but JSON white space (space, tab, CR): it is no record and
  is never quarantined. Any other byte makes it a line that must be one JSON object.
- A UTF-8 byte order mark at the very start of a file is not part of its first line (RFC 8259
  lets a parser ignore it; Windows tools write it). Anywhere else it is a byte of its line.
- Line numbers are 1-based positions in the file, blank lines included, so `_line` points at the
  line a person sees in an editor.

A chunk is a run of whole lines as one bytes object plus the number of its first line, so the
parser can hand it to pyarrow without splitting it in Python.

A line longer than `max_line_bytes` is not held in memory: it is skipped up to its end and
reported as a LongLine (its number, its size and its first bytes) for the quarantine. Each byte is
copied at most once on its way into a chunk, so a single huge line costs time in proportion to its
size, never to its size squared.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO, Iterator

CHUNK_BYTES = 16 * 1024 * 1024
# RFC 8259 lets a parser limit the size of the texts it accepts; this is ours. A line this long
# is a record of hundreds of MB: far past any landing file's lines, and still parsed within the
# memory of a 1 GB Glue Python-shell job (see `sim bench`). Longer lines are quarantined.
MAX_LINE_BYTES = 256 * 1024 * 1024
HEAD_BYTES = 64 * 1024  # how much of a skipped line the quarantine keeps
BOM = b"\xef\xbb\xbf"  # UTF-8's byte order mark
BLANK = b" \t\r"  # JSON's white space but LF (which ends the line): a line of only these is blank


def is_blank(line: bytes) -> bool:
    """Does the line hold nothing but JSON white space?"""
    return not line.strip(BLANK)


@dataclass
class Chunk:
    first_line: int
    data: bytes  # whole lines; the last one lacks its newline only at the end of the stream
    line_count: int  # lines in `data`, blank ones included


@dataclass
class LongLine:
    number: int
    size: int
    head: bytes


def read_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES, max_line_bytes: int = MAX_LINE_BYTES,
                cut_tail: list | None = None) -> Iterator[Chunk | LongLine]:
    """Yield Chunks and LongLines in file order.

    When the stream stopped on a `problem` (a broken gzip stream), its unterminated last line is
    not yielded but put in `cut_tail` as (number, bytes).
    """
    step = max(1, min(chunk_bytes, max_line_bytes))  # so no line inside one read exceeds the limit
    next_line = 1
    carry: list[bytes] = []  # the start of a line that has not ended yet
    carry_len = 0
    skipping: LongLine | None = None
    first: bytes | None = _first_block(stream, step)
    while True:
        block, first = (first, None) if first is not None else (stream.read(step), None)
        if not block:
            break
        if skipping is not None:
            end = block.find(b"\n")
            if end < 0:
                skipping.size += len(block)
                continue
            skipping.size += end
            yield skipping
            skipping = None
            next_line += 1
            block = block[end + 1:]
            if not block:
                continue
        cut = block.rfind(b"\n")
        if cut < 0:
            carry.append(block)
            carry_len += len(block)
            if carry_len > max_line_bytes:
                skipping = LongLine(next_line, carry_len, b"".join(carry)[:HEAD_BYTES])
                carry, carry_len = [], 0
            continue
        whole = block[: cut + 1]
        if carry:
            end = whole.find(b"\n")
            if carry_len + end > max_line_bytes:
                yield LongLine(next_line, carry_len + end, b"".join(carry)[:HEAD_BYTES])
                next_line += 1
                whole = whole[end + 1:]
            else:
                carry.append(whole)
                whole = b"".join(carry)  # one copy of the long line, whatever its length
            carry, carry_len = [], 0
        if whole:
            count = whole.count(b"\n")
            yield Chunk(next_line, whole, count)
            next_line += count
        rest = block[cut + 1:]
        if rest:
            carry, carry_len = [rest], len(rest)
    if skipping is not None:
        yield skipping
        return
    if carry:
        tail = b"".join(carry)
        if cut_tail is not None and getattr(stream, "problem", ""):
            cut_tail.append((next_line, tail))
            return
        yield Chunk(next_line, tail, tail.count(b"\n") + 1)


def _first_block(stream: BinaryIO, step: int) -> bytes:
    """The stream's first block without a byte order mark (read on while it may be one cut short)."""
    block = stream.read(step)
    while block and len(block) < len(BOM) and BOM.startswith(block):
        more = stream.read(len(BOM) - len(block))
        if not more:
            break
        block += more
    if block.startswith(BOM):
        return block[len(BOM):] or stream.read(step)
    return block


def split_lines(chunk: Chunk) -> tuple[list[int], list[bytes]]:
    """The non-blank lines of a chunk with their numbers (a trailing `\\r` is not part of a line)."""
    parts = chunk.data.split(b"\n")
    if b"\r" in chunk.data:
        parts = [line[:-1] if line.endswith(b"\r") else line for line in parts]
    kept = [i for i, line in enumerate(parts) if line.strip(BLANK)]
    first = chunk.first_line
    n = len(kept)
    if not n or kept[-1] == n - 1:  # the first n lines, no blank one among them: no per-line work
        return list(range(first, first + n)), parts[:n]
    return [first + i for i in kept], [parts[i] for i in kept]


def first_line(head: bytes, whole: bool) -> tuple[int, bytes, bool] | None:
    """The first non-blank line in the first bytes of a file, as the converter reads it: (its
    number, its bytes, whether it is complete). `whole`: `head` is the whole file. None when the
    head holds no such line."""
    for piece in read_chunks(io.BytesIO(head)):
        if isinstance(piece, Chunk):
            numbers, texts = split_lines(piece)
            if numbers:
                return numbers[0], texts[0], whole or numbers[0] <= head.count(b"\n")
    return None
