"""`${Name}` placeholders in a pipeline description, substituted as SAM's DefinitionSubstitutions are.

A description names what `sim` creates (buckets, the table, the state machine) by placeholder, so one
file deploys under any prefix, on any engine or account. Substitution is textual: inside a JSON or
TOML string a value becomes part of the string, and a number may stand bare in an ASL file
(`"Seconds": ${PollSeconds}`), which is why ASL files are substituted before they are parsed.
"""

from __future__ import annotations

import re

from sim.core.errors import SimError

PATTERN = re.compile(r"\$\{([^}]*)\}")
# What `sim` creates, by name; `<id>` stands for a table's id.
RESOURCES = (
    "Prefix", "Region", "AccountId", "LandingBucket", "OutputBucket", "ManifestBucket", "ArtifactsBucket",
    "QueueUrl", "QueueArn", "DlqUrl", "DlqArn", "TableName", "TableArn", "StateMachineArn", "StateMachineName",
    "GlueJobName", "ConverterFunctionName", "ConverterFunctionArn", "BuilderFunctionName", "BuilderFunctionArn",
    "AlertsTopicArn", "MetricsNamespace",
)
PER_TABLE = ("TableName", "TableArn")  # also as `${TableName.<id>}`
# Settings a run may change (`sim deploy --batch-size`, the scenarios).
SETTINGS = (
    "ManifestBatchSize", "FlushMaxWaitSeconds", "LogLevel", "Environment", "BuilderTimeout", "LeaseSeconds",
    "PollSeconds", "ConversionMaxRuns", "ConversionRetryWaitSeconds", "ConverterRunLimitSeconds", "MaxAttempts",
    "GzipMaxBytes", "ConversionRetries",
)


def known(table_ids: list[str] | tuple[str, ...]) -> set[str]:
    """Every placeholder a description with these tables may use."""
    names = set(RESOURCES) | set(SETTINGS)
    names |= {f"{kind}.{tid}" for kind in PER_TABLE for tid in table_ids}
    return names


def used(text: str) -> list[tuple[str, int]]:
    """(placeholder, line number) of every `${...}` in `text`, in order."""
    return [(m.group(1), text.count("\n", 0, m.start()) + 1) for m in PATTERN.finditer(text)]


def check(text: str, allowed: set[str], where: str) -> None:
    """One clear error for the first placeholder that does not exist."""
    for name, line in used(text):
        if name not in allowed:
            hint = _closest(name, allowed)
            raise SimError(f"{where}, line {line}: unknown placeholder ${{{name}}}"
                           + (f" (did you mean ${{{hint}}}?)" if hint else "")
                           + f"; known: {', '.join('${' + k + '}' for k in sorted(allowed))}")


def substitute(text: str, values: dict[str, str], where: str) -> str:
    """Replace every placeholder by its value; an unknown one is an error naming the line."""
    check(text, set(values), where)
    return PATTERN.sub(lambda m: str(values[m.group(1)]), text)


def _closest(name: str, allowed: set[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(name, sorted(allowed), n=1, cutoff=0.75)
    return match[0] if match else None
