import json
import re

from sim.pipeline import manifests


def test_full_batches_only_unless_flushing():
    keys = [f"k{i:03d}" for i in range(250)]
    assert manifests.next_batch(keys[:199], 200, flush=False) == []
    assert manifests.next_batch(keys[:199], 200, flush=True) == sorted(keys[:199])
    batch = manifests.next_batch(list(reversed(keys)), 200, flush=False)
    assert batch == keys[:200]
    assert manifests.next_batch([], 200, flush=True) == []


def test_manifest_ids_are_valid_unique_execution_names():
    ids = {manifests.new_manifest_id("2026-11-25") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{1,80}", i) and i.startswith("2026-11-25-") for i in ids)


def test_manifest_document_lists_files_in_key_order():
    files = [{"file_key": "b", "bucket": "l", "size": 2}, {"file_key": "a", "bucket": "l", "size": 1}]
    doc = manifests.parse_manifest(manifests.manifest_document("m1", "2026-11-25", files))
    assert [f["key"] for f in doc["files"]] == ["a", "b"]
    assert doc["file_count"] == 2 and doc["manifest_id"] == "m1" and doc["date_prefix"] == "2026-11-25"


def test_output_key_follows_the_contract():
    assert manifests.output_key("2026-11-25", "m1") == "parquet/date=2026-11-25/manifest=m1.parquet"


def test_execution_arn_from_state_machine_arn():
    sm = "arn:aws:states:us-east-1:123456789012:stateMachine:wf"
    assert manifests.execution_arn(sm, "m1") == "arn:aws:states:us-east-1:123456789012:execution:wf:m1"


def test_parse_manifest_rejects_other_documents():
    import pytest

    with pytest.raises(ValueError):
        manifests.parse_manifest(json.dumps({"files": []}).encode())


def test_claim_groups_fit_one_transaction_each_and_leave_a_middle():
    for n in (1, 2, 5, 99, 100, 198, 199, 200, 1000):
        groups = manifests.claim_groups(n, 99)
        assert groups[0][0] == 0 and groups[-1][1] == n
        assert all(a < b and b - a <= 99 for a, b in groups)
        assert all(groups[i][1] == groups[i + 1][0] for i in range(len(groups) - 1))
        assert len(groups) == max(-(-n // 99), 2 if n > 1 else 1)
    assert manifests.claim_groups(0, 99) == []
    assert manifests.claim_groups(200, 99) == [(0, 67), (67, 133), (133, 200)]


def test_reruns_carry_their_attempt_in_the_execution_name():
    assert manifests.execution_name("m1", 1) == "m1"
    assert manifests.execution_name("m1", 3) == "m1--redrive-3"
    mid = manifests.new_manifest_id("2026-11-25")
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", manifests.execution_name(mid, 99))
