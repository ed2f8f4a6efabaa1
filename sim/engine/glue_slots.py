"""At most N Glue job runs converting at once on the embedded engine, the others waiting in turn.

MiniStack starts every StartJobRun at once as `python3 <script>` from its PATH
(ministack/services/glue.py) and ignores the job's MaxConcurrentRuns, so a backlog of manifests
became a dozen conversions sharing two cores, each many times slower, none finishing for minutes.
The engine therefore finds this module's `python3` first on its PATH: for a Glue script it
waits for its turn (oldest run first), takes one of N slots (an exclusive flock on a slot file
under the workdir) and execs the real interpreter, which keeps the lock until it exits, however it
exits. Anything else it execs at once. A waiting run shows RUNNING in GetJobRun, as a run Glue
queued would, and its timeout counts from its start.

Each gated run appends one line to `<workdir>/glue-slots/runs.jsonl` once it holds its slot:
its pid, when it asked (the engine started it) and when it got the slot, so a load run can tell a
manifest's wait for a slot from its conversion (the converter's telemetry line carries the same pid).

N comes from `$SIM_GLUE_SLOTS` in the engine's environment (0: no bound), which `ministack.start`
sets from the local target's `glue_max_concurrent_runs` (sim/engine/profiles.py says how it was
measured). The deployed MaxConcurrentRuns on AWS is Glue's own business and untouched.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

BIN_DIR = "glue-bin"
SLOT_DIR = "glue-slots"
RUNS_LOG = "runs.jsonl"  # under SLOT_DIR: {"pid", "asked_at", "slot_at"} a gated run
ENV = "SIM_GLUE_SLOTS"
# Basenames of the Glue scripts that wait for a slot: sim's own job's ScriptLocation
# (Names.glue_script_key), and the fault bundle's launcher that starts a user's script
# (sim.inject.bundle.LAUNCHER_NAME; the engine imports nothing of it, a unit test holds them equal).
GATED_SCRIPTS = ("glue_entry.py", "sim_glue_launcher.py")
GATED_SCRIPT = GATED_SCRIPTS[0]

_SHIM = '''#!{python}
# Written by sim (sim/engine/glue_slots.py): bounds concurrent Glue runs of the embedded engine.
import fcntl, os, sys, time

REAL, SLOT_DIR, GATED, RUNS_LOG = {python!r}, {slot_dir!r}, {gated!r}, {runs_log!r}


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def first_in_line(me):
    for name in sorted(os.listdir(os.path.join(SLOT_DIR, "queue"))):
        if name == me:
            return True
        if alive(int(name.rsplit("-", 1)[1])):
            return False
        try:
            os.unlink(os.path.join(SLOT_DIR, "queue", name))  # a waiter that died
        except FileNotFoundError:
            pass
    return True


def take_slot(slots):
    for i in range(slots):
        fd = os.open(os.path.join(SLOT_DIR, "slot-%d" % i), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        os.set_inheritable(fd, True)  # held by the interpreter exec'd below until it exits
        return fd
    return None


def main():
    args = sys.argv[1:]
    slots = int(os.environ.get({env!r}) or "0")
    if slots > 0 and args and os.path.basename(args[0]) in GATED:
        os.makedirs(os.path.join(SLOT_DIR, "queue"), exist_ok=True)
        asked = time.time()
        me = "%020d-%d" % (time.time_ns(), os.getpid())
        ticket = os.path.join(SLOT_DIR, "queue", me)
        open(ticket, "w").close()
        try:
            while not (first_in_line(me) and take_slot(slots) is not None):
                time.sleep(0.1)
        finally:
            os.unlink(ticket)
        line = '{{"pid": %d, "asked_at": %.3f, "slot_at": %.3f}}' % (os.getpid(), asked, time.time())
        fd = os.open(os.path.join(SLOT_DIR, RUNS_LOG), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\\n").encode())
        finally:
            os.close(fd)
    os.execv(REAL, [REAL] + args)


main()
'''


def shim_text(python: str, slot_dir: str) -> str:
    return _SHIM.format(python=python, slot_dir=slot_dir, gated=GATED_SCRIPTS, env=ENV, runs_log=RUNS_LOG)


def install(workdir: Path, python: str | None = None) -> Path:
    """Write the engine's `python3` into `<workdir>/glue-bin` and return that folder."""
    bin_dir = Path(workdir) / BIN_DIR
    bin_dir.mkdir(parents=True, exist_ok=True)
    slot_dir = Path(workdir) / SLOT_DIR
    slot_dir.mkdir(parents=True, exist_ok=True)
    shim = bin_dir / "python3"
    text = shim_text(python or sys.executable, str(slot_dir))
    if not shim.exists() or shim.read_text() != text:
        tmp = shim.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        os.replace(tmp, shim)
    return bin_dir
