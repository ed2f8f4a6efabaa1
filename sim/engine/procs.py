"""Processes and threads as Linux's /proc shows them: CPU used, parent, niceness, command line.

What the load report's CPU by part is sampled from, and what lowers the priority of the processes
the engine starts (os.setpriority on each of their threads: on Linux a nice value belongs to a
thread, and a process's threads keep theirs when the process is reniced). Where /proc is missing
(not Linux) `available()` is False and callers measure nothing rather than guess.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICK_S = 1.0 / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)


@dataclass(frozen=True)
class Stat:
    """One process (or thread) from its `stat` line; CPU in seconds."""

    pid: int
    ppid: int
    start: int  # clock ticks after boot: with the pid, names one process across pid reuse
    cpu_s: float  # user + system, itself (all its threads, living and ended)
    children_cpu_s: float  # user + system of its children it has waited for (reaped)
    nice: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.pid, self.start)


def parse_stat(line: str) -> Stat:
    """A `/proc/<pid>/stat` line; the command name (field 2) may hold spaces and parentheses."""
    head, _, rest = line.rpartition(")")
    pid = int(head.split(" (", 1)[0])
    f = rest.split()  # f[0] is field 3 (state)
    ticks = [int(x) for x in f[11:15]]  # utime, stime, cutime, cstime: fields 14-17
    return Stat(pid=pid, ppid=int(f[1]), start=int(f[19]), cpu_s=(ticks[0] + ticks[1]) * TICK_S,
                children_cpu_s=(ticks[2] + ticks[3]) * TICK_S, nice=int(f[16]))


def machine_idle_s() -> float | None:
    """Seconds all cores have spent idle since boot (idle + iowait in /proc/stat), or None."""
    try:
        with open(PROC / "stat") as f:
            fields = f.readline().split()
        return (int(fields[4]) + int(fields[5])) * TICK_S
    except (OSError, ValueError, IndexError):
        return None


def available() -> bool:
    return (PROC / "self" / "stat").exists()


def read(path: Path) -> Stat | None:
    try:
        return parse_stat(path.read_text())
    except (OSError, ValueError, IndexError):
        return None  # ended between the listing and the read


def all_processes() -> dict[int, Stat]:
    out = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            st = read(entry / "stat")
            if st is not None:
                out[st.pid] = st
    return out


def threads(pid: int) -> list[Stat]:
    try:
        tids = [t.name for t in (PROC / str(pid) / "task").iterdir()]
    except OSError:
        return []
    return [s for s in (read(PROC / str(pid) / "task" / t / "stat") for t in tids) if s is not None]


def cmdline(pid: int) -> list[str]:
    try:
        return [a for a in (PROC / str(pid) / "cmdline").read_bytes().decode(errors="replace").split("\0") if a]
    except OSError:
        return []


def lower(pid: int, nice: int) -> bool:
    """Every thread of `pid` to at least `nice` (never raised back); whether all of them are there now."""
    done = True
    for t in threads(pid):
        if t.nice < nice:
            try:
                os.setpriority(os.PRIO_PROCESS, t.pid, nice)
            except OSError:
                done = False
    return done


def lowest_group(nice: int) -> bool:
    """This process (and what it starts from now on) in a scheduling group of its own at `nice`.

    Where the kernel groups processes by session (autogroup, on by default in most distributions),
    a nice value only orders the threads of one group: groups share the CPU evenly whatever their
    threads' nice values. The engine runs in a session of its own, so a worker left in sim's
    session would take half the CPU from the engine and the Glue runs it starts, nice 19 or not.
    A new session is a new group, whose own nice value (/proc/self/autogroup) then counts against
    the engine's. Whether the group's nice value could be set (without autogroup, the process's
    own nice value does the work, and is set too)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except OSError:
        pass
    group = PROC / "self" / "autogroup"
    if not group.exists():
        return False
    try:
        os.setsid()
    except OSError:  # already a session leader
        pass
    try:
        group.write_text(f"{nice}\n")
        return True
    except OSError:
        return False
