"""An S3 object as a seekable read-only file, read by ranged GETs a block at a time: a Parquet
reader takes only the footer and the row groups it is asked for, and nothing touches the disk."""

from __future__ import annotations

import io

BLOCK = 16 * 1024 * 1024


class S3File(io.RawIOBase):
    def __init__(self, s3, bucket: str, key: str, size: int | None = None, block: int = BLOCK):
        self.s3, self.bucket, self.key = s3, bucket, key
        self.size = size if size is not None else s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
        self.block = block
        self.pos = 0
        self.cached_at = 0
        self.cached = b""
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, n: int = -1) -> bytes:
        end = self.size if n is None or n < 0 else min(self.size, self.pos + n)
        if end <= self.pos:
            return b""
        if not (self.cached_at <= self.pos and end <= self.cached_at + len(self.cached)):
            upto = min(self.size, max(end, self.pos + self.block))
            body = self.s3.get_object(Bucket=self.bucket, Key=self.key, Range=f"bytes={self.pos}-{upto - 1}")["Body"]
            try:
                self.cached = body.read()
            finally:
                body.close()
            self.cached_at = self.pos
            self.bytes_read += len(self.cached)
        data = self.cached[self.pos - self.cached_at:end - self.cached_at]
        self.pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
