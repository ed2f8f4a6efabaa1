"""Everything that differs between the places the pipeline is deployed, in one table.

The wiring (spec.py), the deploy (deploy.py), the teardown (destroy.py) and the engine resolution
(sim/engine/target.py) ask a target's profile instead of testing its name, so adding an engine or
changing what one supports is an edit here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.errors import SimError

GLUE = "glue"
LAMBDA = "lambda"


@dataclass(frozen=True)
class Profile:
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


PROFILES = {
    "ministack": Profile(
        name="ministack",
        converter=GLUE,
        environment="development",
        emulator=True,
        default_endpoint=None,
        lambda_uses_host_python=True,
        native_sqs_metrics=False,
        setting_overrides={"glue_timeout": 600, "poll_seconds": 2},
        glue_timeout_unit_s=1,
    ),
    "localstack": Profile(
        name="localstack",
        converter=LAMBDA,
        environment="development",
        emulator=True,
        default_endpoint="http://localhost:4566",
        lambda_uses_host_python=False,
        native_sqs_metrics=True,
    ),
    "aws": Profile(
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


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise SimError(f"unknown target {name!r}; choose one of {', '.join(NAMES)}") from None
