"""Faults at the AWS-call boundary for code sim did not write (docs/pipeline-description.md,
"Fault rules").

This package is zipped into deployment packages as the top-level package `sim_inject` (so its
modules import each other relatively, use only the standard library and botocore, and parse as
Python 3.9): `lambda_wrapper` is the Lambda handler on emulators, `sim_glue_launcher.py` the Glue
script, `hooks` the botocore patch they install, `rules` the SIM_FAULTS reader. The deploy side's
helpers live in `bundle` (not zipped) and are reachable from here: `bundle_entries()`,
`launcher_bytes()`, `faults_json()`. `telemetry` writes the per-invocation lines `sim report` reads
for pipelines whose code writes none (switched on by TELEMETRY_SWITCH).
"""

from .errors import InjectedFault
from .rules import FaultRulesError, InjectError
from .telemetry import SWITCH as TELEMETRY_SWITCH

__all__ = ["InjectedFault", "FaultRulesError", "InjectError", "TELEMETRY_SWITCH"]
_DEPLOY_SIDE = ("bundle_entries", "launcher_bytes", "faults_json", "lambda_environment", "glue_default_arguments",
                "glue_argument_names", "BUNDLE_PACKAGE", "LAUNCHER_NAME", "WRAPPER_HANDLER")


def __getattr__(name):
    # The deploy side's helpers, imported on first use: the bundle itself does not carry them.
    if name in _DEPLOY_SIDE:
        from . import bundle

        return getattr(bundle, name)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
