"""Read a `.gz` landing file for as long as it decompresses, and say why it stopped if it did.

`gzip.GzipFile` raises on a stream cut short and may drop what it had decompressed in that read.
Here every byte that decompresses is returned, concatenated members are followed (`cat a.gz b.gz`
is valid gzip), and a stream that is not gzip, is corrupt or ends early stops the read with
`problem` set, so the converter can keep the whole lines before the break and quarantine the rest.
A member's checksum comes at its end, so bytes flipped inside it are noticed only there: the lines
before are converted as they decompressed (most such damage makes them invalid JSON, quarantined).
The validation mirror reads through this same class, so both sides see the same lines.
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

RAW_BLOCK = 1024 * 1024
PIECE = 16 * 1024


class GunzipReader:
    def __init__(self, raw: BinaryIO):
        self._raw = raw
        self._inflate = zlib.decompressobj(wbits=31)
        self._fed = False  # the current member has had input
        self._members = 0  # members finished
        self._pending = bytearray()  # decompressed, not yet returned (amortised appends)
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
        block = self._raw.read(RAW_BLOCK)
        if not block:
            self._eof = True
            if self._fed:
                self.problem = "gzip stream cut short: the file ends inside its compressed data"
            return
        for at in range(0, len(block), PIECE):
            if not self._inflate_piece(block[at:at + PIECE]):
                return

    def _inflate_piece(self, block: bytes) -> bool:
        """Small pieces, so a corrupt spot costs only the data decompressed from its own piece."""
        while block:
            if self._members and not self._fed and not block.strip(b"\0"):
                return True  # zero padding after the last member is allowed
            try:
                self._pending += self._inflate.decompress(block)
            except zlib.error as exc:
                self._eof = True
                self.problem = "not gzip data" if not self._members and not self._fed else f"gzip data corrupt ({exc})"
                return False
            self._fed = True
            if not self._inflate.eof:
                return True
            self._members += 1
            block = self._inflate.unused_data
            self._inflate, self._fed = zlib.decompressobj(wbits=31), False
        return True

    def close(self) -> None:
        close = getattr(self._raw, "close", None)
        if close:
            close()
