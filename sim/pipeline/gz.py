"""Read a `.gz` landing file for as long as it decompresses, and say why it stopped if it did.

`gzip.GzipFile` raises on a stream cut short and may drop what it had decompressed in that read.
Here every byte that decompresses is returned, concatenated members are followed (`cat a.gz b.gz`
is valid gzip), and a stream that is not gzip, is corrupt or ends early stops the read with
`problem` set, so the converter can keep the whole lines before the break and quarantine the rest.
A member's checksum comes at its end, so bytes flipped inside it are noticed only there: the lines
before are converted as they decompressed (most such damage makes them invalid JSON, quarantined).

Memory stays bounded whatever the compression ratio: input is fed in small pieces and each
decompression step returns at most OUT_STEP bytes. A file that decompresses past `max_bytes` (a
gzip bomb, or a file far beyond any landing size) stops there with `problem` saying so.
The validation reads landed files through this same class, so both sides see the same lines.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

RAW_BLOCK = 1024 * 1024
PIECE = 16 * 1024
OUT_STEP = 1024 * 1024
# A landing file of 3.5 MB is tens of MB of NDJSON; four GiB is far past any real one and reads
# in under a minute, so a bomb costs bounded time and no memory.
MAX_DECOMPRESSED_BYTES = 4 * 1024**3


class GunzipReader:
    def __init__(self, raw: BinaryIO, max_bytes: int = MAX_DECOMPRESSED_BYTES):
        self._raw = raw
        self._max = max_bytes
        self._inflate = zlib.decompressobj(wbits=31)
        self._fed = False  # the current member has had input
        self._members = 0  # members finished
        self._input = b""  # compressed, not yet fed
        self._pending = bytearray()  # decompressed, not yet returned (amortised appends)
        self._total = 0  # decompressed so far
        self._eof = False
        self.problem = ""

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._pending) < size):
            self._fill()
        if size < 0:
            size = len(self._pending)
        data = bytes(self._pending[:size])
        del self._pending[:size]
        return data

    def _fill(self) -> None:
        if not self._input:
            self._input = self._raw.read(RAW_BLOCK)
            if not self._input:
                self._eof = True
                if self._fed:
                    self.problem = "gzip stream cut short: the file ends inside its compressed data"
                return
        piece, self._input = self._input[:PIECE], self._input[PIECE:]
        self._inflate_piece(piece)

    def _inflate_piece(self, block: bytes) -> None:
        """Small pieces, so a corrupt spot costs only the data decompressed from its own piece."""
        while block and not self._eof:
            if self._members and not self._fed and not block.strip(b"\0"):
                return  # zero padding after the last member is allowed
            try:
                out = self._inflate.decompress(block, OUT_STEP)
            except zlib.error as exc:
                self._eof = True
                self.problem = "not gzip data" if not self._members and not self._fed else f"gzip data corrupt ({exc})"
                return
            self._fed = True
            self._emit(out)
            if self._inflate.eof:
                self._members += 1
                block = self._inflate.unused_data
                self._inflate, self._fed = zlib.decompressobj(wbits=31), False
            else:
                block = self._inflate.unconsumed_tail  # more output is waiting behind OUT_STEP

    def _emit(self, out: bytes) -> None:
        room = self._max - self._total
        if len(out) > room:
            out = out[:room]
            self._eof = True
            self.problem = (f"decompressed data passed the limit of {self._max} bytes "
                            "(a gzip bomb, or a file far larger than a landing file); the rest is not read")
        self._total += len(out)
        self._pending += out

    def close(self) -> None:
        close = getattr(self._raw, "close", None)
        if close:
            close()
