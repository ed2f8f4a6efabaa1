"""The record pass cut into parts: the parts of an output together compare every row once, count
every landed line once and report the output's lineage once, whatever row groups they skip."""

import io
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.pipeline.converter import Source, convert
from sim.validate import records
from sim.validate.named import concat

FILES = {f"in/2026-11-25/f{i}.ndjson": b"".join(b'{"i":%d,"n":%d,"s":"x%d"}\n' % (i, n, n) for n in range(300 + 7 * i))
         for i in range(11)}  # more files than the parts two workers aim for


class LocalS3:
    """Landed bytes by key, and one Parquet file, for the worker's two calls (no engine here)."""

    class exceptions:
        class NoSuchKey(Exception):
            pass

    def __init__(self, parquet: str):
        self.parquet = parquet

    def get_object(self, Bucket, Key):
        if Bucket == "o":
            with open(self.parquet, "rb") as fh:
                return {"Body": io.BytesIO(fh.read()), "ETag": '"out"'}
        if Key not in FILES:
            raise self.exceptions.NoSuchKey(Key)
        return {"Body": io.BytesIO(FILES[Key]), "ETag": '"in"'}


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("out") / "m.parquet")
    convert([Source(k, (lambda b=b: io.BytesIO(b))) for k, b in FILES.items()], "m1", path)
    small = str(tmp_path_factory.mktemp("out") / "groups.parquet")
    pq.write_table(pq.read_table(path), small, row_group_size=250)  # many row groups for the parts to skip
    assert pq.ParquetFile(small).metadata.num_row_groups > 2 * records.PARTS_PER_WORKER
    return small


def run(units, parquet):
    worker = records._Worker.__new__(records._Worker)
    worker.s3, worker.landing, worker.output = LocalS3(parquet), "l", "o"
    worker.tmp, worker.held = tempfile.mkdtemp(), None
    try:
        return [worker.run(u) for u in units]
    finally:
        worker.close()


def totals(results):
    rin = sorted(zip(*(t.column(c).to_pylist() for t in [concat([r.rin for r in results], records.RIN_SCHEMA)]
                       for c in ("key", "line"))))
    rout = sorted(zip(*(t.column(c).to_pylist() for t in [concat([r.rout for r in results], records.ROUT_SCHEMA)]
                        for c in ("key", "line", "mid"))))
    return rin, rout, sum(r.compared for r in results), sum(r.altered for r in results)


def test_parts_cover_the_output_exactly_once(output):
    landed = {k: len(b) for k, b in FILES.items()}
    manifest = {"m1": {"files": [{"key": k} for k in FILES]}}
    whole = records.plan_units(landed, {"m1": "o.parquet"}, manifest, set(), workers=1)
    parts = records.plan_units(landed, {"m1": "o.parquet"}, manifest, set(), workers=2)
    assert len(whole) == 1 and len(parts) == records.PARTS_PER_WORKER * 2
    assert [u.part for u in parts] == list(range(len(parts)))
    assert sorted(k for u in parts for k in u.own) == sorted(FILES)
    expected = totals(run(whole, output))
    assert expected[2] == sum(b.count(b"\n") for b in FILES.values()) and expected[3] == 0
    assert totals(run(parts, output)) == expected


def test_rows_of_an_unlisted_key_are_compared_by_part_zero_only(output):
    landed = {k: len(b) for k, b in FILES.items()}
    keys = list(FILES)
    manifest = {"m1": {"files": [{"key": k} for k in keys[:-1]]}}  # the last file's rows are in the wrong output
    parts = records.plan_units(landed, {"m1": "o.parquet"}, manifest, set(), workers=2)
    output_parts = [u for u in parts if u.output_key]
    assert [u.compares(keys[-1]) for u in output_parts] == [True] + [False] * (len(output_parts) - 1)
    results = run(output_parts, output)
    rows_of_last = FILES[keys[-1]].count(b"\n")
    assert sum(r.compared for r in results) == sum(b.count(b"\n") for b in FILES.values())
    assert sum(r.rout.num_rows for r in results) == sum(b.count(b"\n") for b in FILES.values())
    assert rows_of_last > 0


def test_blank_lines_crlf_and_an_altered_row(tmp_path):
    """Lines numbered across blank lines and CRLF endings still meet their rows; a changed value
    is found at its path, and only there."""
    body = b'{"i": 1, "s": "a"}\r\n\r\n  \n{"i": 2, "s": "b"}\r\n{"i": 3, "s": "c", "t": true}\n\n{"i": 4}'
    key = "in/2026-11-25/blank.ndjson"
    path = str(tmp_path / "o.parquet")
    convert([Source(key, lambda: io.BytesIO(body))], "m2", path)
    table = pq.read_table(path)
    i = table.column("i").to_pylist()
    altered = table.set_column(table.schema.get_field_index("i"), "i",
                               pa.array([v + 10 if v == 3 else v for v in i], pa.int64()))
    changed = str(tmp_path / "altered.parquet")
    pq.write_table(altered, changed)

    class OneFile(LocalS3):
        def get_object(self, Bucket, Key):
            return super().get_object(Bucket, Key) if Bucket == "o" else {"Body": io.BytesIO(body), "ETag": '"1"'}

    unit = records.Unit("o.parquet", "m2", [key])
    for parquet, expected in ((path, 0), (changed, 1)):
        worker = records._Worker.__new__(records._Worker)
        worker.s3, worker.landing, worker.output = OneFile(parquet), "l", "o"
        worker.tmp, worker.held = tempfile.mkdtemp(), None
        try:
            result = worker.run(unit)
        finally:
            worker.close()
        assert result.compared == 4 and result.altered == expected
        assert sorted(result.rin.column("line").to_pylist()) == [1, 4, 5, 7]
        if expected:
            assert result.altered_examples == [{"key": key, "line": 5, "path": "/i"}]


def _plan(sizes: dict[str, int], workers: int):
    landed, docs, outputs = {}, {}, {}
    for mid, files in sizes.items():
        keys = [f"in/{mid}/{i}.ndjson" for i in range(files)]
        landed.update({k: 100 for k in keys})
        docs[mid] = {"files": [{"key": k} for k in keys]}
        outputs[mid] = f"out/{mid}.parquet"
    return landed, records.plan_units(landed, outputs, docs, set(), workers=workers)


def test_with_more_outputs_than_workers_only_the_smallest_are_cut_and_last():
    landed, units = _plan({"a": 200, "b": 200, "c": 180, "d": 120, "e": 90}, workers=2)
    parts = {}
    for u in units:
        parts.setdefault(u.file_mid, []).append(u)
    assert {m: len(p) for m, p in parts.items()} == {"a": 1, "b": 1, "c": 1, "d": 2, "e": 2}
    assert [u.file_mid for u in units[:3]] == ["a", "b", "c"]  # the whole ones first, the parts fill the gaps
    owned = [k for u in units for k in u.own]
    assert sorted(owned) == sorted(landed) and len(owned) == len(set(owned))


def test_with_no_more_outputs_than_workers_every_output_is_cut():
    _, units = _plan({"a": 200, "b": 150}, workers=2)
    assert [u.file_mid for u in units].count("a") == records.PARTS_PER_WORKER
    assert [u.file_mid for u in units].count("b") == records.PARTS_PER_WORKER
