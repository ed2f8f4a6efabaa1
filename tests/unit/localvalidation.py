"""`sim validate`'s record pass over landed bytes and a Parquet file on disk (no engine): what it
counts as the lines of each file, and which rows it finds altered."""

from __future__ import annotations

import io
import tempfile

from sim.validate import records


class LocalS3:
    """The worker's S3 calls, answered from memory (landing) and from a local Parquet file (output)."""

    class exceptions:
        class NoSuchKey(Exception):
            pass

    def __init__(self, bodies: dict[str, bytes], parquet: str):
        self.bodies = bodies
        self.parquet = parquet

    def get_object(self, Bucket, Key):
        if Bucket == "output":
            with open(self.parquet, "rb") as fh:
                return {"Body": io.BytesIO(fh.read()), "ETag": '"out"'}
        if Key not in self.bodies:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": io.BytesIO(self.bodies[Key]), "ETag": f'"{len(self.bodies[Key])}"'}


def record_pass(bodies: dict[str, bytes], parquet: str, manifest_id: str) -> records.UnitResult:
    """One unit comparing every row of `parquet` with the landed `bodies`."""
    worker = records._Worker.__new__(records._Worker)
    worker.s3, worker.landing, worker.output = LocalS3(bodies, parquet), "landing", "output"
    worker.tmp, worker.held = tempfile.mkdtemp(prefix="lines-test-"), None
    try:
        return worker.run(records.Unit("out.parquet", manifest_id, list(bodies)))
    finally:
        worker.close()


def lines_in(result: records.UnitResult) -> list[tuple[str, int]]:
    """(key, line) of every line the pass counted as a record in, sorted."""
    return sorted(zip(result.rin.column("key").to_pylist(), result.rin.column("line").to_pylist()))
