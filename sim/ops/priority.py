"""The front door first: during a run, the engine and the load generator keep the CPU, while the
builder, the converter's Glue runs and validation run at a lower priority; and the CPU each part
used over the run, sampled from the processes themselves.

On AWS a Glue worker never slows S3 down, and builders scale out beside the front door; on one
machine every part shares the same cores, and at equal priority a dozen conversions take CPU the
engine needs to answer PUTs. So while a run watches the pipeline, every builder Lambda process and
Glue run the embedded engine starts is reniced (every thread of it, twice a second: on Linux a nice
value belongs to a thread), and validation runs in a thread of its own at VALIDATION_NICE (what it
starts, threads and worker processes, inherits that). Conversion then lags more during a burst, as
it would on a Glue capacity limit, and the uploads land closer to the engine's PUT ceiling.

The CPU by part (sim/engine/cpu.py, from /proc): `engine` (MiniStack itself and anything it starts
that is neither of the next two), `builder` (the builder function's Lambda processes), `converter`
(Glue runs, or the converter Lambda where it is one), `validation`, `load_generator` (Locust's
processes), `harness` (sim's own process otherwise: watching, sampling, recording). Linux only:
elsewhere nothing is reniced and the figures are null.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable, TypeVar

from sim.engine import cpu, glue_slots, procs

BUILDER_NICE = 5  # between the front door and the conversions: the queue it drains is the door's backlog
CONVERTER_NICE = 10
VALIDATION_NICE = 10
NICE = {"builder": BUILDER_NICE, "converter": CONVERTER_NICE}
PARTS = ("engine", "builder", "converter", "validation", "load_generator", "harness")
ENGINE_PARTS = ("engine", "builder", "converter")
SAMPLE_S = 0.5

T = TypeVar("T")


def engine_child_part(argv: list[str], builder_function: str, converter_function: str) -> str:
    """Which part a process the engine started belongs to, from its command line."""
    text = " ".join(argv)
    if f"ministack-lambda-{builder_function}-" in text:
        return "builder"
    if f"ministack-lambda-{converter_function}-" in text:
        return "converter"
    if any(os.path.basename(a) in glue_slots.GATED_SCRIPTS for a in argv[1:3]):
        return "converter"  # a Glue run: the slot shim (`python3 <shim> <script>`), then the script itself
    return "engine"


def own_child_part(argv: list[str], nice: int) -> str:
    """Which part a process sim started belongs to: Locust, validation's workers (they inherit its
    priority), or sim's own."""
    if any(os.path.basename(a) == "locust" for a in argv[:3]):
        return "load_generator"
    return "validation" if nice >= VALIDATION_NICE else "harness"


def at_priority(nice: int, fn: Callable[..., T], *args, **kwargs) -> T:
    """fn(*args, **kwargs) in a thread of its own at `nice` (and whatever it starts); the caller
    keeps its own priority, which an unprivileged process could not get back once lowered."""
    if not procs.available():
        return fn(*args, **kwargs)
    box: dict = {}

    def body() -> None:
        try:
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
            except OSError:
                pass
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=body, name=f"nice-{nice}", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.5)
    if "error" in box:
        raise box["error"]
    return box["value"]


class CpuWatch:
    """Samples the engine's and sim's process trees, lowers the builder's and the converter's
    priority, and tallies CPU by part. `engine_pid` None: an engine sim did not start (its parts
    are not measured)."""

    def __init__(self, engine_pid: int | None, builder_function: str, converter_function: str,
                 lower: bool = True, every_s: float = SAMPLE_S):
        self.engine_pid, self.builder, self.converter = engine_pid, builder_function, converter_function
        self.lower, self.every_s = lower, every_s
        self.enabled = procs.available()
        self.tally = cpu.Tally()
        self.parts: dict[tuple[int, int], str] = {}
        self.validation_threads: dict[tuple[int, int], float] = {}
        self.lowered: dict[str, set[tuple[int, int]]] = {}  # part -> processes seen at its lower priority
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first = True
        self.series: list[tuple[float, dict, float | None]] = []  # (time, CPU by part so far, machine idle so far)
        self._idle0: float | None = None

    def start(self) -> "CpuWatch":
        if self.enabled:
            self.sample()
            self._thread = threading.Thread(target=self._loop, name="cpu-watch", daemon=True)
            self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.sample()
            except Exception:  # a process ending mid-read, say: the next sample sees the rest
                pass

    def stop(self) -> dict:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self.sample()
        return self.totals()

    def totals(self) -> dict:
        """CPU seconds by part so far (null where not measured)."""
        if not self.enabled:
            return {p: None for p in PARTS}
        with self._lock:
            return self._totals()

    def _totals(self) -> dict:
        t = self.tally.totals()
        return {p: (None if p in ENGINE_PARTS and not self.engine_pid else round(t.get(p, 0.0), 2)) for p in PARTS}

    def _last_sample(self, when: float):
        with self._lock:
            before = [s for s in self.series if s[0] <= when]
        return before[-1] if before else None

    def at(self, when: float) -> dict:
        """CPU seconds by part as of the last sample at or before `when` (empty before the first)."""
        last = self._last_sample(when)
        return dict(last[1]) if last else {}

    def idle_at(self, when: float) -> float | None:
        """The machine's idle CPU seconds (all cores) from the first sample to the last at or before `when`."""
        last = self._last_sample(when)
        return last[2] if last else None

    def write_series(self, path) -> None:
        """The samples as CSV: seconds since the first, CPU seconds by part so far, the machine's idle so far."""
        with self._lock:
            rows = list(self.series)
        if not rows:
            return
        t0 = rows[0][0]
        lines = [",".join(("t", "at") + PARTS + ("idle",))]
        for at, parts, idle in rows:
            lines.append(",".join([f"{at - t0:.2f}", f"{at:.3f}"] + ["" if parts[p] is None else str(parts[p]) for p in PARTS]
                                  + ["" if idle is None else str(idle)]))
        path.write_text("\n".join(lines) + "\n")

    def lowered_counts(self) -> dict[str, int]:
        """How many processes of each part were seen running at its lower priority."""
        with self._lock:
            return {part: len(self.lowered.get(part, ())) for part in NICE}

    def sample(self) -> None:
        with self._lock:
            ps = procs.all_processes()
            kids: dict[int, list[int]] = {}
            for st in ps.values():
                kids.setdefault(st.ppid, []).append(st.pid)
            me = os.getpid()
            part_of: dict[int, str] = {}
            # The engine first: when sim started it, it is also a child of sim's own process.
            roots = ([(self.engine_pid, "engine")] if self.engine_pid in ps else []) + [(me, "harness")]
            for root, part in roots:
                part_of[root] = part
                todo = [root]
                while todo:
                    parent = todo.pop()
                    for pid in kids.get(parent, []):
                        if pid in part_of:
                            continue
                        part_of[pid] = self._part(ps[pid], parent, part_of[parent], root)
                        todo.append(pid)
            samples: dict[tuple[int, int], cpu.Sample] = {}
            for pid, part in part_of.items():
                st = ps[pid]
                parent = ps.get(st.ppid)
                parent_key = parent.key if parent is not None and parent.pid in part_of else None
                if self.lower and part in NICE and procs.lower(pid, NICE[part]):
                    self.lowered.setdefault(part, set()).add(st.key)
                used = st.cpu_s
                if pid == me:
                    val = self._validation_threads(me)
                    samples[(me, -1)] = cpu.Sample("validation", None, val, 0.0)
                    used -= val
                samples[st.key] = cpu.Sample(part, parent_key, used, st.children_cpu_s)
            self.tally.update(samples, first=self._first)
            self._first = False
            idle = procs.machine_idle_s()
            if self._idle0 is None:
                self._idle0 = idle
            self.series.append((time.time(), self._totals(),
                                None if idle is None or self._idle0 is None else round(idle - self._idle0, 2)))

    def _part(self, st: procs.Stat, parent: int, parent_part: str, root: int) -> str:
        key = st.key
        if key not in self.parts:
            if parent_part not in ("engine", "harness"):
                self.parts[key] = parent_part  # a child of a builder, a Glue run, Locust or validation
            elif root == self.engine_pid:
                self.parts[key] = engine_child_part(procs.cmdline(st.pid), self.builder, self.converter)
            elif st.pid == self.engine_pid:
                self.parts[key] = "engine"
            else:
                self.parts[key] = own_child_part(procs.cmdline(st.pid), st.nice)
        return self.parts[key]

    def _validation_threads(self, pid: int) -> float:
        """CPU of this process's threads at validation's priority, ended ones included."""
        for t in procs.threads(pid):
            if t.nice >= VALIDATION_NICE:
                self.validation_threads[t.key] = t.cpu_s
        return sum(self.validation_threads.values())
