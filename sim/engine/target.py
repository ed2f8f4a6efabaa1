"""Which engine a command talks to, and boto3 clients for it.

Resolution order: an explicit `--endpoint URL`, then `$SIM_ENDPOINT`, then the target's usual
endpoint (LocalStack's port 4566), then the embedded engine recorded in the workdir. `--target aws`
uses the credentials in the environment and no endpoint, unless an endpoint is given explicitly
(to rehearse the AWS wiring on an emulator). What differs between targets is in
sim/engine/profiles.py.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

from sim.core.errors import SimError
from sim.engine import ministack, profiles

REGION = "us-east-1"


@dataclass
class Target:
    name: str
    endpoint: str | None
    region: str = REGION

    @cached_property
    def session(self) -> boto3.session.Session:
        if self.endpoint is None:  # a real account: the environment's credentials and region
            return boto3.session.Session(region_name=os.environ.get("AWS_REGION") or self.region)
        return boto3.session.Session(
            aws_access_key_id=os.environ.get("SIM_ACCESS_KEY_ID", "test"),
            aws_secret_access_key=os.environ.get("SIM_SECRET_ACCESS_KEY", "test"),
            region_name=self.region,
        )

    @property
    def profile(self) -> profiles.TargetProfile:
        return profiles.profile(self.name)

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

    def wait_ready(self, timeout_s: float) -> None:
        """Wait until the engine answers (compose starts the deployer beside the engine)."""
        config = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5)
        sts = self.session.client("sts", endpoint_url=self.endpoint, config=config)
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                sts.get_caller_identity()
                return
            except (BotoCoreError, ClientError) as exc:
                if time.monotonic() > deadline:
                    raise SimError(f"the engine at {self.endpoint or 'AWS'} did not answer within "
                                   f"{timeout_s:.0f} s: {exc}") from None
            time.sleep(1.0)


def check_endpoint(url: str) -> str:
    """The endpoint without a trailing slash, or one line saying it is not a URL botocore accepts."""
    if not (is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url)):
        raise SimError(f"endpoint {url!r} is not a URL like http://127.0.0.1:4566")
    return url.rstrip("/")


def resolve(workdir: Path, endpoint: str | None = None, target: str | None = None) -> Target:
    """Find the engine to talk to, or explain in one line how to get one."""
    profile = profiles.profile(target or "ministack")
    endpoint = check_endpoint(endpoint) if endpoint else None
    if not profile.emulator:
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or REGION
        return Target(profile.name, endpoint.rstrip("/") if endpoint else None, region if not endpoint else REGION)
    endpoint = endpoint or os.environ.get("SIM_ENDPOINT") or profile.default_endpoint
    if endpoint:
        return Target(profile.name, check_endpoint(endpoint))
    state = ministack.load_state(workdir)
    if not state:
        raise SimError(f"no engine runs for workdir {workdir}; start one with `sim up`")
    if not ministack.pid_alive(state.pid):
        raise SimError(f"the engine (pid {state.pid}) is dead; see {state.log}, then `sim up`")
    return Target(profile.name, state.endpoint)
