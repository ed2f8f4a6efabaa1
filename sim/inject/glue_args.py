"""A Glue job's arguments as AWS Glue hands them to a Python-shell script.

AWS passes every job argument (the job's DefaultArguments, overridden by the run's Arguments) in
argv as `--name value`. MiniStack instead starts `python3 <script>` with each argument as an
environment variable named without its dashes, and nothing says which variables are arguments;
so the deploy names them in the job argument `--SIM_ARG_NAMES` (comma-separated, without dashes),
and this module rebuilds argv from those names. Where argv already holds the arguments (an engine
that passes them as Glue does), argv is taken as it is.

The launcher's own arguments (SIM_LAUNCHER_ARGS) are taken out: the user's script sees only its
job's arguments, as on AWS.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

from .rules import InjectError

NAMES = "SIM_ARG_NAMES"
USER_SCRIPT = "SIM_USER_SCRIPT"
JOB_NAME = "SIM_JOB_NAME"
FAULTS = "SIM_FAULTS"
SIM_LAUNCHER_ARGS = (USER_SCRIPT, NAMES, JOB_NAME)
# Environment variables an argument of the same name must not take away (MiniStack's engine set them).
_KEEP_IN_ENVIRONMENT = ("PATH", "HOME", "PYTHONPATH", "TMPDIR", "LANG", "LC_ALL", "SIM_GLUE_SLOTS")


def from_argv(argv: Sequence[str]) -> List[Tuple[str, str]]:
    """(name without dashes, value) pairs of argv[1:], which Glue fills with `--name value` pairs."""
    tokens = list(argv[1:])
    if len(tokens) % 2:
        raise InjectError("job arguments in argv must come in --name value pairs (got %d tokens)" % len(tokens))
    out = []
    for name, value in zip(tokens[::2], tokens[1::2]):
        if not name.startswith("--") or len(name) < 3:
            raise InjectError("job argument %r in argv is not a --name" % name)
        out.append((name[2:], value))
    return out


def names_from(value: str) -> List[str]:
    """The argument names listed in --SIM_ARG_NAMES, dashes dropped, first mention kept."""
    out = []
    for name in (value or "").split(","):
        name = name.strip().lstrip("-")
        if name and name not in out:
            out.append(name)
    return out


def from_environment(environ: Dict[str, str]) -> List[Tuple[str, str]]:
    """(name, value) of the arguments MiniStack put in the environment: the launcher's own, then
    those SIM_ARG_NAMES lists, in its order, each only when this run has it."""
    wanted = list(SIM_LAUNCHER_ARGS) + [FAULTS] + names_from(environ.get(NAMES, ""))
    out, seen = [], set()
    for name in wanted:
        if name in environ and name not in seen:
            seen.add(name)
            out.append((name, environ[name]))
    return out


def job_arguments(argv: Sequence[str], environ: Dict[str, str]) -> List[Tuple[str, str]]:
    """Every job argument of this run, as (name without dashes, value), in order."""
    return from_argv(argv) if len(argv) > 1 else from_environment(environ)


def script_argv(script_path: str, arguments: Sequence[Tuple[str, str]], hidden: Sequence[str] = ()) -> List[str]:
    """sys.argv as Glue's Python shell gives it to the script: its path, then `--name value` for each
    job argument, the launcher's own (and `hidden`, those the launcher takes for itself this run)
    left out; `--JOB_NAME` added from SIM_JOB_NAME when the job arguments do not hold it."""
    argv = [script_path]
    values = dict(arguments)
    for name, value in arguments:
        if name not in SIM_LAUNCHER_ARGS and name not in hidden:
            argv += ["--" + name, value]
    if values.get(JOB_NAME) and "JOB_NAME" not in values:
        argv += ["--JOB_NAME", values[JOB_NAME]]
    return argv


def environment_to_drop(arguments: Sequence[Tuple[str, str]], environ: Dict[str, str]) -> List[str]:
    """The variables MiniStack added for job arguments, which a script on AWS would not see."""
    return [name for name, value in arguments
            if environ.get(name) == value and not name.startswith("AWS_") and name not in _KEEP_IN_ENVIRONMENT]
