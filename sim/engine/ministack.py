"""Start, stop and check the embedded MiniStack engine as a background child process.

MiniStack runs in this project's own Python (so Lambda and Glue code run with our pinned
libraries), bound to 127.0.0.1 on a free port, with S3 objects and service state on disk under
the workdir. Its pid and port are recorded in `engine.json` so later commands find it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from sim.core import workdir as wd
from sim.core.errors import SimError
from sim.core.polling import wait_until
from sim.engine import glue_slots, procs
from sim.engine.profiles import LOCAL_GLUE_CONCURRENT_RUNS

STATE_FILE = "engine.json"
# MiniStack keeps queues under their URL, port included, and its event source mappings look a
# queue up by the URL of the port it runs on now: state saved on one port has no working
# SQS trigger on another. So the engine comes back on the port it last ran on.
PORT_FILE = "engine-port.json"
LOG_FILE = "ministack.log"
HEALTH_PATH = "/_ministack/health"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0


@dataclass
class EngineState:
    pid: int
    port: int
    endpoint: str
    workdir: str
    log: str
    started_at: float


def _state_path(workdir: Path) -> Path:
    return workdir / STATE_FILE


def load_state(workdir: Path) -> EngineState | None:
    data = wd.read_json(_state_path(workdir))
    return EngineState(**data) if data else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0): ask /proc when it exists.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def healthy(endpoint: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(endpoint + HEALTH_PATH, timeout=timeout) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_taken(port: int) -> bool:
    """Something listens on the port. Connections the last engine closed may linger in TIME_WAIT
    for a minute; they do not stop a new engine (it binds with SO_REUSEADDR), so they do not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def engine_env(workdir: Path, port: int, python: str | None = None) -> dict[str, str]:
    """The environment MiniStack runs in.

    Glue Python-shell jobs inherit it: they get the endpoint (MiniStack injects none into Glue) and
    run `python3` from PATH, so the engine's interpreter's folder goes first on PATH, and before it
    the folder whose `python3` lets only SIM_GLUE_SLOTS runs convert at once, then execs that same
    interpreter (sim/engine/glue_slots.py).
    """
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ)
    env.update(
        {
            "GATEWAY_PORT": str(port),
            "BIND_HOST": "127.0.0.1",
            "MINISTACK_HOST": "127.0.0.1",
            "MINISTACK_REGION": "us-east-1",
            "TMPDIR": str(workdir / "tmp"),
            "PERSIST_STATE": "1",
            "STATE_DIR": str(workdir / "state"),
            "S3_PERSIST": "1",
            "S3_DATA_DIR": str(workdir / "s3"),
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
            "PATH": os.pathsep.join((str(workdir / glue_slots.BIN_DIR), os.path.dirname(python or sys.executable),
                                     env.get("PATH", ""))),
            glue_slots.ENV: env.get(glue_slots.ENV) or str(LOCAL_GLUE_CONCURRENT_RUNS),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _last_port(workdir: Path) -> int | None:
    """The port the engine last ran on; for a workdir from before PORT_FILE, the one its last
    deploy recorded (`deploy.json`, written by sim/project.py)."""
    recorded = (wd.read_json(workdir / PORT_FILE) or {}).get("port")
    if recorded:
        return int(recorded)
    endpoint = (wd.read_json(workdir / "deploy.json") or {}).get("endpoint") or ""
    host, _, port = endpoint.rpartition(":")
    return int(port) if host == "http://127.0.0.1" and port.isdigit() else None


def start(workdir: Path, port: int | None = None, extra_env: dict[str, str] | None = None,
          python: str | None = None) -> tuple[EngineState, bool]:
    """Start the engine unless it already runs; return its state and whether it was started now.
    `extra_env` adds engine switches (for example `AUTH=true`); `python` runs it on another
    interpreter that has MiniStack (its Lambdas then run on that Python; see lambda_python.py)."""
    current = load_state(workdir)
    if current and pid_alive(current.pid):
        if healthy(current.endpoint):
            if port and port != current.port:
                raise SimError(
                    f"the engine already runs on port {current.port}; `sim down` first to move it "
                    f"to {port} (log: {current.log})"
                )
            return current, False
        raise SimError(
            f"the engine (pid {current.pid}) runs but does not answer on {current.endpoint}; "
            f"see {current.log}, then `sim down`"
        )

    log = workdir / LOG_FILE
    last = _last_port(workdir)
    saved = (workdir / "state").is_dir() and any((workdir / "state").iterdir())
    if port is None and last and saved:
        if port_taken(last):
            raise SimError(
                f"the engine's saved state is bound to port {last} (MiniStack keeps queues by URL) and it is "
                f"taken now; free it, or start afresh with `sim up --port N` after removing {workdir / 'state'}"
            )
        port = last
    if port is None:
        port = free_port()
    elif port_taken(port):
        raise SimError(f"port {port} on 127.0.0.1 is taken; choose another with --port (log: {log})")
    for sub in ("tmp", "state", "s3"):
        (workdir / sub).mkdir(parents=True, exist_ok=True)
    glue_slots.install(workdir, python)

    with open(log, "ab") as out:
        out.write(f"\n--- sim up {time.strftime('%Y-%m-%dT%H:%M:%S')} port {port} ---\n".encode())
        out.flush()
        proc = subprocess.Popen(
            [python or sys.executable, "-m", "ministack"],
            env={**engine_env(workdir, port, python), **(extra_env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=str(workdir),
            start_new_session=True,
        )
    state = EngineState(
        pid=proc.pid,
        port=port,
        endpoint=f"http://127.0.0.1:{port}",
        workdir=str(workdir),
        log=str(log),
        started_at=time.time(),
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SimError(f"the engine exited with code {proc.returncode} while starting; see {log}")
        if healthy(state.endpoint, timeout=0.5):
            wd.write_json(_state_path(workdir), asdict(state))
            wd.write_json(workdir / PORT_FILE, {"port": port})
            return state, True
        time.sleep(0.1)
    proc.terminate()
    raise SimError(f"the engine did not become healthy within {START_TIMEOUT_S:.0f} s; see {log}")


def others(workdir: Path) -> list[tuple[int, str]]:
    """(pid, workdir) of every other engine sim started that still runs (one per workdir: `sim
    demo`, `sim load` and the rest leave theirs running). Each takes CPU and memory from the one in
    use, which on a small machine moves every figure a run measures."""
    if not procs.available():
        return []
    here = os.path.realpath(workdir)
    found = []
    for pid in procs.all_processes():
        if procs.cmdline(pid)[1:3] != ["-m", "ministack"]:
            continue
        try:
            where = os.readlink(f"/proc/{pid}/cwd")  # sim starts the engine in its workdir
        except OSError:
            continue
        if where != here:
            found.append((pid, where))
    return sorted(found)


def stop(workdir: Path) -> bool:
    """Stop the engine cleanly (SIGTERM lets it save state); return whether one was running."""
    current = load_state(workdir)
    if not current:
        return False
    running = pid_alive(current.pid)
    if running:
        try:
            os.killpg(current.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            wait_until(lambda: _reap(current.pid) or not pid_alive(current.pid), timeout=STOP_TIMEOUT_S, every=0.1,
                       what="the engine to stop")
        except TimeoutError:
            pass
        if pid_alive(current.pid):
            os.killpg(current.pid, signal.SIGKILL)
            _reap(current.pid)
    _state_path(workdir).unlink(missing_ok=True)
    return running


def _reap(pid: int) -> None:
    """Collect the exit status when the engine is our own child (tests start and stop it)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
