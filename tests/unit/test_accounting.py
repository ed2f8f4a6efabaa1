"""Record accounting on local files with real DuckDB: planted faults must be counted exactly."""

import pyarrow as pa
import pyarrow.parquet as pq

from sim.validate.accounting import account


def parquet(path, rows):
    pq.write_table(pa.table({"_source_key": [r[0] for r in rows], "_line": [r[1] for r in rows],
                             "_manifest_id": [r[2] for r in rows]}), path)
    return path


def test_clean_run_balances(tmp_path):
    a = tmp_path / "a"
    a.write_bytes(b'{"x":1}\n\n{"x":2}\r\n')
    out = parquet(tmp_path / "o.parquet", [("k/a", 1, "m"), ("k/a", 3, "m")])
    acc = account({"k/a": a}, {"o": out}, {"o": "m"})
    assert (acc.records_in, acc.records_out, acc.duplicates, acc.missing, acc.unexpected, acc.wrong_manifest) == (
        2, 2, 0, 0, 0, 0)


def test_duplicates_missing_unexpected_and_wrong_manifest_are_counted(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(b"{}\n{}\n{}\n")
    b.write_bytes(b"{}\n")
    o1 = parquet(tmp_path / "1.parquet", [("a", 1, "m1"), ("a", 2, "m1"), ("a", 2, "m1")])
    o2 = parquet(tmp_path / "2.parquet", [("a", 1, "m2"), ("zzz", 9, "other")])
    acc = account({"a": a, "b": b}, {"o1": o1, "o2": o2}, {"o1": "m1", "o2": "m2"})
    assert acc.records_in == 4 and acc.records_out == 5
    assert acc.duplicates == 2  # a:1 twice (two manifests), a:2 twice (one manifest)
    assert acc.missing == 2  # a:3 and b:1
    assert acc.unexpected == 1  # zzz:9
    assert acc.wrong_manifest == 1
    assert {"key": "b", "line": 1} in acc.examples["missing"]


def test_keys_with_glob_characters_are_safe(tmp_path):
    f = tmp_path / "plain"
    f.write_bytes(b"{}\n")
    out = parquet(tmp_path / "o.parquet", [("in/[x]*?.ndjson", 1, "m")])
    acc = account({"in/[x]*?.ndjson": f}, {"o": out}, {"o": "m"})
    assert acc.missing == 0 and acc.records_in == 1


def test_quarantined_lines_balance_the_account_and_count_once(tmp_path):
    a = tmp_path / "a"
    a.write_bytes(b'{}\n{bad\n{}\n')
    out = parquet(tmp_path / "o.parquet", [("a", 1, "m"), ("a", 3, "m")])
    q = tmp_path / "q.jsonl"
    q.write_text('{"source_key": "a", "line": 2, "reason": "invalid JSON", "manifest_id": "m"}\n'
                 '{"source_key": "gone", "line": null, "reason": "object deleted before conversion"}\n')
    acc = account({"a": a}, {"o": out}, {"o": "m"}, quarantine=[q])
    assert (acc.records_in, acc.records_out, acc.quarantined, acc.missing, acc.duplicates) == (3, 2, 1, 0, 0)
    assert acc.quarantined_files == ["gone"]
    # A line both converted and quarantined is a duplicate.
    out2 = parquet(tmp_path / "o2.parquet", [("a", 1, "m"), ("a", 2, "m"), ("a", 3, "m")])
    assert account({"a": a}, {"o": out2}, {"o": "m"}, quarantine=[q]).duplicates == 1


def test_keys_set_aside_are_left_out_on_every_side_and_their_rows_counted(tmp_path):
    a, over = tmp_path / "a", tmp_path / "over"
    a.write_bytes(b"{}\n")
    over.write_bytes(b"{}\n{}\n{}\n")  # the new content: three lines, while two rows of the old were converted
    out = parquet(tmp_path / "o.parquet", [("a", 1, "m"), ("over", 1, "m"), ("over", 2, "m")])
    plain = account({"a": a, "over": over}, {"o": out}, {"o": "m"})
    assert plain.missing == 1  # without setting it aside the overwrite looks like a lost record
    acc = account({"a": a, "over": over}, {"o": out}, {"o": "m"}, set_aside={"over"})
    assert (acc.records_in, acc.records_out, acc.missing, acc.unexpected, acc.set_aside_rows) == (1, 1, 0, 0, 2)


def test_only_keys_overwritten_after_their_manifest_with_other_content_are_set_aside():
    from sim.validate.inventory import Inventory, ObjectInfo
    from sim.validate.run import overwritten_keys

    inv = Inventory(
        landed={k: ObjectInfo(k, etag, 1) for k, etag in
                (("same", "e1"), ("changed", "e2"), ("refreshed", "e3"), ("never", "e4"))},
        file_items={"same": {"etag": "e1", "overwritten_etag": "e9"},  # overwritten, then put back as it was
                    "changed": {"etag": "e1", "overwritten_etag": "e2"},
                    "refreshed": {"etag": "e3"},  # new content while pending: converted as it is now
                    "never": {"etag": "e4"},
                    "deleted": {"etag": "e5", "overwritten_etag": "e6"}})
    assert overwritten_keys(inv) == {"changed"}
