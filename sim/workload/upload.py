"""Put generated files into the landing bucket from a pool of threads, with progress.

Generation happens in the workers, one file at a time, so memory stays at a few files whatever
the count. File `i` is the same bytes on every run with the same seed.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from sim.workload.generator import generate_file


@dataclass
class UploadResult:
    files: int = 0
    bytes: int = 0
    records: int = 0
    seconds: float = 0.0
    keys: list[str] = field(default_factory=list)

    @property
    def files_per_s(self) -> float:
        return self.files / self.seconds if self.seconds else 0.0


def upload_generated(
    s3,
    bucket: str,
    count: int,
    size: int,
    seed: int,
    date_prefix: str,
    prefix: str = "incoming",
    start_index: int = 0,
    threads: int = 8,
    on_file: Callable[[int], None] | None = None,
) -> UploadResult:
    result = UploadResult()
    lock = threading.Lock()
    started = time.monotonic()

    def put(index: int) -> None:
        f = generate_file(seed, index, size, date_prefix, prefix)
        s3.put_object(Bucket=bucket, Key=f.key, Body=f.body, ContentType="application/x-ndjson")
        with lock:
            result.files += 1
            result.bytes += len(f.body)
            result.records += f.records
            result.keys.append(f.key)
        if on_file:
            on_file(1)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(put, i) for i in range(start_index, start_index + count)]:
            future.result()
    result.seconds = time.monotonic() - started
    result.keys.sort()
    return result


def upload_files(s3, bucket: str, files, threads: int = 8,
                 on_file: Callable[[int], None] | None = None) -> UploadResult:
    """Put local files (`LocalFile`s) into the bucket under their keys; multipart for big ones."""
    result = UploadResult()
    lock = threading.Lock()
    started = time.monotonic()

    def put(f) -> None:
        s3.upload_file(str(f.path), bucket, f.key, ExtraArgs={"ContentType": "application/x-ndjson"})
        with lock:
            result.files += 1
            result.bytes += f.size
            result.keys.append(f.key)
        if on_file:
            on_file(1)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        for future in [pool.submit(put, f) for f in files]:
            future.result()
    result.seconds = time.monotonic() - started
    result.keys.sort()
    return result
