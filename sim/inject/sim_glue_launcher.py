"""The Glue job's script on emulators (its ScriptLocation): starts the job's own script as AWS
Glue's Python shell would, with sim's fault hooks installed.

Run as `python3 sim_glue_launcher.py`, with the job's arguments in argv (`--name value`, as AWS
passes them) or, on MiniStack, as environment variables named without their dashes. This file only
puts the `--extra-py-files` zips (fetched from S3) on sys.path, as Glue does before a script
starts; one of them holds the `sim_inject` bundle, which does the rest (sim_inject/glue_main.py).
Standard library and boto3 only, Python 3.9.
"""

import os
import sys
import tempfile

EXTRA = "extra-py-files"


def extra_py_files(argv, environ):
    """The comma-separated value of --extra-py-files, from argv or else the environment."""
    tokens = argv[1:]
    for i in range(0, len(tokens) - 1, 2):
        if tokens[i] == "--" + EXTRA:
            return tokens[i + 1]
    return "" if len(tokens) else environ.get(EXTRA, "")


def put_on_path(value):
    """Fetch each s3:// entry; zips (and eggs, wheels) go on sys.path, a .py file's folder too, in
    their order after sys.path[0] (which becomes the script's folder)."""
    folder = tempfile.mkdtemp(prefix="glue-extra-py-files-")
    position = 1
    for n, uri in enumerate(u.strip() for u in value.split(",") if u.strip()):
        path = uri
        if uri.startswith("s3://"):
            import boto3

            bucket, _, key = uri[5:].partition("/")
            os.makedirs(os.path.join(folder, str(n)))
            path = os.path.join(folder, str(n), os.path.basename(key))  # a module keeps its name
            boto3.client("s3").download_file(bucket, key, path)
        entry = os.path.dirname(path) if path.endswith(".py") else path
        if entry not in sys.path:
            sys.path.insert(position, entry)
            position += 1


def run():
    value = extra_py_files(sys.argv, os.environ)
    try:
        put_on_path(value)
    except Exception as exc:  # one line for a missing object or a bad URI, as Glue reports it
        print("error: could not fetch --%s %s: %s" % (EXTRA, value, exc), file=sys.stderr)
        return 2
    try:
        from sim_inject import glue_main
        from sim_inject.rules import InjectError
    except ImportError as exc:
        print("error: the sim_inject bundle is not in --extra-py-files (%s)" % exc, file=sys.stderr)
        return 2
    try:
        return glue_main.main()
    except InjectError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
