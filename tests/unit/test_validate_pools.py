"""Validation's worker pools: a worker started below normal priority keeps it against other
sessions (a scheduling group of its own), one started at normal priority stays in the caller's
session, and a caller that raises ends the workers instead of waiting for them."""

import os
import threading
import time
from concurrent.futures import wait
from pathlib import Path

import pytest

from sim.validate import pools

AUTOGROUP = Path("/proc/self/autogroup")


def _nothing() -> None:
    pass


def _where() -> tuple[int, int, str | None]:
    """(session id, nice value, autogroup line) of the worker."""
    group = AUTOGROUP.read_text().strip() if AUTOGROUP.exists() else None
    return os.getsid(0), os.getpriority(os.PRIO_PROCESS, 0), group


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _from_thread_at(nice: int):
    """What a worker reports when its pool is started from a thread at `nice`."""
    box = {}

    def body():
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        with pools.running(1, _nothing, ()) as pool:
            box["where"] = pool.submit(_where).result(timeout=60)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    return box["where"]


@pytest.mark.skipif(not AUTOGROUP.exists(), reason="the kernel does not group by session here")
def test_a_worker_started_below_normal_priority_gets_a_group_of_its_own_at_that_value():
    session, nice, group = _from_thread_at(10)
    assert session != os.getsid(0) and nice == 10 and group.endswith("nice 10")


def test_a_worker_started_at_normal_priority_stays_in_the_callers_session():
    session, nice, _ = _from_thread_at(0)
    assert session == os.getsid(0) and nice == 0


def test_a_caller_that_raises_ends_its_workers_without_waiting():
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with pools.running(1, _nothing, ()) as pool:
            future = pool.submit(_sleep, 120)
            time.sleep(1.0)  # the worker is asleep in _sleep
            workers = list(pool._processes.values())
            raise KeyboardInterrupt
    assert time.monotonic() - started < 30
    for process in workers:
        process.join(timeout=10)
        assert not process.is_alive()
    wait([future], timeout=30)  # the pool marks work whose worker it lost as failed, from its own thread
    assert future.done()
