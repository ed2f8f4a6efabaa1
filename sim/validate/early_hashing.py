"""Outputs checked as they land, for a pipeline `sim` did not write: its validation is the multiset
check (multiset.py), whose work is hashing every landed object and every output. While the run
drains, each landed object and each output is hashed as soon as it is listed, at the lowest CPU
priority, with the ETag it was listed with; the final check counts those digests for every object
still holding that ETag and hashes the rest (an output rewritten by a retried conversion, say).

What the pipeline's manifests are is unknown from outside, so an output is taken when it appears:
an S3 object is whole once listed. Results live in memory for the one run, as in early.py.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from sim.validate import hashing, multiset, pools
from sim.validate.early import EARLY_NICE, POLL_S, Background
from sim.validate.multiset_options import Options


class EarlyHashing(Background):
    """Polls the landing bucket and the output prefix; hashes each new (key, ETag). stop() gives
    the digests as multiset.Hashed."""

    def __init__(self, target, options: Options, poll_s: float = POLL_S):
        super().__init__(poll_s)
        self.target, self.options = target, options
        self._s3 = None

    def _new_pool(self) -> ProcessPoolExecutor:
        t = self.target
        return pools.new(self.options.workers, hashing._init, ((t.name, t.endpoint, t.region), self.options),
                         nice=EARLY_NICE)

    def _poll(self) -> None:
        o = self.options
        self._s3 = self._s3 or self.target.client("s3")
        for bucket, prefix, landed in ((o.landing_bucket, "", True), (o.output_bucket, o.output_prefix, False)):
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    key, etag, size = obj["Key"], obj["ETag"].strip('"'), obj["Size"]
                    wanted = multiset.wanted_landed(o, key) if landed else key.endswith(".parquet")
                    if wanted and self.futures.get(key, (None,))[0] != etag:  # new, or rewritten since
                        unit = hashing.LandedUnit([(key, size)]) if landed else hashing.RowsUnit(key, size, None, 0)
                        self.futures[key] = (etag, self._pool.submit(hashing._run_one, unit))

    def stop(self) -> multiset.Hashed:
        done, waited = self._results()
        hashed = multiset.Hashed(seconds_waiting=waited)
        for key, etag, result in done:
            if result is None or result.gone or result.unreadable:
                continue  # the final check reads it again, and says what is wrong with it
            result.name = key
            hashed.results.append(result)
            hashed.etags[key] = etag
        return hashed
