"""The tolerant gzip reader: every byte that decompresses, and why it stopped when it did."""

import gzip
import io

import pytest

from sim.pipeline.gz import GunzipReader

DATA = b"".join(b'{"i": %d, "pad": "%s"}\n' % (i, b"x" * (i % 50)) for i in range(20000))


def read_all(body: bytes, size: int) -> tuple[bytes, str]:
    reader = GunzipReader(io.BytesIO(body))
    out = b""
    while block := reader.read(size):
        out += block
    return out, reader.problem


@pytest.mark.parametrize("size", [7, 4096, 1 << 20])
def test_whole_stream_in_any_read_size(size):
    assert read_all(gzip.compress(DATA), size) == (DATA, "")


def test_one_byte_reads():
    assert read_all(gzip.compress(DATA[:3000]), 1) == (DATA[:3000], "")


def test_concatenated_members_and_trailing_zero_padding():
    assert read_all(gzip.compress(b"a\n") + gzip.compress(b"b\n") + b"\0" * 8, 3) == (b"a\nb\n", "")


def test_cut_short_returns_a_prefix_and_says_so():
    body = gzip.compress(DATA)
    out, problem = read_all(body[: len(body) // 3], 4096)
    assert out and DATA.startswith(out) and len(out) < len(DATA)
    assert problem.startswith("gzip stream cut short")


def test_plain_text_and_an_empty_object():
    assert read_all(b'{"a": 1}\n', 100) == (b"", "not gzip data")
    assert read_all(b"", 100) == (b"", "")


def test_garbage_after_a_complete_member_is_corruption_not_silence():
    out, problem = read_all(gzip.compress(b"a\n") + b"garbage", 100)
    assert out == b"a\n" and problem.startswith("gzip data corrupt")
