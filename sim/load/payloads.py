"""Upload bodies prepared before the run, so generating NDJSON never throttles the uploads.

A bounded pool of generated files (at most `max_files` and `max_bytes`, at least one) is made up
front; slot k uploads the body of pool entry k mod n under the key of generated file k. Keys stay
unique per upload, bodies repeat, and memory stays at the pool's size however long the run is.
Validation identifies records by (source key, line), so repeated bodies are still distinct records.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from sim.workload.generator import file_key, generate_file

DEFAULT_POOL_FILES = 32
DEFAULT_POOL_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Payload:
    key: str
    body: bytes
    records: int


class PayloadPool:
    def __init__(self, seed: int, size: int, date_prefix: str, prefix: str = "incoming",
                 max_files: int = DEFAULT_POOL_FILES, max_bytes: int = DEFAULT_POOL_BYTES):
        self.seed, self.date_prefix, self.prefix = seed, date_prefix, prefix
        n = max(1, min(max_files, max_bytes // max(size, 1)))
        files = [generate_file(seed, i, size, date_prefix, prefix) for i in range(n)]
        self.bodies = [f.body for f in files]
        self.records = [f.records for f in files]

    def __len__(self) -> int:
        return len(self.bodies)

    @property
    def bytes(self) -> int:
        return sum(len(b) for b in self.bodies)

    def for_slot(self, k: int) -> Payload:
        i = k % len(self.bodies)
        return Payload(file_key(self.seed, k, self.date_prefix, self.prefix), self.bodies[i], self.records[i])


class UploadLog:
    """One JSON line per upload attempt, appended as it ends (nothing kept in memory).

    `sim load` reads these for exact per-upload times: the achieved rate in the judged window,
    latency percentiles, and the landing time each file's end-to-end latency starts from.
    """

    def __init__(self, path: str):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._fh = open(path, "a", buffering=1, encoding="utf-8")

    def header(self, started_at: float, **info) -> None:
        """The first line: when this process's schedule started (its window is relative to it)."""
        self._fh.write(json.dumps({"started_at": round(started_at, 4), **info}, separators=(",", ":")) + "\n")

    def write(self, k: int, key: str, start: float, end: float, nbytes: int, records: int,
              error: str | None = None) -> None:
        line = {"k": k, "key": key, "start": round(start, 4), "end": round(end, 4), "bytes": nbytes,
                "records": records, "ok": error is None}
        if error is not None:
            line["error"] = error
        self._fh.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._fh.close()
