"""docker-compose.yml brought up for real: the MiniStack profile, the one-shot deployer, Locust's
master and two workers running a short headless burst, then `sim flush` and `sim validate` from the
host, and everything torn down (`down -v`) whatever happened.

Needs a Docker engine, compose (`docker compose` or `docker-compose`) and the two images the profile
builds on: python:3.11-slim-bookworm and ministackorg/ministack:<pinned version>, pulled or, where no
registry is reachable, stand-ins made by tests/compose/prepare.sh (root). The functions run inside
the MiniStack container (tests/compose/local-executor.yml), since the Lambda base images cannot be
had either. Where any of that is missing the tests are skipped saying why; with
SIM_COMPOSE_REQUIRED=1 (CI, after prepare.sh) they fail instead, so CI cannot lose them silently.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.engine.target import Target
from sim.infra.spec import Names
from sim.ops.watch import Watcher
from sim.scenario.registry import load_all

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROJECT = "simcompose"
ENDPOINT = "http://127.0.0.1:4566"
HARNESS_IMAGE = "sim-harness:local"
NETWORK = "sim-engine"
DATE = "2026-11-20"
WORKERS = 2
# A short burst: 300x production (27.8 files/s) for 20 s of hold after the ramp, 64 KB files.
LOAD = {"LOCUST_HEADLESS": "true", "LOCUST_WORKERS": str(WORKERS), "SIM_LOAD_PROFILE": "burst",
        "SIM_LOAD_MULTIPLIER": "300", "SIM_LOAD_DURATION": "20", "SIM_LOAD_FILE_SIZE": "64KB",
        "SIM_LOAD_DATE_PREFIX": DATE}
SERVICES = ["ministack", "deploy", "locust-master", "locust-worker"]


def _pinned(name: str) -> str:
    return re.search(rf'"{name}==([\d.]+)"', (ROOT / "pyproject.toml").read_text()).group(1)


BASE_IMAGES = ["python:3.11-slim-bookworm", f"ministackorg/ministack:{_pinned('ministack')}"]


def _run(cmd, timeout=600, check=False, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-3000:]}")
    return proc


def _compose_command() -> list[str] | None:
    if shutil.which("docker") and _run(["docker", "compose", "version"], timeout=30).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _why_not() -> str | None:
    """Why the stack cannot be brought up here, or None."""
    if not shutil.which("docker"):
        return "no docker command (tests/compose/prepare.sh installs Debian's docker.io as root)"
    info = _run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=30)
    if info.returncode != 0:
        last = (info.stderr.strip().splitlines() or ["no answer"])[-1]
        return f"no Docker engine answers ({last}); tests/compose/prepare.sh starts one as root"
    if _compose_command() is None:
        return "neither `docker compose` nor `docker-compose` is installed"
    absent = [i for i in BASE_IMAGES if _run(["docker", "image", "inspect", i], timeout=30).returncode != 0]
    if absent:
        return (f"base image(s) {', '.join(absent)} not present: pull them, or make stand-ins with "
                "tests/compose/prepare.sh (root) where no registry is reachable")
    taken = [p for p in (4566, 8089) if _port_taken(p)]
    if taken:
        return f"127.0.0.1 port(s) {', '.join(map(str, taken))} already in use (the stack publishes them)"
    return None


@pytest.fixture(scope="module")
def compose():
    reason = _why_not()
    if reason:
        if os.environ.get("SIM_COMPOSE_REQUIRED") == "1":
            pytest.fail(f"compose test required but cannot run: {reason}")
        pytest.skip(reason)
    base = _compose_command() + ["-p", PROJECT, "-f", str(ROOT / "docker-compose.yml"),
                                 "-f", str(HERE / "local-executor.yml"), "--profile", "ministack"]
    env = {**os.environ, **LOAD}
    env.pop("SIM_PREFIX", None)

    def run(*args, timeout=600, check=True):
        return _run(base + list(args), timeout=timeout, check=check, env=env, cwd=ROOT)

    run("down", "-v", "--remove-orphans", check=False)  # whatever a killed run left
    started = time.monotonic()
    run("build", "deploy", timeout=900)
    print(f"built {HARNESS_IMAGE} in {time.monotonic() - started:.0f} s")
    try:
        yield run
    finally:
        if os.environ.get("SIM_COMPOSE_LOGS") == "1":
            print(run("logs", "--no-color", "--tail", "100", check=False).stdout)
        down = run("down", "-v", "--remove-orphans", check=False)
        assert down.returncode == 0, down.stderr
        left = _run(["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}"]).stdout.split()
        nets = _run(["docker", "network", "ls", "-q", "--filter", f"name=^{NETWORK}$"]).stdout.split()
        assert not left and not nets, f"left behind: containers {left}, networks {nets}"


def test_the_image_lists_every_scenario(compose):
    expected = list(load_all())
    proc = _run(["docker", "run", "--rm", HARNESS_IMAGE, "sim", "scenario", "list", "--json"], check=True)
    assert [s["name"] for s in json.loads(proc.stdout)["scenarios"]] == expected
    proc = _run(["docker", "run", "--rm", "-e", "COLUMNS=500", HARNESS_IMAGE, "sim", "scenario", "list"], check=True)
    assert [line.split(":", 1)[0] for line in proc.stdout.strip().splitlines()] == expected
    # and an empty folder is an error there too, not an empty list
    proc = _run(["docker", "run", "--rm", "-e", "SIM_SCENARIOS_DIR=/tmp", HARNESS_IMAGE, "sim", "scenario", "list"])
    assert proc.returncode == 1 and proc.stderr.startswith("error: no scenarios in /tmp")


def _container(run, service: str) -> list[str]:
    return run("ps", "-q", service).stdout.split()


def _wait_exit(container: str, timeout: float) -> int:
    proc = _run(["docker", "wait", container], timeout=timeout, check=True)
    return int(proc.stdout.strip())


def _logs(container: str) -> str:
    proc = _run(["docker", "logs", container])
    return proc.stdout + proc.stderr


def _sim(workdir: Path, *args, timeout=600):
    return _run([sys.executable, "-m", "sim", *args, "--target", "localstack", "--endpoint", ENDPOINT,
                 "--workdir", str(workdir)], timeout=timeout)


def test_ministack_profile_deploys_takes_a_locust_burst_and_validates(compose, tmp_path):
    t0 = time.monotonic()
    compose("up", "-d", *SERVICES, timeout=900)
    deploy = _container(compose, "deploy")
    assert len(deploy) == 1
    code = _wait_exit(deploy[0], timeout=400)
    deploy_log = _logs(deploy[0])
    assert code == 0, deploy_log[-4000:]
    assert re.search(r"\d+ change\(s\)", deploy_log), deploy_log[-2000:]
    t_deploy = time.monotonic() - t0

    workers = _container(compose, "locust-worker")
    assert len(workers) == WORKERS  # the compose file's replicas
    (master,) = _container(compose, "locust-master")
    code = _wait_exit(master, timeout=400)  # headless: the master quits when the load shape ends
    master_log = _logs(master)
    assert code == 0, master_log[-4000:]
    connected = [int(n) for n in re.findall(r"(\d+) workers connected", master_log)]
    assert connected and max(connected) == WORKERS, master_log[-3000:]  # the master split the load over both
    row = re.findall(r"^\s*PUT\s+s3:landing\s+(\d+)\s+(\d+)\(", master_log, re.M)
    assert row, master_log[-3000:]
    uploads, failures = map(int, row[-1])
    assert failures == 0 and uploads > 0
    t_load = time.monotonic() - t0

    # From the host, as a user would: every upload tracked, then the partial tail flushed.
    target, names = Target("localstack", ENDPOINT), Names()
    watcher = Watcher(target, names)
    deadline = time.monotonic() + 300
    while True:
        snap = watcher.snapshot()
        if snap.tracked >= uploads and snap.queue_visible + snap.queue_in_flight == 0:
            break
        assert time.monotonic() < deadline, f"not all {uploads} uploads tracked: {snap}"
        time.sleep(2)
    proc = _sim(tmp_path, "flush", "--wait", "--timeout", "240", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    flushed = json.loads(proc.stdout)
    assert flushed["pass"] and flushed["pending"] == 0 and flushed["queue"] == 0
    assert flushed["outcome"] in ("started", "already_running", "nothing_pending")
    if uploads % 200:  # a partial last batch was left: only a flush makes it a manifest
        assert flushed["outcome"] == "started" and flushed["manifests"], flushed
    deadline = time.monotonic() + 300
    while watcher.snapshot().manifests_open:
        assert time.monotonic() < deadline, f"manifests still open: {watcher.snapshot()}"
        time.sleep(2)
    proc = _sim(tmp_path, "validate", "--json")
    verdict = json.loads(proc.stdout)
    assert proc.returncode == 0 and verdict["pass"] is True, json.dumps(verdict, indent=1)[:4000]
    assert verdict["files_landed"] == uploads == verdict["files_in_manifests"]
    assert verdict["records_in"] == verdict["records_out"] > 0
    assert verdict["duplicates"] == 0 and verdict["missing"] == 0
    print(f"compose: deployed in {t_deploy:.0f} s, {uploads} uploads by {WORKERS} workers by {t_load:.0f} s, "
          f"validated {verdict['records_out']} records by {time.monotonic() - t0:.0f} s")
