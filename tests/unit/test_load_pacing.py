"""Slots: each process takes its share of one schedule, keys stay unique, the run stops on time."""

import pytest

from sim.load.pacing import Pacer
from sim.load.payloads import PayloadPool
from sim.load.shapes import Burst, ClosedLoop


def test_one_process_takes_every_slot_on_schedule():
    shape = Burst(multiplier=300, hold_s=10, ramp_s=2)
    pacer = Pacer(shape, started_at=1000.0)
    slots = []
    while (slot := pacer.take(now=1000.0)) is not None:
        slots.append(slot)
    assert [s.index for s in slots] == list(range(shape.total_files))
    assert slots[5].due_at == pytest.approx(1000.0 + shape.due(5))


def test_workers_split_one_schedule_without_overlap():
    shape = Burst(multiplier=300, hold_s=10, ramp_s=2)
    taken = []
    for i in range(3):
        pacer = Pacer(shape, started_at=0.0, worker_index=i, worker_count=3)
        while (slot := pacer.take(now=0.0)) is not None:
            taken.append(slot.index)
    assert sorted(taken) == list(range(shape.total_files))


def test_no_slot_after_the_cut():
    shape = Burst(multiplier=300, hold_s=10, ramp_s=2)
    pacer = Pacer(shape, started_at=0.0, grace_s=2.0)
    assert pacer.take(now=shape.duration_s + 2.5) is None
    assert Pacer(ClosedLoop(duration_s=5), started_at=0.0).take(now=4.0).due_at == 0.0
    assert Pacer(ClosedLoop(duration_s=5), started_at=0.0).take(now=7.5) is None


def test_bad_worker_numbers_are_refused():
    with pytest.raises(ValueError, match="expect-workers"):
        Pacer(ClosedLoop(), 0.0, worker_index=2, worker_count=2)


def test_payload_pool_is_bounded_and_keys_are_unique_per_slot():
    pool = PayloadPool(seed=3, size=8 * 1024, date_prefix="2026-11-25", max_files=4, max_bytes=10**9)
    assert len(pool) == 4
    keys = {pool.for_slot(k).key for k in range(500)}
    assert len(keys) == 500
    assert all("/2026-11-25/" in k for k in keys)
    assert pool.for_slot(1).body == pool.for_slot(5).body
    small = PayloadPool(seed=3, size=64 * 1024, date_prefix="2026-11-25", max_files=32, max_bytes=200 * 1024)
    assert len(small) == 3 and small.bytes <= 200 * 1024
    assert len(PayloadPool(seed=3, size=64 * 1024, date_prefix="2026-11-25", max_bytes=1)) == 1
