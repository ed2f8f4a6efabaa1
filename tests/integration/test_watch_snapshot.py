"""The watcher's snapshot between scans: once no file is pending and the queue is idle, only the
manifests the last scan saw open are read again (by key), and what it reports is what a whole scan
of the table reports, step by step; the end of a drain is always a whole scan's answer.

The state items are written as the pipeline's state code writes them (a date's files manifested,
manifests moving from started to succeeded or failed), so no workflow runs under the test.
"""

from sim.ops import watch
from sim.ops.watch import Watcher

DATE = "2026-11-22"


def _put(ddb, table, items):
    for item in items:
        ddb.put_item(TableName=table, Item=item)


def _manifest(mid: str, status: str, files: int) -> dict:
    return {"date_prefix": {"S": DATE}, "file_key": {"S": f"MANIFEST#{mid}"}, "record_type": {"S": "MANIFEST"},
            "manifest_id": {"S": mid}, "status": {"S": status}, "file_count": {"N": str(files)}}


def _file(i: int, mid: str) -> dict:
    return {"date_prefix": {"S": DATE}, "file_key": {"S": f"landing/{DATE}/f-{i:04d}.ndjson"},
            "record_type": {"S": "FILE"}, "status": {"S": "manifested"}, "manifest_id": {"S": mid}}


def _set_status(ddb, table, mid: str, status: str) -> None:
    ddb.update_item(TableName=table, Key={"date_prefix": {"S": DATE}, "file_key": {"S": f"MANIFEST#{mid}"}},
                    UpdateExpression="SET #s = :s", ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={":s": {"S": status}})


def test_between_scans_the_open_manifests_read_by_key_give_what_a_whole_scan_gives(project, pipeline, monkeypatch):
    target, names = project.target, project.names
    ddb, table = target.client("dynamodb"), names.table
    _put(ddb, table, [_file(i, "m-a" if i < 6 else "m-b" if i < 10 else "m-c") for i in range(12)])
    _put(ddb, table, [_manifest("m-a", "started", 6), _manifest("m-b", "started", 4), _manifest("m-c", "succeeded", 2)])

    watcher = Watcher(target, names)
    scans = []
    real_scan = watcher._scan
    monkeypatch.setattr(watcher, "_scan", lambda with_keys=False: scans.append(with_keys) or real_scan(with_keys))

    def same_as_a_whole_scan():
        snap = watcher.snapshot()
        truth = Watcher(target, names).snapshot()
        assert snap.key() == truth.key(), (snap, truth)
        return snap

    first = same_as_a_whole_scan()
    assert (first.tracked, first.pending, first.converted, first.manifests) == (12, 0, 2, {"started": 2, "succeeded": 1})
    same_as_a_whole_scan()
    assert scans == [False, True]  # the pending count known, the next scan keeps the open manifests' keys
    same_as_a_whole_scan()
    assert scans == [False, True]  # read by key

    _set_status(ddb, table, "m-a", "succeeded")
    snap = same_as_a_whole_scan()
    assert scans == [False, True] and snap.converted == 8 and snap.manifests == {"started": 1, "succeeded": 2}
    _set_status(ddb, table, "m-b", "failed")  # none left open: a whole scan says so
    snap = same_as_a_whole_scan()
    assert scans == [False, True, True] and snap.manifests_open == 0

    # A scan is due again after FULL_SCAN_EVERY_S whatever the manifests do.
    _put(ddb, table, [_manifest("m-d", "started", 0)])
    same_as_a_whole_scan()
    n = len(scans)
    same_as_a_whole_scan()
    assert len(scans) == n  # by key
    monkeypatch.setattr(watch, "FULL_SCAN_EVERY_S", 0.0)
    same_as_a_whole_scan()
    assert len(scans) == n + 1


def test_a_pending_file_or_a_moving_queue_means_a_whole_scan_every_time(project, pipeline, monkeypatch):
    target, names = project.target, project.names
    ddb, table = target.client("dynamodb"), names.table
    _put(ddb, table, [_manifest("m-a", "started", 1), _file(0, "m-a")])
    pending = _file(1, "")
    pending["status"] = {"S": "pending"}
    del pending["manifest_id"]
    _put(ddb, table, [pending])
    watcher = Watcher(target, names)
    scans = []
    real_scan = watcher._scan
    monkeypatch.setattr(watcher, "_scan", lambda with_keys=False: scans.append(with_keys) or real_scan(with_keys))
    for _ in range(3):
        assert watcher.snapshot().pending == 1
    assert scans == [False, False, False]
    # the queue moving: the files it carries are not in the last scan
    monkeypatch.setattr(watcher, "_queues", lambda: (3, 0, 0))
    ddb.delete_item(TableName=table, Key={"date_prefix": {"S": DATE}, "file_key": pending["file_key"]})
    for _ in range(2):
        snap = watcher.snapshot()
        assert snap.pending == 0 and snap.queue_visible == 3
    assert scans == [False, False, False, False, False]
