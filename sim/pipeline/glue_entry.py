"""Glue Python-shell entry point: the job's ScriptLocation.

Arguments come from argv (`--name value`, as AWS Glue passes them) or, where an engine passes
them as environment variables without the dashes (MiniStack), from the environment. When
`--extra-py-files` names the pipeline zip on S3, that zip is fetched and put first on sys.path,
so the job runs the code that was deployed, not whatever happens to be installed.
"""

from __future__ import annotations

import os
import sys
import tempfile

REQUIRED = ("manifest_bucket", "manifest_key", "output_bucket", "table_name")
# Job arguments the pipeline code reads from its environment, as the Lambda entry points do.
PASSED_TO_ENVIRONMENT = ("LOG_LEVEL", "METRICS_NAMESPACE", "GZIP_MAX_BYTES", "SIM_TELEMETRY_FILE", "SIM_FAULTS")


def parse_args(argv: list[str], environ: dict) -> dict:
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
    for name in REQUIRED + ("extra-py-files", "manifest_id") + PASSED_TO_ENVIRONMENT:
        if name not in args and environ.get(name):
            args[name] = environ[name]
    return args


def _use_deployed_zip(location: str) -> None:
    if not location.startswith("s3://"):
        return
    import boto3

    bucket, _, key = location[5:].partition("/")
    path = os.path.join(tempfile.mkdtemp(prefix="pipeline-zip-"), os.path.basename(key) or "pipeline.zip")
    boto3.client("s3").download_file(bucket, key, path)
    sys.path.insert(0, path)
    for name in [m for m in sys.modules if m == "sim" or m.startswith("sim.")]:
        del sys.modules[name]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv, dict(os.environ))
    missing = [name for name in REQUIRED if not args.get(name)]
    if missing:
        print(f"missing job arguments: {', '.join('--' + m for m in missing)}", file=sys.stderr)
        return 2
    for name in PASSED_TO_ENVIRONMENT:
        if args.get(name):
            os.environ[name] = args[name]
    if args.get("extra-py-files"):
        _use_deployed_zip(args["extra-py-files"])
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
