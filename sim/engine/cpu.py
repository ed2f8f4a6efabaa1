"""CPU seconds by part, from samples of processes that come and go.

Sampling sees a process only while it lives: a Glue run that ends between two samples takes the
CPU of its last moments along, and one that starts and ends between them is never seen. Its parent
knows both: the kernel adds a child's whole CPU to the parent's "children" counters when the
parent reaps it, and a process leaves /proc exactly then. So at each sample, what a parent's
counters grew by, less what its vanished children were last seen using, is the CPU those children
used unseen; it goes to their parts in proportion to what each was seen using (to the parent's
part when no child of it vanished). Pure: the caller reads /proc (sim/engine/procs.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

Key = tuple[int, int]  # (pid, start time): one process across pid reuse


@dataclass(frozen=True)
class Sample:
    """One process at one sample: its part, its parent, its own CPU and its reaped children's."""

    part: str
    parent: Key | None
    cpu_s: float
    children_cpu_s: float


class Tally:
    def __init__(self):
        self.last: dict[Key, Sample] = {}  # living at the last sample
        self.used: dict[Key, tuple[str, float]] = {}  # every process seen: its part and CPU so far
        self.unseen: dict[str, float] = defaultdict(float)  # recovered from parents' counters
        self.base: dict[Key, float] = {}  # CPU a process had used before the first sample that saw it

    def update(self, now: dict[Key, Sample], first: bool = False) -> None:
        """Take one sample. With `first`, what the processes used before it is not the run's."""
        gone: dict[Key, list[Key]] = defaultdict(list)
        for key, s in self.last.items():
            if key not in now:
                gone[s.parent].append(key)
        for parent, kids in gone.items():
            if parent in now and parent in self.last:
                grew = now[parent].children_cpu_s - self.last[parent].children_cpu_s
                known = sum(self.last[k].cpu_s + self.last[k].children_cpu_s for k in kids)
                self._share(max(0.0, grew - known), kids)
        for parent, s in now.items():  # children born and reaped between samples
            if parent in self.last and parent not in gone:
                grew = s.children_cpu_s - self.last[parent].children_cpu_s
                if grew > 0:
                    self.unseen[s.part] += grew
        for key, s in now.items():
            if key not in self.last and key not in self.used and first:
                self.base[key] = s.cpu_s
            self.used[key] = (self.used.get(key, (s.part, 0.0))[0], s.cpu_s - self.base.get(key, 0.0))
        self.last = dict(now)

    def _share(self, lost: float, kids: list[Key]) -> None:
        if lost <= 0:
            return
        weights = [max(self.used[k][1], 0.0) for k in kids]
        total = sum(weights)
        for k, w in zip(kids, weights):
            self.unseen[self.used[k][0]] += lost * (w / total if total else 1 / len(kids))

    def totals(self) -> dict[str, float]:
        """CPU seconds by part since the first sample."""
        out: dict[str, float] = defaultdict(float)
        for part, used in self.used.values():
            out[part] += max(used, 0.0)
        for part, extra in self.unseen.items():
            out[part] += extra
        return dict(out)
