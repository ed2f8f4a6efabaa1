"""What `sim flush` says for each answer the builder and the pipeline give (the wording and the
retry loop; the builder itself runs in tests/integration/test_flush_cli.py)."""

import time

import pytest

from sim.ops import flush
from sim.ops.watch import StageCounts


class Scripted:
    """A stand-in for the Watcher: each flush() returns the next answer, snapshot() the state after it."""

    def __init__(self, steps):
        self.steps = list(steps)
        self.current = None
        self.flushes = 0

    def flush(self, max_wait_s):
        assert max_wait_s == 0.0
        self.flushes += 1
        self.current = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        return self.current[0]

    def snapshot(self):
        return self.current[1]


def snap(pending=0, running=0, queue=0):
    return StageCounts(pending=pending, manifests={"started": running} if running else {}, queue_visible=queue)


def test_started_counts_the_new_manifests_apart_from_those_already_running():
    w = Scripted([({"manifests": ["m1", "m2"], "recovered": ["m0"], "leases_held": []}, snap(running=5))])
    r = flush.flush(w)
    assert r["outcome"] == "started" and r["pass"] and r["already_running"] == 2
    assert flush.describe(r) == ["started 2 manifest(s), finished 1 a crashed builder left open", "  m1", "  m2",
                                 "  m0", "2 manifest(s) started earlier still running"]


def test_a_held_lease_says_until_when_and_in_how_long_to_retry():
    expires = time.time() + 83.4
    w = Scripted([({"manifests": [], "recovered": [],
                    "leases_held": [{"date_prefix": "2026-11-29", "pending": 12, "expires_at": expires}]},
                   snap(pending=12))])
    r = flush.flush(w)
    assert r["outcome"] == "lease_held" and not r["pass"] and 82 <= r["retry_in_s"] <= 83.4
    until = time.strftime("%H:%M:%S UTC", time.gmtime(expires))
    assert flush.describe(r) == [f"12 file(s) pending on 2026-11-29: another builder holds the date's lease until "
                                 f"{until}; retry in {r['retry_in_s']:.0f} s, or use --wait"]


def test_a_held_lease_over_more_than_a_manifest_says_at_least():
    # the builder counts the files behind a lease up to one manifest's worth, never the backlog
    w = Scripted([({"manifests": [], "recovered": [],
                    "leases_held": [{"date_prefix": "2026-11-29", "pending": 200, "pending_at_least": True,
                                     "expires_at": time.time() + 50}]}, snap(pending=5000))])
    r = flush.flush(w)
    assert flush.describe(r)[0].startswith("at least 200 file(s) pending on 2026-11-29: another builder holds")
    assert flush.waiting_for(r) == "at least 200 file(s) on 2026-11-29 behind another builder's lease"


def test_a_lease_over_a_date_with_nothing_pending_holds_nothing_back():
    w = Scripted([({"manifests": [], "recovered": [],
                    "leases_held": [{"date_prefix": "2026-11-29", "pending": 0, "expires_at": time.time() + 50}]},
                   snap())])
    r = flush.flush(w)
    assert r["outcome"] == "nothing_pending" and r["pass"] and r["leases_held"] == []
    assert flush.describe(r) == ["nothing pending; no manifest running"]


def test_nothing_pending_but_manifests_converting_is_already_running():
    r = flush.flush(Scripted([({"manifests": [], "recovered": [], "leases_held": []}, snap(running=3))]))
    assert r["outcome"] == "already_running" and r["pass"]
    assert flush.describe(r) == ["nothing pending; 3 manifest(s) already running"]


def test_pending_files_with_no_lease_to_blame_are_not_nothing():
    # a builder deployed before it reported leases answers with manifests and recovered only
    r = flush.flush(Scripted([({"manifests": [], "recovered": []}, snap(pending=4, queue=2))]))
    assert r["outcome"] == "pending_left" and not r["pass"]
    assert flush.describe(r) == [
        "4 file(s) pending and no manifest started; retry in a few seconds, or use --wait",
        "2 message(s) in the queue not yet tracked: flush again once they are, or use --wait"]


def test_wait_retries_through_a_lease_until_everything_is_manifested(monkeypatch):
    sleeps = []
    monkeypatch.setattr(flush.time, "sleep", sleeps.append)
    held = {"date_prefix": "2026-11-29", "pending": 12, "expires_at": time.time() + 100}
    w = Scripted([
        ({"manifests": [], "recovered": [], "leases_held": [held]}, snap(pending=12, queue=1)),
        ({"manifests": [], "recovered": [], "leases_held": [held]}, snap(pending=13)),
        ({"manifests": ["m9"], "recovered": [], "leases_held": []}, snap(running=1)),
        ({"manifests": [], "recovered": [], "leases_held": []}, snap(running=1)),
    ])
    seen = []
    r = flush.flush(w, wait_s=600, on_retry=lambda res, pause: seen.append((flush.waiting_for(res), pause)))
    assert w.flushes == 3 and r["attempts"] == 3
    assert r["outcome"] == "started" and r["pass"] and r["manifests"] == ["m9"]
    assert sleeps == [flush.RETRY_POLL_S, flush.RETRY_POLL_S]  # looks again before the lease runs out
    assert seen[0][0] == "12 file(s) on 2026-11-29 behind another builder's lease, 1 message(s) in the queue"


def test_wait_keeps_the_last_outcome_when_time_runs_out(monkeypatch):
    clock = iter(range(0, 10_000, 7))
    monkeypatch.setattr(flush.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(flush.time, "sleep", lambda s: None)
    r = flush.flush(Scripted([({"manifests": [], "recovered": []}, snap(pending=2))]), wait_s=30)
    assert r["outcome"] == "pending_left" and not r["pass"] and r["attempts"] >= 2


def test_wait_after_a_start_that_already_finished_is_still_a_pass(monkeypatch):
    monkeypatch.setattr(flush.time, "sleep", lambda s: None)
    w = Scripted([({"manifests": ["m1"], "recovered": [], "leases_held": []}, snap(running=1, queue=3)),
                  ({"manifests": [], "recovered": [], "leases_held": []}, snap())])
    r = flush.flush(w, wait_s=60)
    assert r["outcome"] == "started" and r["pass"] and r["manifests"] == ["m1"]
    assert r["last_attempt"]["outcome"] == "nothing_pending"


@pytest.mark.parametrize("result,expected", [
    ({"leases_held": [], "pending": 0, "queue": 0}, True),
    ({"leases_held": [], "pending": 1, "queue": 0}, False),
    ({"leases_held": [], "pending": 0, "queue": 1}, False),
])
def test_settled_means_nothing_left_to_manifest(result, expected):
    assert flush.settled(result) is expected


def test_a_bad_timeout_is_one_error_line():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "sim", "flush", "--wait", "--timeout", "0"], capture_output=True,
                          text=True)
    assert proc.returncode == 1 and proc.stderr.strip() == "error: --timeout must be more than 0 seconds"
