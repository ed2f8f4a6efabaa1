"""Everything that differs between the places the pipeline is deployed, in one table.

The wiring (spec.py), the deploy (deploy.py), the teardown (destroy.py) and the engine resolution
(sim/engine/target.py) ask a target's profile instead of testing its name, so adding an engine or
changing what one supports is an edit here and nowhere else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from sim.core.errors import SimError

GLUE = "glue"
LAMBDA = "lambda"
# The Lambda runtime of the pipeline's functions on every target; the embedded engine runs them on
# this Python (lambda_python.py), the bundle is built for it (sim/infra/bundle.py).
LAMBDA_RUNTIME = "python3.11"


@dataclass(frozen=True)
class TargetProfile:
    name: str
    # How a manifest is converted: the Glue Python-shell job, or the converter Lambda as a task
    # (LocalStack's free edition has no Glue).
    converter: str
    # The default ENVIRONMENT of the deployed code (LOG_LEVEL follows it: INFO in production).
    environment: str
    # An emulator: reached through an endpoint with static test credentials, and simulator-only
    # switches (telemetry file, fault injection) may be deployed to it. Never true for AWS.
    emulator: bool
    # Where the engine listens when no --endpoint is given (None: the embedded engine, or AWS).
    default_endpoint: str | None
    # Lambda code runs with this machine's Python and site-packages (MiniStack): the converter needs
    # no packaged dependencies. Elsewhere the Lambda runtime has no pyarrow, so it is bundled.
    lambda_uses_host_python: bool
    # The engine publishes AWS/SQS metrics itself; otherwise a local publisher must feed the alarms.
    native_sqs_metrics: bool
    # Settings the engine needs changed to behave like AWS (MiniStack reads a Glue job's Timeout
    # as seconds, AWS as minutes; polling a local job every 30 s only wastes time).
    setting_overrides: dict = field(default_factory=dict)
    # Seconds in one unit of a Glue job's Timeout (AWS: minutes; MiniStack reads seconds).
    glue_timeout_unit_s: int = 60

    @property
    def bundles_converter_dependencies(self) -> bool:
        """True when the converter Lambda must carry pyarrow in its own package."""
        return self.converter == LAMBDA and not self.lambda_uses_host_python


# How many Glue runs convert at once on the embedded engine, which ignores MaxConcurrentRuns
# (sim/engine/glue_slots.py enforces it; $SIM_GLUE_SLOTS overrides). AWS keeps
# Settings.glue_max_concurrent_runs, which the capacity model reads.
#
# One run per core. Measured with `python -m sim.load.glue_concurrency --file-size 3.5MB --files 30
# --manifests 12` on 2 cores: the same 12 manifests converted by real Glue runs, 1-4 at once. The
# machine was shared, so cores are read from the scheduler ("wanted": threads runnable on average,
# which contention does not change; "got": CPU time of the engine and its runs over the wall time).
#   converter that parses a file on one core at a time (before 1 MB JSON blocks):
#   at once  wanted  MB per core-second  summed Glue RSS  median run
#      1      1.19         21.7              296 MB           7 s
#      2      2.29         19.8              568 MB          16 s
#      3      3.40         19.2              813 MB          23 s
#      4      4.41         19.7             1035 MB          31 s
#   converter parsing 1 MB blocks on every core (wanted / got / MB per core-second / RSS / run / MB/s):
#      1      2.13 / 1.20 / 22.1 /  284 MB /  4 s / 26.5
#      2      4.27 / 1.51 / 22.3 /  543 MB /  6 s / 33.7
#      3      5.94 / 1.44 / 23.2 /  768 MB /  9 s / 33.5
#      4      7.57 / 1.26 / 20.2 / 1027 MB / 18 s / 25.4
# Work per core-second stays flat up to 3 at once (no thrashing: memory grows 250-290 MB a run of 24
# GB, nothing swaps) and drops at 4; MB/s gains nothing past 2, while each manifest takes longer
# the more share the cores. One run alone leaves gaps a second fills (its start, its reads, its
# upload); a third only queues. So: as many runs as cores, 2 here.
LOCAL_GLUE_CONCURRENT_RUNS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)

PROFILES = {
    "ministack": TargetProfile(
        name="ministack",
        converter=GLUE,
        environment="development",
        emulator=True,
        default_endpoint=None,
        lambda_uses_host_python=True,
        native_sqs_metrics=False,
        setting_overrides={"glue_timeout": 600, "poll_seconds": 2,
                           "glue_max_concurrent_runs": LOCAL_GLUE_CONCURRENT_RUNS},
        glue_timeout_unit_s=1,
    ),
    "localstack": TargetProfile(
        name="localstack",
        converter=LAMBDA,
        environment="development",
        emulator=True,
        default_endpoint="http://localhost:4566",
        lambda_uses_host_python=False,
        native_sqs_metrics=True,
    ),
    "aws": TargetProfile(
        name="aws",
        converter=GLUE,
        environment="production",
        emulator=False,
        default_endpoint=None,
        lambda_uses_host_python=False,
        native_sqs_metrics=True,
    ),
}

NAMES = tuple(PROFILES)


def profile(name: str) -> TargetProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise SimError(f"unknown target {name!r}; choose one of {', '.join(NAMES)}") from None
