"""The converter's Lambda package with its dependencies (LocalStack, where the runtime has no pyarrow).

Built from pinned manylinux2014 wheels (the python3.11 Lambda runtime is Amazon Linux 2), checked
against Lambda's size limits, unpacked like /var/task and imported in a clean venv that has only
what the Lambda runtime has (boto3). The wheels are downloaded once into a cache under the temp
folder ($SIM_TEST_CACHE overrides), shared with the integration tests. Running the cp311 wheels
needs a Python 3.11: this one, or python3.11 found on the machine (else those tests are skipped,
saying so).
"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from .conftest import boto3_only_venv, runtime_interpreter

from sim.infra import bundle, package

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SIM_TEST_CACHE") or Path(tempfile.gettempdir()) / "sim-test-cache")
PINNED = bundle.DEPENDENCIES[0].split("==")[1]

CHECK = textwrap.dedent(
    """
    import io, json, sys
    import pyarrow, pyarrow.parquet as pq
    import sim.pipeline.convert_task  # the Lambda handler's module imports from the package alone
    from sim.pipeline.converter import Source, convert
    data = '{"a": 1, "n": {"x": "é"}}\\n\\n{"a": 2}\\n'.encode()
    result = convert([Source("k.ndjson", lambda: io.BytesIO(data))], "m1", sys.argv[1])
    print(json.dumps({"pyarrow_file": pyarrow.__file__, "pyarrow_version": pyarrow.__version__,
                      "handler_file": sim.pipeline.convert_task.__file__, "records": result.records,
                      "lines": [r["_line"] for r in pq.read_table(sys.argv[1]).to_pylist()],
                      "created_by": pq.read_metadata(sys.argv[1]).created_by}))
    """
)


@pytest.fixture(scope="module")
def built():
    return bundle.build(CACHE)


@pytest.fixture(scope="module")
def task_dir(built, tmp_path_factory):
    """The bundle unpacked the way Lambda lays out a function's code (/var/task)."""
    root = tmp_path_factory.mktemp("task")
    with zipfile.ZipFile(built.path) as zf:
        zf.extractall(root)
    return root


@pytest.fixture(scope="module")
def lambda_like_venv(tmp_path_factory):
    return boto3_only_venv(tmp_path_factory, python=runtime_interpreter())


@pytest.fixture(scope="module")
def runtime_pytest(tmp_path_factory):
    """A Python of the runtime's version that can run the converter's unit tests: this one when it
    is that version, else a venv of python3.11 with boto3 and pytest (no pyarrow of its own)."""
    python = runtime_interpreter()
    if python == sys.executable:
        return python
    return str(boto3_only_venv(tmp_path_factory, python=python, extra=(f"pytest=={version('pytest')}",)))


def test_bundle_fits_lambdas_limits_and_goes_through_s3(built, task_dir):
    # Measured on what Lambda unpacks (the extracted tree), not on the zip's own directory that
    # describe() reads: a bundle whose listing lied, or files describe() skipped, would show here.
    on_disk = sum(p.stat().st_size for p in Path(task_dir).rglob("*") if p.is_file())
    assert on_disk == built.unzipped_bytes
    assert on_disk < bundle.UNZIPPED_LIMIT_BYTES
    print(f"converter bundle: {built.zipped_bytes} bytes zipped, {on_disk} unzipped")
    # Through S3 (inline uploads stop at 50 MB): tests/integration/test_lambda_converter.py deploys
    # it on the engine and checks that the artifacts bucket holds the bytes the function runs and
    # that the deploy never sends them inline.


def test_bundle_holds_the_pipeline_and_the_pinned_platform_wheels(built):
    names = set(zipfile.ZipFile(built.path).namelist())
    assert {"sim/__init__.py", "sim/pipeline/convert_task.py", "sim/pipeline/converter.py"} <= names
    assert "pyarrow/__init__.py" in names and any(n.startswith("pyarrow/libarrow.so") for n in names)
    assert not any(n.startswith(("pyarrow/include/", "pyarrow/tests/")) or n.endswith(".pyx") for n in names)
    assert not any(n.startswith("sim/") and not n.startswith("sim/pipeline/") and n != "sim/__init__.py" for n in names)
    wheel_meta = zipfile.ZipFile(built.path).read(f"pyarrow-{PINNED}.dist-info/WHEEL").decode()
    tags = [line.split(": ", 1)[1] for line in wheel_meta.splitlines() if line.startswith("Tag: ")]
    # glibc 2.17 at most: the python3.11 Lambda runtime is Amazon Linux 2 (glibc 2.26)
    assert tags and all(t.startswith(f"{bundle.ABI}-{bundle.ABI}-manylinux") and t.endswith("_x86_64")
                        and ("manylinux2014" in t or "manylinux_2_17" in t) for t in tags), tags


def test_bundle_is_the_same_bytes_when_built_again(built, tmp_path):
    again = tmp_path / "again.zip"
    bundle._write(again, package.pipeline_entries(), bundle.wheels(CACHE))
    assert bundle.describe(again).sha256 == built.sha256
    assert bundle.build(CACHE).path == built.path  # cached by content


def test_converter_runs_from_the_bundle_in_a_venv_with_only_boto3(lambda_like_venv, task_dir, tmp_path):
    probe = subprocess.run([str(lambda_like_venv), "-c", "import pyarrow"], capture_output=True)
    assert probe.returncode != 0, "the clean venv must not have pyarrow of its own"
    proc = subprocess.run([str(lambda_like_venv), "-c", CHECK, str(tmp_path / "o.parquet")], capture_output=True,
                          text=True, cwd=task_dir,
                          env={"PYTHONPATH": str(task_dir), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["pyarrow_file"].startswith(str(task_dir)) and out["handler_file"].startswith(str(task_dir))
    assert out["pyarrow_version"] == PINNED and PINNED in out["created_by"]
    assert out["records"] == 2 and out["lines"] == [1, 3]


def test_the_converters_unit_tests_pass_on_the_bundled_pyarrow(task_dir, runtime_pytest):
    env = {**os.environ, "PYTHONPATH": str(task_dir)}
    which = subprocess.run([runtime_pytest, "-c", "import pyarrow; print(pyarrow.__version__, pyarrow.__file__)"],
                           capture_output=True, text=True, env=env, check=True).stdout.split()
    assert which[0] == PINNED and which[1].startswith(str(task_dir))
    proc = subprocess.run([runtime_pytest, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit/test_converter.py"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and " failed" not in proc.stdout
