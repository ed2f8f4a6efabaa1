"""`sim flush` says what happened: started, lease held by another builder (retry in N s), nothing
pending; `--wait` retries until the pending files are manifested.

The lease is held the way the scheduled flush or a builder mid-batch holds it: a LOCK item of
another owner, written through the pipeline's own state code.
"""

import json
import re
import subprocess
import sys
import time

from sim.ops.watch import Watcher
from sim.pipeline.state import State
from sim.workload.upload import upload_generated

from .conftest import wait_until

SIM = [sys.executable, "-m", "sim"]
DATE = "2026-11-21"
FILES = 7  # fewer than a batch: only a flush makes them a manifest


def sim(project, *args, timeout=180):
    return subprocess.run(SIM + list(args) + ["--workdir", str(project.workdir)], capture_output=True, text=True,
                          timeout=timeout)


def test_flush_names_the_lease_that_holds_files_back_and_wait_gets_them_through(project, pipeline):
    target, names = project.target, project.names
    watcher = Watcher(target, names)
    upload_generated(target.client("s3"), names.landing_bucket, FILES, 2048, seed=11, date_prefix=DATE)
    wait_until(lambda: (s := watcher.snapshot()).pending == FILES and s.queue_visible + s.queue_in_flight == 0,
               timeout=60)
    state = State(target.session.resource("dynamodb", endpoint_url=target.endpoint).Table(names.table))
    assert state.acquire_lock(DATE, "another-builder", 45.0)
    held_at = time.time()

    proc = sim(project, "flush", "--json")
    assert proc.returncode == 1, proc.stderr
    out = json.loads(proc.stdout)
    assert out["outcome"] == "lease_held" and out["pass"] is False and out["manifests"] == []
    (lease,) = out["leases_held"]
    assert lease["date_prefix"] == DATE and lease["pending"] == FILES
    assert held_at + 40 <= lease["expires_at"] <= held_at + 46
    assert 0 < lease["retry_in_s"] <= 45 and out["retry_in_s"] == lease["retry_in_s"]

    proc = sim(project, "flush")
    assert proc.returncode == 1
    said = proc.stdout.strip().splitlines()
    assert re.fullmatch(rf"{FILES} file\(s\) pending on {DATE}: another builder holds the date's lease until "
                        r"\d\d:\d\d:\d\d UTC; retry in \d+ s, or use --wait", said[0]), said
    assert watcher.snapshot().pending == FILES  # nothing was taken from under the lease

    # --wait keeps trying; the other builder lets go a few seconds later.
    waiting = subprocess.Popen(SIM + ["flush", "--wait", "--timeout", "120", "--json", "--workdir",
                                      str(project.workdir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    state.release_lock(DATE, "another-builder")
    stdout, stderr = waiting.communicate(timeout=180)
    assert waiting.returncode == 0, stderr
    out = json.loads(stdout)
    assert out["outcome"] == "started" and out["pass"] is True and out["attempts"] >= 2
    assert len(out["manifests"]) == 1 and out["manifests"][0].startswith(DATE)
    assert out["pending"] == 0 and out["leases_held"] == []

    # Once the manifest's workflow is done, a flush finds nothing to do and says so.
    wait_until(lambda: watcher.snapshot().manifests_open == 0, timeout=120)
    proc = sim(project, "flush")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "nothing pending; no manifest running"
    out = json.loads(sim(project, "flush", "--json").stdout)
    assert out["outcome"] == "nothing_pending" and out["manifests"] == [] and out["pass"] is True


def test_flush_starts_a_partial_batch_and_says_how_many(project, pipeline):
    target, names = project.target, project.names
    watcher = Watcher(target, names)
    upload_generated(target.client("s3"), names.landing_bucket, 3, 2048, seed=12, date_prefix=DATE)
    wait_until(lambda: (s := watcher.snapshot()).pending == 3 and s.queue_visible + s.queue_in_flight == 0,
               timeout=60)
    proc = sim(project, "flush")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == "started 1 manifest(s)" and lines[1].strip().startswith(DATE)
    assert watcher.snapshot().pending == 0
    out = json.loads(sim(project, "flush", "--json").stdout)
    # the manifest just started is either still converting or done
    assert out["outcome"] in ("already_running", "nothing_pending") and out["pass"] is True
    assert (out["already_running"] >= 1) == (out["outcome"] == "already_running")
