"""A stand-in for `awsglue.utils` where the real one is absent (MiniStack runs a plain python3).

Glue's Python shell has `awsglue.utils.getResolvedOptions`; scripts read their arguments with it.
This behaves as AWS's implementation (awslabs/aws-glue-libs, awsglue/utils.py) does, rewritten
here: argparse without exiting (a missing option raises GlueArgumentError "the following arguments
are required: --x"), unknown arguments ignored, a repeated argument's last value kept, an option
asked for twice an argparse.ArgumentError, Glue's reserved names refused with RuntimeError,
`--JOB_NAME` required only when asked for (JOB_ID, JOB_RUN_ID and SECURITY_CONFIGURATION are
optional and reserved), TempDir and RedshiftTempDir optional and mirrored, and job_bookmark_option
always present (job-bookmark-disable unless given). The dict holds every option the parser knows,
None where absent, keyed by argparse's dest (dashes become underscores).
"""

from __future__ import annotations

import argparse

_global_args = {}

_BOOKMARK = ["--job-bookmark-option", "job-bookmark-enable", "job-bookmark-pause", "job-bookmark-disable"]
_CONTINUATION = ["--continuation-option", "continuation-enabled", "continuation-readonly", "continuation-ignore"]
_BOOKMARK_RANGE = ["--job-bookmark-from", "--job-bookmark-to"]
_ID_PARAMS = ["--JOB_NAME", "--JOB_ID", "--JOB_RUN_ID", "--SECURITY_CONFIGURATION"]
_ENCRYPTION = ["--encryption-type", "sse-s3"]
_TEMP_DIRS = ("RedshiftTempDir", "TempDir")


class GlueArgumentError(Exception):
    pass


class GlueArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are raised (GlueArgumentError), not printed with an exit."""

    def error(self, message):
        raise GlueArgumentError(message)


def _refuse(name: str, shown: str, options) -> None:
    if name in options:
        raise RuntimeError("Using reserved arguments " + shown)


def getResolvedOptions(args, options):
    parser = GlueArgumentParser()
    _refuse(_CONTINUATION[0][2:], _CONTINUATION[0][2:], options)
    _refuse(_BOOKMARK[0][2:], _BOOKMARK[0][2:], options)
    parser.add_argument(_BOOKMARK[0], choices=_BOOKMARK[1:], required=False)
    parser.add_argument(_CONTINUATION[0], choices=_CONTINUATION[1:], required=False)
    for option in _BOOKMARK_RANGE:
        _refuse(option[2:], option, options)
        parser.add_argument(option, required=False)
    for option in _ID_PARAMS[1:]:
        _refuse(option.lstrip("-"), option, options)
        parser.add_argument(option, required=False)
    _refuse(_ENCRYPTION[0].lstrip("-"), _ENCRYPTION[0], options)
    parser.add_argument(_ENCRYPTION[0], choices=_ENCRYPTION[1:])
    wanted = [o for o in options if o not in _TEMP_DIRS]
    for name in _TEMP_DIRS:
        parser.add_argument("--" + name, required=False)
    for option in wanted:
        parser.add_argument("--" + option, required=True)

    parsed, _unknown = parser.parse_known_args(args[1:])
    resolved = vars(parsed)
    if resolved.get("TempDir") is not None:
        resolved["RedshiftTempDir"] = resolved["TempDir"]
    elif resolved.get("RedshiftTempDir") is not None:
        resolved["TempDir"] = resolved["RedshiftTempDir"]

    continuation = resolved.pop("continuation_option", None)
    if resolved.get("job_bookmark_option") is None:
        if continuation is None:
            resolved["job_bookmark_option"] = _BOOKMARK[3]
        else:  # the old continuation names, translated by position
            resolved["job_bookmark_option"] = _BOOKMARK[_CONTINUATION.index(continuation)]
    absent = [o for o in _BOOKMARK_RANGE if resolved.get(o[2:].replace("-", "_")) is None]
    if resolved["job_bookmark_option"] == "job-bookmark-pause":
        if len(absent) == 1:
            raise RuntimeError("Missing option or value for " + absent[0])
    elif not absent:
        raise RuntimeError("Invalid option(s)" + " ".join(_BOOKMARK_RANGE))
    _global_args.update(resolved)
    return resolved
