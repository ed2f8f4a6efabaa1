"""Run loadtests/locustfile.py headless in a child process and collect what it wrote.

Locust writes its CSV (`locust_stats.csv`, `locust_stats_history.csv`, failures, exceptions) and
HTML report into the run folder, its log to `locust.log`, and the per-upload logs into
`uploads/`. The child is bounded in time (the shape's length plus a margin) and is stopped by its
own process group if it overruns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sim.core.errors import SimError

START_MARGIN_S = 120.0  # imports, the payload pool, users finishing their last upload


def locustfile() -> Path:
    """The repository's locustfile (or $SIM_LOCUSTFILE)."""
    path = Path(os.environ.get("SIM_LOCUSTFILE") or Path(__file__).resolve().parents[2] / "loadtests" / "locustfile.py")
    if not path.exists():
        raise SimError(f"no locustfile at {path}; run from a clone of the project or set SIM_LOCUSTFILE")
    return path


@dataclass
class LocustJob:
    out_dir: Path
    endpoint: str | None
    bucket: str
    profile: str
    duration_s: float
    file_size: int
    time_scale: float = 144.0
    multiplier: float = 600.0
    ramp_s: float | None = None
    seed: int = 7
    date_prefix: str = ""
    prefix: str = "incoming"
    users: int = 0
    workers: int = 1
    extra: list[str] = field(default_factory=list)

    @property
    def upload_dir(self) -> Path:
        return self.out_dir / "uploads"

    def command(self) -> list[str]:
        cmd = [sys.executable, "-m", "locust", "-f", str(locustfile()), "--headless", "--only-summary",
               "--csv", str(self.out_dir / "locust"), "--html", str(self.out_dir / "locust.html"),
               "--stop-timeout", "30", "--loglevel", "INFO",
               "--sim-profile", self.profile, "--sim-duration", str(self.duration_s),
               "--sim-time-scale", str(self.time_scale), "--sim-multiplier", str(self.multiplier),
               "--sim-file-size", str(self.file_size), "--sim-bucket", self.bucket, "--sim-prefix", self.prefix,
               "--sim-seed", str(self.seed), "--sim-users", str(self.users),
               "--sim-upload-log", str(self.upload_dir)]
        if self.ramp_s is not None:
            cmd += ["--sim-ramp", str(self.ramp_s)]
        if self.date_prefix:
            cmd += ["--sim-date-prefix", self.date_prefix]
        if self.endpoint:
            cmd += ["--host", self.endpoint]
        if self.workers > 1:
            cmd += ["--processes", str(self.workers)]
        return cmd + self.extra


@dataclass
class LocustOutcome:
    exit_code: int
    seconds: float
    log: Path


def run(job: LocustJob, timeout_s: float, on_tick: Callable[[], None] | None = None) -> LocustOutcome:
    job.out_dir.mkdir(parents=True, exist_ok=True)
    job.upload_dir.mkdir(parents=True, exist_ok=True)
    log = job.out_dir / "locust.log"
    started = time.monotonic()
    with open(log, "ab") as out:
        proc = subprocess.Popen(job.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    try:
        while proc.poll() is None:
            if time.monotonic() - started > timeout_s:
                _stop(proc)
                raise SimError(f"Locust ran past {timeout_s:.0f} s and was stopped; see {log}")
            if on_tick:
                on_tick()
            time.sleep(0.5)
    except BaseException:
        _stop(proc)
        raise
    code = proc.returncode
    # Locust exits 1 when some requests failed (the result counts them); anything else is a crash.
    if code not in (0, 1):
        raise SimError(f"Locust exited with code {code}: {_tail(log)} (see {log})")
    return LocustOutcome(code, time.monotonic() - started, log)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # its own group: the master and any worker processes
        proc.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=5)


def _tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "no log"
    return " | ".join(t.strip() for t in text[-lines:])
