"""The fault bundle works on its own: `sim_inject` zipped beside a user's handler, imported in a clean
venv holding only boto3 (what the Lambda runtime provides; Glue's Python shell has it too), with
nothing of `sim` on the path. MiniStack runs Lambda code with its own site-packages, so a module
missing from the bundle or an import of the rest of `sim` would pass every integration test."""

import io
import json
import os
import subprocess
import textwrap
import zipfile

import pytest

from sim.inject import bundle

from .conftest import boto3_only_venv

USER_HANDLER = textwrap.dedent("""
    import boto3
    from botocore.exceptions import ClientError
    ddb = boto3.client("dynamodb", endpoint_url="http://127.0.0.1:9", region_name="us-east-1")

    def handler(event, context):
        try:
            ddb.put_item(TableName="t", Item={"pk": {"S": event["key"]}})
        except ClientError as exc:
            return {"code": exc.response["Error"]["Code"], "class": type(exc).__name__}
        return {"code": None}
""")

CHECK_WRAPPER = textwrap.dedent("""
    import json, sys
    import sim_inject.lambda_wrapper as w
    assert ".zip" in w.__file__, w.__file__
    try:
        import sim
        raise SystemExit("sim is importable: the bundle must not need it")
    except ImportError:
        pass
    print(json.dumps(w.handler({"key": "a"}, None)))
""")


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory):
    return boto3_only_venv(tmp_path_factory)


def zip_with(path, extra: dict) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in bundle.bundle_entries() + sorted(extra.items()):
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return str(path)


def run(py, args, env, cwd):
    proc = subprocess.run([str(py), *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x",
                               "AWS_SECRET_ACCESS_KEY": "x", **env})
    return proc


def test_the_wrapper_runs_the_users_handler_from_the_zip_with_only_boto3(clean_venv, tmp_path):
    zip_path = zip_with(tmp_path / "function.zip", {"user_handler.py": USER_HANDLER})
    faults = json.dumps({"state_dir": str(tmp_path / "state"), "rules": [
        {"process": "builder", "call": "dynamodb.PutItem", "action": "fail", "code": "ConditionalCheckFailedException"}]})
    env = {"PYTHONPATH": zip_path, "SIM_USER_HANDLER": "user_handler.handler", "SIM_INJECT_PROCESS": "builder",
           "SIM_FAULTS": faults}
    proc = run(clean_venv, ["-c", CHECK_WRAPPER], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the injected failure came before the request, so nothing needed the unreachable endpoint
    assert json.loads(proc.stdout.splitlines()[-1]) == {"code": "ConditionalCheckFailedException",
                                                        "class": "ConditionalCheckFailedException"}


def test_the_launcher_runs_a_glue_script_from_the_zip_with_only_boto3(clean_venv, tmp_path):
    zip_path = zip_with(tmp_path / "modules.zip", {"helper.py": "VALUE = 'from the modules zip'\n"})
    (tmp_path / "job.py").write_text(textwrap.dedent("""
        import json, sys
        from awsglue.utils import getResolvedOptions
        import helper
        args = getResolvedOptions(sys.argv, ["out"])
        with open(args["out"], "w") as fh:
            json.dump({"argv": sys.argv[1:], "helper": helper.VALUE}, fh)
    """))
    launcher = tmp_path / bundle.LAUNCHER_NAME
    launcher.write_bytes(bundle.launcher_bytes())
    out = tmp_path / "out.json"
    env = {"extra-py-files": zip_path, "SIM_USER_SCRIPT": str(tmp_path / "job.py"), "SIM_ARG_NAMES": "out",
           "out": str(out)}
    proc = run(clean_venv, [str(launcher)], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text()) == {"argv": ["--out", str(out)], "helper": "from the modules zip"}
    assert not os.path.exists(tmp_path / "sim_inject")  # imported from the zip, not unpacked


def test_the_wrapper_writes_telemetry_lines_from_the_zip_with_only_boto3(clean_venv, tmp_path):
    quiet = "def handler(event, context):\n    return {'batchItemFailures': []}\n"
    zip_path = zip_with(tmp_path / "function.zip", {"user_handler.py": quiet})
    telemetry = tmp_path / "telemetry.jsonl"
    check = textwrap.dedent("""
        import sim_inject.lambda_wrapper as w
        w.handler({"Records": [{}, {}]}, None)
        w.handler({"action": "flush"}, None)
    """)
    env = {"PYTHONPATH": zip_path, "SIM_USER_HANDLER": "user_handler.handler", "SIM_INJECT_PROCESS": "builder",
           "SIM_INJECT_TELEMETRY": "1", "SIM_TELEMETRY_FILE": str(telemetry)}
    proc = run(clean_venv, ["-c", check], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in telemetry.read_text().splitlines()]
    assert [(l["component"], l["ok"], l["kind"], l.get("records")) for l in lines] == [
        ("builder", True, "sqs", 2), ("builder", True, "flush", None)]
