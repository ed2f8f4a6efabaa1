"""The deploy side of the fault bundle (not zipped): what goes into a deployment package, the
launcher script, and the settings that point the wrapper and the launcher at the user's code.

Nothing here deploys: the deploy code (sim/infra) puts `bundle_entries()` into the builder's zip
and into the zip it passes as the Glue job's --extra-py-files, uploads `launcher_bytes()` as the
job's ScriptLocation, and merges `lambda_environment(...)` and `glue_default_arguments(...)` into
what it creates. Errors are InjectError (a ValueError) with one line naming the mistake.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .rules import Config, FaultRulesError, InjectError, parse

HERE = Path(__file__).resolve().parent
BUNDLE_PACKAGE = "sim_inject"
LAUNCHER_NAME = "sim_glue_launcher.py"
WRAPPER_HANDLER = BUNDLE_PACKAGE + ".lambda_wrapper.handler"
NOT_ZIPPED = ("bundle.py", LAUNCHER_NAME)
RECORD_NAME = "calls.jsonl"


def bundle_entries() -> list[tuple[str, bytes]]:
    """(name in the zip, content) of the `sim_inject` package, sorted: the same bytes for the same
    sources, so a zip built from them is deterministic when its builder fixes timestamps."""
    return [(f"{BUNDLE_PACKAGE}/{p.name}", p.read_bytes())
            for p in sorted(HERE.glob("*.py")) if p.name not in NOT_ZIPPED]


def launcher_bytes() -> bytes:
    """The Glue job's script on emulators (upload it under the name LAUNCHER_NAME: the engine's
    Glue slots recognise it by that basename)."""
    return (HERE / LAUNCHER_NAME).read_bytes()


def check_calls(config: Config) -> None:
    """Every rule's call names a service and an operation botocore knows (caught here, at deploy,
    rather than as a rule that silently never fires)."""
    calls = sorted({r.call for r in config.rules if r.call})
    if not calls:
        return
    import botocore.session

    session = botocore.session.get_session()
    services = set(session.get_available_services())
    for rule in config.rules:
        if not rule.call:
            continue
        service, operation = rule.call.split(".", 1)
        if service not in services:
            hint = {"sfn": "stepfunctions", "states": "stepfunctions", "ddb": "dynamodb", "cw": "cloudwatch"}.get(service)
            raise FaultRulesError("rule %d: botocore has no service %r%s" % (
                rule.index + 1, service, " (did you mean %s?)" % hint if hint else ""))
        operations = session.get_service_model(service).operation_names
        if operation not in operations:
            close = [o for o in operations if o.lower() == operation.lower()]
            raise FaultRulesError("rule %d: %s has no operation %r%s" % (
                rule.index + 1, service, operation, " (did you mean %s?)" % close[0] if close else ""))


def faults_json(parent, rules: list, record=False) -> str:
    """SIM_FAULTS for a run: `rules` checked (FaultRulesError names the first mistake), a fresh
    state folder under `parent` (so `times` and run-wide counts start from zero), and `record`:
    False for none, True for calls.jsonl in the state folder, or an absolute path."""
    Path(parent).mkdir(parents=True, exist_ok=True)
    state_dir = tempfile.mkdtemp(prefix="faults-", dir=str(Path(parent).resolve()))
    doc = {"state_dir": state_dir, "rules": list(rules)}
    if record is True:
        doc["record"] = os.path.join(state_dir, RECORD_NAME)
    elif record:
        doc["record"] = str(record)
    config = parse(doc)
    if config is not None:
        check_calls(config)
    return json.dumps(doc, sort_keys=True)


def lambda_environment(user_handler: str, process: str, faults: str | None = None) -> dict[str, str]:
    """What the wrapper handler (WRAPPER_HANDLER) needs beside the function's own variables."""
    if process not in ("builder", "converter"):
        raise InjectError(f"process must be builder or converter (got {process!r})")
    if not user_handler or "." not in user_handler:
        raise InjectError(f"the handler must be module.function (got {user_handler!r})")
    env = {"SIM_USER_HANDLER": user_handler, "SIM_INJECT_PROCESS": process}
    if faults:
        env["SIM_FAULTS"] = faults
    return env


def glue_default_arguments(user_script_uri: str, argument_names: list[str], job_name: str | None = None,
                           faults: str | None = None) -> dict[str, str]:
    """The launcher's own job arguments, to merge into DefaultArguments: where the user's script is,
    which arguments to rebuild argv from on MiniStack, the job's name for --JOB_NAME, the faults."""
    if not user_script_uri.startswith("s3://"):
        raise InjectError(f"the user's script must be an s3:// URI (got {user_script_uri!r})")
    names = []
    for name in argument_names:
        bare = name.lstrip("-")
        if not bare or "," in bare:
            raise InjectError(f"job argument name {name!r} cannot be listed in --SIM_ARG_NAMES")
        if bare not in names:
            names.append(bare)
    args = {"--SIM_USER_SCRIPT": user_script_uri, "--SIM_ARG_NAMES": ",".join(names)}
    if job_name:
        args["--SIM_JOB_NAME"] = job_name
    if faults:
        args["--SIM_FAULTS"] = faults
    return args


def _is_start_job_run(resource) -> bool:
    return isinstance(resource, str) and resource.split(":::")[-1].split(".")[0] in (
        "glue:startJobRun", "aws-sdk:glue:startJobRun")


def _start_job_run_arguments(node, path: str, found: list) -> None:
    if isinstance(node, dict):
        if _is_start_job_run(node.get("Resource")):
            params = node.get("Parameters") or node.get("Arguments") or {}
            if isinstance(params, dict):
                if "Arguments.$" in params or isinstance(params.get("Arguments"), str):
                    raise InjectError(f"{path}: the Glue run's Arguments come from one path or expression, so their "
                                      "names are unknown at deploy; name each argument in the definition")
                args = params.get("Arguments") or {}
                found += [k[:-2] if k.endswith(".$") else k for k in args]
        for key, value in node.items():
            _start_job_run_arguments(value, f"{path}.{key}", found)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            _start_job_run_arguments(value, f"{path}[{i}]", found)


def glue_argument_names(default_arguments: dict, definition) -> list[str]:
    """The job arguments a run can have, without dashes: the DefaultArguments' names, then the
    Arguments of every glue:startJobRun task in the state machine (`definition`, ASL as text or
    parsed; JSONPath `name.$` keys and JSONata alike, in Parallel and Map branches too)."""
    if isinstance(definition, (str, bytes)):
        try:
            definition = json.loads(definition)
        except ValueError as exc:
            raise InjectError(f"the state machine definition is not JSON: {exc}") from None
    found = list(default_arguments or {})
    _start_job_run_arguments(definition, "$", found)
    names = []
    for name in found:
        bare = name.lstrip("-")
        if bare and bare not in names:
            names.append(bare)
    return names
