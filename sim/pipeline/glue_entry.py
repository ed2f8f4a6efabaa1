"""Glue Python-shell entry point: the script the job runs.

Arguments come in argv as `--name value`, as AWS Glue passes them (on an emulator, sim's launcher
starts this script with the same argv; sim/inject/sim_glue_launcher.py). The pipeline package
arrives through the job's `--extra-py-files`, which Glue (or the launcher) puts on sys.path, so the
job runs the code that was deployed.
"""

from __future__ import annotations

import os
import sys

REQUIRED = ("manifest_bucket", "manifest_key", "output_bucket", "table_name")
# Job arguments the pipeline code reads from its environment, as the Lambda entry points do.
PASSED_TO_ENVIRONMENT = ("LOG_LEVEL", "METRICS_NAMESPACE", "GZIP_MAX_BYTES", "SIM_TELEMETRY_FILE", "SIM_FAULTS")


def parse_args(argv: list[str]) -> dict:
    """`--name value` and `--name=value` pairs; a name followed by another name is a flag ("true")."""
    args: dict[str, str] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if token.startswith("--"):
            name, eq, value = token[2:].partition("=")
            if not eq:
                if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                    value = argv[i + 1]
                    i += 1
                else:
                    value = "true"
            args[name] = value
        i += 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    missing = [name for name in REQUIRED if not args.get(name)]
    if missing:
        print(f"missing job arguments: {', '.join('--' + m for m in missing)}", file=sys.stderr)
        return 2
    for name in PASSED_TO_ENVIRONMENT:
        if args.get(name):
            os.environ[name] = args[name]
    from sim.pipeline import convert_manifest, telemetry

    with telemetry.invocation("converter", runtime="glue", manifest_id=args.get("manifest_id", "")):
        convert_manifest.run(
            manifest_bucket=args["manifest_bucket"],
            manifest_key=args["manifest_key"],
            output_bucket=args["output_bucket"],
            table_name=args["table_name"],
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
