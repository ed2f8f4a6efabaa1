from sim.validate.accounting import RecordAccount
from sim.validate.checks import check_state, problems
from sim.validate.inventory import Inventory, ObjectInfo


def inventory() -> Inventory:
    inv = Inventory()
    for k in ("a", "b", "c"):
        inv.landed[k] = ObjectInfo(k, "e", 1)
        inv.file_items[k] = {"file_key": k, "status": "manifested", "manifest_id": "m1"}
    inv.manifest_items["m1"] = {"manifest_id": "m1", "status": "succeeded", "file_count": 3}
    inv.manifest_docs["m1"] = {"files": [{"key": "a"}, {"key": "b"}, {"key": "c"}]}
    inv.executions["m1"] = "SUCCEEDED"
    inv.outputs["parquet/date=d/manifest=m1.parquet"] = ObjectInfo("p", "e", 1)
    return inv


def test_consistent_state_has_no_problems():
    state = check_state(inventory())
    assert problems(state, RecordAccount(records_in=3, records_out=3)) == []
    assert state["output_of"] == {"m1": "parquet/date=d/manifest=m1.parquet"}


def test_file_in_two_manifests_and_orphans_are_reported():
    inv = inventory()
    inv.manifest_items["m2"] = {"manifest_id": "m2", "status": "started"}
    inv.manifest_docs["m2"] = {"files": [{"key": "a"}]}
    inv.executions["ghost"] = "SUCCEEDED"
    inv.file_items["c"]["manifest_id"] = "gone"
    state = check_state(inv)
    assert state["files_in_two_manifests"] == ["a"]
    assert state["manifests_without_workflow"] == ["m2"]
    assert state["workflows_without_manifest"] == ["ghost"]
    assert state["claims_without_manifest"] == ["c"]
    text = "\n".join(problems(state, RecordAccount()))
    assert "files in two manifests: 1: a" in text and "workflows without a MANIFEST item" in text


def test_a_key_rewritten_while_pending_is_two_files_but_the_same_content_twice_is_not():
    inv = inventory()
    inv.manifest_docs["m1"]["files"][0]["etag"] = "v1"
    inv.manifest_items["m2"] = {"manifest_id": "m2", "status": "succeeded"}
    inv.manifest_docs["m2"] = {"files": [{"key": "a", "etag": "v2"}]}
    inv.executions["m2"] = "SUCCEEDED"
    assert check_state(inv)["files_in_two_manifests"] == []
    inv.manifest_docs["m2"]["files"][0]["etag"] = "v1"
    assert check_state(inv)["files_in_two_manifests"] == ["a"]
    inv.manifest_docs["m2"]["files"] = [{"key": "a", "etag": "v1", "version_id": "2"}]
    inv.manifest_docs["m1"]["files"][0]["version_id"] = "1"
    assert check_state(inv)["files_in_two_manifests"] == []


def test_landed_file_never_manifested_fails():
    inv = inventory()
    inv.landed["d"] = ObjectInfo("d", "e", 1)
    state = check_state(inv)
    assert state["landed_not_tracked"] == ["d"] and state["landed_not_in_manifest"] == ["d"]
    assert problems(state, RecordAccount(records_in=3, records_out=3))


def test_a_redriven_manifest_is_judged_by_its_latest_run():
    inv = inventory()
    inv.executions["m1"] = "FAILED"
    inv.executions["m1--redrive-1"] = "FAILED"
    inv.executions["m1--redrive-2"] = "SUCCEEDED"
    state = check_state(inv)
    assert state["manifests_failed"] == [] and state["workflows_without_manifest"] == []
    assert state["redrives"] == 2
    inv.executions["m1--redrive-3"] = "FAILED"
    assert check_state(inv)["manifests_failed"] == ["m1"]
