"""128-bit digests of canonical texts (XXH3-128), as one fixed_size_binary(16) Arrow array: what
the multiset counts instead of the texts. 128 bits make an accidental collision among a billion
records about as likely as 10^-21; XXH3 hashes a text several times faster than blake2b, which was
a tenth of the check's time."""

from __future__ import annotations

import pyarrow as pa
from xxhash import xxh3_128_digest

WIDTH = 16
TYPE = pa.binary(WIDTH)


def digests(texts) -> pa.Array:
    """`texts`: a list of bytes or a binary Arrow array without nulls."""
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        texts = texts.to_pylist()
    joined = b"".join([xxh3_128_digest(t) for t in texts])
    return pa.Array.from_buffers(TYPE, len(texts), [None, pa.py_buffer(joined)])
