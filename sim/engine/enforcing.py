"""A separate MiniStack that enforces IAM (`AUTH=true`), started for one test or scenario and stopped after.

What such an engine checks (MiniStack 1.5.33, tried): every request's SigV4 signature and access key
(keys it never issued get InvalidAccessKeyId); the identity policies of IAM users and of assumed-role
sessions, including the ASIA... credentials a Lambda gets from its execution role; the caller's own
policy for sts:AssumeRole, then the role's trust policy; bucket policies (an Allow grants, a Deny
wins) for those principals. What it does not: the keys `test` and any 12-digit key are the account's
root and skip every policy, bucket policies included; the account root may assume a role that trusts
only a service; the event source mapping's SQS permissions and a rule's permission to invoke are not
evaluated; a Glue Python-shell job runs with the engine's own (root) environment. Condition keys
differ: `cloudwatch:namespace` is never set, and `aws:PrincipalArn` of a role session is the
session's ARN, not the role's. So only the LocalStack wiring, where the builder and the converter
both run as Lambdas, has every pipeline call checked against its role: `target` is a `localstack`
target for that reason.

    with enforcing.engine(workdir) as eng:
        Deployer(eng.target, Settings(target="localstack"), cache_dir=...).apply()

The work dir is emptied first (a fresh engine, no state from an earlier run) and left in place
after, with the engine's log, for a post-mortem.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sim.engine import ministack
from sim.engine.target import Target
from sim.errors import SimError

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class EnforcingEngine:
    endpoint: str
    workdir: Path
    log: Path
    pid: int

    @property
    def target(self) -> Target:
        """The LocalStack wiring's target: both functions run as Lambdas, so both are enforced."""
        return Target("localstack", self.endpoint)


def env(workdir: Path, port: int) -> dict[str, str]:
    """The embedded engine's environment with IAM enforcement on."""
    return {**ministack.engine_env(workdir, port), "AUTH": "true"}


@contextmanager
def engine(workdir: Path, start_timeout_s: float = START_TIMEOUT_S) -> Iterator[EnforcingEngine]:
    """Start an enforcing engine on a free 127.0.0.1 port under `workdir`; always stop it on exit."""
    workdir = Path(workdir)
    for sub in ("tmp", "state", "s3"):
        shutil.rmtree(workdir / sub, ignore_errors=True)
        (workdir / sub).mkdir(parents=True)
    port = ministack.free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = workdir / ministack.LOG_FILE
    with open(log, "ab") as out:
        out.write(f"\n--- enforcing engine {time.strftime('%Y-%m-%dT%H:%M:%S')} port {port} ---\n".encode())
        out.flush()
        proc = subprocess.Popen([sys.executable, "-m", "ministack"], env=env(workdir, port), stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=str(workdir),
                                start_new_session=True)
    try:
        deadline = time.monotonic() + start_timeout_s
        while not ministack.healthy(endpoint, timeout=0.5):
            if proc.poll() is not None:
                raise SimError(f"the enforcing engine exited with code {proc.returncode} while starting; see {log}")
            if time.monotonic() > deadline:
                raise SimError(f"the enforcing engine did not become healthy within {start_timeout_s:.0f} s; see {log}")
            time.sleep(0.1)
        yield EnforcingEngine(endpoint, workdir, log, proc.pid)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the engine's own process group (it and the Lambda workers it forked), SIGKILL if it lingers."""
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
