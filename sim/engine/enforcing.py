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

    with enforcing.engine(workdir, python=lambda_python.engine_python(cache_dir)) as eng:
        Deployer(eng.target, Settings(target="localstack"), cache_dir=...).apply()

The work dir is emptied first (a fresh engine, no state from an earlier run) and left in place
after, with the engine's log, for a post-mortem.
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from sim.engine import ministack
from sim.engine.target import Target

AUTH = {"AUTH": "true"}


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


@contextmanager
def engine(workdir: Path, python: str | None = None) -> Iterator[EnforcingEngine]:
    """Start an enforcing engine on a free 127.0.0.1 port under `workdir`; always stop it on exit.
    `python`: the interpreter it runs on, and its Lambdas with it (lambda_python.engine_python)."""
    workdir = Path(workdir)
    ministack.stop(workdir)  # one left running by a run that was killed
    for sub in ("tmp", "state", "s3"):
        shutil.rmtree(workdir / sub, ignore_errors=True)
    (workdir / ministack.PORT_FILE).unlink(missing_ok=True)  # a fresh engine: any free port
    state, _ = ministack.start(workdir, extra_env=AUTH, python=python)
    try:
        yield EnforcingEngine(state.endpoint, workdir, Path(state.log), state.pid)
    finally:
        ministack.stop(workdir)
