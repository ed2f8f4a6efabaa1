"""Validation's worker processes: started by spawn, kept at the priority they were started at
against every other process on the machine, and ended, not waited for, when the caller stops early.

A worker started at a lowered priority (validation during a run, sim/ops/priority.py) moves to a
scheduling group of its own at that nice value (procs.lowest_group): left in sim's session, its
nice value would only order it against sim's own threads, and it would share the CPU evenly with
the engine's session. A group of its own is a session of its own, which the terminal's Ctrl-C does
not reach, so the pool's workers are terminated here when the caller raises (Ctrl-C included).
At normal priority (`sim validate` on its own) nothing of this changes.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from multiprocessing import get_context
from typing import Callable, Iterator

from sim.engine import procs


def in_group_then(nice: int | None, init: Callable, *args) -> None:
    """A worker's initializer: its own scheduling group at `nice` (None: the priority it was started
    at, when that is below normal), then `init(*args)`."""
    if nice is None:
        try:
            nice = os.getpriority(os.PRIO_PROCESS, 0)
        except OSError:
            nice = 0
    if nice > 0:
        procs.lowest_group(nice)
    init(*args)


def new(workers: int, init: Callable, args: tuple, nice: int | None = None) -> ProcessPoolExecutor:
    """`workers` spawned processes, each made by `init(*args)` in its own scheduling group at
    `nice` (default: the priority of the thread that starts them, when lowered)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=in_group_then,
                               initargs=(nice, init, *args))


@contextmanager
def running(workers: int, init: Callable, args: tuple) -> Iterator[ProcessPoolExecutor]:
    """A pool for the duration of a `with`: shut down normally, or ended at once on an exception."""
    pool = new(workers, init, args)
    try:
        yield pool
    except BaseException:
        end(pool)
        raise
    pool.shutdown(wait=True)


def end(pool: ProcessPoolExecutor) -> None:
    """Stop a pool without waiting for what runs: pending work cancelled, workers terminated."""
    workers = list((pool._processes or {}).values())  # CPython's pool keeps them here
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        process.terminate()
