"""Which engine a command talks to, and boto3 clients for it.

Resolution order: an explicit `--endpoint URL`, then `$SIM_ENDPOINT`, then the embedded engine
recorded in the workdir. `--target aws` uses the credentials in the environment and no endpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import boto3
from botocore.config import Config

from sim.engine import ministack
from sim.errors import SimError

TARGETS = ("ministack", "localstack", "aws")
REGION = "us-east-1"


@dataclass
class Target:
    name: str
    endpoint: str | None
    region: str = REGION

    @cached_property
    def session(self) -> boto3.session.Session:
        if self.name == "aws":
            return boto3.session.Session(region_name=os.environ.get("AWS_REGION", self.region))
        return boto3.session.Session(
            aws_access_key_id=os.environ.get("SIM_ACCESS_KEY_ID", "test"),
            aws_secret_access_key=os.environ.get("SIM_SECRET_ACCESS_KEY", "test"),
            region_name=self.region,
        )

    def client(self, service: str, max_pool: int = 32):
        config = Config(
            retries={"max_attempts": 5, "mode": "standard"},
            max_pool_connections=max_pool,
            connect_timeout=5,
            read_timeout=120,
        )
        if service == "s3":
            config = config.merge(Config(s3={"addressing_style": "path"}))
        return self.session.client(service, endpoint_url=self.endpoint, config=config)


def resolve(workdir: Path, endpoint: str | None = None, target: str | None = None) -> Target:
    """Find the engine to talk to, or explain in one line how to get one."""
    if target and target not in TARGETS:
        raise SimError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
    if target == "aws":
        return Target("aws", None)
    endpoint = endpoint or os.environ.get("SIM_ENDPOINT")
    if endpoint:
        return Target(target or "ministack", endpoint.rstrip("/"))
    state = ministack.load_state(workdir)
    if not state:
        raise SimError(f"no engine runs for workdir {workdir}; start one with `sim up`")
    if not ministack.pid_alive(state.pid):
        raise SimError(f"the engine (pid {state.pid}) is dead; see {state.log}, then `sim up`")
    return Target(target or "ministack", state.endpoint)
