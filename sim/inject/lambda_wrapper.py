"""The deployed Lambda handler on emulators: `sim_inject.lambda_wrapper.handler`.

At import (the cold start) it installs the hooks, then imports the user's handler named in
SIM_USER_HANDLER ("module.function", as Lambda names it), so the user's own init code is hooked
and an error importing it surfaces as it would without the wrapper. Each invocation then starts a
new count of calls, applies the `start` rules, calls the user's handler with the same event and
context, applies the `exit` rules and gives back the handler's result unchanged. With telemetry on
(SIM_INJECT_TELEMETRY=1, telemetry.py) the user's handler is measured and its line appended when it
returns or raises, before the `exit` rules. With nothing to do for this process, `handler` IS the
user's function: no frame in between.

SIM_INJECT_PROCESS names the role whose rules apply, and the component telemetry lines name:
builder or converter.
"""

from __future__ import annotations

import importlib
import os

from . import hooks, telemetry
from .rules import InjectError

HANDLER_ENV = "SIM_USER_HANDLER"
PROCESS_ENV = "SIM_INJECT_PROCESS"
FAULTS_ENV = "SIM_FAULTS"


def load_user_handler(spec: str):
    """The function `spec` ("package.module.function", or Lambda's "package/module.function") names."""
    module_name, _, function_name = (spec or "").replace("/", ".").rpartition(".")
    if not module_name or not function_name:
        raise InjectError("%s must name the handler as module.function (got %r)" % (HANDLER_ENV, spec))
    module = importlib.import_module(module_name)
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise InjectError("handler %r missing on module %r" % (function_name, module_name)) from None


def _measured(user_handler, meter, event, context):
    """The user's handler run once, its telemetry line appended whether it returned or raised."""
    meter.begin()
    ok = False
    try:
        result = user_handler(event, context)
        ok = True
    finally:
        meter.end(ok, **telemetry.invocation_fields(meter.component, event))
    return result


def wrap(user_handler, injector, meter=None):
    """The handler Lambda calls: counts, rules at start and exit, the user's result unchanged;
    measured for its telemetry line when `meter` is given (either of injector and meter may be None)."""

    def handler(event, context):
        if injector is not None:
            injector.begin_invocation(getattr(context, "aws_request_id", None))
            injector.at_process("start")
        if meter is None:
            result = user_handler(event, context)
        else:
            result = _measured(user_handler, meter, event, context)
        if injector is not None:
            injector.at_process("exit")
        return result

    handler.__wrapped__ = user_handler
    return handler


def _cold_start():
    role = os.environ.get(PROCESS_ENV, "")
    meter = telemetry.from_settings(role, os.environ) if role in ("builder", "converter") else None
    injector = hooks.install(role, os.environ.get(FAULTS_ENV), meter)
    user_handler = load_user_handler(os.environ.get(HANDLER_ENV, ""))
    if injector is None and meter is None:
        return user_handler
    return wrap(user_handler, injector, meter)


handler = _cold_start()
