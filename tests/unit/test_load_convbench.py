"""The converter's pyarrow baseline: every file of the manifest read and written under one schema."""

import json

from sim.load import convbench
from sim.load.measure import peak_in_flight
from sim.load.payloads import UploadLog
from sim.workload.generator import generate_file


def test_the_baseline_reads_every_record_of_the_same_files_round_robin(tmp_path):
    files = [generate_file(7, i, 64 * 1024) for i in range(3)]
    for i, f in enumerate(files):
        (tmp_path / f"body-{i:03d}.ndjson").write_bytes(f.body)
    r = convbench.baseline_child(str(tmp_path), 7, str(tmp_path / "out"))  # 7 sources from 3 bodies
    counts = [files[i % 3].records for i in range(7)]
    sizes = [len(files[i % 3].body) for i in range(7)]
    assert r["files"] == 7 and r["records"] == sum(counts) and r["bytes_in"] == sum(sizes)
    assert r["bytes_out"] > 0 and r["mb_per_s"] > 0 and r["peak_rss_mb"] >= r["baseline_rss_mb"] > 0
    assert not (tmp_path / "out" / "baseline.parquet").exists()


def test_later_files_fit_the_first_files_schema(tmp_path):
    lines = ([{"a": 1, "b": {"x": 1}}],
             [{"a": 2, "c": "not in the first file", "b": {"x": 2, "y": 3}}, {"a": 5, "b": {"x": 9}}],
             [{"b": {"x": 3}}])
    for i, records in enumerate(lines):
        (tmp_path / f"body-{i:03d}.ndjson").write_text("".join(json.dumps(r) + "\n" for r in records))
    r = convbench.baseline_child(str(tmp_path), 3, str(tmp_path / "out"))
    assert r["records"] == 4


def test_the_baseline_runs_in_a_child_process(tmp_path):
    (tmp_path / "body-000.ndjson").write_bytes(generate_file(7, 0, 32 * 1024).body)
    r = convbench.measure_baseline(tmp_path, 2, tmp_path / "out")
    assert r["files"] == 2 and r["records"] > 0 and r["peak_rss_mb"] > 0


def test_peak_in_flight_counts_overlapping_uploads_across_processes(tmp_path):
    for worker, spans in ((0, [(0.0, 1.0), (0.5, 2.0), (2.0, 3.0)]), (1, [(0.8, 1.2), (2.5, 2.6)])):
        log = UploadLog(str(tmp_path / f"uploads-{worker}-1.jsonl"))
        log.header(0.0, worker=worker, workers=2, users=4)
        for k, (start, end) in enumerate(spans):
            log.write(k, f"k{worker}-{k}", start, end, 10, 1)
        log.close()
    assert peak_in_flight(tmp_path) == 3  # 0.8-1.0: both of worker 0's first two and worker 1's first


def test_objects_that_are_always_empty_are_left_out_of_the_baseline_schema(tmp_path):
    (tmp_path / "body-000.ndjson").write_text('{"a": 1, "e": {}, "n": {"k": 1, "e": {}}, "l": [{}]}\n'
                                              '{"a": 2, "e": {}, "n": {"k": 2, "e": {}}, "l": []}\n')
    r = convbench.baseline_child(str(tmp_path), 2, str(tmp_path / "out"))
    assert r["records"] == 4


def test_a_file_that_does_not_fit_the_schema_is_one_clear_error(tmp_path):
    import pytest

    (tmp_path / "body-000.ndjson").write_text('{"a": 1}\n')
    (tmp_path / "body-001.ndjson").write_text('{"a": "text"}\n')
    with pytest.raises(SystemExit, match="body-001.ndjson does not fit the first file's schema"):
        convbench.baseline_child(str(tmp_path), 2, str(tmp_path / "out"))
