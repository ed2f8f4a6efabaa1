"""The deployed zip works on its own: built from sim/pipeline/ alone, imported in a clean venv.

MiniStack runs Lambda code with its own Python and site-packages, so a packaging mistake (a
module missing from the zip, an import of the rest of `sim`) would pass every integration test.
This venv has only what the AWS runtimes provide: boto3 for the builder (the Lambda runtime), plus
pyarrow for the converter (Glue's analytics library set).
"""

import json
import subprocess
import textwrap
import zipfile
from importlib.metadata import version

import pytest

from .conftest import boto3_only_venv

from sim.infra import package

CHECK_BUILDER = textwrap.dedent(
    """
    import json, sys
    import sim.pipeline.builder as b
    assert ".zip" in b.__file__, b.__file__
    assert "pyarrow" not in sys.modules, "the builder must not need pyarrow (the Lambda runtime has none)"
    try:
        b.handler({"unexpected": True})
    except ValueError as exc:
        print(json.dumps({"handler_error": str(exc)}))
    """
)

CHECK_CONVERTER = textwrap.dedent(
    """
    import io, json, sys
    import pyarrow.parquet as pq
    from sim.pipeline.converter import Source, convert
    import sim.pipeline.glue_entry, sim.pipeline.convert_task
    assert ".zip" in sim.pipeline.glue_entry.__file__
    data = '{"a": 1, "n": {"x": "é"}}\\n\\n{"a": 2}\\n'.encode()
    result = convert([Source("k.ndjson", lambda: io.BytesIO(data))], "m1", sys.argv[1])
    rows = pq.read_table(sys.argv[1]).to_pylist()
    print(json.dumps({"records": result.records, "lines": [r["_line"] for r in rows]}))
    """
)


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory):
    return boto3_only_venv(tmp_path_factory)


def run(py, code, zip_path, *args):
    proc = subprocess.run([str(py), "-c", code, *args], capture_output=True, text=True,
                          env={"PYTHONPATH": str(zip_path), "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
                          cwd=zip_path.parent)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_zip_holds_only_the_pipeline_and_is_deterministic():
    data = package.build_zip()
    assert data == package.build_zip()
    names = zipfile.ZipFile(__import__("io").BytesIO(data)).namelist()
    assert "sim/__init__.py" in names and "sim/pipeline/builder.py" in names
    assert all(n == "sim/__init__.py" or n.startswith("sim/pipeline/") for n in names)


def test_builder_imports_from_the_zip_with_only_boto3(clean_venv, tmp_path):
    zip_path = tmp_path / "pipeline.zip"
    zip_path.write_bytes(package.build_zip())
    out = run(clean_venv, CHECK_BUILDER, zip_path)
    assert "unsupported event" in out["handler_error"]


def test_converter_runs_from_the_zip_with_pyarrow(clean_venv, tmp_path):
    subprocess.run([str(clean_venv), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    f"pyarrow=={version('pyarrow')}"], check=True)
    zip_path = tmp_path / "pipeline.zip"
    zip_path.write_bytes(package.build_zip())
    out = run(clean_venv, CHECK_CONVERTER, zip_path, str(tmp_path / "o.parquet"))
    assert out == {"records": 2, "lines": [1, 3]}
