"""The embedded engine's `python3` lets only N Glue scripts run at once, oldest first, and runs
anything else at once. Real processes, a stand-in Glue script that records when it runs."""

import json
import os
import subprocess
import sys
import time

import pytest

from sim.engine import glue_slots
from sim.inject import bundle

SCRIPT = """import sys, time
with open(sys.argv[1], "a") as fh:
    fh.write(f"start {sys.argv[2]} {time.monotonic()}\\n")
time.sleep(float(sys.argv[3]))
with open(sys.argv[1], "a") as fh:
    fh.write(f"end {sys.argv[2]} {time.monotonic()}\\n")
"""


class Runs:
    def __init__(self, tmp_path, name, slots):
        self.bin_dir = glue_slots.install(tmp_path / "wd")
        self.queue = tmp_path / "wd" / glue_slots.SLOT_DIR / "queue"
        self.script = tmp_path / name
        self.script.write_text(SCRIPT)
        self.record = tmp_path / f"record-{name}-{slots}.txt"
        self.record.touch()
        self.env = {**os.environ, glue_slots.ENV: str(slots)}
        self.runs_log = tmp_path / "wd" / glue_slots.SLOT_DIR / glue_slots.RUNS_LOG
        self.pids: dict[int, int] = {}  # pid -> run

    def started(self) -> list[int]:
        return [int(line.split()[1]) for line in self.record.read_text().splitlines() if line.startswith("start")]

    def slotted(self) -> list[int]:
        """The runs in the order they took a slot (the shim's log; a run's own "start" line comes
        after its interpreter started, which a busy machine can reorder)."""
        lines = [json.loads(line) for line in self.runs_log.read_text().splitlines()] if self.runs_log.exists() else []
        return [self.pids[entry["pid"]] for entry in sorted(lines, key=lambda e: e["slot_at"]) if entry["pid"] in self.pids]

    def waiting(self) -> int:
        return len(os.listdir(self.queue)) if self.queue.exists() else 0

    def in_line(self, pid: int) -> bool:
        return self.queue.exists() and any(name.endswith(f"-{pid}") for name in os.listdir(self.queue))

    def start(self, i: int, hold_s: float) -> subprocess.Popen:
        """Start run i and return once it either runs or waits in line: arrival order is defined."""
        proc = subprocess.Popen([str(self.bin_dir / "python3"), str(self.script), str(self.record), str(i),
                                 str(hold_s)], env=self.env)
        self.pids[proc.pid] = i
        deadline = time.monotonic() + 20
        while i not in self.started() and not self.in_line(proc.pid):
            assert time.monotonic() < deadline, f"run {i} neither started nor queued"
            time.sleep(0.01)
        return proc

    def events(self):
        return [(kind, int(i), float(t)) for kind, i, t in (line.split() for line in self.record.read_text().splitlines())]


def most_at_once(events):
    busy = most = 0
    for kind, _i, _t in sorted(events, key=lambda e: (e[2], e[0] == "start")):
        busy += 1 if kind == "start" else -1
        most = max(most, busy)
    return most


def test_sims_job_script_and_the_fault_launcher_are_both_gated():
    assert set(glue_slots.GATED_SCRIPTS) == {"glue_entry.py", bundle.LAUNCHER_NAME}


@pytest.mark.parametrize("script", glue_slots.GATED_SCRIPTS)
def test_at_most_n_glue_runs_at_once_in_arrival_order(tmp_path, script):
    runs = Runs(tmp_path, script, slots=2)
    procs = [runs.start(i, 1.0) for i in range(5)]
    assert [p.wait(timeout=60) for p in procs] == [0] * 5
    events = runs.events()
    assert sorted(i for kind, i, _ in events if kind == "end") == [0, 1, 2, 3, 4]
    assert most_at_once(events) == 2
    assert runs.slotted() == [0, 1, 2, 3, 4]
    assert runs.waiting() == 0  # no tickets left behind


def test_no_bound_when_slots_are_zero_and_other_scripts_never_wait(tmp_path):
    for name, slots in ((glue_slots.GATED_SCRIPT, 0), ("other.py", 1)):
        runs = Runs(tmp_path, name, slots)
        procs = [runs.start(i, 1.5) for i in range(4)]
        assert [p.wait(timeout=60) for p in procs] == [0] * 4
        assert most_at_once(runs.events()) == 4, name


def test_a_killed_waiter_does_not_block_the_line(tmp_path):
    runs = Runs(tmp_path, glue_slots.GATED_SCRIPT, slots=1)
    holder = runs.start(0, 1.0)
    waiter = runs.start(1, 0.1)  # in line behind the holder
    later = runs.start(2, 0.1)  # in line behind the waiter
    waiter.kill()
    waiter.wait(timeout=10)
    assert holder.wait(timeout=60) == 0 and later.wait(timeout=60) == 0
    assert runs.started() == [0, 2]


def test_the_shim_is_rewritten_only_when_it_changes(tmp_path):
    bin_dir = glue_slots.install(tmp_path, python=sys.executable)
    shim = bin_dir / "python3"
    first = shim.stat().st_mtime_ns
    glue_slots.install(tmp_path, python=sys.executable)
    assert shim.stat().st_mtime_ns == first and os.access(shim, os.X_OK)
    assert f"#!{sys.executable}" == shim.read_text().splitlines()[0]


def test_each_gated_run_logs_when_it_asked_and_got_its_slot(tmp_path):
    runs = Runs(tmp_path, glue_slots.GATED_SCRIPT, slots=1)
    procs = [runs.start(i, 0.5) for i in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0] * 3
    log = tmp_path / "wd" / glue_slots.SLOT_DIR / glue_slots.RUNS_LOG
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(line["pid"] for line in lines) == sorted(p.pid for p in procs)
    slots = sorted(line["slot_at"] for line in lines)
    assert all(line["slot_at"] >= line["asked_at"] for line in lines)
    assert all(b - a >= 0.45 for a, b in zip(slots, slots[1:]))  # one slot: each waited for the run before
