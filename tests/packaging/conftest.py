"""A clean virtual environment holding only what the AWS Lambda runtime provides (boto3)."""

import subprocess
from importlib.metadata import version

import pytest

from sim.engine import lambda_python


def boto3_only_venv(tmp_path_factory, python: str | None = None, extra: tuple[str, ...] = ()):
    """Create it (with `python`, default this interpreter) and return its python. Each test module
    makes its own: some add packages to it."""
    import sys

    root = tmp_path_factory.mktemp("venv")
    subprocess.run([python or sys.executable, "-m", "venv", "--clear", str(root)], check=True)
    py = root / "bin" / "python"
    pins = [f"boto3=={version('boto3')}", f"botocore=={version('botocore')}", *extra]
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", *pins], check=True)
    return py


def runtime_interpreter() -> str:
    """A Python of the Lambda runtime's version (this one, or python3.11 on the machine), or a skip."""
    python = lambda_python.interpreter()
    if python is None:
        pytest.skip(lambda_python.missing_reason())
    return python
