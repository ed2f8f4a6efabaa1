"""Hand out upload slots on a shape's schedule, one process's share at a time.

Slot k is the run's k-th upload; it is due at `shape.due(k)` seconds after the run started and
lands under a key made from k, so keys are unique across every user and every worker process.
With n processes, process i takes slots i, i+n, i+2n, ...: each paces its share of one global
schedule, and nobody coordinates at run time. A slot that comes due while every user is still
busy is taken late (the run catches up when it can); after `window end + grace` no slot is handed
out at all, so a client that falls behind shows a lower achieved rate instead of running long.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.load.shapes import Shape

DEFAULT_GRACE_S = 2.0


@dataclass(frozen=True)
class Slot:
    index: int
    due_at: float  # on the caller's clock (the same one `started_at` was taken on)


class Pacer:
    def __init__(self, shape: Shape, started_at: float, worker_index: int = 0, worker_count: int = 1,
                 grace_s: float = DEFAULT_GRACE_S):
        if worker_count < 1 or not 0 <= worker_index < worker_count:
            raise ValueError(f"worker {worker_index} of {worker_count}: pass --expect-workers to the master")
        self.shape = shape
        self.started_at = started_at
        self.step = worker_count
        self.next_index = worker_index
        self.cut_at = started_at + shape.duration_s + grace_s
        self.total = shape.total_files
        self.handed_out = 0

    def take(self, now: float) -> Slot | None:
        """The next slot of this process, or None when the run is over for it."""
        if self.next_index >= self.total or now > self.cut_at:
            return None
        due = self.shape.due(self.next_index)
        if self.started_at + due > self.cut_at:
            return None
        slot = Slot(self.next_index, self.started_at + due)
        self.next_index += self.step
        self.handed_out += 1
        return slot
