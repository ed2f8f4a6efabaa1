"""What the Glue launcher does once the bundle is importable: run the user's script as Glue does.

In order: the job's arguments read (glue_args), the user's script fetched from --SIM_USER_SCRIPT,
`awsglue.utils` made importable (the real one when present, else the stand-in), sys.argv set to
Glue's, the variables MiniStack added for arguments taken away, the hooks installed for the
converter, the `start` rules applied, the script run as `__main__` from its own folder (runpy), and
after it ended (returned, or called sys.exit) the `exit` rules: a `kill` there comes after the
script's work is done and before Glue hears how it went. The exit code is the script's.

With telemetry on (job arguments --SIM_INJECT_TELEMETRY 1 and --SIM_TELEMETRY_FILE, telemetry.py)
the script's run is measured and its line appended once it ended, before the `exit` rules: ok when
it returned or exited with 0. Those two arguments are then the launcher's own: the script's argv
does not hold them.
"""

from __future__ import annotations

import importlib.util
import os
import runpy
import sys
import tempfile
import types

from . import awsglue_utils, glue_args, hooks, telemetry
from .rules import InjectError

ROLE = "converter"


def fetch(uri: str, folder: str) -> str:
    """A local copy of an s3:// object (or the path itself when it is local), keeping its name."""
    if not uri.startswith("s3://"):
        return uri
    import boto3

    bucket, _, key = uri[5:].partition("/")
    if not bucket or not key:
        raise InjectError("not an s3://bucket/key URI: %r" % uri)
    path = os.path.join(folder, os.path.basename(key))
    try:
        boto3.client("s3").download_file(bucket, key, path)
    except Exception as exc:
        raise InjectError("could not fetch %s: %s" % (uri, exc)) from None
    return path


def provide_awsglue() -> None:
    """`from awsglue.utils import getResolvedOptions` works: the real awsglue if installed, else the stand-in."""
    if "awsglue.utils" in sys.modules or importlib.util.find_spec("awsglue") is not None:
        return
    package = types.ModuleType("awsglue")
    package.__path__ = []  # a package, so `import awsglue.utils` resolves from sys.modules
    package.utils = awsglue_utils
    sys.modules["awsglue"] = package
    sys.modules["awsglue.utils"] = awsglue_utils


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # as the interpreter does with sys.exit("message")
    return 1


def main(argv=None, environ=None) -> int:
    argv = list(sys.argv if argv is None else argv)
    environ = os.environ if environ is None else environ
    arguments = glue_args.job_arguments(argv, dict(environ))
    values = dict(arguments)
    if not values.get(glue_args.USER_SCRIPT):
        raise InjectError("the launcher needs --%s, the s3:// URI of the job's own script" % glue_args.USER_SCRIPT)
    folder = tempfile.mkdtemp(prefix="glue-python-scripts-")
    script = fetch(values[glue_args.USER_SCRIPT], folder)
    provide_awsglue()
    for name in glue_args.environment_to_drop(arguments, dict(environ)):
        environ.pop(name, None)
    meter = telemetry.from_settings(ROLE, values)
    hidden = (telemetry.SWITCH, telemetry.FILE) if meter is not None else ()
    sys.argv[:] = glue_args.script_argv(script, arguments, hidden)
    sys.path[0:1] = [os.path.dirname(os.path.abspath(script))]  # as `python3 script.py` would
    injector = hooks.install(ROLE, values.get(glue_args.FAULTS), meter)
    if injector is not None:
        injector.begin_invocation()
        injector.at_process("start")
    code = _run(script, meter, values.get("manifest_id") or "")
    if injector is not None:
        injector.at_process("exit")
    return code


def _run(script: str, meter, manifest_id: str) -> int:
    """The script run as __main__; its exit code. Measured when `meter` is given: the line is
    appended whether it returned, exited or raised (a raise goes on up, as without the launcher)."""
    if meter is not None:
        meter.begin()
    code = 1
    try:
        try:
            runpy.run_path(script, run_name="__main__")
            code = 0
        except SystemExit as exc:
            code = _exit_code(exc)
    finally:
        if meter is not None:
            meter.end(code == 0, runtime="glue", manifest_id=manifest_id)
    return code
